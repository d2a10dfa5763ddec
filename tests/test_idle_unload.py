"""`glimpse watch` gives the memory of idle models back (the window: tests/gui/
test_idle_models.py): a real library, the real face pack, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.cli import main
from tests import imagegen as ig


def _photos(folder: Path, n: int) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (160, 120), seed=i,
                      datetime_original=f"2023:05:{1 + i:02d} 10:00:00")


def test_unload_idle_frees_the_models_and_they_load_again(lib: Library, photo_dir: Path
                                                          ) -> None:
    _photos(photo_dir, 2)
    lib.add_root(photo_dir)
    lib.index()
    models = lib.people.models()
    assert models.loaded
    assert lib.unload_idle(3600) == []                   # not idle that long
    assert lib.people.pack().id in lib.unload_idle(0)
    assert not models.loaded
    ig.write_jpeg(photo_dir / "later.jpg", (160, 120), seed=9,
                  datetime_original="2023:06:01 10:00:00")
    report = lib.index()
    assert report.new == 1 and models.loaded and lib.people.backlog() == 0
    lib.config.set("models.unload_after", "0")          # 0: keep them
    assert lib.unload_idle() == [] and models.loaded


def test_glimpse_watch_unloads_idle_models(lib: Library, photo_dir: Path, library_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _photos(photo_dir, 2)
    lib.add_root(photo_dir)
    pack = lib.people.pack().id
    lib.close()
    monkeypatch.setenv("GLIMPSE_MODELS_UNLOAD_AFTER", "0.01")
    # Watching catches up first (reading the photos loads the face pack), then idles.
    code = main(["--library", str(library_path), "watch", "--settle", "0.1", "--json",
                 "--duration", "6"])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()
              if line.startswith("{")]
    unloads = [e for e in events if e.get("event") == "models unloaded"]
    assert unloads and pack in unloads[0]["models"]
    with Library.open(library_path) as again:
        assert again.photo_count() == 2 and again.people.backlog() == 0
