"""`glimpse plugins` and verbs from plugins: real distributions installed through real entry
points (a dist-info folder with entry_points.txt on PYTHONPATH), `glimpse` run as a real
subprocess. A plugin that fails to load, or whose verb cannot be added, is reported and
skipped; the other plugins and every verb keep working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.cli.common import emit_json
from glimpse_desktop.kernel.messages import Notice
from tests import imagegen as ig

ROOT = Path(__file__).resolve().parent.parent

HELLO = '''
"""A plugin with a verb that opens the library, and two verbs that cannot be added."""
from glimpse_desktop.cli.common import EXIT_OK, emit_json
from glimpse_desktop.cli.verbs import Verb
from glimpse_desktop.kernel.hookspecs import hookimpl


def _arguments(parser):
    parser.add_argument("--greeting", default="hello")


def _run(library, args):
    photos = library.status().photos
    if args.json:
        emit_json({"greeting": args.greeting, "photos": photos})
    else:
        print(f"{args.greeting}: {photos} photos")
    return EXIT_OK


def _broken_arguments(parser):
    raise ValueError("no arguments today")


@hookimpl
def glimpse_cli_verbs():
    return [Verb("hello", "say hello and count the photos", _run, _arguments),
            Verb("search", "a verb whose name is taken", _run),
            Verb("badargs", "a verb whose arguments fail", _run, _broken_arguments)]
'''

BROKEN = 'raise RuntimeError("this plugin is broken on purpose")\n'

GRUMPY = '''
from glimpse_desktop.kernel.hookspecs import hookimpl


@hookimpl
def glimpse_cli_verbs():
    raise LookupError("no verbs today")
'''


def _install(site: Path, dist: str, version: str, entry: str, module: str, code: str) -> None:
    """A distribution as pip leaves it: the module, and its dist-info with the entry point."""
    (site / f"{module}.py").write_text(code, encoding="utf-8")
    info = site / f"{dist}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[glimpse_desktop.plugins]\n{entry} = {module}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    _install(folder, "glimpse_hello", "1.2.3", "hello", "glimpse_hello", HELLO)
    _install(folder, "glimpse_broken", "0.1", "broken", "glimpse_broken", BROKEN)
    _install(folder, "glimpse_grumpy", "2.0", "grumpy", "glimpse_grumpy", GRUMPY)
    return folder


def glimpse(site: Path, tmp_path: Path, *args: str, **env: str
            ) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
               "GLIMPSE_LIBRARY": str(tmp_path / "lib" / "library.sqlite3"),
               "GLIMPSE_CACHE_DIR": str(tmp_path / "cache"), **env}
    done = subprocess.run([sys.executable, "-m", "glimpse_desktop", *args], env=environ,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_plugins_lists_built_in_and_installed_ones_and_the_one_that_failed(
        site: Path, tmp_path: Path) -> None:
    done = glimpse(site, tmp_path, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    by_name = {p["name"]: p for p in listed["plugins"]}
    builtin = [p["name"] for p in listed["plugins"] if p["builtin"]]
    assert builtin[:3] == ["metadata", "search", "faces"]
    assert {"places", "albums", "captions", "writeback"} <= set(builtin)
    assert "glimpse_stages" in by_name["faces"]["hooks"]
    assert by_name["faces"]["module"] == "glimpse_desktop.faces.plugin"
    hello = by_name["hello"]
    assert (hello["builtin"], hello["version"], hello["module"], hello["loaded"]) == \
        (False, "1.2.3", "glimpse_hello", True)
    assert hello["hooks"] == ["glimpse_cli_verbs"]
    broken = by_name["broken"]
    assert (broken["loaded"], broken["version"], broken["hooks"]) == (False, "0.1", [])
    assert broken["problem"] == "RuntimeError: this plugin is broken on purpose"
    # A hook that raises is its plugin's problem; the plugin stays loaded, its verbs left out.
    grumpy = by_name["grumpy"]
    assert (grumpy["loaded"], grumpy["hooks"]) == (True, ["glimpse_cli_verbs"])
    assert grumpy["problem"] == "glimpse_cli_verbs: LookupError: no verbs today"
    assert not [name for name in by_name if name.startswith("grumpy.")]
    left_out = {v["verb"]: v["reason"] for v in listed["verbs_left_out"]}
    assert left_out == {"search": "another verb is called search",
                        "badargs": "its arguments failed: ValueError: no arguments today"}

    done = glimpse(site, tmp_path, "plugins")
    assert done.returncode == 0
    assert "hello            1.2.3          glimpse_hello" in done.stdout
    assert "broken           0.1            not loaded" in done.stdout
    assert "problem: RuntimeError: this plugin is broken on purpose" in done.stdout
    assert "the verb 'badargs' was left out" in done.stdout
    assert "1 plugin not loaded (broken): Glimpse runs without it." in done.stderr
    assert "problem: glimpse_cli_verbs: LookupError" in done.stdout


def test_an_installed_plugins_verb_is_in_the_help_and_runs(site: Path, tmp_path: Path,
                                                            photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg")
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    done = glimpse(site, tmp_path, "--help")
    assert done.returncode == 0
    assert "say hello and count the photos" in done.stdout
    assert "badargs" not in done.stdout
    # The built-in search is still the search: the plugin's verb of that name was left out.
    assert "find photos by what is in them" in done.stdout
    # A plugin's verb opens the library like any other: refused while there is none.
    done = glimpse(site, tmp_path, "hello")
    assert done.returncode == 1 and "`glimpse add FOLDER` creates it" in done.stderr, \
        done.stderr
    assert glimpse(site, tmp_path, "add", str(photo_dir)).returncode == 0
    assert glimpse(site, tmp_path, "index", "-q").returncode == 0
    done = glimpse(site, tmp_path, "hello", "--greeting", "ola", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"greeting": "ola", "photos": 2}
    done = glimpse(site, tmp_path, "hello")
    assert done.stdout == "hello: 2 photos\n"


def test_a_plugin_turned_off_is_listed_as_such_and_its_verbs_are_gone(
        site: Path, tmp_path: Path) -> None:
    done = glimpse(site, tmp_path, "plugins", "--json", GLIMPSE_DISABLE_PLUGINS="hello")
    by_name = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert by_name["hello"]["loaded"] is False
    assert by_name["hello"]["problem"] == "turned off by GLIMPSE_DISABLE_PLUGINS"
    done = glimpse(site, tmp_path, "--help", GLIMPSE_DISABLE_PLUGINS="hello")
    assert "say hello" not in done.stdout and "find photos by what is in them" in done.stdout


def test_plugins_needs_no_library(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "library.sqlite3"
    assert cli.main(["--library", str(missing), "plugins", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listed["plugins"] if p["builtin"]][:2] == ["metadata", "search"]
    assert not missing.parent.exists()


@dataclass(frozen=True)
class _Inner:
    taken: datetime
    day: date


@dataclass(frozen=True)
class _Record:
    path: Path
    inner: _Inner
    tags: frozenset[str]
    notices: tuple[Notice, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


def test_json_output_carries_typed_records(capsys: pytest.CaptureFixture[str]) -> None:
    """The one emitter writes dicts from core as they are and typed records field by field:
    paths as text, dates in ISO 8601, notices as their words."""
    record = _Record(Path("/photos/a.jpg"), _Inner(datetime(2024, 5, 1, 9, 30), date(2024, 5, 1)),
                     frozenset({"sea", "beach"}),
                     (Notice("search.not_embedded", "3 photos are not embedded yet"),),
                     {"n": 1})
    emit_json({"records": [record], "plain": {"a": [1, 2]}})
    assert json.loads(capsys.readouterr().out) == {
        "records": [{"path": "/photos/a.jpg",
                     "inner": {"taken": "2024-05-01T09:30:00", "day": "2024-05-01"},
                     "tags": ["beach", "sea"], "notices": ["3 photos are not embedded yet"],
                     "extra": {"n": 1}}],
        "plain": {"a": [1, 2]}}
