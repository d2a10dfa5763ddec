"""Duplicate photos: exact copies (the same bytes) and near copies (the same picture resized,
re-encoded or converted), grouped, with a suggestion of which copy to keep.

Near copies are found in two steps. The image embeddings propose pairs (cosine at least
``threshold``), compared exhaustively with a blockwise matrix product; then the cached grid
thumbnails confirm them. The second step exists because an embedding describes what a photo
shows, so two shots of a burst score as high as a re-encoded copy: only pixels tell them apart.

Why a matrix product (measured with random 512-d vectors in a vec0 table, on 2 shared CPU
cores): one scan of the table reads 100k vectors in 1.4-2.9 s where ``vectors.get_many``
takes ~8 s, and one sqlite-vec k-NN query per photo would take hours (~135 ms a query, each
a brute-force pass); a usearch HNSW index took 212 s to build for the same 100k. The
all-pairs product is exact (no pair missed) and runs at BLAS speed; comparing only photos of
the same shape (see ``_BAND``) made it 1.5-2.7x faster on a phone-like mix of shapes. Whole
runs: 20k photos 2.6 s, 100k photos 38 s, 35 s of it the product, which is O(n^2) and
scales with the cores (extrapolated: about 10 s for 100k on an 8-core desktop).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.photos import FLAG_REJECTED
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.kernel.thumbnails import ThumbnailCache

__all__ = ["EXACT", "NEAR", "PERCEPTUAL_MAX", "DuplicateGroup", "DuplicateMember",
           "Fingerprint", "find_duplicates", "fingerprint", "perceptual_distance"]

EXACT = "exact"
NEAR = "near"

# Photos that can be offered for clean-up: on disk, or on a drive that is away for now.
# Missing photos have no file left to compare, unsupported ones no pixels. A RAW kept as its
# JPEG's companion (kernel/pairs.py) is a file of that photo, not a duplicate of it; it reads
# as "status IN _ELIGIBLE" in every query below, all over the one table ``photos``.
_ELIGIBLE = "('ok', 'offline') AND companion_of IS NULL"

# The all-pairs product works on TILE x TILE blocks: 2048 rows of float32 keep each block's
# result at 16 MiB (cache-friendly) and were faster than 4096 in the benchmark (2.9 s against
# 4.7 s for 20k x 512 on 2 cores).
TILE = 2048
# Rows read from the vec0 table between two looks at the cancel token.
READ_CHUNK = 4096

# The perceptual check compares 32x32 grey versions of the grid thumbnails, each shifted to
# mean 0 and scaled to standard deviation 1 (so a brightness or contrast tweak, or a
# different JPEG encoder, does not count), block by block: the distance is the largest mean
# absolute difference over the 8x8 blocks of 4x4 cells. Taking the worst block, not the
# average, is what separates a burst (one region differs: the subject moved) from a
# re-encode (tiny differences spread everywhere). A 64-bit pHash could not: over 20 scenes,
# re-encodes were 0-2 bits apart and bursts 0-16, overlapping completely.
FINGERPRINT_SIZE = 32
_BLOCK = 4
# Measured over 20 generated scenes (1024x768, photo-like texture): copies resized to 640,
# 320 or 256 px and re-encoded at JPEG quality 60/40/30, or converted to PNG, scored at most
# 0.076; a copy brightened by 8% at most 0.15 (median 0.05); burst shots scored at least
# 0.16 with the camera moved 1% of the frame (median 0.33) and at least 0.12 with the
# subject moved 3% of the frame (median 0.24). 0.12 keeps every re-encode with a 1.6x
# margin and separates bursts that move by a percent or more; shots that differ by less
# than that are indistinguishable at thumbnail size, and are offered as duplicates.
PERCEPTUAL_MAX = 0.12
# Contrast floor (grey levels) for the normalisation: a nearly flat picture (a black frame)
# must not have its sensor noise blown up into "differences".
_MIN_STD = 4.0
# Aspect ratios may differ this much (beyond one pixel of rounding in each thumbnail): a
# resize keeps the shape, a crop does not and is a different photo.
_ASPECT_SLACK = 0.02
# The same rule on the photos' own sizes, a little looser (it must never reject a pair the
# thumbnails would accept), decides which embeddings are compared at all: landscape and
# portrait photos, 4:3 and 16:9, never meet. On a library of phone photos (60% 4:3, 30%
# 3:4, 10% other shapes) that leaves under half of the comparisons.
_BAND = math.log(1.03)

# Which encoding is more likely the original, when two copies have the same pixel count:
# camera RAWs, then lossless or camera-native formats, then lossy re-encodes, then formats
# that lose colour (GIF) or that only exports produce.
_RAW_FORMATS = frozenset({"DNG", "CR2", "CR3", "NEF", "NRW", "ARW", "ORF", "RW2", "PEF",
                          "RAF", "SRW", "RAW"})
_FORMAT_RANK = {"HEIF": 2, "HEIC": 2, "AVIF": 2, "PNG": 2, "TIFF": 2, "JPEG": 1, "MPO": 1,
                "WEBP": 1, "JXL": 2}

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DuplicateMember:
    """One copy in a group, with what the choice of the copy to keep was based on."""

    id: int
    path: str
    status: str
    content_hash: str
    width: int | None
    height: int | None
    size: int
    format: str | None
    taken_at: str | None
    mtime_ns: int
    # Which of camera, gps, date, keywords, description the copy carries.
    metadata: tuple[str, ...]
    # Cosine similarity of its embedding to the best copy's (1.0 for the same bytes; None
    # when one of the two has no embedding).
    similarity: float | None
    # Perceptual distance to the best copy (0.0 for the same bytes; None without both
    # thumbnails, or when their shapes differ). Comparable to PERCEPTUAL_MAX.
    distance: float | None

    @property
    def metadata_count(self) -> int:
        return len(self.metadata)

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "status": self.status,
                "content_hash": self.content_hash, "width": self.width,
                "height": self.height, "size": self.size, "format": self.format,
                "taken_at": self.taken_at, "mtime_ns": self.mtime_ns,
                "metadata": list(self.metadata), "metadata_count": self.metadata_count,
                "similarity": self.similarity, "distance": self.distance}


@dataclass(frozen=True)
class DuplicateGroup:
    """Copies of one picture. ``members[0]`` is ``best``, the suggested copy to keep."""

    kind: str  # EXACT (every member has the same bytes) or NEAR
    members: tuple[DuplicateMember, ...]
    # The lowest similarity of a member to the best copy (1.0 for exact groups).
    similarity: float | None
    # False when some link in the group rests on the embeddings alone (a thumbnail was
    # missing): worth a look before deleting anything.
    confident: bool

    @property
    def best(self) -> DuplicateMember:
        return self.members[0]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "best": self.best.id, "similarity": self.similarity,
                "confident": self.confident, "members": [m.as_dict() for m in self.members]}


# --------------------------------------------------------------------------- perceptual check


@dataclass(frozen=True)
class Fingerprint:
    """What the perceptual check needs of a thumbnail: its shape and normalised grey pixels."""

    width: int
    height: int
    luma: npt.NDArray[np.float32]


def fingerprint(path: str | os.PathLike[str]) -> Fingerprint | None:
    """The fingerprint of a thumbnail file, or None when it is absent or unreadable."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            grey = img.convert("L").resize((FINGERPRINT_SIZE, FINGERPRINT_SIZE),
                                           Image.Resampling.BOX)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    luma = np.asarray(grey, dtype=np.float32)
    luma = luma - luma.mean()
    luma /= max(float(luma.std()), _MIN_STD)
    return Fingerprint(width, height, luma)


