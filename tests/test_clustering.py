"""Face clustering on synthetic embeddings shaped like SFace's: identities are random unit
vectors in 128-d, and a face is its identity plus noise, so that two faces of one person
score about 0.5-0.7 and two people about 0.0-0.15, with a pair of siblings in between."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections import Counter

import numpy as np
import numpy.typing as npt
import pytest

from glimpse_desktop.faces.clustering import Faces, Params, Result, assign, check, recluster

D = 128
Vectors = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


def unit(x: npt.NDArray[np.float64] | Vectors) -> Vectors:
    out: Vectors = (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)
    return out


def identities(rng: np.random.Generator, k: int) -> Vectors:
    return unit(rng.standard_normal((k, D)))


def sibling_of(rng: np.random.Generator, centre: Vectors, cos: float) -> Vectors:
    """An identity whose centre has cosine ``cos`` with ``centre``."""
    other = rng.standard_normal(D)
    other -= (other @ centre) * centre
    other /= np.linalg.norm(other)
    return unit(cos * centre + np.sqrt(1 - cos**2) * other)


def faces_of(rng: np.random.Generator, centres: Vectors, k: int = 1) -> Vectors:
    """``k`` faces of each identity in ``centres`` (rows grouped by identity). The noise
    norm of 0.65-1.0 puts two faces of one identity at cosine 1/sqrt((1+a²)(1+b²)):
    0.5-0.7, like pose and lighting changes do."""
    centres = np.repeat(np.atleast_2d(centres), k, axis=0)
    scale = rng.uniform(0.65, 1.0, (len(centres), 1))
    return unit(centres + scale * rng.standard_normal(centres.shape) / np.sqrt(D))


def near_copy(rng: np.random.Generator, face: Vectors) -> Vectors:
    """The same face again, as in a mirror in the same photo (cosine about 0.99)."""
    return unit(face + 0.1 * rng.standard_normal(D) / np.sqrt(D))


def make(vectors: Vectors, *, photo: Ints | None = None, person: Ints | None = None,
         seeds: npt.NDArray[np.bool_] | None = None, fixed: npt.NDArray[np.bool_] | None = None,
         rejected: dict[int, set[int]] | None = None) -> Faces:
    n = len(vectors)
    return Faces(
        vectors=vectors,
        photo=np.arange(n, dtype=np.int64) if photo is None else photo,
        person=np.zeros(n, dtype=np.int64) if person is None else person,
        seeds=np.ones(n, dtype=np.bool_) if seeds is None else seeds,
        fixed=np.zeros(n, dtype=np.bool_) if fixed is None else fixed,
        rejected={} if rejected is None else rejected,
    )


def committed(person: Ints, first: int = 100) -> Ints:
    """What the caller does with a result: new people (negative ids) get rows of their own."""
    out = person.copy()
    for k, new_id in enumerate(sorted(set(person[person < 0].tolist()), reverse=True)):
        out[person == new_id] = first + k
    return out


def grown(faces: Faces, vectors: Vectors, photo: Ints | None = None,
          seeds: npt.NDArray[np.bool_] | None = None) -> tuple[Faces, Ints]:
    """``faces`` with new waiting faces appended (new photos unless given); also returns
    the new faces' indices, the candidates of the next incremental pass."""
    n, k = len(faces.person), len(vectors)
    new_photo = np.arange(k, dtype=np.int64) + int(faces.photo.max()) + 1
    more = Faces(
        vectors=np.concatenate([faces.vectors, vectors]),
        photo=np.concatenate([faces.photo, new_photo if photo is None else photo]),
        person=np.concatenate([faces.person, np.zeros(k, dtype=np.int64)]),
        seeds=np.concatenate([faces.seeds, np.ones(k, dtype=np.bool_) if seeds is None
                              else seeds]),
        fixed=np.concatenate([faces.fixed, np.zeros(k, dtype=np.bool_)]),
        rejected=dict(faces.rejected),
    )
    return more, np.arange(n, n + k, dtype=np.int64)


def people_of(person: Ints, identity: Ints) -> dict[int, set[int]]:
    """Identity -> the set of person ids its faces ended in."""
    out: dict[int, set[int]] = {}
    for ident, p in zip(identity.tolist(), person.tolist(), strict=True):
        out.setdefault(ident, set()).add(p)
    return out


