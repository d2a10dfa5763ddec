"""Duplicate finding against a real library: real image files ingested by the real pipeline
(thumbnails included), embeddings stored in a real vec0 table."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import photos, vectors
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, Progress, ProgressMeter
from glimpse_desktop.search import duplicates
from glimpse_desktop.search.duplicates import (
    EXACT,
    NEAR,
    PERCEPTUAL_MAX,
    DuplicateGroup,
    find_duplicates,
    fingerprint,
    perceptual_distance,
)
from tests.imagegen import exif_block, photo_like, write_jpeg

MODEL = "test-model"
DIM = 16
SIZE = (1024, 768)


def scene(seed: int, *, shift: int = 0, subject_x: int = 300) -> Image.Image:
    """A photo of a scene; ``shift`` moves the camera, ``subject_x`` moves a red ball: two
    frames of a burst share the scene and differ by a little of both."""
    w, h = SIZE
    canvas = photo_like(w + 80, h + 80, seed=seed)
    img = canvas.crop((40 + shift, 40 + shift // 2, 40 + shift + w, 40 + shift // 2 + h))
    r = w // 12
    ImageDraw.Draw(img).ellipse((subject_x - r, 400 - r, subject_x + r, 400 + r),
                                fill=(220, 40, 40))
    return img


def save_jpeg(img: Image.Image, path: Path, *, quality: int = 92,
              size: tuple[int, int] | None = None, **exif: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if size is not None:
        img = img.resize(size, Image.Resampling.LANCZOS)
    img.save(path, "JPEG", quality=quality, exif=exif_block(**exif))
    return path


def ingest(lib: Library, folder: Path) -> dict[str, int]:
    """Index ``folder`` and return photo ids by path relative to it ("trip/IMG_0001.jpg")."""
    lib.add_root(folder)
    lib.index()
    base = folder.resolve()
    return {Path(row["path"]).relative_to(base).as_posix(): int(row["id"])
            for row in lib.reader().rows("SELECT id, path FROM photos")}


def embed(lib: Library, vecs: dict[int, np.ndarray]) -> str:
    def apply(conn: Connection) -> str:
        table = vectors.ensure_space(conn, MODEL, kind="image", dim=DIM)
        for pid, vec in vecs.items():
            vectors.store_embedding(conn, table, MODEL, pid, vec)
        return table

    return lib.writer.call(apply)


def near(base: np.ndarray, rng: np.random.Generator, cos: float) -> np.ndarray:
    """A vector at exactly cosine ``cos`` from ``base``."""
    unit = base / np.linalg.norm(base)
    noise = rng.standard_normal(base.shape)
    noise -= (noise @ unit) * unit
    noise /= np.linalg.norm(noise)
    return np.asarray(cos * unit + np.sqrt(1 - cos**2) * noise, dtype=np.float32)


def names(groups: list[DuplicateGroup]) -> list[set[str]]:
    """Each group as the set of its members' paths under the photo folder."""
    return [{"/".join(Path(m.path).parts[-2:]) for m in g.members} for g in groups]


@pytest.fixture
def trip(lib: Library, photo_dir: Path) -> tuple[dict[str, int], str]:
    """The original, an exact copy, two re-encoded copies, a burst frame and another photo."""
    original = scene(5)
    save_jpeg(original, photo_dir / "trip" / "IMG_0001.jpg", make="Canon",
              model="EOS R6", datetime_original="2023:07:14 10:00:00", gps=(45.9, 6.8))
    (photo_dir / "backup").mkdir()
    shutil.copy2(photo_dir / "trip" / "IMG_0001.jpg", photo_dir / "backup" / "IMG_0001.jpg")
    save_jpeg(original, photo_dir / "web" / "IMG_0001_small.jpg", quality=55, size=(640, 480))
    (photo_dir / "export").mkdir()
    original.resize((800, 600), Image.Resampling.LANCZOS).save(photo_dir / "export" /
                                                               "IMG_0001.png")
    # The next frame of the burst: the camera moved 2% and the subject 6% of the frame.
    save_jpeg(scene(5, shift=20, subject_x=360), photo_dir / "trip" / "IMG_0002.jpg",
              make="Canon", model="EOS R6", datetime_original="2023:07:14 10:00:01")
    write_jpeg(photo_dir / "trip" / "IMG_0100.jpg", SIZE, seed=9)
    ids = ingest(lib, photo_dir)
    rng = np.random.default_rng(0)
    base = rng.standard_normal(DIM).astype(np.float32)
    table = embed(lib, {
        ids["trip/IMG_0001.jpg"]: base,
        # Ingestion gives identical bytes identical vectors.
        ids["backup/IMG_0001.jpg"]: base,
        ids["web/IMG_0001_small.jpg"]: near(base, rng, 0.99),
        ids["export/IMG_0001.png"]: near(base, rng, 0.985),
        # CLIP sees the same scene in a burst: only the pixels tell the frames apart.
        ids["trip/IMG_0002.jpg"]: near(base, rng, 0.97),
        ids["trip/IMG_0100.jpg"]: rng.standard_normal(DIM).astype(np.float32),
    })
    return ids, table


