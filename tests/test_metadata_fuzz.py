"""Hostile files through the metadata readers (libexiv2 underneath): damaged, cut and
bit-flipped copies of real files with every kind of metadata are a photo or a clear
DecodeError, never a crash.

libexiv2 is C++: a fault there (or an exception it lets escape) ends the whole process, which
no ``pytest.raises`` can catch. So the mutations run in a child process of their own, and the
test asserts that the child finished and that each file came out as one of the two answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL.PngImagePlugin import PngInfo

from tests import imagegen as ig

ROOT = Path(__file__).resolve().parent.parent

# The child: reads the seed files, makes the mutations (seeded: the same ones every run) and
# decodes each through the kernel, the way ingestion does (the plugins' metadata readers run).
_CHILD = r"""
import json, random, sys
from pathlib import Path
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.decode import DecodeError, SizeRequest, decode

plugins.host()
seeds = [Path(p) for p in sys.argv[2:]]
rng = random.Random(int(sys.argv[1]))
tally = {"photo": 0, "damaged": 0, "error": 0, "other": []}

def mutations(data):
    n = len(data)
    for _ in range(24):                       # flipped bits, anywhere (metadata is near the top)
        b = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            i = rng.randrange(min(n, 4096) if rng.random() < 0.7 else n)
            b[i] ^= 1 << rng.randrange(8)
        yield bytes(b)
    for keep in (0.02, 0.1, 0.3, 0.5, 0.9):   # cut short
        yield data[: max(1, int(n * keep))]
    for _ in range(6):                        # a run of random bytes over the metadata
        i = rng.randrange(2, min(n, 2048))
        yield data[:i] + rng.randbytes(rng.randint(1, 300)) + data[i + rng.randint(0, 300):]
    yield data[:12] + b"\xff" * 4096 + data[12:]  # absurd lengths

for seed in seeds:
    data = seed.read_bytes()
    for i, bad in enumerate(mutations(data)):
        path = seed.with_name(f"m{i}-{seed.name}")
        path.write_bytes(bad)
        try:
            d = decode(bad, str(path), want=SizeRequest(long_edge=64))
        except DecodeError:
            tally["error"] += 1
        except Exception as exc:  # any other exception is a bug: reported, not raised
            tally["other"].append(f"{path.name}: {type(exc).__name__}: {exc}")
        else:
            tally["damaged" if d.meta.damaged else "photo"] += 1
        path.unlink()
print(json.dumps(tally))
"""


def _png(path: Path, fields: dict[str, object]) -> Path:
    """A PNG with an eXIf chunk and an iTXt XMP packet, as Lightroom exports one."""
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", ig.xmp_packet("a harbour", ["sea"]))
    ig.photo_like(96, 64).save(path, "PNG", pnginfo=info,
                               exif=ig.exif_block(**fields))  # type: ignore[arg-type]
    return path


def _seeds(folder: Path) -> list[Path]:
    """Files with EXIF (GPS, texts, dates), XMP and IPTC, in the containers exiv2 reads."""
    full = dict(datetime_original="2019:07:14 15:30:12", offset_time_original="+02:00",
                gps=(38.7223, -9.1393, 12.0), make="Canon", model="EOS 5D",
                image_description="a harbour", user_comment="boats", xp_comment="quay",
                xp_keywords=["sea", "boats"], orientation=6)
    return [
        ig.write_jpeg(folder / "all.jpg", (160, 120), xmp=ig.xmp_packet(
            "a harbour", ["sea"], "2019-07-14T15:30:12+02:00"), iptc_keywords=["sea", "port"],
            **full),  # type: ignore[arg-type]
        _png(folder / "p.png", full),
        ig.write_tiff(folder / "t.tif", (96, 64), **full),  # type: ignore[arg-type]
        ig.write_webp(folder / "w.webp", (96, 64), **full),  # type: ignore[arg-type]
        ig.write_heic(folder / "h.heic", (96, 64), **full),  # type: ignore[arg-type]
    ]


def _camera_seeds(folder: Path) -> list[Path]:
    """The smallest real camera file of each kind (maker notes, phones' HEIC, RAWs)."""
    from tests.camerafiles import camera_files

    chosen: dict[str, Path] = {}
    for path in sorted(camera_files(), key=lambda p: p.stat().st_size):
        if path.stat().st_size < 2_000_000:
            chosen.setdefault(path.suffix.lower(), path)
    copies = []
    for i, path in enumerate(chosen.values()):
        copy = folder / f"camera{i}{path.suffix}"
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    return copies


def test_mutated_files_are_photos_or_clear_errors_never_crashes(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path) + _camera_seeds(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLIMPSE_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _CHILD, "18", *map(str, seeds)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, (
        f"the reader died (exit {done.returncode}): {done.stderr[-3000:]}")
    tally = json.loads(done.stdout.strip().splitlines()[-1])
    assert tally["other"] == [], tally["other"]
    total = tally["photo"] + tally["damaged"] + tally["error"]
    assert total == len(seeds) * 36
    # The mutations do reach both answers (a fuzzer whose every file fails tests nothing).
    assert tally["photo"] > 0 and tally["error"] > 0, tally