def score(faces: Faces, face: int, person: int, votes: int = 3) -> float:
    """The evidence score as the module documents it, worked out independently."""
    members = (faces.person == person) & (faces.seeds | faces.fixed)
    sims = np.sort(faces.vectors[members] @ faces.vectors[face])[::-1]
    return float(sims[:votes].mean())


@pytest.fixture
def crowd() -> tuple[Faces, Ints]:
    """Eight identities of ten faces, identities 0 and 1 siblings, each face in its own photo,
    in shuffled order."""
    rng = np.random.default_rng(1)
    centres = identities(rng, 8)
    centres[1] = sibling_of(rng, centres[0], 0.4)
    vectors = faces_of(rng, centres, 10)
    identity = np.repeat(np.arange(8, dtype=np.int64), 10)
    order = rng.permutation(len(vectors))
    return make(vectors[order]), identity[order]


# --------------------------------------------------------------------------- the test data


def test_synthetic_faces_score_like_the_recogniser(crowd: tuple[Faces, Ints]) -> None:
    faces, identity = crowd
    sims = faces.vectors @ faces.vectors.T
    same = identity[:, None] == identity[None, :]
    np.fill_diagonal(same, False)
    siblings = np.isin(identity, [0, 1])
    between_siblings = siblings[:, None] & siblings[None, :] & (identity[:, None]
                                                                != identity[None, :])
    others = ~same & ~between_siblings & ~np.eye(len(identity), dtype=np.bool_)
    assert 0.5 <= sims[same].mean() <= 0.7
    assert abs(sims[others].mean()) <= 0.15
    # Sibling faces are closer than strangers' but still below the thresholds.
    assert 0.15 <= sims[between_siblings].mean() <= 0.35
    centre0 = unit(faces.vectors[identity == 0].mean(axis=0))
    centre1 = unit(faces.vectors[identity == 1].mean(axis=0))
    assert 0.3 <= float(centre0 @ centre1) <= 0.5


# --------------------------------------------------------------------------- founding people


def test_identities_become_pure_and_complete_people(crowd: tuple[Faces, Ints]) -> None:
    faces, identity = crowd
    result = assign(faces, Params())
    groups = people_of(result.person, identity)
    assert all(len(ids) == 1 for ids in groups.values()), groups
    assert sorted(next(iter(ids)) for ids in groups.values()) == list(range(-8, 0))
    assert (result.joined, result.founded, result.waiting) == (0, 8, 0)
    assert check(faces, result.person) == []


def test_new_ids_are_numbered_largest_first() -> None:
    rng = np.random.default_rng(2)
    centres = identities(rng, 2)
    vectors = np.concatenate([faces_of(rng, centres[0], 4), faces_of(rng, centres[1], 7)])
    result = assign(make(vectors), Params())
    assert result.person.tolist() == [-2] * 4 + [-1] * 7


def test_a_face_waits_until_enough_similar_faces_arrive() -> None:
    rng = np.random.default_rng(3)
    centre = identities(rng, 1)[0]
    faces = make(faces_of(rng, centre, 1))
    result = assign(faces, Params())
    assert (result.founded, result.waiting) == (0, 1)

    faces, new = grown(faces, faces_of(rng, centre, 1))
    result = assign(faces, Params(), candidates=new)
    assert result.person.tolist() == [0, 0]
    assert (result.founded, result.waiting) == (0, 2)

    # The third face is a candidate, the first two are not: founding still sweeps them in.
    faces, new = grown(faces, faces_of(rng, centre, 1))
    result = assign(faces, Params(), candidates=new)
    assert result.person.tolist() == [-1, -1, -1]
    assert (result.joined, result.founded, result.waiting) == (0, 1, 0)


def test_non_seed_faces_join_but_do_not_found_or_vouch() -> None:
    rng = np.random.default_rng(4)
    centres = identities(rng, 2)
    blurry = faces_of(rng, centres[0], 10)
    faces = make(blurry, seeds=np.zeros(10, dtype=np.bool_))
    result = assign(faces, Params())
    assert (result.founded, result.waiting) == (0, 10)

    # Three sharp faces found the person; the blurry ones join it in the same pass.
    faces, _ = grown(faces, faces_of(rng, centres[0], 3))
    result = assign(faces, Params())
    assert result.person.tolist() == [-1] * 13
    assert result.founded == 1

    # A person whose faces are all blurry offers no evidence to join.
    person = np.full(10, 7, dtype=np.int64)
    faces = make(blurry, person=person, seeds=np.zeros(10, dtype=np.bool_))
    faces, new = grown(faces, faces_of(rng, centres[0], 1))
    assert assign(faces, Params(), candidates=new).person[new].tolist() == [0]