def _same_shape(a: Fingerprint, b: Fingerprint) -> bool:
    # Each thumbnail's true aspect ratio lies within half a pixel of rounding per side.
    def bounds(f: Fingerprint) -> tuple[float, float]:
        return ((f.width - 0.5) / (f.height + 0.5), (f.width + 0.5) / max(f.height - 0.5, 0.5))

    lo_a, hi_a = bounds(a)
    lo_b, hi_b = bounds(b)
    return lo_a <= hi_b * (1 + _ASPECT_SLACK) and lo_b <= hi_a * (1 + _ASPECT_SLACK)


def perceptual_distance(a: Fingerprint, b: Fingerprint) -> float:
    """How different two thumbnails look: the worst block's mean difference (see
    PERCEPTUAL_MAX); infinite for different shapes (a crop is another photo)."""
    if not _same_shape(a, b):
        return math.inf
    n = FINGERPRINT_SIZE // _BLOCK
    diff = np.abs(a.luma - b.luma).reshape(n, _BLOCK, n, _BLOCK).mean(axis=(1, 3))
    return float(diff.max())


class _Fingerprints:
    """Thumbnail fingerprints by content hash, each read at most once per run."""

    def __init__(self, cache: ThumbnailCache) -> None:
        self._cache = cache
        self._known: dict[str, Fingerprint | None] = {}

    def get(self, content_hash: str) -> Fingerprint | None:
        if content_hash not in self._known:
            self._known[content_hash] = fingerprint(self._cache.path_for(content_hash, "grid"))
        return self._known[content_hash]


