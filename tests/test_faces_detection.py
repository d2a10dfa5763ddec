"""Face detection on camera-sized photos, through the face stage as ingestion runs it: a small
face in a 12 MP photo is still found (the coarse pass hands it to the full-resolution one), a
photo without a face costs the coarse pass only, and the recogniser gives the same vectors on
every runtime it may run on. Real models, real photographs of people, real JPEG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glimpse_desktop.faces.models import YUNET_SFACE as PACK
from glimpse_desktop.faces.models import FaceModels
from glimpse_desktop.faces.stage import FaceCrops, FaceStage, PhotoFaces
from glimpse_desktop.kernel.decode import Decoded, SizeRequest, decode
from glimpse_desktop.kernel.thumbnails import GRID
from tests.imagegen import photo_like

SIZE = (4000, 3000)


@pytest.fixture(scope="module")
def models() -> FaceModels:
    return FaceModels(PACK, threads=2).load()


def _stage(models: FaceModels, tmp_path: Path) -> FaceStage:
    return FaceStage(models, FaceCrops(tmp_path / "crops"), lambda conn: "unused")


def _ingest_decode(stage: FaceStage, path: Path) -> tuple[str, Decoded]:
    """The pixels ingestion hands the stages when faces and thumbnails are on."""
    want = stage.wants().union(SizeRequest(long_edge=GRID))
    return "ab" * 32, decode(path.read_bytes(), str(path), want=want)


def _face_photo(models: FaceModels, source: Path, target: Path, fraction: float,
                at: tuple[float, float]) -> tuple[float, float, float, float]:
    """A 12 MP photo-like JPEG with the face of ``source`` pasted so that its box is
    ``fraction`` of the short side tall, its centre at ``at`` (fractions of the frame).
    Returns where the face's box is, in the photo's pixels."""
    rgb = Image.open(source).convert("RGB")
    (face,) = models.detect(np.asarray(rgb))
    x, y, w, h = face.box
    scale = fraction * min(SIZE) / h
    # The head and some shoulders come along: the detector needs the face's surroundings.
    cx, cy = x + w / 2, y + h / 2
    region = rgb.crop((round(cx - w), round(cy - h), round(cx + w), round(cy + h)))
    region = region.resize((round(region.width * scale), round(region.height * scale)),
                           Image.Resampling.BICUBIC)
    canvas = photo_like(*SIZE, seed=7)
    left = round(at[0] * SIZE[0] - region.width / 2)
    top = round(at[1] * SIZE[1] - region.height / 2)
    canvas.paste(region, (left, top))
    canvas.save(target, "JPEG", quality=90)
    return (left + region.width / 2 - w * scale / 2, top + region.height / 2 - h * scale / 2,
            w * scale, h * scale)


def test_a_small_face_in_a_large_photo_is_found_at_full_resolution(
        models: FaceModels, face_photos: Path, tmp_path: Path) -> None:
    path = tmp_path / "small.jpg"
    x, y, w, h = _face_photo(models, face_photos / "obama1.jpg", path, 0.04, (0.7, 0.3))
    stage = _stage(models, tmp_path)
    content_hash, decoded = _ingest_decode(stage, path)
    result = stage.process(content_hash, decoded)
    assert isinstance(result, PhotoFaces)
    assert len(result.found) == 1
    face = result.found[0]
    fx, fy, fw, fh = face.box
    # Where it was put (fractions of the frame), and about its size in the photo's pixels.
    assert abs((fx + fw / 2) * SIZE[0] - (x + w / 2)) < w / 4
    assert abs((fy + fh / 2) * SIZE[1] - (y + h / 2)) < h / 4
    assert 0.6 * w < fw * SIZE[0] < 1.5 * w
    # Too small for the coarse pass to place its landmarks: looked at again, once.
    assert stage.tally.refined == 1 and stage.tally.cheap == 0
    assert len(list((tmp_path / "crops").rglob("*.jpg"))) == 1
    # Still the same man as in his own photograph.
    (own,) = models.find(Image.open(face_photos / "obama1.jpg"))
    vectors = models.embed(np.stack([own.crop, face.crop]))
    assert float(vectors[0] @ vectors[1]) > 0.45


def test_a_photo_without_a_face_takes_the_cheap_path(models: FaceModels,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "landscape.jpg"
    photo_like(*SIZE, seed=3).save(path, "JPEG", quality=90)
    stage = _stage(models, tmp_path)
    content_hash, decoded = _ingest_decode(stage, path)
    result = stage.process(content_hash, decoded)
    assert isinstance(result, PhotoFaces) and result.found == []
    assert (stage.tally.images, stage.tally.cheap, stage.tally.refined) == (1, 1, 0)
    assert not (tmp_path / "crops").exists()
    # Its batch embeds nothing.
    (item,) = stage.process_batch([result])
    assert item.vectors is not None and len(item.vectors) == 0


def test_the_recogniser_gives_the_same_vectors_on_either_runtime(
        models: FaceModels, face_photos: Path) -> None:
    crops = np.stack([face.crop for name in ("obama1.jpg", "biden.jpg", "queen.jpg")
                      for face in models.find(Image.open(face_photos / name))])
    on_ort = FaceModels(PACK, threads=1, recogniser="onnxruntime").load()
    on_ov = FaceModels(PACK, threads=1, recogniser="openvino").load()
    assert (on_ort.recogniser_runtime, on_ov.recogniser_runtime) == ("onnxruntime", "openvino")
    a, b = on_ort.embed(crops), on_ov.embed(crops)
    assert a.shape == b.shape == (3, PACK.dim)
    assert np.all(np.sum(a * b, axis=1) > 0.999)


def test_an_unknown_recogniser_runtime_is_a_clear_error() -> None:
    from glimpse_desktop.kernel.registry import ModelError

    with pytest.raises(ModelError, match="unknown face runtime 'tensorflow'"):
        FaceModels(PACK, recogniser="tensorflow").load()


def test_a_child_forked_after_openvino_started_finds_faces_on_onnxruntime(
        face_photos: Path) -> None:
    """OpenVINO's thread pools do not survive fork(): a child compiling a model hung for ever
    (seen when a test forked to drop privileges). Such a child embeds faces on ONNX Runtime."""
    import os
    import select

    parent = FaceModels(PACK, threads=1).load()
    assert parent.recogniser_runtime == "openvino"   # OpenVINO is running in this process
    photo = Image.open(face_photos / "obama1.jpg")
    expected = parent.embed(np.stack([f.crop for f in parent.find(photo)]))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            child = FaceModels(PACK, threads=1).load()
            got = child.embed(np.stack([f.crop for f in child.find(photo)]))
            ok = (child.recogniser_runtime == "onnxruntime"
                  and bool(np.all(np.sum(got * expected, axis=1) > 0.999)))
            os.write(write, b"ok" if ok else child.recogniser_runtime.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 120)
        answer = os.read(read, 64) if ready else b"hung"
    finally:
        if not ready:
            os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read)
    assert answer == b"ok"