def test_a_stranger_and_a_pair_stay_waiting() -> None:
    rng = np.random.default_rng(5)
    centres = identities(rng, 3)
    vectors = np.concatenate([faces_of(rng, centres[0], 5), faces_of(rng, centres[1], 2),
                              faces_of(rng, centres[2], 1)])
    result = assign(make(vectors), Params())
    assert result.person.tolist() == [-1] * 5 + [0] * 3
    # With min_faces 2 the pair becomes a person, the stranger still waits.
    result = assign(make(vectors), Params(min_faces=2))
    assert result.person.tolist() == [-1] * 5 + [-2] * 2 + [0]


def test_a_face_close_to_only_one_member_attaches_as_a_border_face() -> None:
    rng = np.random.default_rng(15)
    group = faces_of(rng, identities(rng, 1)[0], 6)
    # A profile view: close to one frontal shot of the group only.
    other = rng.standard_normal(D)
    other -= group.T @ np.linalg.lstsq(group.T, other, rcond=None)[0]
    other /= np.linalg.norm(other)
    profile = unit(0.5 * group[0] + 0.8 * other)
    sims = np.sort(group @ profile)[::-1]
    params = Params()
    assert sims[0] >= params.found > sims[1]  # a single neighbour: not a core face
    assert sims[:params.votes].mean() < params.join  # and joining would not take it

    faces = make(np.concatenate([group, profile[None]]))
    assert assign(faces, params).person.tolist() == [-1] * 7
    # The photo rule holds for border faces too: a face of photo 3 stays out of the group
    # that already has photo 3.
    faces.photo[6] = 3
    result = assign(faces, params)
    assert result.person.tolist() == [-1] * 6 + [0]
    assert check(faces, result.person) == []


# --------------------------------------------------------------------------- hard constraints


def test_two_faces_of_one_photo_never_share_a_person() -> None:
    rng = np.random.default_rng(6)
    centre = identities(rng, 1)[0]
    vectors = faces_of(rng, centre, 9)
    # Face 9 is face 8 again, seen in a mirror in the same photo.
    vectors = np.concatenate([vectors, near_copy(rng, vectors[8])[None]])
    photo = np.r_[np.arange(9), 8].astype(np.int64)
    assert float(vectors[8] @ vectors[9]) > 0.95
    faces = make(vectors, photo=photo)

    result = assign(faces, Params())
    assert result.person[:8].tolist() == [-1] * 8
    assert sorted(result.person[8:].tolist()) == [-1, 0]
    assert check(faces, result.person) == []

    again = recluster(faces, Params())
    assert sorted(again.person[8:].tolist()) == [-1, 0]
    assert check(faces, again.person) == []

    # A face and its reflection count once towards min_faces: three faces, two photos.
    few = make(vectors[[0, 8, 9]], photo=np.array([0, 8, 8], dtype=np.int64))
    assert assign(few, Params()).person.tolist() == [0, 0, 0]

    # Joining an existing person: both want it, one gets it, the other waits.
    person = np.r_[np.full(8, 5), 0, 0].astype(np.int64)
    result = assign(make(vectors, photo=photo, person=person), Params())
    assert sorted(result.person[8:].tolist()) == [0, 5]
    assert result.joined == 1


