"""Face clustering: grouping face embeddings into people, under the user's hard constraints.

Pure functions over arrays; the caller loads the embeddings and current assignments from the
library, runs :func:`assign` (incremental, after new faces arrive) or :func:`recluster` (from
scratch), checks the answer with :func:`check` and writes it back.

The embeddings are L2-normalised (128-d SFace), so cosine similarity is a dot product. With
that recogniser two faces of one person usually score 0.4-0.8 and two people under 0.3, with
siblings and look-alikes in between: hence two thresholds, a lower one (``Params.join``) to
add a face to a person that already exists, where a vote over several of the person's faces
backs the decision, and a higher one (``Params.found``) to create a person from nothing.

A new person needs ``Params.min_faces`` mutually close faces (a density rule in the manner of
DBSCAN, and of Immich's ``minFaces``): a stranger in the background of one photo stays
"waiting" instead of becoming a person of one face, and is picked up once enough photos of
them arrive. Founding runs over every waiting face each time, which doubles as the periodic
sweep.

Hard constraints, never traded against similarity:

* two faces of one photo are never the same person (a mirror selfie or a reflection gives
  near-identical vectors that would otherwise be the strongest match of all);
* a face is never put back into a person the user said it is not (``Faces.rejected``);
* a fixed face (user-assigned, or in a named person) keeps its person.

Nothing here builds an n x n matrix: similarities are computed in blocks of at most
``BLOCK_ELEMENTS`` and reduced at once to the few pairs above a threshold.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK_ELEMENTS", "EXACT_BELOW", "MAX_NEIGHBOURS", "Faces", "Params", "Result",
           "assign", "check", "group_waiting", "neighbourhood", "recluster"]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# One block of similarities holds at most this many float32 (64 MiB): 4096 rows against 4096
# evidence faces, or a few hundred rows against a whole library of waiting faces, so the peak
# memory does not grow with the library while each product is still large enough for BLAS.
BLOCK_ELEMENTS = 1 << 24
MAX_ROWS = 4096
# Founding keeps at most this many nearest neighbours per face. The density rule only needs
# min_faces - 1 of them and the merge only needs enough edges to connect a person, so a
# person with thousands of faces costs no more per face than a small one.
MAX_NEIGHBOURS = 64


@dataclass(frozen=True)
class Params:
    """Thresholds of the clustering (cosine similarities of L2-normalised embeddings)."""

    # A waiting face joins an existing person when its evidence score reaches this.
    join: float = 0.42
    # Two waiting faces are neighbours, when founding a new person, from this similarity.
    found: float = 0.48
    # A new person needs this many mutually close faces.
    min_faces: int = 3
    # The evidence score of a face for a person is the mean of its `votes` highest
    # similarities to the person's evidence faces (all of them if the person has fewer): one
    # lucky match with a look-alike is not enough, several are.
    votes: int = 3


@dataclass
class Faces:
    """Every face of the library (or of the part being clustered), one row each."""

    vectors: FloatArray  # (n, d) float32, L2-normalised
    photo: IntArray  # (n,) photo id of each face
    person: IntArray  # (n,) current person id, 0 = none (waiting)
    seeds: BoolArray  # (n,) good enough (size, blur, pose) to be evidence and to found a person
    fixed: BoolArray  # (n,) the assignment must not change
    # Face index -> ids of the people the user said this face is not.
    rejected: dict[int, set[int]] = field(default_factory=dict)


@dataclass
class Result:
    """The outcome of :func:`assign` or :func:`recluster`."""

    # Final person id per face, 0 for waiting. Existing ids are kept; new people have negative
    # ids -1, -2, ... for the caller to create and renumber.
    person: IntArray
    joined: int  # faces newly given a person that existed before the call
    founded: int  # new people (distinct negative ids in `person`)
    waiting: int  # faces without a person at the end (all of them, not only the candidates)


# --------------------------------------------------------------------------- public API


def assign(faces: Faces, params: Params, candidates: npt.ArrayLike | None = None,
           focus: npt.ArrayLike | None = None) -> Result:
    """Give waiting faces a person, creating new people where enough of them agree.

    ``candidates`` are the indices of the faces to consider for joining (default: every face
    without a person). Faces that already have a person, and fixed faces, are never moved:
    that is :func:`recluster`'s job.

    1. Join: each candidate goes to the existing person with the best evidence score (see
       ``Params.votes``) of at least ``params.join``, unless the face was rejected from that
       person or the person already has a face in the same photo. Competing faces of one
       photo are settled greedily by descending score; the losers try their next best person.
    2. Found: over every waiting seed face (not only the candidates), neighbours are pairs at
       ``params.found`` or more from different photos; faces with ``min_faces - 1``
       neighbours are cores. Core-core edges whose faces share ``min_faces - 2``
       neighbours are merged strongest first, refusing a merge that would put two faces of
       one photo together; other faces attach to their most similar core neighbour's group
       where the photo rule allows. Groups of ``min_faces`` or more become new people with
       ids -1, -2, ... (largest first).
    3. Join again, so that candidates (blurry non-seed faces in particular) can join the
       people founded in step 2.

    ``focus`` (indices; default: every waiting face) limits step 2 to the neighbourhood of
    those faces, two hops deep among the waiting seed faces. Waiting faces that could not
    found a person before cannot now unless a new face joins them, so after a batch of new
    faces only their surroundings need the sweep: with tens of thousands of strangers
    waiting, that is the difference between seconds and milliseconds per batch.
    """
    _validate(faces, params)
    work = _Work(faces)
    before = work.person.copy()
    if candidates is None:
        pending = np.flatnonzero(before == 0).astype(np.int64)
    else:
        pending = np.unique(np.asarray(candidates, dtype=np.int64))
        if pending.size and (pending[0] < 0 or pending[-1] >= work.n):
            raise ValueError("candidate face index out of range")
    # Only waiting, movable faces can be placed; the rest keep what they have.
    pending = pending[(before[pending] == 0) & ~work.fixed[pending]]

    changed = _join(work, pending, params)
    first_new = min(-1, int(before.min(initial=0)) - 1)
    near = None if focus is None else np.unique(np.asarray(focus, dtype=np.int64))
    founded = _found(work, params, first_new, near)
    if founded or changed:
        _join(work, pending[work.person[pending] == 0], params)

    person = work.person
    new_ids = np.arange(first_new, first_new - founded, -1, dtype=np.int64)
    newly = (before == 0) & (person != 0)
    joined = int(np.count_nonzero(newly & ~np.isin(person, new_ids)))
    return Result(person=person, joined=joined, founded=founded,
                  waiting=int(np.count_nonzero(person == 0)))


def recluster(faces: Faces, params: Params) -> Result:
    """Cluster again from the embeddings alone, keeping fixed faces and stable person ids.

    Every face that is not fixed is released and :func:`assign` runs over all of them. Each
    new group then takes over the id of the released person it overlaps most (greedily,
    largest overlap first, each old id at most once, and only an id that the new assignment
    does not already use), so a re-cluster that changes nothing renames nothing. Faces of a
    group that were rejected from the id it takes over go back to waiting: a re-cluster never
    undoes a rejection. Groups without an old id keep negative ids, renumbered -1, -2, ...

    ``joined`` counts released faces that end in a person that existed before; ``founded``
    the new people left with negative ids.
    """
    _validate(faces, params)
    old = np.asarray(faces.person, dtype=np.int64)
    fixed = np.asarray(faces.fixed, dtype=np.bool_)
    released = ~fixed
    start = np.where(released, 0, old).astype(np.int64)
    clustered = assign(dataclasses.replace(faces, person=start), params,
                       candidates=np.flatnonzero(released))
    person = clustered.person

    # assign numbers new people below every id it was given, so these are exactly its own.
    new_ids = np.setdiff1d(np.unique(person[person < 0]), start)
    in_use = np.unique(person[person != 0])
    free_old = np.setdiff1d(np.unique(old[released & (old != 0)]), in_use)

    mapping = _match_old_ids(person, old, new_ids, free_old)
    final = person.copy()
    for new_id, old_id in mapping.items():
        members = np.flatnonzero(person == new_id)
        final[members] = old_id
        # The new group resembles the old person, but the user's "not this person" stands.
        for f in members.tolist():
            if old_id in faces.rejected.get(f, ()):
                final[f] = 0

    # What remains new is renumbered -1, -2, ... (largest first, as assign numbered them),
    # below any id that stays, whatever was mapped away.
    leftover = [i for i in sorted(new_ids.tolist(), reverse=True) if i not in mapping]
    is_new = np.isin(final, leftover)
    first_new = min(-1, int(final[~is_new].min(initial=0)) - 1)
    renumbered = final.copy()
    for k, new_id in enumerate(leftover):
        renumbered[final == new_id] = first_new - k

    joined = int(np.count_nonzero(released & (renumbered != 0) & ~is_new))
    return Result(person=renumbered, joined=joined, founded=len(leftover),
                  waiting=int(np.count_nonzero(renumbered == 0)))


def check(faces: Faces, person: npt.ArrayLike) -> list[str]:
    """Human-readable violations of the hard constraints by the assignment ``person``
    (empty when there are none): two faces of one photo in the same person, a face in a
    person it was rejected from, a fixed face whose person differs from ``faces.person``."""
    assigned = np.asarray(person, dtype=np.int64)
    n = len(faces.person)
    if assigned.shape != (n,):
        return [f"assignment has shape {assigned.shape}, expected ({n},)"]
    photo = np.asarray(faces.photo, dtype=np.int64)
    problems: list[str] = []

    idx = np.flatnonzero(assigned != 0)
    idx = idx[np.lexsort((idx, assigned[idx], photo[idx]))]
    clash = ((photo[idx][1:] == photo[idx][:-1])
             & (assigned[idx][1:] == assigned[idx][:-1]))
    for k in np.flatnonzero(clash).tolist():
        a, b = int(idx[k]), int(idx[k + 1])
        problems.append(f"faces {a} and {b} are both in photo {int(photo[a])} "
                        f"and both person {int(assigned[a])}")

    for f in sorted(faces.rejected):
        if 0 <= f < n and assigned[f] != 0 and int(assigned[f]) in faces.rejected[f]:
            problems.append(f"face {f} is person {int(assigned[f])}, which it was rejected from")

    fixed = np.asarray(faces.fixed, dtype=np.bool_)
    for f in np.flatnonzero(fixed & (assigned != np.asarray(faces.person))).tolist():
        problems.append(f"fixed face {f} moved from person {int(faces.person[f])} "
                        f"to {int(assigned[f])}")
    return problems


# --------------------------------------------------------------------------- internals


class _Work:
    """The arrays of one run, in the dtypes the computations need, with a private copy of
    the assignment to update."""

    def __init__(self, faces: Faces) -> None:
        self.vectors = np.ascontiguousarray(faces.vectors, dtype=np.float32)
        self.photo = np.asarray(faces.photo, dtype=np.int64)
        self.person = np.array(faces.person, dtype=np.int64)
        self.seeds = np.asarray(faces.seeds, dtype=np.bool_)
        self.fixed = np.asarray(faces.fixed, dtype=np.bool_)
        self.rejected = faces.rejected
        self.n = len(self.person)


def _validate(faces: Faces, params: Params) -> None:
    n = len(faces.person)
    vectors = np.asarray(faces.vectors)
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise ValueError(f"vectors must have shape ({n}, d), got {vectors.shape}")
    for name in ("photo", "seeds", "fixed"):
        if np.shape(getattr(faces, name)) != (n,):
            raise ValueError(f"{name} must have shape ({n},)")
    if any(not 0 <= f < n for f in faces.rejected):
        raise ValueError("rejected refers to a face index out of range")
    if params.min_faces < 1 or params.votes < 1:
        raise ValueError("min_faces and votes must be at least 1")


def _rows_per_block(columns: int) -> int:
    return max(1, min(MAX_ROWS, BLOCK_ELEMENTS // max(columns, 1)))


def _join(work: _Work, pending: IntArray, params: Params) -> bool:
    """Step 1 of :func:`assign` for the faces ``pending``, in place; True if any joined."""
    if pending.size == 0:
        return False
    person = work.person
    evidence = np.flatnonzero((person != 0) & (work.seeds | work.fixed))
    if evidence.size == 0:
        return False
    # Evidence sorted by person, so that each person is one run of columns.
    evidence = evidence[np.argsort(person[evidence], kind="stable")]
    labels = person[evidence]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], labels.size]
    people = labels[starts]
    ev_vectors = work.vectors[evidence]

    cand_faces: list[IntArray] = []
    cand_people: list[IntArray] = []
    cand_scores: list[FloatArray] = []
    rows = _rows_per_block(evidence.size)
    for lo in range(0, pending.size, rows):
        block = pending[lo:lo + rows]
        sims = work.vectors[block] @ ev_vectors.T
        # A mean of top similarities never exceeds the top one, so only people with at least
        # one evidence face at the threshold can qualify: usually one or two per face.
        flat = np.flatnonzero(sims >= params.join)
        if flat.size == 0:
            continue
        hit_rows, hit_cols = flat // evidence.size, flat % evidence.size
        segments = np.searchsorted(starts, hit_cols, side="right") - 1
        keys = np.unique(segments * block.size + hit_rows)
        seg_of, row_of = keys // block.size, keys % block.size
        bounds = np.flatnonzero(np.r_[True, seg_of[1:] != seg_of[:-1], True])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            seg = int(seg_of[a])
            r = row_of[a:b]
            sub = sims[r, starts[seg]:ends[seg]]
            k = min(params.votes, sub.shape[1])
            if k < sub.shape[1]:
                sub = np.partition(sub, sub.shape[1] - k, axis=1)[:, -k:]
            scores = sub.mean(axis=1, dtype=np.float64)
            ok = scores >= params.join
            cand_faces.append(block[r[ok]])
            cand_people.append(np.full(int(ok.sum()), people[seg], dtype=np.int64))
            cand_scores.append(scores[ok].astype(np.float32))
    if not cand_faces:
        return False

    faces_ = np.concatenate(cand_faces)
    people_ = np.concatenate(cand_people)
    scores_ = np.concatenate(cand_scores)
    order = np.lexsort((people_, faces_, -scores_))

    # Who already has a face in the photos at stake (only those photos: the set stays small).
    photo = work.photo
    at_stake = np.flatnonzero(np.isin(photo, photo[faces_]) & (person != 0))
    taken = set(zip(photo[at_stake].tolist(), person[at_stake].tolist(), strict=True))
    placed: set[int] = set()
    rejected = work.rejected
    for f, p in zip(faces_[order].tolist(), people_[order].tolist(), strict=True):
        if f in placed or p in rejected.get(f, ()):
            continue
        slot = (int(photo[f]), p)
        if slot in taken:
            continue
        person[f] = p
        taken.add(slot)
        placed.add(f)
    return bool(placed)


def _neighbours(vectors: FloatArray, photo: IntArray,
                threshold: float) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """Neighbours among ``vectors``: pairs at ``threshold`` or more from different photos.

    Returns directed edges (source, target, similarity), at most ``MAX_NEIGHBOURS`` (the
    most similar) per source, and each face's exact number of neighbours, which the cut
    does not change.
    """
    m = len(vectors)
    degree = np.zeros(m, dtype=np.int64)
    lows: list[IntArray] = []
    highs: list[IntArray] = []
    sims_out: list[FloatArray] = []
    lo = 0
    while lo < m:
        # Similarity is symmetric: each block of rows only meets the columns from its own
        # first row on, which halves the products of a full sweep.
        width = m - lo
        hi = min(m, lo + _rows_per_block(width))
        sims = vectors[lo:hi] @ vectors[lo:].T
        flat = np.flatnonzero(sims >= threshold)
        s = sims.reshape(-1)[flat]
        row = flat // width + lo
        col = flat % width + lo
        keep = (col > row) & (photo[row] != photo[col])  # also drops each face with itself
        row, col, s = row[keep], col[keep], s[keep]
        degree += np.bincount(row, minlength=m) + np.bincount(col, minlength=m)
        # A face among thousands of look-alikes (a person with a huge album) would fill the
        # edge lists quadratically: keep each row's best few, the rest adds nothing.
        row, col, s = _best_per_source(row, col, s)
        lows.append(row)
        highs.append(col)
        sims_out.append(s)
        lo = hi
    low, high, sim = np.concatenate(lows), np.concatenate(highs), np.concatenate(sims_out)
    src, dst, sim = _best_per_source(np.r_[low, high], np.r_[high, low], np.r_[sim, sim])
    return src, dst, sim, degree


def _best_per_source(src: IntArray, dst: IntArray,
                     sim: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    order = np.lexsort((dst, -sim, src))
    src, dst, sim = src[order], dst[order], sim[order]
    keep = np.arange(src.size) - np.searchsorted(src, src) < MAX_NEIGHBOURS
    return src[keep], dst[keep], sim[keep]


def _around(vectors: FloatArray, waiting: IntArray, focus: IntArray, threshold: float,
            hops: int = 2) -> IntArray:
    """The waiting faces within ``hops`` neighbour steps of the focus faces (the focus faces
    that are waiting included)."""
    inside = np.zeros(waiting.size, dtype=np.bool_)
    frontier = np.flatnonzero(np.isin(waiting, focus))
    inside[frontier] = True
    pool = vectors[waiting]
    for _ in range(hops):
        if frontier.size == 0:
            break
        found: list[IntArray] = []
        rows = _rows_per_block(waiting.size)
        for lo in range(0, frontier.size, rows):
            sims = pool[frontier[lo:lo + rows]] @ pool.T
            found.append(np.flatnonzero((sims >= threshold).any(axis=0)))
        reached = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
        frontier = reached[~inside[reached]]
        inside[frontier] = True
    return waiting[inside]


def _degrees(vectors: FloatArray, photo: IntArray, rows: IntArray, pool: IntArray,
             threshold: float) -> IntArray:
    """For each face in ``rows``, how many faces of ``pool`` (from other photos) are at
    ``threshold`` or more."""
    out = np.zeros(rows.size, dtype=np.int64)
    pool_vectors, pool_photo = vectors[pool], photo[pool]
    step = _rows_per_block(pool.size)
    for lo in range(0, rows.size, step):
        block = rows[lo:lo + step]
        close = (vectors[block] @ pool_vectors.T) >= threshold
        close &= photo[block][:, None] != pool_photo[None, :]
        out[lo:lo + step] = close.sum(axis=1)
    return out


def neighbourhood(faces: Faces, params: Params, focus: npt.ArrayLike) -> IntArray:
    """The faces a focused :func:`assign` looks at: the focus faces that are waiting, and the
    waiting seed faces within two neighbour steps of them."""
    person = np.asarray(faces.person, dtype=np.int64)
    focus_idx = np.unique(np.asarray(focus, dtype=np.int64))
    focus_idx = focus_idx[person[focus_idx] == 0]
    seeds = np.asarray(faces.seeds, dtype=np.bool_) & ~np.asarray(faces.fixed, dtype=np.bool_)
    waiting = np.flatnonzero((person == 0) & seeds)
    vectors = np.ascontiguousarray(faces.vectors, dtype=np.float32)
    near = _around(vectors, waiting, focus_idx, params.found) if waiting.size else waiting
    return np.union1d(near, focus_idx).astype(np.int64)


def _found(work: _Work, params: Params, first_id: int, focus: IntArray | None = None) -> int:
    """Step 2 of :func:`assign`, in place: new people get ids first_id, first_id - 1, ...
    Returns how many were founded."""
    person = work.person
    waiting = np.flatnonzero((person == 0) & work.seeds & ~work.fixed)
    everyone = waiting
    if focus is not None and waiting.size:
        waiting = _around(work.vectors, waiting, focus, params.found)
    m = waiting.size
    if m < params.min_faces:
        return 0
    photo_w = work.photo[waiting]
    src, dst, sim, degree = _neighbours(work.vectors[waiting], photo_w, params.found)
    if waiting.size < everyone.size:
        # Whether a face is a core depends on all its neighbours, not only those near the
        # focus: count them over every waiting face, as the full sweep does.
        degree = _degrees(work.vectors, work.photo, waiting, everyone, params.found)
    core = degree >= params.min_faces - 1

    groups = _Groups(photo_w.tolist())
    # Core-core edges once each (either direction may have been cut by MAX_NEIGHBOURS),
    # strongest first, so a merge that the photo rule refuses is the weaker one.
    both = core[src] & core[dst]
    a = np.minimum(src[both], dst[both])
    b = np.maximum(src[both], dst[both])
    keys, first = np.unique(a * m + b, return_index=True)
    order = np.lexsort((keys, -sim[both][first]))
    # An edge only merges when its two faces also have min_faces - 2 neighbours in common,
    # i.e. it lies among min_faces mutually close faces. Plain single linkage lets one chance
    # match fuse two whole people: on 30k synthetic faces (1,500 people of 16, 6,000
    # strangers) it fused 3 pairs of people through one pair of faces at 0.48-0.49 each;
    # with this rule, none. A chance match almost never comes with a common neighbour,
    # while two faces of one person share most of theirs.
    shared = _SharedNeighbours(src, dst, m)
    need = params.min_faces - 2
    for x, y in zip((keys[order] // m).tolist(), (keys[order] % m).tolist(), strict=True):
        if groups.can_union(x, y) and (need <= 0 or shared.count(x, y) >= need):
            groups.union(x, y)

    # Border faces attach to the best core neighbour whose group has no face of their photo;
    # they never merge groups themselves (that would chain people through outliers).
    border = ~core[src] & core[dst]
    b_src, b_dst, b_sim = src[border], dst[border], sim[border]
    for e in np.lexsort((b_dst, b_src, -b_sim)).tolist():
        groups.attach(int(b_src[e]), int(b_dst[e]))

    roots = np.array([groups.find(i) for i in range(m)], dtype=np.int64)
    uniq, inverse, sizes = np.unique(roots, return_inverse=True, return_counts=True)
    big = np.flatnonzero(sizes >= params.min_faces)
    if big.size == 0:
        return 0
    # Largest first, ties by the lowest face index: the same input always gives the same ids.
    lowest = np.full(uniq.size, m, dtype=np.int64)
    np.minimum.at(lowest, inverse, np.arange(m))
    big = big[np.lexsort((lowest[big], -sizes[big]))]
    new_id = np.zeros(uniq.size, dtype=np.int64)
    new_id[big] = first_id - np.arange(big.size)
    person[waiting] = new_id[inverse]
    return int(big.size)


class _Groups:
    """Union-find over waiting faces that refuses to put two faces of one photo together."""

    def __init__(self, photos: list[int]) -> None:
        self._parent = list(range(len(photos)))
        self._photos: list[set[int]] = [{p} for p in photos]
        self._attached: set[int] = set()

    def find(self, x: int) -> int:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving keeps later finds short
            x = parent[x]
        return x

    def can_union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        return ra != rb and self._photos[ra].isdisjoint(self._photos[rb])

    def union(self, a: int, b: int) -> None:
        """Merge the groups of a and b (which :meth:`can_union` allowed)."""
        ra, rb = self.find(a), self.find(b)
        pa, pb = self._photos[ra], self._photos[rb]
        if len(pa) < len(pb):
            ra, rb, pa, pb = rb, ra, pb, pa
        self._parent[rb] = ra
        pa |= pb
        self._photos[rb] = set()

    def attach(self, face: int, core_face: int) -> None:
        if face in self._attached:
            return
        root = self.find(core_face)
        photos = self._photos[root]
        (own,) = self._photos[face]
        if own in photos:
            return
        self._parent[face] = root
        photos.add(own)
        self._attached.add(face)


class _SharedNeighbours:
    """How many neighbours two faces have in common, from the (source-sorted) edge lists;
    each face's set is built the first time it is asked for."""

    def __init__(self, src: IntArray, dst: IntArray, m: int) -> None:
        self._dst = dst.tolist()
        self._start = np.searchsorted(src, np.arange(m + 1)).tolist()
        self._sets: dict[int, set[int]] = {}

    def _of(self, face: int) -> set[int]:
        found = self._sets.get(face)
        if found is None:
            found = set(self._dst[self._start[face]:self._start[face + 1]])
            self._sets[face] = found
        return found

    def count(self, a: int, b: int) -> int:
        return len(self._of(a) & self._of(b))