def run(lib: Library, table: str | None, **kwargs: object) -> list[DuplicateGroup]:
    return find_duplicates(lib.reader(), thumbnails=lib.thumbnails,
                           model_id=MODEL if table else None, table=table,
                           **kwargs)  # type: ignore[arg-type]


def test_exact_copies_are_grouped_by_content(lib: Library, trip: tuple[dict[str, int], str]
                                             ) -> None:
    groups = run(lib, None)
    assert len(groups) == 1
    (group,) = groups
    assert group.kind == EXACT
    assert names(groups) == [{"trip/IMG_0001.jpg", "backup/IMG_0001.jpg"}]
    assert group.similarity == 1.0 and group.confident
    assert all(m.distance == 0.0 for m in group.members)


def test_near_copies_join_and_a_burst_frame_does_not(lib: Library,
                                                     trip: tuple[dict[str, int], str]) -> None:
    ids, table = trip
    groups = run(lib, table)
    assert names(groups) == [{"trip/IMG_0001.jpg", "backup/IMG_0001.jpg",
                              "web/IMG_0001_small.jpg", "export/IMG_0001.png"}]
    (group,) = groups
    assert group.kind == NEAR and group.confident
    # The full-size original is the copy to keep, over the smaller PNG and the downscaled
    # JPEG; of the two identical files, the shorter path ("trip" < "backup").
    assert group.best.width == 1024 and group.best.format == "JPEG"
    assert set(group.best.metadata) == {"camera", "gps", "date"}
    assert group.best.id == ids["trip/IMG_0001.jpg"]
    assert [m.width for m in group.members] == [1024, 1024, 800, 640]
    assert group.members[1].similarity == 1.0
    assert group.similarity is not None and 0.98 <= group.similarity < 1.0
    for m in group.members[2:]:
        assert m.distance is not None and m.distance <= PERCEPTUAL_MAX
    assert ids["trip/IMG_0002.jpg"] not in {m.id for m in group.members}


def test_the_perceptual_check_tells_a_burst_from_a_reencode(lib: Library,
                                                            trip: tuple[dict[str, int], str]
                                                            ) -> None:
    ids, _ = trip

    def fp(name: str) -> object:
        row = lib.photo(ids[name])
        assert row is not None and row.thumbnail is not None
        return fingerprint(row.thumbnail)

    original, small, png, burst = (fp(n) for n in (
        "trip/IMG_0001.jpg", "web/IMG_0001_small.jpg", "export/IMG_0001.png",
        "trip/IMG_0002.jpg"))
    assert perceptual_distance(original, small) < PERCEPTUAL_MAX / 2  # type: ignore[arg-type]
    assert perceptual_distance(original, png) < PERCEPTUAL_MAX / 2  # type: ignore[arg-type]
    assert perceptual_distance(original, burst) > PERCEPTUAL_MAX  # type: ignore[arg-type]


def test_a_missing_thumbnail_falls_back_to_the_embedding_with_low_confidence(
        lib: Library, trip: tuple[dict[str, int], str]) -> None:
    ids, table = trip
    row = lib.photo(ids["export/IMG_0001.png"])
    assert row is not None and row.thumbnail is not None
    Path(row.thumbnail).unlink()
    (group,) = run(lib, table)
    assert ids["export/IMG_0001.png"] in {m.id for m in group.members}
    assert not group.confident
    png = next(m for m in group.members if m.id == ids["export/IMG_0001.png"])
    assert png.distance is None and png.similarity is not None


def test_threshold_and_switches(lib: Library, trip: tuple[dict[str, int], str]) -> None:
    _, table = trip
    # Above the re-encodes' cosine: only the identical files remain.
    assert names(run(lib, table, threshold=0.999)) == [{"trip/IMG_0001.jpg",
                                                        "backup/IMG_0001.jpg"}]
    assert [g.kind for g in run(lib, table, near=False)] == [EXACT]
    # The table is found from the model id alone.
    groups = find_duplicates(lib.reader(), thumbnails=lib.thumbnails, model_id=MODEL,
                             table=None)
    assert len(groups) == 1 and len(groups[0].members) == 4
    with pytest.raises(ValueError):
        run(lib, table, threshold=0.0)
    with pytest.raises(ValueError):
        find_duplicates(lib.reader(), thumbnails=lib.thumbnails, model_id=MODEL,
                        table="photos; DROP TABLE photos")


