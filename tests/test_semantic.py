"""Semantic search end to end: a small random-initialised open_clip model, saved to a file and
installed through the same path a person uses (`glimpse models add`), real photos, real
sqlite-vec, the approximate index beside it, and the query encoder without torch."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.cli import main
from glimpse_desktop.kernel import vectors
from glimpse_desktop.kernel.decode import SizeRequest, decode
from glimpse_desktop.search.engine import LOGIT_SCALE, NEUTRAL_PROMPTS
from glimpse_desktop.search.query import QueryError
from glimpse_desktop.search.semantic import SearchStatus
from tests.clipmodels import tiny_clip
from tests.conftest import assert_consistent, closed_port
from tests.imagegen import photo_like, write_jpeg, write_png, xmp_packet

MODEL = "tiny-test"
OTHER = "tiny-test-2"


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two small models (different seeds) saved as checkpoints, as a publisher would."""
    import torch

    folder = tmp_path_factory.mktemp("weights")
    out: dict[str, Any] = {}
    for name, seed in ((MODEL, 0), (OTHER, 1)):
        model, _, config, arch = tiny_clip(seed)
        path = folder / f"{name}.pt"
        torch.save(model.state_dict(), path)
        out[name] = {"path": path, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                     "config": config, "arch": arch, "size": path.stat().st_size}
    return out


def _manifest(weights: dict[str, Any], urls: dict[str, list[str]] | None = None,
              with_digest: bool = True) -> dict[str, Any]:
    entries = []
    for name, w in weights.items():
        entries.append({
            "id": name, "name": f"Test model {name}", "arch": w["arch"], "dim": 64,
            "image_size": 224, "file": "weights.pt", "urls": (urls or {}).get(name, []),
            "size": w["size"] if with_digest else None,
            "sha256": w["sha256"] if with_digest else None, "licence": "test only",
            "config": w["config"]})
    return {"format": 1, "clip": entries}