def _match_old_ids(person: IntArray, old: IntArray, new_ids: IntArray,
                   free_old: IntArray) -> dict[int, int]:
    """New group id -> old person id, greedily by overlap (faces of the group that had that
    id), each id on either side used at most once."""
    members = np.isin(person, new_ids) & np.isin(old, free_old)
    if not members.any():
        return {}
    pairs, counts = np.unique(np.stack([person[members], old[members]]), axis=1,
                              return_counts=True)
    # Largest overlap first; ties go to the larger new group (-1 before -2), then the lower id.
    order = np.lexsort((pairs[1], -pairs[0], -counts))
    mapping: dict[int, int] = {}
    used: set[int] = set()
    for new_id, old_id in zip(pairs[0][order].tolist(), pairs[1][order].tolist(), strict=True):
        if new_id in mapping or old_id in used:
            continue
        mapping[new_id] = old_id
        used.add(old_id)
    return mapping



# --------------------------------------------------------------------------- waiting faces

# Up to this many waiting faces, every pair is compared (blocked products); above it, pairs are
# only looked for inside coarse cells (k-means centroids) that both faces are near, which turns
# the n^2 products into about n^2 * PROBES / cells: 300k faces in seconds, not minutes.
EXACT_BELOW = 40_000
PROBES = 16
# A group of waiting faces keeps this many strongest links per face: enough to connect it.
GROUP_NEIGHBOURS = 16