def test_the_best_face_of_a_photo_wins_and_the_other_tries_its_next_person() -> None:
    rng = np.random.default_rng(7)
    a = identities(rng, 1)[0]
    b = sibling_of(rng, a, 0.4)
    vectors = np.concatenate([faces_of(rng, a, 6), faces_of(rng, b, 6)])
    person = np.repeat(np.array([1, 2], dtype=np.int64), 6)
    frontal = unit(a + 0.3 * rng.standard_normal(D) / np.sqrt(D))  # clearly a
    between = unit(1.3 * a + b)  # prefers a, would also do for b
    faces, new = grown(make(vectors, person=person), np.stack([frontal, between]),
                       photo=np.array([99, 99], dtype=np.int64))
    f, w = (int(i) for i in new)
    assert score(faces, f, 1) > score(faces, w, 1) > score(faces, w, 2) >= Params().join

    result = assign(faces, Params(), candidates=new)
    assert result.person[new].tolist() == [1, 2]
    assert result.joined == 2
    # Without the photo rule, `between` would have gone to its first choice.
    apart = faces.photo.copy()
    apart[w] = 100
    alone = dataclasses.replace(faces, photo=apart)
    assert assign(alone, Params(), candidates=new).person[new].tolist() == [1, 1]


def test_a_rejected_face_never_rejoins_that_person() -> None:
    rng = np.random.default_rng(8)
    centre = identities(rng, 1)[0]
    vectors = faces_of(rng, centre, 12)
    person = np.r_[np.full(10, 7), 0, 0].astype(np.int64)
    rejected = {10: {7}}

    # Control: without the rejection, face 10 joins person 7.
    control = assign(make(vectors, person=person), Params())
    assert control.person[10:].tolist() == [7, 7]

    faces = make(vectors, person=person, rejected=rejected)
    result = assign(faces, Params())
    assert result.person[10:].tolist() == [0, 7]
    assert check(faces, result.person) == []

    # Re-clustering rebuilds the group and hands it id 7 back, but not to face 10.
    again = recluster(faces, Params())
    assert again.person.tolist() == [7] * 10 + [0, 7]
    assert check(faces, again.person) == []

    # Rejected faces that found a group of their own keep it apart from 7 on re-cluster...
    rejected = {i: {7} for i in (10, 11)}
    more, _ = grown(make(vectors, person=person, rejected=rejected), faces_of(rng, centre, 1))
    more.rejected[12] = {7}
    first = assign(more, Params())
    assert first.person[10:].tolist() == [-1, -1, -1]
    # ... and when a re-cluster puts them with the faces of 7, they go back to waiting.
    again = recluster(dataclasses.replace(more, person=committed(first.person)), Params())
    assert again.person.tolist() == [7] * 10 + [0, 0, 0]
    assert check(more, again.person) == []


def test_fixed_faces_never_move() -> None:
    rng = np.random.default_rng(9)
    centres = identities(rng, 2)
    vectors = np.concatenate([faces_of(rng, centres[0], 8), faces_of(rng, centres[1], 8)])
    person = np.r_[np.full(8, 1), np.full(8, 2)].astype(np.int64)
    # The user put face 0 (clearly identity 0) into person 2, and said face 1 is nobody
    # in particular (fixed, waiting); named person 2's own faces are fixed too.
    person[0] = 2
    person[1] = 0
    fixed = np.zeros(16, dtype=np.bool_)
    fixed[[0, 1]] = True
    fixed[8:] = True
    faces = make(vectors, person=person, fixed=fixed)

    for result in (assign(faces, Params()), assign(faces, Params(), candidates=np.arange(16)),
                   recluster(faces, Params()), recluster(faces, Params(join=0.9, found=0.9))):
        assert result.person[fixed].tolist() == person[fixed].tolist()
        assert check(faces, result.person) == []
    # The free faces of identity 0 still form their person (and keep its id) without them.
    assert recluster(faces, Params()).person[2:8].tolist() == [1] * 6


# --------------------------------------------------------------------------- incremental use


def test_incremental_assign_joins_existing_people_and_keeps_ids(
        crowd: tuple[Faces, Ints]) -> None:
    faces, identity = crowd
    first = assign(faces, Params())
    faces.person = committed(first.person)
    before = faces.person.copy()
    id_of = {i: next(iter(p)) for i, p in people_of(faces.person, identity).items()}

    rng = np.random.default_rng(10)
    centres = np.stack([unit(faces.vectors[identity == i].mean(axis=0)) for i in range(8)])
    newcomer = identities(rng, 1)[0]
    vectors = np.concatenate([faces_of(rng, centres, 3), faces_of(rng, newcomer, 4)])
    new_identity = np.r_[np.repeat(np.arange(8), 3), np.full(4, 8)]
    faces, new = grown(faces, vectors)

    result = assign(faces, Params(), candidates=new)
    assert result.person[:len(before)].tolist() == before.tolist()
    expected = [id_of[i] for i in new_identity[:24].tolist()] + [-1] * 4
    assert result.person[new].tolist() == expected
    assert (result.joined, result.founded, result.waiting) == (24, 1, 0)
    assert check(faces, result.person) == []