@pytest.fixture
def model_dir(tmp_path: Path, weights: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    (folder / "manifest.d").mkdir(parents=True)
    (folder / "manifest.d" / "tests.json").write_text(json.dumps(_manifest(weights)))
    monkeypatch.setenv("GLIMPSE_MODEL_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, weights: dict[str, Any]) -> Path:
    """MODEL added once for the module, through the registry as `glimpse models add` adds it
    (the checkpoint converted to ONNX): its installed folder, which tests copy."""
    from glimpse_desktop.kernel.registry import Registry

    folder = tmp_path_factory.mktemp("converted")
    (folder / "manifest.d").mkdir()
    (folder / "manifest.d" / "tests.json").write_text(json.dumps(_manifest(weights)))
    return Registry(folder).add(MODEL, weights[MODEL]["path"]).folder


@pytest.fixture
def clip_lib(library_path: Path, model_dir: Path, converted: Path) -> Iterator[Library]:
    """A library using MODEL. The model is installed by copying the folder `converted` made
    (converting the checkpoint took a second or two a test); adding it to an open library is
    test_model_added_later_embeds_the_backlog's, and switching to a new one the switch test's."""
    from glimpse_desktop.kernel.registry import Registry

    shutil.copytree(converted, Registry(model_dir).folder(MODEL))
    library = Library.open(library_path, workers=2)
    library.use_model(MODEL)
    try:
        yield library
    finally:
        library.close()


def _photos(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "beach": write_jpeg(folder / "beach.jpg", (1200, 800), seed=1,
                            datetime_original="2021:07:14 10:00:00", make="Apple",
                            model="iPhone 12"),
        "snow": write_jpeg(folder / "snow.jpg", (1000, 750), seed=2,
                           datetime_original="2022:01:05 09:00:00", make="Canon",
                           model="EOS R6", xmp=xmp_packet(subjects=["winter", "sandcastle"])),
        "city": write_jpeg(folder / "city.jpg", (800, 1200), seed=3,
                           datetime_original="2019:03:02 18:00:00", make="Apple",
                           model="iPhone 8"),
        "art": write_png(folder / "art.png", (640, 640), seed=4),
    }
    trip = folder / "Trips" / "Lisbon"
    trip.mkdir(parents=True)
    made["lisbon"] = write_jpeg(trip / "tram.jpg", (900, 600), seed=5,
                                datetime_original="2023:05:01 12:00:00")
    return made


def _ids(lib: Library) -> dict[str, int]:
    return {Path(r["path"]).stem: int(r["id"])
            for r in lib.reader().rows("SELECT id, path FROM photos")}


def _vec(lib: Library, photo_id: int, model_id: str = MODEL) -> np.ndarray:
    conn = lib.reader()
    table = vectors.table_for(conn, model_id)
    assert table is not None
    return np.frombuffer(vectors.get_many(conn, table, [photo_id])[photo_id], dtype="<f4")


def test_fast_preprocessing_matches_open_clip_reference(clip_lib: Library, tmp_path: Path
                                                        ) -> None:
    """Draft decode + our resize/crop + the ONNX runtime must give the embedding open_clip's
    own transform and torch model give from a full decode (cosine >= 0.99, same weights)."""
    import torch

    model = clip_lib.semantic.model(MODEL).load()
    path = tmp_path / "big.jpg"
    photo_like(3000, 2000, seed=7).save(path, "JPEG", quality=92)
    torch_model, preprocess, _, _ = tiny_clip(0)     # the weights MODEL was saved from
    reference = preprocess(Image.open(path)).unsqueeze(0)
    with torch.inference_mode():
        ref = torch_model.encode_image(reference).float().numpy()
    ref = ref / np.linalg.norm(ref)
    decoded = decode(path.read_bytes(), str(path), want=SizeRequest(short_edge=224))
    assert max(decoded.image.size) < 3000  # the draft decode really was used
    ours = model.encode_images([decoded.image])[0]
    assert float(ours @ ref[0]) >= 0.99


def test_index_embeds_every_photo_once(clip_lib: Library, photo_dir: Path) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    conn = clip_lib.reader()
    n = conn.one("SELECT count(*) FROM photos")
    assert n == 5
    assert conn.one("SELECT count(*) FROM photo_embeddings WHERE model_id = ?", (MODEL,)) == n
    assert clip_lib.semantic.status().backlog == 0
    # Unchanged photos are not embedded again; an edited one is.
    again = clip_lib.index()
    assert again.embedded == 0 and again.new == 0
    ids = _ids(clip_lib)
    before = _vec(clip_lib, ids["city"]).copy()
    write_jpeg(photo_dir / "city.jpg", (800, 1200), seed=33)
    clip_lib.index()
    after = _vec(clip_lib, ids["city"])
    assert float(before @ after) < 0.9999
    assert conn.one("SELECT count(*) FROM photo_embeddings WHERE model_id = ? AND "
                    "content_hash = (SELECT content_hash FROM photos WHERE id = ?)",
                    (MODEL, ids["city"])) == 1
    assert_consistent(clip_lib)


def test_search_ranks_and_scores_by_the_rule_in_the_docs(clip_lib: Library, photo_dir: Path
                                                         ) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    ids = _ids(clip_lib)
    texts = clip_lib.semantic.text_encoder(MODEL).encode(["red car in the snow",
                                                           *NEUTRAL_PROMPTS])
    q, neutral = texts[0], texts[1:]
    logit = {}
    for pid in ids.values():
        v = _vec(clip_lib, pid)
        logit[pid] = LOGIT_SCALE * (float(v @ q) - float((neutral @ v).max()))
    everything = clip_lib.search("red car in the snow", min_score=0)
    assert everything.semantic and everything.model == MODEL
    assert {h.photo_id for h in everything.hits} == set(ids.values())
    scores = [h.score for h in everything.hits]
    assert scores == sorted(scores, reverse=True) and all(0 < x < 1 for x in scores)
    for h in everything.hits:
        # The score is the logistic of the scaled margin over the best neutral description
        # (the query encoder may be the int8 ONNX export: a margin within 0.01 of torch's).
        got = np.log(h.score / (1 - h.score))
        assert abs(got - logit[h.photo_id]) < 1.0
    # The cut-off keeps exactly the photos at or above it.
    cut = (scores[1] + scores[2]) / 2
    kept = clip_lib.search("red car in the snow", min_score=cut)
    assert [h.photo_id for h in kept.hits] == [h.photo_id for h in everything.hits[:2]]
    assert kept.cut == len(ids) - 2
    nothing = clip_lib.search("red car in the snow", min_score=1.01)
    assert nothing.hits == [] and nothing.cut == len(ids)


def test_text_matches_are_found_even_below_the_cut(clip_lib: Library, photo_dir: Path) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    ids = _ids(clip_lib)
    result = clip_lib.search("a winter sandcastle", min_score=1.01)
    assert [h.photo_id for h in result.hits] == [ids["snow"]]
    assert result.hits[0].text and result.hits[0].score >= 0.6
    # A folder name counts as text too.
    assert ids["tram"] in {h.photo_id for h in clip_lib.search("lisbon", min_score=1.01).hits}


def test_filters_narrow_the_photos(clip_lib: Library, photo_dir: Path) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    ids = _ids(clip_lib)

    def found(query: str) -> set[int]:
        return {h.photo_id for h in clip_lib.search(query, min_score=0, limit=100).hits}

    assert found("a photo after:2021-06 before:2022") == {ids["beach"]}
    # A PNG without a date in it is dated by its file (written today).
    assert found("a photo after:2022") == {ids["snow"], ids["tram"], ids["art"]}
    assert found("a photo camera:iphone") == {ids["beach"], ids["city"]}
    assert found("a photo type:png") == {ids["art"]}
    assert found("a photo folder:Lisbon") == {ids["tram"]}
    assert found("a photo tag:winter") == {ids["snow"]}
    assert ids["snow"] not in found("a photo -sandcastle")
    assert len(found("a photo -sandcastle")) == 4
    # Filters alone list the matching photos.
    assert found("camera:canon") == {ids["snow"]}
    with pytest.raises(QueryError, match="not a date"):
        clip_lib.search("beach after:last-summer")
    with pytest.raises(QueryError, match="People"):
        clip_lib.search("person:Ana")


def test_filtered_search_keeps_recall(clip_lib: Library, photo_dir: Path) -> None:
    """With a filter, the best photos *inside* the filter come back, however far down the
    unfiltered ranking they are."""
    for i in range(40):
        write_jpeg(photo_dir / f"p{i:02d}.jpg", (320, 240), seed=100 + i,
                   make="Nikon" if i % 10 == 0 else "Sony", model="X")
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    result = clip_lib.search("a dog camera:nikon", min_score=0, limit=10)
    nikon = {int(r[0]) for r in clip_lib.reader().execute(
        "SELECT id FROM photos WHERE camera_make = 'Nikon'")}
    assert {h.photo_id for h in result.hits} == nikon


def test_similar_and_text_plus_image(clip_lib: Library, photo_dir: Path) -> None:
    original = photo_like(1600, 1200, seed=11)
    original.save(photo_dir / "original.jpg", "JPEG", quality=92)
    original.resize((800, 600)).save(photo_dir / "copy.jpg", "JPEG", quality=70)
    for i in range(6):
        write_jpeg(photo_dir / f"other{i}.jpg", (800, 600), seed=200 + i)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    ids = _ids(clip_lib)
    result = clip_lib.similar(ids["original"], min_score=0)
    assert ids["original"] not in {h.photo_id for h in result.hits}
    assert result.hits[0].photo_id == ids["copy"]
    assert result.hits[0].score == pytest.approx(
        float(_vec(clip_lib, ids["original"]) @ _vec(clip_lib, ids["copy"])), abs=1e-2)
    # Scores are cosine similarities, best first; the default cut keeps only close ones.
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(h.score >= 0.8 for h in clip_lib.similar(ids["original"]).hits)
    # Text + image: the image's weight moves the ranking towards the photo.
    mixed = clip_lib.search("at night", like=[ids["original"]], like_weight=0.9, min_score=0)
    assert mixed.hits[0].photo_id == ids["copy"]


def test_search_without_a_model_says_how_to_get_it(lib: Library, photo_dir: Path,
                                                    model_dir: Path) -> None:
    write_jpeg(photo_dir / "sandcastle.jpg")
    lib.add_root(photo_dir)
    report = lib.index()
    assert report.embedded == 0
    result = lib.search("sandcastle")
    assert not result.semantic
    assert [Path(h.path).name for h in result.hits] == ["sandcastle.jpg"]
    # Said as data (the model, its file), which each front end turns into its own advice.
    missing = [r for r in result.notices if r.code == "model_not_installed"]
    assert missing and missing[0].values["file"] and missing[0].values["model"]
    assert not any("glimpse " in n.text for n in result.notices)


def test_model_added_later_embeds_the_backlog(lib: Library, photo_dir: Path, model_dir: Path,
                                              weights: dict[str, Any]) -> None:
    _photos(photo_dir)
    lib.add_root(photo_dir)
    lib.index()
    lib.add_model(MODEL, weights[MODEL]["path"])
    lib.use_model(MODEL)
    assert lib.semantic.status().backlog == 5
    report = lib.index()
    assert report.embedded == 5 and report.new == 0
    assert lib.search("a beach", min_score=0).semantic


def test_switching_model_keeps_search_on_the_old_vectors_until_done(
        clip_lib: Library, photo_dir: Path, weights: dict[str, Any]) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    clip_lib.add_model(OTHER, weights[OTHER]["path"])
    status = clip_lib.use_model(OTHER)
    assert isinstance(status, SearchStatus)
    assert status.target == OTHER and status.active == MODEL and status.backlog == 5
    during = clip_lib.search("a beach", min_score=0)
    assert during.model == MODEL
    assert any("switching to" in n.text for n in during.notices)
    clip_lib.embed()
    after = clip_lib.search("a beach", min_score=0)
    assert after.model == OTHER and len(after.hits) == 5
    conn = clip_lib.reader()
    assert conn.one("SELECT count(*) FROM photo_embeddings WHERE model_id = ?", (OTHER,)) == 5


def test_vector_index_follows_deletions_and_survives_reopen(clip_lib: Library, photo_dir: Path,
                                                            library_path: Path) -> None:
    _photos(photo_dir)
    other = photo_dir.parent / "Other"
    other.mkdir()
    write_jpeg(other / "x.jpg", seed=50)
    clip_lib.add_root(photo_dir)
    clip_lib.add_root(other)
    clip_lib.index()
    assert len(clip_lib.search("a photo", min_score=0).hits) == 6
    clip_lib.remove_root(other)
    hits = clip_lib.search("a photo", min_score=0).hits
    assert len(hits) == 5 and all("Other" not in h.path for h in hits)
    store = clip_lib.semantic.store(MODEL)
    assert store is not None and len(store.index) == 5
    seq = store.index.seq
    clip_lib.close()
    with Library.open(library_path) as again:
        store2 = again.semantic.store(MODEL)
        assert store2 is not None and store2.index.seq == seq and len(store2.index) == 5


def test_tags_are_stored_searchable_and_filterable(clip_lib: Library, photo_dir: Path) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    report = clip_lib.tag(["beach", "mountain", "city"], threshold=0.0, top=1)
    assert report.photos == 5 and report.tagged == 5
    conn = clip_lib.reader()
    # (Keywords in the files' own XMP are tags too, source 'xmp-embedded'.)
    rows = conn.rows("SELECT photo_id, tag, source, confidence FROM photo_tags "
                     "WHERE source LIKE 'clip:%'")
    assert len(rows) == 5
    assert all(r["source"] == f"clip:{MODEL}" and 0 < r["confidence"] <= 1 for r in rows)
    some = rows[0]
    tagged = {h.photo_id for h in clip_lib.search(f"tag:{some['tag']}").hits}
    assert some["photo_id"] in tagged
    assert tagged == {r["photo_id"] for r in rows if r["tag"] == some["tag"]}
    # A threshold no tag can reach leaves photos untagged (the neutral prompts win).
    strict = clip_lib.tag(["beach"], threshold=0.999, top=1)
    assert strict.tagged == 0
    assert conn.one("SELECT count(*) FROM photo_tags WHERE tag = 'beach'") == 0
    # Remembered: a new photo is tagged as it is indexed.
    clip_lib.tag(["beach", "city"], threshold=0.0, top=1)
    write_jpeg(photo_dir / "new.jpg", seed=77)
    clip_lib.index()
    new_id = _ids(clip_lib)["new"]
    assert conn.one("SELECT count(*) FROM photo_tags WHERE photo_id = ? "
                    "AND source LIKE 'clip:%'", (new_id,)) == 1
    vocab = clip_lib.tag(vocabularies=["composition"], threshold=0.0, top=2)
    assert vocab.tagged == 6
    assert set(vocab.tags) <= {"rule of thirds", "centered", "symmetry", "leading lines",
                               "pattern", "framing", "minimalism", "close-up"}


class _Weights(BaseHTTPRequestHandler):
    payload = b""
    digest = ""

    def do_HEAD(self) -> None:
        # What the hub answers: a redirect to the CDN, with the LFS digest and size.
        self.send_response(302)
        self.send_header("Location", "/cdn/weights.pt")
        self.send_header("X-Linked-Etag", f'"{self.digest}"')
        self.send_header("X-Linked-Size", str(len(self.payload)))
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        pass


def test_download_checks_the_digest_the_hub_publishes(tmp_path: Path, weights: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    handler = type("H", (_Weights,), {"payload": weights[MODEL]["path"].read_bytes(),
                                      "digest": weights[MODEL]["sha256"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/resolve/weights.pt"
        folder = tmp_path / "models"
        (folder / "manifest.d").mkdir(parents=True)
        (folder / "manifest.d" / "t.json").write_text(json.dumps(
            _manifest({MODEL: weights[MODEL]}, {MODEL: [url]}, with_digest=False)))
        monkeypatch.setenv("GLIMPSE_MODEL_DIR", str(folder))
        lib_path = tmp_path / "l.sqlite3"
        assert main(["--library", str(lib_path), "models", "download", MODEL]) == 0
        installed = json.loads((folder / "clip" / MODEL / "installed.json").read_text())
        assert installed["sha256"] == weights[MODEL]["sha256"]
        capsys.readouterr()
        assert main(["--library", str(lib_path), "models", "list", "--json"]) == 0
        rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["models"]}
        assert rows[MODEL]["installed"] and not rows["vit-b-32-laion2b"]["installed"]
        # A hub that publishes a different digest than the bytes it sends is refused.
        handler.digest = "0" * 64
        assert main(["--library", str(lib_path), "models", "remove", MODEL]) == 0
        assert main(["--library", str(lib_path), "models", "download", MODEL]) == 1
        assert "SHA-256" in capsys.readouterr().err
        assert not (folder / "clip" / MODEL / "weights.pt").exists()
    finally:
        server.shutdown()


def test_no_network_download_says_how_to_add_by_hand(tmp_path: Path, model_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The built-in entry as shipped, its address moved to a port where nothing listens: a
    # machine that cannot reach the publisher, and never a real 600 MB download on one that
    # can. The message must say how to install the file by hand.
    shipped = json.loads(resources.files("glimpse_desktop.models")
                         .joinpath("manifest.json").read_text("utf-8"))
    entry = next(e for e in shipped["clip"] if e["id"] == "vit-b-32-openai")
    url = f"http://127.0.0.1:{closed_port()}/clip/ViT-B-32.pt"
    (model_dir / "manifest.d" / "unreachable.json").write_text(json.dumps(
        {"format": shipped["format"], "clip": [{**entry, "urls": [url]}]}))
    code = main(["--library", str(tmp_path / "l.sqlite3"), "models", "download",
                 "vit-b-32-openai"])
    err = capsys.readouterr().err
    assert code == 1
    assert url in err and "refused" in err             # the address it really tried
    assert "glimpse models add vit-b-32-openai" in err
    assert not (model_dir / "clip" / "vit-b-32-openai" / entry["file"]).exists()


def test_cli_search_similar_and_cold_query_without_torch(clip_lib: Library, photo_dir: Path,
                                                         library_path: Path, model_dir: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    _photos(photo_dir)
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    ids = _ids(clip_lib)
    clip_lib.close()
    capsys.readouterr()
    assert main(["--library", str(library_path), "search", "red", "car", "-snow",
                 "--min-score", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["semantic"] and ids["snow"] not in {r["id"] for r in out["results"]}
    assert all(0 <= r["percent"] <= 100 for r in out["results"])
    assert main(["--library", str(library_path), "similar", str(ids["beach"]),
                 "--min-score", "0"]) == 0
    assert "%" in capsys.readouterr().out
    # A cold `glimpse search` in a fresh process encodes the query without importing torch.
    code = (
        "import sys\n"
        "from glimpse_desktop.cli import main\n"
        f"rc = main(['--library', {str(library_path)!r}, 'search', 'a beach', '--json',"
        " '--min-score', '0'])\n"
        "assert rc == 0, rc\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'open_clip' not in sys.modules\n")
    env = {**os.environ, "GLIMPSE_MODEL_DIR": str(model_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["results"]) == 5


def test_cli_tag_duplicates_and_sort_by_tag(clip_lib: Library, photo_dir: Path,
                                            library_path: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    made = _photos(photo_dir)
    (photo_dir / "beach copy.jpg").write_bytes(made["beach"].read_bytes())
    clip_lib.add_root(photo_dir)
    clip_lib.index()
    clip_lib.close()
    lib_arg = ["--library", str(library_path)]
    capsys.readouterr()
    assert main([*lib_arg, "tag", "--tags", "beach,city", "--threshold", "0", "--top", "1",
                 "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["tagged"] == 6
    assert main([*lib_arg, "duplicates", "--json", "-q"]) == 0
    groups = json.loads(capsys.readouterr().out)
    exact = [g for g in groups if g["kind"] == "exact"]
    assert len(exact) == 1
    assert {Path(m["path"]).name for m in exact[0]["members"]} == {"beach.jpg",
                                                                   "beach copy.jpg"}
    out = tmp_path / "sorted"
    assert main([*lib_arg, "sort-by-tag", "--output", str(out), "--dry-run"]) == 0
    assert not out.exists()
    assert main([*lib_arg, "sort-by-tag", "--output", str(out), "-q"]) == 0
    copies = sorted(p.relative_to(out).parts[0] for p in out.rglob("*.jpg"))
    assert len(list(out.rglob("*.*"))) == 6 and set(copies) <= {"beach", "city"}
    assert all(p.exists() for p in made.values())  # copies: originals stay


def test_weights_without_a_published_digest_are_checked_by_loading_them(
        tmp_path: Path, weights: dict[str, Any]) -> None:
    """The registry (kernel) knows no model: it checks a file added by hand by loading it
    through the ``clip`` kind the search plugin contributes, with no library open."""
    from glimpse_desktop.kernel.registry import ModelError, Registry

    folder = tmp_path / "models"
    (folder / "manifest.d").mkdir(parents=True)
    (folder / "manifest.d" / "tests.json").write_text(
        json.dumps(_manifest({MODEL: weights[MODEL]}, with_digest=False)))
    registry = Registry(folder)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ModelError, match="is not a"):
        registry.add(MODEL, junk)
    assert registry.installed(MODEL) is None
    assert not (registry.folder(MODEL) / "weights.pt").exists()

    installed = registry.add(MODEL, weights[MODEL]["path"])
    assert installed.sha256 == weights[MODEL]["sha256"]
    assert registry.installed(MODEL) == installed
