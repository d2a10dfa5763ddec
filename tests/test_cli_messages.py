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
    # The default model has a trusted ONNX export: the hint names its two files and where
    # they are published, and adding them needs no torch.
    assert f"`glimpse models add {model} FOLDER`" in err
    assert "/visual/model.onnx saved as visual.onnx" in err
    assert "/textual/model.onnx saved as text.onnx" in err
    assert "nothing needs torch" in err

    # --json says the same, how to get the model included.
    code, out, _ = run(capsys, indexed, "search", "beach", "--json")
    assert code == 0
    (notice,) = json.loads(out)["notices"]
    assert "is not installed" in notice and f"`glimpse models add {model} FOLDER`" in notice

    # Photos that look alike need the model's vectors: without them, an error, not "no match".
    code, out, err = run(capsys, indexed, "similar", "1")
    assert code == 1 and out == ""
    assert "similar photos are found with the search model" in err
    assert f"`glimpse models download {model}`" in err and "No photos match" not in err

    code, _, err = run(capsys, indexed, "duplicates")
    assert code == 0
    assert "`glimpse models download` fetches the default" in err

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


def test_models_download_without_an_id_fetches_the_default_and_a_failure_leaves_nothing(
        capsys: pytest.CaptureFixture[str], library_path: Path, tmp_path: Path) -> None:
    from glimpse_desktop.kernel.registry import Registry

    # The default model's entry, with its files on a port where nothing listens.
    url = f"http://127.0.0.1:{closed_port()}"
    models = tmp_path / "models"
    default = Registry(models).default()
    (models / "manifest.d").mkdir(parents=True)
    (models / "manifest.d" / "offline.json").write_text(json.dumps({"format": 1, "clip": [{
        "id": default.id, "name": default.name, "default": True, "arch": "ViT-B-32",
        "dim": 512, "image_size": 224, "file": "open_clip_model.safetensors",
        "urls": [f"{url}/weights.safetensors"], "size": 10, "sha256": "1" * 64,
        "exported": {
            "visual": {"file": "visual.onnx", "urls": [f"{url}/visual/model.onnx"],
                       "size": 10, "sha256": "2" * 64},
            "text": {"file": "text.onnx", "urls": [f"{url}/textual/model.onnx"],
                     "size": 10, "sha256": "3" * 64},
            "vocab": {"file": "bpe_simple_vocab_16e6.txt.gz", "urls": [f"{url}/vocab.gz"],
                      "size": 10, "sha256": "4" * 64}}}]}))
    code, _, err = run(capsys, library_path, "models", "download")
    assert code == 1
    assert f"Downloading the default search model, {default.id}" in err
    assert "needs a model id" not in err
    assert f"`glimpse models add {default.id} FOLDER`" in err
    assert f"{url}/visual/model.onnx saved as visual.onnx" in err
    # Nothing of the failed download is left, and removing it says there is nothing to do.
    assert not (models / "clip").exists()
    code, out, err = run(capsys, library_path, "models", "remove", default.id)
    assert code == 0 and "Removed" not in out
    assert f"{default.id} is not installed (nothing to do)" in err

    # The same for a face pack that cannot be fetched.
    (models / "manifest.d" / "pack.json").write_text(json.dumps({"format": 1, "faces": [{
        "id": "far-pack", "format": "yunet-sface", "dim": 128, "licence": "test",
        "detector": {"file": "d.onnx", "urls": [f"{url}/d.onnx"], "sha256": "5" * 64},
        "recognizer": {"file": "r.onnx", "urls": [f"{url}/r.onnx"], "sha256": "6" * 64}}]}))
    code, _, err = run(capsys, library_path, "models", "download", "far-pack")
    assert code == 1
    assert not (models / "faces").exists()
    code, out, err = run(capsys, library_path, "models", "remove", "far-pack")
    assert code == 0 and "far-pack is not installed (nothing to do)" in err


def test_models_list_json_names_the_files_to_fetch_and_doctor_says_no_model_in_words(
        capsys: pytest.CaptureFixture[str], library_path: Path) -> None:
    code, out, _ = run(capsys, library_path, "models", "list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)["models"]}
    default = next(r for r in rows.values() if r["default"])
    assert default["exported"] is True
    files = {f["role"]: f for f in default["files"]}
    assert set(files) == {"visual", "text", "vocab"}
    assert files["visual"]["urls"][0].endswith("/visual/model.onnx")
    assert files["vocab"]["size"] == 1356917 and len(files["vocab"]["sha256"]) == 64
    weights_only = next(r for r in rows.values() if not r["exported"])
    (weights,) = weights_only["files"]
    assert weights["role"] == "weights" and weights["urls"]

    code, out, _ = run(capsys, library_path, "doctor")
    assert code == 0
    assert "image_runtimes: []" not in out
    assert "image_runtimes: none: no search model is installed" in out
    assert "measuring each on the first photos it embeds" in out
