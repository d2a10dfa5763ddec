"""Core says what happened as a code with values; the terminal adds the command that helps.

The same situations as tests/gui/test_wording.py, where the window names its buttons instead:
a search model that is not installed, a download that cannot reach its host, a person or a
place nobody has, a face pack that is missing, a captioning key that is missing or refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from glimpse_desktop.kernel.messages import CodedError, Notice, joined, notice_of
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)
from tests.conftest import closed_port


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def indexed(capsys: pytest.CaptureFixture[str], library_path: Path, photo_dir: Path) -> Path:
    ig.write_jpeg(photo_dir / "beach.jpg", (64, 48), seed=1,
                  datetime_original="2023:07:14 18:03:22")
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    assert run(capsys, library_path, "index", "--quiet")[0] == 0
    return library_path


def test_a_coded_error_keeps_its_code_through_the_errors_raised_from_it() -> None:
    try:
        try:
            raise CodedError("nobody is named 'Zed'", code="search.unknown_person",
                             values={"name": "Zed"})
        except CodedError as exc:
            raise ValueError(f"cannot search for that: {exc}") from exc
    except ValueError as outer:
        said = notice_of(outer)
    assert said == Notice("search.unknown_person",
                          "cannot search for that: nobody is named 'Zed'", {"name": "Zed"})
    assert notice_of(ValueError("plain")) == Notice("", "plain")
    assert joined("it is gone", "look again", "; ") == "it is gone; look again"
    assert joined("It is gone.", "look again", "; ") == "It is gone. Look again."
    assert joined("line one\nline two", "look again", "; ") == "line one\nline two\nLook again."


def test_searches_say_which_command_helps(capsys: pytest.CaptureFixture[str],
                                          indexed: Path) -> None:
    code, _, err = run(capsys, indexed, "search", "person:Zed")
    assert code == 1
    assert "nobody is named 'Zed' in People" in err
    assert "`glimpse people list` shows the names" in err

    code, _, err = run(capsys, indexed, "search", "beach", "place:Atlantis")
    assert code == 0
    assert "no photo was taken in a place called 'Atlantis'" in err
    assert "`glimpse places` lists the places of your photos" in err

    # No search model here: words match file names, and the terminal says how to get one.
    code, out, err = run(capsys, indexed, "search", "beach")
    assert code == 0 and "beach.jpg" in out
    assert "is not installed" in err
    default = Library.open(indexed)
    try:
        model = default.semantic.target()
    finally:
        default.close()
    assert f"`glimpse models download {model}`" in err
    assert f"`glimpse models add {model} FILE`" in err

    code, out, _ = run(capsys, indexed, "status")
    assert code == 0 and f"`glimpse models download {model}`" in out


def test_a_smart_album_notice_says_which_command_helps(capsys: pytest.CaptureFixture[str],
                                                       indexed: Path) -> None:
    code, out, err = run(capsys, indexed, "albums", "create", "Lost city", "--query",
                         "place:Atlantis")
    assert code == 0, err
    assert "`glimpse places` lists the places of your photos" in err
    code, out, _ = run(capsys, indexed, "albums", "list", "--json")
    (album,) = [a for a in json.loads(out) if a["title"] == "Lost city"]
    # As data, a notice is its plain words: no command in them.
    assert album["notices"] and not any("glimpse " in n for n in album["notices"])


def test_a_download_that_cannot_connect_says_how_to_add_the_file_by_hand(
        capsys: pytest.CaptureFixture[str], library_path: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/tiny.pt"
    folder = tmp_path / "models" / "manifest.d"
    folder.mkdir(parents=True)
    (folder / "tiny.json").write_text(json.dumps({"format": 1, "clip": [{
        "id": "tiny", "name": "Tiny", "arch": "ViT-B-32", "dim": 64, "image_size": 224,
        "file": "tiny.pt", "urls": [url], "size": 10, "sha256": "1" * 64}]}))
    code, _, err = run(capsys, library_path, "models", "download", "tiny")
    assert code == 1
    assert url in err
    assert "glimpse models add tiny FILE" in err


def test_a_missing_face_pack_says_which_command_gets_it(
        capsys: pytest.CaptureFixture[str], indexed: Path) -> None:
    from glimpse_desktop.faces.people import PACK_KEY
    from glimpse_desktop.kernel.config import set_setting

    lib = Library.open(indexed)
    try:
        lib.writer.call(lambda c: set_setting(c, PACK_KEY, "buffalo_s"))
    finally:
        lib.close()
    code, _, err = run(capsys, indexed, "index")
    assert code == 0
    assert "the face pack buffalo_s is not installed" in err
    assert "`glimpse models download buffalo_s`" in err
    assert "`glimpse models add buffalo_s FOLDER`" in err


def test_a_refused_caption_key_says_which_command_sets_it(
        capsys: pytest.CaptureFixture[str], indexed: Path, service: FakeService,
        memory_keyring: MemoryKeyring) -> None:
    lib = Library.open(indexed)
    try:
        lib.config.set("caption.base_url", service.url)
        lib.config.set("caption.model", "test-vision")
        lib.config.set("caption.enabled", True)
        lib.captions.give_consent()
    finally:
        lib.close()
    service.default = lambda body: cs.error(401, "invalid key")
    code, _, err = run(capsys, indexed, "caption", "--yes")
    assert code == 1
    assert "did not accept the API key (401)" in err
    assert "`glimpse config set-key`" in err
