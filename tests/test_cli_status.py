"""`glimpse status` keeps warnings (a field of a photo that was read fine) apart from errors
(a file that could not be read), for the library and for each folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glimpse_desktop import cli
from tests import imagegen as ig


def test_status_counts_warnings_apart_from_errors_per_folder(
        capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path) -> None:
    ig.write_jpeg(photo_dir / "fine.jpg")
    ig.write_jpeg(photo_dir / "odd-date.jpg", seed=2, datetime_original="the day after")
    ig.write_not_an_image(photo_dir / "broken.jpg")
    assert cli.main(["--library", str(library_path), "add", str(photo_dir)]) == 0
    assert cli.main(["--library", str(library_path), "index", "--json"]) == 0
    capsys.readouterr()

    assert cli.main(["--library", str(library_path), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["errors"], status["warnings"]) == (1, 1)
    root = status["roots"][0]
    assert (root["errors"], root["warnings"]) == (1, 1)

    assert cli.main(["--library", str(library_path), "status"]) == 0
    text = capsys.readouterr().out
    folder_line = next(line for line in text.splitlines() if str(photo_dir) in line)
    assert "1 errors, 1 warnings" in folder_line