def test_missing_photos_and_stale_embeddings_are_left_out(lib: Library,
                                                          trip: tuple[dict[str, int], str]
                                                          ) -> None:
    ids, table = trip
    lib.writer.call(lambda c: photos.mark_status(c, [ids["web/IMG_0001_small.jpg"]], "missing"))
    # The PNG was edited since it was embedded: its vector describes other pixels.
    lib.writer.call(lambda c: c.execute(
        "UPDATE photo_embeddings SET content_hash = 'old' WHERE photo_id = ?",
        (ids["export/IMG_0001.png"],)))
    (group,) = run(lib, table)
    assert group.kind == EXACT
    lib.writer.call(lambda c: photos.mark_status(c, [ids["trip/IMG_0001.jpg"]], "offline"))
    (group,) = run(lib, table)
    assert ids["trip/IMG_0001.jpg"] in {m.id for m in group.members}


def test_best_copy_prefers_original_formats_then_metadata(lib: Library, photo_dir: Path) -> None:
    img = scene(11)
    # Same pixel count: the PNG is the original, the JPEG a re-encode of it.
    img.save(photo_dir / "a.png")
    save_jpeg(img, photo_dir / "a.jpg", quality=95)
    # Same pixels and format: the copy with camera, date and GPS wins over a bigger file.
    other = scene(12)
    save_jpeg(other, photo_dir / "b_plain.jpg", quality=95)
    save_jpeg(other, photo_dir / "b_exif.jpg", quality=80, make="Nikon", model="Z6",
              datetime_original="2022:01:01 12:00:00", gps=(1.0, 2.0))
    ids = ingest(lib, photo_dir)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(DIM), rng.standard_normal(DIM)
    table = embed(lib, {ids["a.png"]: a, ids["a.jpg"]: near(a, rng, 0.99),
                        ids["b_plain.jpg"]: b, ids["b_exif.jpg"]: near(b, rng, 0.99)})
    groups = run(lib, table)
    best = {Path(g.best.path).name for g in groups}
    assert best == {"a.png", "b_exif.jpg"}
    plain = next(m for g in groups for m in g.members if m.id == ids["b_plain.jpg"])
    assert plain.size > next(g.best for g in groups if g.best.id == ids["b_exif.jpg"]).size
    # Equal sizes: ordered by the best copy's id.
    assert [g.best.id for g in groups] == sorted(g.best.id for g in groups)


def test_groups_are_ordered_largest_first(lib: Library, photo_dir: Path) -> None:
    for seed, copies in ((21, 2), (22, 3)):
        write_jpeg(photo_dir / f"s{seed}.jpg", (320, 240), seed=seed)
        for n in range(1, copies):
            (photo_dir / f"copy{n}").mkdir(exist_ok=True)
            shutil.copy2(photo_dir / f"s{seed}.jpg", photo_dir / f"copy{n}" / f"s{seed}.jpg")
    ingest(lib, photo_dir)
    groups = run(lib, None)
    assert [len(g.members) for g in groups] == [3, 2]
    assert all(Path(g.best.path).parent == photo_dir.resolve() for g in groups)


def test_progress_and_cancel(lib: Library, trip: tuple[dict[str, int], str]) -> None:
    _, table = trip
    events: list[Progress] = []
    run(lib, table, progress=events.append)
    assert {e.job for e in events} == {"duplicates"}
    assert "comparing photos" in {e.phase for e in events}
    assert events[-1].finished
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run(lib, table, cancel=token)


@pytest.mark.parametrize("tile", [3, 8, 64])
def test_blockwise_comparison_finds_exactly_the_pairs_brute_force_finds(
        monkeypatch: pytest.MonkeyPatch, tile: int) -> None:
    monkeypatch.setattr(duplicates, "TILE", tile)
    rng = np.random.default_rng(tile)
    n = 60
    base = rng.standard_normal((6, DIM))
    mat = np.asarray([near(base[k % 6], rng, 0.9 + 0.1 * rng.random()) for k in range(n)],
                     dtype=np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    # A few shapes, some unknown (inf), sorted as find_duplicates sorts them.
    shapes = rng.choice([np.log(4 / 3), np.log(4 / 3) + 0.01, -np.log(4 / 3), 0.0, np.inf],
                        size=n)
    order = np.argsort(shapes, kind="stable")
    mat, shapes = mat[order], shapes[order]
    meter = ProgressMeter("test", None)
    found = {(a, b) for a, b, _ in duplicates._similar_pairs(mat, shapes, 0.95, meter,
                                                             CancelToken())}
    sims = mat @ mat.T
    expected = {(a, b) for a in range(n) for b in range(a + 1, n)
                if sims[a, b] >= 0.95 - 1e-6 and (
                    np.isinf(shapes[a]) or np.isinf(shapes[b])
                    or abs(shapes[a] - shapes[b]) <= duplicates._BAND)}
    assert expected and found == expected
