"""Real camera files (photos no one here made), taken from the test folders of public packages
on the registries, to hold Glimpse's metadata reading against ExifTool's.

Nothing here is committed to the repository: the archives are fetched from Debian's package
pool (deb.debian.org: the upstream source tarballs of three Debian source packages) and from
PyPI (sdists), checked against pinned sha256 digests, and the camera files extracted into
``.cache/camera-files/<package>/`` at the top of the checkout (reused by later runs;
``GLIMPSE_CAMERA_FILES`` names another folder). ``GLIMPSE_CAMERA_ARCHIVES`` may name a folder
that already holds the archives (checked against the same digests), to work offline.

Only files a camera or phone wrote are taken: none of the packages' crafted crash files
(``*poc*``, security advisories), no sidecars or metadata-only containers (.xmp, .exv), no
video, and no RAW format the issue does not ask for (CRW, X3F, MRW, IIQ). The ExifTool RAWs
(CR2, CR3, NEF, RAF) are real headers with the image data stripped by ExifTool's author:
metadata only, no pixels.

Left out on purpose: Pillow's sdist (47 MB, 20 camera files, half of them copies of the same
Nintendo 3DS frames; the phones it adds are covered by pillow-heif's HEICs and exiv2's iPhone
files), so the download is about 55 MB for 132 files.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("GLIMPSE_CAMERA_FILES", ROOT / ".cache" / "camera-files"))


@dataclass(frozen=True)
class Archive:
    """One registry archive and the camera files taken from it."""

    package: str      # the registry package (the folder of its files in the cache)
    registry: str
    url: str
    sha256: str
    licence: str      # the package's licence, which its test files come under
    prefix: str       # the folder inside the archive that holds the files below
    files: tuple[str, ...]


ARCHIVES: tuple[Archive, ...] = (
    Archive(
        package="exiv2", registry="Debian source (bookworm), exiv2 0.27.6",
        url="https://deb.debian.org/debian/pool/main/e/exiv2/exiv2_0.27.6.orig.tar.gz",
        sha256="f16ee5ff08b6994c66106109417857f13e711fca100ac43c6a403d4f02b59602",
        licence="GPL-2.0-or-later", prefix="exiv2-0.27.6/test/data/",
        files=(
            "2021-02-13-1929.heic", "Canon-R6-pruned.CR3", "DSC_3079.jpg",
            "FujiTagsDRangeAutoRating1.jpg", "FujiTagsDRangeStrongRating3.jpg",
            "FujiTagsDRangeWeakRating2.jpg", "FujiTagsSTone-2HTone4.jpg",
            "FujiTagsSTone0HTone0Rating4.jpg", "FujiTagsSTone1HTone-1Rating5.jpg",
            "FujiTagsSTone4HTone-2.jpg", "FurnaceCreekInn.jpg", "FurnaceCreekInn2.jpg",
            "FurnaceCreekInn3.jpg", "IMG_1361.dng", "IMG_3578.heic", "Reagan.jpg",
            "Reagan.tiff", "ReaganLargeJpg.jpg", "ReaganLargePng.png", "ReaganLargeTiff.tiff",
            "ReaganSmallPng.png", "Stonehenge.heic", "exiv2-bug1026.jpg", "exiv2-bug1062.jpg",
            "exiv2-bug1074.png", "exiv2-bug1114.jpg", "exiv2-bug1199.webp",
            "exiv2-bug1202.jpg", "exiv2-bug1231a.jpg", "exiv2-bug1231b.jpg",
            "exiv2-bug443.jpg", "exiv2-bug444.jpg", "exiv2-bug445.jpg", "exiv2-bug447.jpg",
            "exiv2-bug495.jpg", "exiv2-bug501.jpg", "exiv2-bug528.jpg", "exiv2-bug540.jpg",
            "exiv2-bug855.jpg", "exiv2-bug876.jpg", "exiv2-bug884a.jpg", "exiv2-bug884b.jpg",
            "exiv2-bug884c.jpg", "exiv2-bug922.jpg", "exiv2-bug922.png", "exiv2-bug922a.jpg",
            "exiv2-canon-eos-20d.jpg", "exiv2-canon-eos-300d.jpg", "exiv2-canon-eos-d30.jpg",
            "exiv2-canon-powershot-a520.jpg", "exiv2-fujifilm-finepix-s2pro.jpg",
            "exiv2-gc.jpg", "exiv2-kodak-dc210.jpg", "exiv2-nikon-d70.jpg",
            "exiv2-nikon-e950.jpg", "exiv2-nikon-e990.jpg", "exiv2-olympus-c8080wz.jpg",
            "exiv2-panasonic-dmc-fz5.jpg", "exiv2-sigma-d10.jpg", "exiv2-sony-dsc-w7.jpg",
            "imagemagick.png", "smiley2.jpg", "test.tiff",
        ),
    ),
    Archive(
        package="libimage-exiftool-perl", registry="Debian source (bookworm), ExifTool 12.57",
        url="https://deb.debian.org/debian/pool/main/libi/libimage-exiftool-perl/"
            "libimage-exiftool-perl_12.57+dfsg.orig.tar.xz",
        sha256="9de7ccd6ed6adf92038c8d943b1960d087b58c00b3924d19f61a1d774b7610fc",
        licence="GPL-1.0-or-later OR Artistic-1.0-Perl", prefix="Image-ExifTool-12.57/t/images/",
        files=(
            "Apple.jpg", "Canon.jpg", "Canon1DmkIII.jpg", "CanonRaw.cr2", "CanonRaw.cr3",
            "Casio.jpg", "Casio2.jpg", "DNG.dng", "ExifTool.jpg", "ExifTool.tif", "FLIR.jpg",
            "FujiFilm.jpg", "FujiFilm.raf", "GE.jpg", "GPS.jpg", "GoPro.jpg", "InfiRay.jpg",
            "JVC.jpg", "JVC2.jpg", "Kodak.jpg", "Minolta.jpg", "Motorola.jpg", "Nikon.jpg",
            "Nikon.nef", "NikonD2Hs.jpg", "NikonD70.jpg", "Olympus.jpg", "Olympus2.jpg",
            "OlympusE1.jpg", "Panasonic.jpg", "Panasonic.rw2", "Pentax.jpg", "Ricoh.jpg",
            "Ricoh2.jpg", "Sanyo.jpg", "Sigma.jpg", "Sony.jpg", "Unknown.jpg", "XMP.jpg",
        ),
    ),
    Archive(
        package="libexif", registry="Debian source (bookworm), libexif 0.6.24",
        url="https://deb.debian.org/debian/pool/main/libe/libexif/libexif_0.6.24.orig.tar.gz",
        sha256="d3fb7c47829ec4d2def39aa38f4c35a0891763448a05dbf216a329a12bf198f9",
        licence="LGPL-2.1-or-later", prefix="libexif-libexif-0_6_24-release/test/testdata/",
        files=(
            "canon_makernote_variant_1.jpg", "fuji_makernote_variant_1.jpg",
            "olympus_makernote_variant_2.jpg", "olympus_makernote_variant_3.jpg",
            "olympus_makernote_variant_4.jpg", "olympus_makernote_variant_5.jpg",
            "pentax_makernote_variant_2.jpg", "pentax_makernote_variant_3.jpg",
            "pentax_makernote_variant_4.jpg",
        ),
    ),
    Archive(
        package="piexif", registry="PyPI sdist, piexif 1.1.3",
        url="https://files.pythonhosted.org/packages/fa/84/"
            "a3f25cec7d0922bf60be8000c9739d28d24b6896717f44cc4cfb843b1487/piexif-1.1.3.zip",
        sha256="83cb35c606bf3a1ea1a8f0a25cb42cf17e24353fd82e87ae3884e74a302a5f1b",
        licence="MIT", prefix="piexif-1.1.3/tests/images/",
        files=(
            "01.tif", "02.jpg", "L01.jpg", "L02.jpg", "large.jpg", "r_canon.jpg",
            "r_casio.jpg", "r_olympus.jpg", "r_pana.jpg", "r_pen.jpg", "r_ricoh.jpg",
            "r_sigma.jpg", "r_sony.jpg",
        ),
    ),
    Archive(
        package="pillow-heif", registry="PyPI sdist, pillow-heif 1.9.0",
        url="https://files.pythonhosted.org/packages/46/b8/"
            "bef426073bdb089d30e053bcc6b2800d2be756ff2cf93eea34fa68bc92f0/"
            "pillow_heif-1.9.0.tar.gz",
        sha256="8a13d15106c9dbbd66a65966edee2ee0de3950c18dc3ea42912442cda803ea4c",
        licence="BSD-3-Clause", prefix="pillow_heif-1.9.0/tests/images/",
        files=(
            "heif_other/L_exif_xmp_iptc.heic", "heif_other/arrow.heic",
            "heif_other/empty_icc.heic", "heif_other/pug.heic", "heif_other/spatial_photo.heic",
            "heif_special/200MP.heic", "heif_special/aux_YCbCr.heic", "heif_special/xiaomi.heic",
        ),
    ),
)


def _local_name(member: str) -> str:
    # One flat folder per package: the subfolders of pillow-heif's tests hold distinct names.
    return member.rsplit("/", 1)[-1]


def origin(path: Path) -> Archive:
    """The archive a cached camera file came from (its package, registry and licence)."""
    for archive in ARCHIVES:
        if path.parent.name == archive.package:
            return archive
    raise KeyError(f"{path} is not a camera file of tests/camerafiles.py")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "glimpse-tests"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return bytes(response.read())


def _archive_bytes(archive: Archive) -> bytes:
    filename = archive.url.rsplit("/", 1)[-1]
    local = os.environ.get("GLIMPSE_CAMERA_ARCHIVES")
    if local and (Path(local) / filename).is_file():
        data = (Path(local) / filename).read_bytes()
    else:
        data = _get(archive.url)
    digest = _sha256(data)
    if digest != archive.sha256:
        raise RuntimeError(f"{filename} from {archive.url} has sha256 {digest}, "
                           f"not the pinned {archive.sha256}")
    return data


def _members(data: bytes, archive: Archive) -> dict[str, bytes]:
    wanted = {archive.prefix + f: f for f in archive.files}
    out: dict[str, bytes] = {}
    if archive.url.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member, name in wanted.items():
                out[name] = zf.read(member)
        return out
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        for info in tf:   # one pass over the stream (the exiv2 tarball is 32 MB)
            local = wanted.get(info.name)
            if local is not None and info.isfile():
                fh = tf.extractfile(info)
                assert fh is not None, info.name
                out[local] = fh.read()
    missing = set(wanted.values()) - set(out)
    if missing:
        raise RuntimeError(f"{archive.url} lacks {sorted(missing)}")
    return out


def camera_files() -> list[Path]:
    """Every camera file above, fetched and extracted on first use, sorted by path."""
    paths: list[Path] = []
    for archive in ARCHIVES:
        folder = CACHE / archive.package
        local = {f: folder / _local_name(f) for f in archive.files}
        paths.extend(local.values())
        if all(p.is_file() for p in local.values()):
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in _members(_archive_bytes(archive), archive).items():
            tmp = folder / f".{_local_name(name)}.tmp"
            tmp.write_bytes(content)
            os.replace(tmp, local[name])
    return sorted(paths)