def test_candidates_limit_who_joins() -> None:
    rng = np.random.default_rng(11)
    centre = identities(rng, 1)[0]
    vectors = faces_of(rng, centre, 8)
    person = np.r_[np.full(5, 3), 0, 0, 0].astype(np.int64)
    result = assign(make(vectors, person=person), Params(), candidates=np.array([6]))
    # Faces 5 and 7 were not candidates: they wait for their turn (too few to found).
    assert result.person.tolist() == [3] * 5 + [0, 3, 0]
    assert (result.joined, result.waiting) == (1, 2)

    # Assigned faces are not assign's to move, even when listed (that is recluster's job):
    # face 0 is someone else entirely, put into person 3 by an earlier, worse pass.
    vectors[0] = faces_of(rng, identities(rng, 1)[0])[0]
    moved = assign(make(vectors, person=person), Params(), candidates=np.arange(8))
    assert moved.person[0] == 3
    assert recluster(make(vectors, person=person), Params()).person[0] == 0


# --------------------------------------------------------------------------- re-clustering


def test_recluster_keeps_ids_when_nothing_changed(crowd: tuple[Faces, Ints]) -> None:
    faces, _ = crowd
    faces.person = committed(assign(faces, Params()).person, first=40)
    result = recluster(faces, Params())
    assert result.person.tolist() == faces.person.tolist()
    assert (result.joined, result.founded, result.waiting) == (80, 0, 0)


def test_recluster_with_a_higher_threshold_splits_rather_than_merges(
        crowd: tuple[Faces, Ints]) -> None:
    faces, identity = crowd
    faces.person = committed(assign(faces, Params()).person, first=40)
    strict = Params(join=0.62, found=0.62)
    result = recluster(faces, strict)
    assert check(faces, result.person) == []
    changed = False
    for p in set(result.person.tolist()) - {0}:
        old = set(faces.person[result.person == p].tolist())
        assert len(old) == 1, f"person {p} merges old people {old}"
        # A part of an old person that took over its id did so by overlap.
        assert p < 0 or p in old
    for old_id in set(faces.person.tolist()):
        now = set(result.person[faces.person == old_id].tolist())
        changed |= now != {old_id}
    assert changed, "the stricter thresholds should have split or released someone"
    # The lax direction: a looser threshold may merge the siblings, the strict one must not.
    assert len(set(result.person[np.isin(identity, [0, 1])].tolist()) - {0}) >= 2


def test_recluster_after_faces_moved_maps_ids_by_overlap() -> None:
    rng = np.random.default_rng(12)
    centres = identities(rng, 2)
    vectors = np.concatenate([faces_of(rng, centres[0], 6), faces_of(rng, centres[1], 6)])
    # A stale assignment: person 4 holds most of identity 0 and two of identity 1, person
    # 9 the rest of identity 1, and one face of identity 0 waits.
    person = np.array([4, 4, 4, 4, 4, 0, 4, 4, 9, 9, 9, 9], dtype=np.int64)
    result = recluster(make(vectors, person=person), Params())
    assert result.person.tolist() == [4] * 6 + [9] * 6
    assert (result.joined, result.founded, result.waiting) == (12, 0, 0)


def test_recluster_gives_a_split_persons_id_to_its_larger_part_only() -> None:
    rng = np.random.default_rng(16)
    centres = identities(rng, 2)
    vectors = np.concatenate([faces_of(rng, centres[0], 5), faces_of(rng, centres[1], 7)])
    # An earlier pass wrongly merged two people into person 4.
    result = recluster(make(vectors, person=np.full(12, 4, dtype=np.int64)), Params())
    assert result.person.tolist() == [-1] * 5 + [4] * 7
    assert (result.joined, result.founded) == (7, 1)


