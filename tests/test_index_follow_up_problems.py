"""What follows an index and fails is carried in its report (``IndexReport.follow_up_problems``)
and said by ``glimpse index``, whose exit status stays that of the photos (real library, real
images, a failing follow-up registered the way a third-party plugin's is)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.changes import Change, FollowUp
from glimpse_desktop.kernel.hookspecs import hookimpl
from tests import imagegen as ig


def _broken(library: Any, change: Change) -> None:
    raise RuntimeError("the colour server is down")


class _Plugin:
    @hookimpl
    def glimpse_follow_ups(self) -> list[FollowUp]:
        return [FollowUp("test-broken", _broken)]


@contextlib.contextmanager
def broken_follow_up() -> Iterator[None]:
    plugins.host().register(_Plugin(), "test-broken-plugin")
    try:
        yield
    finally:
        plugins.host().unregister("test-broken-plugin")


def test_the_report_carries_what_failed_after_the_photos_were_read(
        lib: Library, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", seed=1)
    lib.add_root(photo_dir)
    with broken_follow_up():
        report = lib.index()
    assert report.new == 1 and report.errors == 0
    assert report.follow_up_problems == {"test-broken": "the colour server is down"}
    # Without the broken plugin the next index has nothing to say.
    ig.write_jpeg(photo_dir / "b.jpg", seed=2)
    assert lib.index().follow_up_problems == {}


def test_glimpse_index_says_it_and_exits_as_the_photos_did(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "a.jpg", seed=1)
    assert cli.main(["--library", str(library_path), "add", str(photo_dir)]) == 0
    capsys.readouterr()
    with broken_follow_up():
        assert cli.main(["--library", str(library_path), "index"]) == 0
        out, err = capsys.readouterr()
        assert "1 new" in out
        assert "after reading, test-broken failed: the colour server is down" in err

        ig.write_jpeg(photo_dir / "b.jpg", seed=2)
        assert cli.main(["--library", str(library_path), "index", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["new"] == 1
        assert report["follow_up_problems"] == {"test-broken": "the colour server is down"}
