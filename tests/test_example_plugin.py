"""The third-party example (examples/glimpse-colors) installed the way a person installs a
plugin, and used through the real ``glimpse`` command: its stage finds colours as photos are
read (and catches up on photos read before it was installed), its ``color:`` filter and its
words in the text index find them, its verb answers, and ``glimpse plugins`` lists it. Nothing
in glimpse_desktop names the plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "glimpse-colors"
GLIMPSE = Path(sys.executable).parent / "glimpse"

pytestmark = pytest.mark.skipif(not GLIMPSE.exists(), reason="the glimpse command is not "
                                "installed in this environment (pip install -e .)")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, installed into a folder of its own, as ``pip install`` would (no network:
    its build backend, setuptools, is in the environment already)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # pip builds in the source folder: a copy keeps the checkout free of build/ and egg-info.
    source = build / "glimpse-colors"
    subprocess.run(["cp", "-r", str(EXAMPLE), str(source)], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (target / "glimpse_colors" / "plugin.py").is_file()
    return target


def _solid(path: Path, rgb: tuple[int, int, int]) -> Path:
    # A little texture, as a real photo has: the colour still covers nearly all of it.
    image = Image.new("RGB", (96, 64), rgb)
    for x in range(0, 96, 8):
        image.putpixel((x, 10), (255, 255, 255))
    image.save(path, "JPEG", quality=90)
    return path


class Glimpse:
    """The ``glimpse`` command on one library, with or without the plugin on its path."""

    def __init__(self, library: Path, plugin_site: Path | None) -> None:
        self.library = library
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "GLIMPSE_DISABLE_PLUGINS")}
        if plugin_site is not None:
            self.env["PYTHONPATH"] = str(plugin_site)

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(GLIMPSE), "--library", str(self.library), *args],
                              capture_output=True, text=True, env=self.env, timeout=300,
                              cwd=self.library.parent.parent)
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str) -> object:
        return json.loads(self.run(*args, "--json").stdout)

    def found(self, query: str) -> set[str]:
        result = self.json("search", query, "--limit", "50")
        assert isinstance(result, dict)
        return {Path(hit["path"]).name for hit in result["results"]}


def test_the_example_plugin_through_the_glimpse_command(installed: Path,
                                                        tmp_path: Path) -> None:
    photos = tmp_path / "Pictures"
    photos.mkdir()
    library = tmp_path / "lib" / "library.sqlite3"
    # A photo read before the plugin was installed.
    _solid(photos / "old_red.jpg", (200, 20, 25))
    before = Glimpse(library, None)
    before.run("add", str(photos))
    before.run("index")
    assert before.found("color:red") == set()          # no such filter yet: a plain word

    glimpse = Glimpse(library, installed)
    _solid(photos / "red.jpg", (210, 30, 30))
    _solid(photos / "blue.jpg", (25, 50, 200))
    glimpse.run("index")

    # The filter: only the red photos, the one read before the plugin too (catch-up).
    assert glimpse.found("color:red") == {"red.jpg", "old_red.jpg"}
    assert glimpse.found("color:blue") == {"blue.jpg"}
    # The words in the text index: a plain search for "red" finds them as well.
    assert {"red.jpg", "old_red.jpg"} <= glimpse.found("red")
    assert "blue.jpg" not in glimpse.found("red")
    bad = glimpse.run("search", "color:chartreuse", ok=False)
    assert bad.returncode != 0 and "not a colour glimpse-colors knows" in bad.stderr + bad.stdout

    # The verb: the palette with counts, and one photo's colours.
    palette = glimpse.json("colors")
    assert isinstance(palette, dict)
    counts = {c["color"]: c["photos"] for c in palette["colors"]}
    assert counts["red"] == 2 and counts["blue"] == 1 and counts["green"] == 0
    assert palette["photos_looked_at"] == 3 and palette["photos_owed"] == 0
    one = glimpse.json("colors", str(photos / "blue.jpg"))
    assert isinstance(one, dict)
    assert one["colors"][0]["color"] == "blue" and one["colors"][0]["share"] > 0.8

    # The plugin is listed with its hooks and version; turned off, it is listed as such and
    # its filter is a plain word again.
    listed = glimpse.json("plugins")
    assert isinstance(listed, dict)
    colors = next(p for p in listed["plugins"] if p["name"] == "colors")
    assert colors["version"] == "0.1.0" and not colors["builtin"]
    assert {"glimpse_migrations", "glimpse_stages", "glimpse_search_filters",
            "glimpse_photo_text", "glimpse_cli_verbs", "glimpse_photo_actions"} \
        <= set(colors["hooks"])
    glimpse.env["GLIMPSE_DISABLE_PLUGINS"] = "colors"
    assert glimpse.found("color:red") == set()