# --------------------------------------------------------------------------- grouping


class _UnionFind:
    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self._parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression keeps later finds O(1)
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller id becomes the root, so the structure does not depend on order.
            self._parent[max(ra, rb)] = min(ra, rb)

    def items(self) -> list[int]:
        return list(self._parent)


def find_duplicates(
    conn: Connection,
    *,
    thumbnails: ThumbnailCache,
    model_id: str | None,
    table: str | None,
    near: bool = True,
    threshold: float = 0.95,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[DuplicateGroup]:
    """Groups of duplicate photos among those on disk or offline, largest groups first.

    Exact groups share a content hash. With ``near`` and an embedding space (``model_id``,
    whose vec0 ``table`` is looked up when not given), photos whose embeddings have a cosine
    of at least ``threshold`` and whose thumbnails look the same are grouped too; pairs
    where a thumbnail is missing rest on the embedding alone and mark the group not
    ``confident``. Each group's first member is the suggested copy to keep.

    ``conn`` is a read connection of the calling thread (``Library.reader()``); nothing is
    written. Raises ``Cancelled`` when ``cancel`` is set (checked between blocks of work).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    cancel = cancel or CancelToken()
    meter = ProgressMeter("duplicates", progress)

    meter.start_phase("finding exact copies", None)
    by_hash: dict[str, list[int]] = {}
    shape: dict[int, float] = {}  # log of the aspect ratio, as the photo is shown
    for photo_id, content_hash, width, height in conn.execute(
            f"SELECT id, content_hash, width, height FROM photos WHERE status IN {_ELIGIBLE} "
            "ORDER BY id"):
        by_hash.setdefault(content_hash, []).append(int(photo_id))
        if width and height and width > 0 and height > 0:
            shape[int(photo_id)] = math.log(width / height)
    hash_of = {pid: h for h, ids in by_hash.items() for pid in ids}

    # Two union-finds: one over every accepted link, one over the links the pixels
    # confirmed; a group is confident when the second holds it together too.
    linked, confirmed = _UnionFind(), _UnionFind()
    for ids in by_hash.values():
        for other in ids[1:]:
            linked.union(ids[0], other)
            confirmed.union(ids[0], other)
    cancel.raise_if_cancelled()

    prints = _Fingerprints(thumbnails)
    rows: dict[int, int] = {}  # representative photo id -> row of `matrix`
    matrix: npt.NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
    if near and (table is not None or model_id is not None):
        if table is None:
            assert model_id is not None
            table = conn.one("SELECT table_name FROM embedding_spaces WHERE model_id = ?",
                             (model_id,))
        if table is not None:
            wanted = _candidates(conn, model_id, hash_of)
            rep_ids, matrix = _read_vectors(conn, _checked_table(conn, table), wanted, meter,
                                            cancel)
            # Rows by shape (then id): copies of one picture have the same aspect ratio,
            # so each block of rows only meets the few blocks of its own shape.
            aspects = np.asarray([shape.get(pid, math.inf) for pid in rep_ids])
            order = np.lexsort((np.asarray(rep_ids, dtype=np.int64), aspects))
            rep_ids = [rep_ids[k] for k in order.tolist()]
            matrix, aspects = np.ascontiguousarray(matrix[order]), aspects[order]
            rows = {pid: i for i, pid in enumerate(rep_ids)}
            for i, j, _cos in _similar_pairs(matrix, aspects, threshold, meter, cancel):
                a, b = rep_ids[i], rep_ids[j]
                if confirmed.find(a) == confirmed.find(b):
                    continue  # already one group for sure: this pair changes nothing
                fa, fb = prints.get(hash_of[a]), prints.get(hash_of[b])
                if fa is None or fb is None:
                    linked.union(a, b)
                elif perceptual_distance(fa, fb) <= PERCEPTUAL_MAX:
                    linked.union(a, b)
                    confirmed.union(a, b)

    meter.start_phase("describing groups", None)
    components: dict[int, list[int]] = {}
    for pid in linked.items():
        components.setdefault(linked.find(pid), []).append(pid)
    groups_ids = [sorted(ids) for ids in components.values() if len(ids) > 1]
    members = _describe(conn, [pid for ids in groups_ids for pid in ids])
    rejected = _rejected(conn, list(members))
    groups: list[DuplicateGroup] = []
    for ids in groups_ids:
        cancel.raise_if_cancelled()
        # A copy the person rejected is never suggested over one they did not: keeping the
        # suggestion must not trash the copy they chose and keep the one they turned down.
        found = sorted((members[pid] for pid in ids if pid in members),
                       key=lambda m: (m.id in rejected, *_keep_order(m)))
        if len(found) < 2:
            continue  # a photo left the library while we looked
        best = found[0]
        resolved = tuple(_relative_to(m, best, matrix, rows, by_hash, prints) for m in found)
        hashes = {m.content_hash for m in resolved}
        sims = [m.similarity for m in resolved[1:] if m.similarity is not None]
        groups.append(DuplicateGroup(
            kind=EXACT if len(hashes) == 1 else NEAR,
            members=resolved,
            similarity=min(sims) if sims else None,
            confident=len({confirmed.find(m.id) for m in resolved}) == 1,
        ))
    groups.sort(key=lambda g: (-len(g.members), g.best.id))
    meter.finish()
    return groups


def _candidates(conn: Connection, model_id: str | None, hash_of: dict[int, str]
                ) -> dict[int, str]:
    """The photos whose vector may be compared, with their content hash."""
    if model_id is None:
        return hash_of
    # An embedding computed before the file changed describes other pixels.
    return {int(r[0]): hash_of[int(r[0])] for r in conn.execute(
        f"""SELECT pe.photo_id FROM photo_embeddings pe JOIN photos p ON p.id = pe.photo_id
            WHERE pe.model_id = ? AND pe.content_hash = p.content_hash
              AND p.status IN {_ELIGIBLE}""", (model_id,)) if int(r[0]) in hash_of}


def _checked_table(conn: Connection, table: str) -> str:
    # The name goes into SQL text: only a registered embedding table is accepted.
    if not _TABLE_NAME.match(table) or not conn.one(
            "SELECT 1 FROM embedding_spaces WHERE table_name = ?", (table,)):
        raise ValueError(f"{table!r} is not an embedding table of this library")
    return table


def _read_vectors(conn: Connection, table: str, wanted: dict[int, str], meter: ProgressMeter,
                  cancel: CancelToken) -> tuple[list[int], npt.NDArray[np.float32]]:
    """The wanted photos' vectors, one per content hash (copies with the same bytes have the
    same vector: comparing one of them is enough, and the smallest id stands for them), from
    one scan of the vec0 table (about six times faster than looking them up by id). Rows are
    unit length; vectors that cannot be (zero, NaN) are left out."""
    meter.start_phase("reading embeddings", len(wanted))
    matrix: npt.NDArray[np.float32] | None = None
    slots: dict[str, tuple[int, int]] = {}  # content hash -> (photo id, row)
    cursor = conn.execute(f"SELECT item_id, embedding FROM {table}")
    while True:
        cancel.raise_if_cancelled()
        chunk = list(itertools.islice(cursor, READ_CHUNK))
        if not chunk:
            break
        taken = 0
        for item, blob in chunk:
            pid = int(item)
            content_hash = wanted.get(pid)
            if content_hash is None:
                continue
            if matrix is None:
                # Filled in place: the whole library's vectors are held once, not twice.
                matrix = np.empty((len(wanted), len(blob) // 4), dtype=np.float32)
            if len(blob) != matrix.shape[1] * 4:
                continue  # vec0 enforces one dimension; never trust it blindly
            slot = slots.get(content_hash)
            if slot is None:
                slot = (pid, len(slots))
            elif pid < slot[0]:
                slot = (pid, slot[1])
            else:
                continue
            slots[content_hash] = slot
            matrix[slot[1]] = np.frombuffer(blob, dtype="<f4")
            taken += 1
        meter.advance(taken)
    if matrix is None or not slots:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = matrix[:len(slots)]
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.linalg.norm(matrix, axis=1)
    usable = (np.isfinite(norms) & (norms > 0)).tolist()
    kept = sorted((pid, row) for pid, row in slots.values() if usable[row])
    index = np.asarray([row for _, row in kept], dtype=np.int64)
    matrix = matrix[index]
    matrix /= norms[index, None]
    return [pid for pid, _ in kept], matrix


def _column_ranges(aspects: npt.NDArray[np.float64]) -> list[tuple[int, list[range]]]:
    """For each block of TILE rows, the column blocks that may hold a partner for one of
    its rows: columns after it (each pair once) whose aspect ratio is close enough, and the
    rows of unknown shape (sorted last, compared with everything)."""
    n = len(aspects)
    known = int(np.searchsorted(aspects, math.inf, side="left"))
    plan: list[tuple[int, list[range]]] = []
    for i in range(0, n, TILE):
        end = min(i + TILE, n)
        if i < known:
            widest = float(aspects[min(end, known) - 1]) + _BAND
            reach = max(end, int(np.searchsorted(aspects[:known], widest, side="right")))
        else:
            reach = end
        spans = [range(i, reach)]
        if reach < known:
            spans.append(range(known, n))
        elif reach < n:
            spans[0] = range(i, n)
        plan.append((i, [range(j, min(j + TILE, span.stop))
                         for span in spans for j in range(span.start, span.stop, TILE)]))
    return plan


def _similar_pairs(matrix: npt.NDArray[np.float32], aspects: npt.NDArray[np.float64],
                   threshold: float, meter: ProgressMeter, cancel: CancelToken
                   ) -> Iterator[tuple[int, int, float]]:
    """Every pair of rows (i < j) of compatible shape whose cosine is at least
    ``threshold``; ``aspects`` (log aspect ratios, inf when unknown) must be sorted."""
    plan = _column_ranges(aspects)
    meter.start_phase("comparing photos", sum(len(cols) for _, cols in plan))
    # float32 rounding: a pair exactly at the threshold must not be lost to the last bit.
    limit = np.float32(threshold - 1e-6)
    for i, cols in plan:
        block = matrix[i:i + TILE]
        for span in cols:
            cancel.raise_if_cancelled()
            j = span.start
            sims = block @ matrix[j:span.stop].T
            # Most blocks hold no pair at all: one pass of max() is cheaper than nonzero().
            if sims.size and sims.max() >= limit:
                rs, cs = np.nonzero(sims >= limit)
                for r, c in zip(rs.tolist(), cs.tolist(), strict=True):
                    a, b = i + r, j + c
                    sa, sb = float(aspects[a]), float(aspects[b])
                    if a < b and (abs(sa - sb) <= _BAND or math.isinf(sa) or math.isinf(sb)):
                        yield a, b, float(sims[r, c])
            meter.advance()


def _describe(conn: Connection, ids: list[int]) -> dict[int, DuplicateMember]:
    """The members' facts, with similarity and distance still to be filled in."""
    found: dict[int, DuplicateMember] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        texts: dict[int, set[str]] = {}
        for pid, fld in conn.execute(
                f"SELECT DISTINCT photo_id, field FROM photo_text WHERE photo_id IN ({marks}) "
                "AND field IN ('keywords', 'description') AND trim(value) != ''", chunk):
            texts.setdefault(int(pid), set()).add(str(fld))
        for row in conn.rows(
                f"""SELECT id, path, status, content_hash, width, height, size, format,
                           taken_at, taken_at_source, mtime_ns, camera_make, camera_model,
                           gps_lat, gps_lon
                    FROM photos WHERE id IN ({marks}) AND status IN {_ELIGIBLE}""", chunk):
            meta: list[str] = []
            if row["camera_make"] or row["camera_model"]:
                meta.append("camera")
            if row["gps_lat"] is not None and row["gps_lon"] is not None:
                meta.append("gps")
            # A date guessed from the file's modification time is not metadata the copy holds.
            source = row["taken_at_source"] or ""
            if row["taken_at"] and not source.startswith("file:"):
                meta.append("date")
            meta += [f for f in ("keywords", "description") if f in texts.get(row["id"], ())]
            found[int(row["id"])] = DuplicateMember(
                id=int(row["id"]), path=str(row["path"]), status=str(row["status"]),
                content_hash=str(row["content_hash"]), width=row["width"],
                height=row["height"], size=int(row["size"]), format=row["format"],
                taken_at=row["taken_at"], mtime_ns=int(row["mtime_ns"]), metadata=tuple(meta),
                similarity=None, distance=None)
    return found