def test_recluster_does_not_hand_a_kept_persons_id_to_another_group() -> None:
    rng = np.random.default_rng(17)
    centres = identities(rng, 2)
    vectors = np.concatenate([faces_of(rng, centres[0], 3), faces_of(rng, centres[1], 5)])
    # Person 5 holds three faces the user confirmed and five of somebody else.
    fixed = np.r_[np.ones(3), np.zeros(5)].astype(np.bool_)
    faces = make(vectors, person=np.full(8, 5, dtype=np.int64), fixed=fixed)
    result = recluster(faces, Params())
    assert result.person.tolist() == [5] * 3 + [-1] * 5
    assert check(faces, result.person) == []


# --------------------------------------------------------------------------- check


def test_check_reports_each_kind_of_violation() -> None:
    rng = np.random.default_rng(13)
    vectors = faces_of(rng, identities(rng, 1)[0], 4)
    faces = make(vectors, photo=np.array([1, 1, 2, 3], dtype=np.int64),
                 person=np.array([0, 0, 5, 6], dtype=np.int64),
                 fixed=np.array([False, False, False, True]), rejected={2: {8}})
    assert check(faces, faces.person) == []
    problems = check(faces, np.array([5, 5, 8, 7], dtype=np.int64))
    assert len(problems) == 3
    assert "photo 1" in problems[0]
    assert "rejected" in problems[1]
    assert "fixed face 3" in problems[2]


def test_bad_input_is_refused() -> None:
    faces = make(np.zeros((3, D), dtype=np.float32))
    faces.photo = np.zeros(2, dtype=np.int64)
    with pytest.raises(ValueError):
        assign(faces, Params())
    with pytest.raises(ValueError):
        assign(make(np.zeros((3, D), dtype=np.float32)), Params(), candidates=np.array([3]))


# --------------------------------------------------------------------------- scale


def test_thirty_thousand_faces_without_an_n_by_n_matrix() -> None:
    rng = np.random.default_rng(14)
    people, per_person, strangers = 1500, 16, 6000
    centres = identities(rng, people + strangers)
    vectors = np.concatenate([faces_of(rng, centres[:people], per_person),
                              faces_of(rng, centres[people:], 1)])
    identity = np.r_[np.repeat(np.arange(people), per_person), -1 - np.arange(strangers)]
    n = len(vectors)
    assert n == 30_000
    # Two faces to a photo, paired at random: the photo rule is in play throughout.
    photo = (rng.permutation(n) // 2).astype(np.int64)
    faces = make(vectors, photo=photo)

    tracemalloc.start()
    try:
        result: Result = assign(faces, Params())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # One n x n float32 matrix would be 3.6 GB, a boolean one 0.9 GB.
    assert peak < 600 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert check(faces, result.person) == []

    person = result.person
    # Every person is (almost) one identity; a stranger may match someone by chance.
    impure = 0
    for p in np.unique(person[person != 0]).tolist():
        counts = Counter(identity[person == p].tolist())
        impure += sum(counts.values()) - counts.most_common(1)[0][1]
    assert impure <= 10
    assert np.count_nonzero(person[identity < 0]) <= 10
    # Identities none of whose faces share a photo come out whole.
    whole = 0
    for i in range(0, people, 50):
        mine = identity == i
        if len(set(photo[mine].tolist())) == per_person:
            ids = set(person[mine].tolist())
            assert len(ids) == 1 and 0 not in ids
            whole += 1
    assert whole >= 20
    assert result.founded >= people - 5


def test_a_focused_sweep_founds_around_new_faces_only() -> None:
    """After a batch, founding looks only around the new faces: two waiting faces of a person
    and a new third one found them; a group of waiting strangers elsewhere is left for the
    full sweep (which a change of thresholds or a large batch triggers)."""
    rng = np.random.default_rng(12)
    him, crowd = identities(rng, 2)
    old = np.vstack([faces_of(rng, him, 2), faces_of(rng, crowd, 3)])
    faces = make(old)
    faces, new = grown(faces, faces_of(rng, him, 1))
    result = assign(faces, Params(), candidates=new, focus=new)
    person = result.person
    assert person[0] == person[1] == person[5] != 0
    assert person[2:5].tolist() == [0, 0, 0]
    assert result.founded == 1
    full = assign(faces, Params(), candidates=new)
    assert full.founded == 2 and len(set(full.person[2:5].tolist())) == 1