def group_waiting(vectors: npt.ArrayLike, photo: npt.ArrayLike, params: Params,
                  apart: npt.ArrayLike | None = None, *, exact_below: int = EXACT_BELOW,
                  seed: int = 0) -> IntArray:
    """Group faces that wait for a person by likeness, for a person to name or dismiss them
    together: a label per face (0, 1, 2, ...; groups of one included), largest group first.

    Two faces are alike from ``params.found`` (the similarity at which waiting faces are
    neighbours when clustering founds a person). Links are merged strongest first, refusing a
    merge that would put two faces of one photo together or two faces of a pair in ``apart``
    (``(k, 2)`` indices: said not to be the same person); two groups of several faces merge
    only through a link that has a common neighbour, so one chance look-alike does not fuse
    two people. Deterministic for the same input (and ``seed``)."""
    vecs = np.ascontiguousarray(vectors, dtype=np.float32)
    photos = np.asarray(photo, dtype=np.int64)
    m = len(photos)
    if vecs.ndim != 2 or vecs.shape[0] != m:
        raise ValueError(f"vectors must have shape ({m}, d), got {vecs.shape}")
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    if m <= exact_below:
        src, dst, sim, _ = _neighbours(vecs, photos, params.found)
    else:
        src, dst, sim = _cell_neighbours(vecs, photos, params.found, seed)
    keep = np.arange(src.size) - np.searchsorted(src, src) < GROUP_NEIGHBOURS
    src, dst, sim = src[keep], dst[keep], sim[keep]

    kept_apart: dict[int, set[int]] = {}
    pairs = np.asarray(apart if apart is not None else np.zeros((0, 2)), dtype=np.int64)
    for a, b in pairs.reshape(-1, 2).tolist():
        if 0 <= a < m and 0 <= b < m:
            kept_apart.setdefault(a, set()).add(b)
            kept_apart.setdefault(b, set()).add(a)

    groups = _Groups(photos.tolist())
    members: dict[int, set[int]] = {}    # root -> faces, only for roots with apart faces
    size = [1] * m
    for f in kept_apart:
        members[f] = {f}
    keys, first = np.unique(np.minimum(src, dst) * m + np.maximum(src, dst),
                            return_index=True)
    order = np.lexsort((keys, -sim[first]))
    shared = _SharedNeighbours(src, dst, m)
    for x, y in zip((keys[order] // m).tolist(), (keys[order] % m).tolist(), strict=True):
        if not groups.can_union(x, y):
            continue
        rx, ry = groups.find(x), groups.find(y)
        if size[rx] > 1 and size[ry] > 1 and shared.count(x, y) < 1:
            continue
        mx, my = members.get(rx), members.get(ry)
        if mx and my and any(kept_apart.get(f, set()) & my for f in mx):
            continue
        groups.union(x, y)
        root = groups.find(x)
        size[root] = size[rx] + size[ry]
        if mx or my:
            members[root] = (mx or set()) | (my or set())
            if root != rx:
                members.pop(rx, None)
            if root != ry:
                members.pop(ry, None)
    roots = np.array([groups.find(i) for i in range(m)], dtype=np.int64)
    uniq, inverse, sizes = np.unique(roots, return_inverse=True, return_counts=True)
    lowest = np.full(uniq.size, m, dtype=np.int64)
    np.minimum.at(lowest, inverse, np.arange(m))
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.lexsort((lowest, -sizes))] = np.arange(uniq.size)
    return rank[inverse].astype(np.int64)


def _cell_neighbours(vectors: FloatArray, photo: IntArray, threshold: float,
                     seed: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Neighbour edges (as :func:`_neighbours` gives them, without degrees) found only between
    faces of nearby coarse cells: each face is a row in its nearest cell and a column in its
    ``PROBES`` nearest, so two alike faces meet when either's cell is among the other's
    nearest. Approximate: it can miss a pair that sits far from both cells' centres."""
    m, _dim = vectors.shape
    cells = int(min(4096, max(16, np.sqrt(m))))
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(m, size=min(m, cells * 24), replace=False)]
    centres = sample[rng.choice(len(sample), size=cells, replace=False)].copy()
    for _ in range(8):   # spherical k-means on the sample: a few rounds settle the cells
        owner = np.argmax(sample @ centres.T, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, owner, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        filled = norms[:, 0] > 0
        centres[filled] = sums[filled] / norms[filled]
    probes = min(PROBES, cells)
    near = np.zeros((m, probes), dtype=np.int64)
    step = _rows_per_block(cells)
    for lo in range(0, m, step):
        sims = vectors[lo:lo + step] @ centres.T
        top = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
        best = np.take_along_axis(sims, top, axis=1)
        near[lo:lo + step] = np.take_along_axis(top, np.argsort(-best, axis=1), axis=1)
    home = near[:, 0]
    by_home = np.argsort(home, kind="stable")
    home_start = np.searchsorted(home[by_home], np.arange(cells + 1))
    probe_faces = np.repeat(np.arange(m), probes)
    probe_cells = near.reshape(-1)
    by_probe = np.argsort(probe_cells, kind="stable")
    probe_faces, probe_cells = probe_faces[by_probe], probe_cells[by_probe]
    probe_start = np.searchsorted(probe_cells, np.arange(cells + 1))
    lows: list[IntArray] = []
    highs: list[IntArray] = []
    sims_out: list[FloatArray] = []
    for c in range(cells):
        rows = by_home[home_start[c]:home_start[c + 1]]
        cols = probe_faces[probe_start[c]:probe_start[c + 1]]
        if rows.size == 0 or cols.size == 0:
            continue
        col_vectors = vectors[cols].T
        step = _rows_per_block(cols.size)
        for lo in range(0, rows.size, step):
            block = rows[lo:lo + step]
            sims = vectors[block] @ col_vectors
            flat = np.flatnonzero(sims >= threshold)
            r = block[flat // cols.size]
            k = cols[flat % cols.size]
            ok = (r != k) & (photo[r] != photo[k])
            lows.append(np.minimum(r[ok], k[ok]))
            highs.append(np.maximum(r[ok], k[ok]))
            sims_out.append(sims.reshape(-1)[flat][ok])
    if not lows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    low, high, sim = np.concatenate(lows), np.concatenate(highs), np.concatenate(sims_out)
    keys, first = np.unique(low * m + high, return_index=True)   # a pair met in two cells
    low, high, sim = keys // m, keys % m, sim[first]
    return _best_per_source(np.r_[low, high], np.r_[high, low], np.r_[sim, sim])