def _rejected(conn: Connection, ids: list[int]) -> set[int]:
    """The photos of ``ids`` the person rejected (the flag, or a file's rating of -1)."""
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(int(r[0]) for r in conn.execute(
            f"SELECT id FROM photos WHERE id IN ({', '.join('?' * len(chunk))}) AND "
            f"((flags & {FLAG_REJECTED}) != 0 OR coalesce(rating, 0) < 0)", chunk))
    return found


def _format_rank(fmt: str | None) -> int:
    name = (fmt or "").upper()
    if name in _RAW_FORMATS:
        return 3
    return _FORMAT_RANK.get(name, 0)


def _keep_order(m: DuplicateMember) -> tuple[Any, ...]:
    """Best copy first: more pixels; then the likelier original format; then more
    metadata; then the larger file (less compressed); then the older file and the shorter
    path (the copy that was there first, not the one in "Copy of ..."); then the path and id,
    so the choice never depends on the order rows came in."""
    return (-m.pixels, -_format_rank(m.format), -m.metadata_count, -m.size, m.mtime_ns,
            len(m.path), m.path, m.id)


def _relative_to(m: DuplicateMember, best: DuplicateMember, matrix: npt.NDArray[np.float32],
                 rows: dict[int, int], by_hash: dict[str, list[int]],
                 prints: _Fingerprints) -> DuplicateMember:
    if m.content_hash == best.content_hash:
        return dataclasses.replace(m, similarity=1.0, distance=0.0)

    def row(content_hash: str) -> int | None:
        return next((rows[p] for p in by_hash.get(content_hash, ()) if p in rows), None)

    similarity: float | None = None
    ra, rb = row(m.content_hash), row(best.content_hash)
    if ra is not None and rb is not None:
        similarity = round(float(matrix[ra] @ matrix[rb]), 4)
    fa, fb = prints.get(m.content_hash), prints.get(best.content_hash)
    distance = None if fa is None or fb is None else perceptual_distance(fa, fb)
    if distance is not None:
        distance = round(distance, 4) if math.isfinite(distance) else None
    return dataclasses.replace(m, similarity=similarity, distance=distance)
