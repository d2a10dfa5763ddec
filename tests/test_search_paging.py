"""How many photos a search matches, its later pages, and why it found nothing, against real
libraries: the true total (not the page size), pages that continue the same ranking, "similar"
counted above its cut-off, and the reason a filter matched nothing given as a code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import vectors
from glimpse_desktop.search.engine import (
    FILTER_MATCHES_NOTHING,
    FILTERS_EXCLUDE_EACH_OTHER,
    MODEL_NOT_INSTALLED,
    NOTHING_EMBEDDED,
    SearchResult,
)
from glimpse_desktop.search.query import QueryError
from tests import imagegen as ig
from tests.test_semantic import MODEL, clip_lib, converted, model_dir, weights  # noqa: F401 (fixtures)


def _photos(folder: Path, n: int) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (48, 32), seed=i,
                      datetime_original=f"2023:{1 + i % 12:02d}:{1 + i % 27:02d} "
                                        f"10:00:{i % 60:02d}",
                      make="Canon" if i % 3 else "Nikon", model="EOS R6" if i % 3 else "Z6")


@pytest.fixture
def photos_lib(lib: Library, photo_dir: Path) -> Library:
    _photos(photo_dir, 60)
    lib.add_root(photo_dir)
    lib.index()
    return lib


def _ids(hits: list) -> list[int]:  # type: ignore[type-arg]
    return [h.photo_id for h in hits]


def test_a_filter_only_search_counts_every_match_and_pages_through_them(
        photos_lib: Library) -> None:
    lib = photos_lib
    want = [int(r[0]) for r in lib.reader().execute(
        "SELECT id FROM photos WHERE camera_make = 'Canon' ORDER BY taken_ts DESC, id DESC")]
    assert len(want) == 40
    result = lib.search("camera:canon", limit=15)
    # The total is every match, not the page that was asked for.
    assert result.total == 40 and result.exact
    assert _ids(result.hits) == want[:15]
    pages = _ids(result.hits)
    while len(pages) < result.total:
        page = lib.search_page(result, len(pages), 15)
        assert page
        pages += _ids(page)
    assert pages == want
    assert lib.search_page(result, 40, 15) == []
    # offset= asks for a later page directly, the same photos.
    assert _ids(lib.search("camera:canon", limit=10, offset=30).hits) == want[30:40]
    with pytest.raises(QueryError):
        lib.search("camera:canon", offset=-1)


def test_a_ranked_search_keeps_its_ranking_for_later_pages(photos_lib: Library) -> None:
    lib = photos_lib
    # Words alone (no model installed): matched by the text index, ranked by it.
    whole = lib.search("IMG", limit=100)
    assert whole.total == 60 and whole.exact
    first = lib.search("IMG", limit=10, depth=1000)
    assert first.total == 60 and first.exact
    assert _ids(first.hits) == _ids(whole.hits)[:10]
    rest = lib.search_page(first, 10, 100)
    assert _ids(first.hits) + _ids(rest) == _ids(whole.hits)
    # A ranking asked for fewer than match says it is a lower bound, not the total.
    short = lib.search("IMG", limit=10)
    assert short.total == 10 and not short.exact
    # Nothing is said about search by content for a search that did not ask for it.
    filtered = lib.search("camera:canon")
    assert not [n for n in filtered.notices if n.code in (MODEL_NOT_INSTALLED,
                                                          NOTHING_EMBEDDED)]


def test_a_filter_that_matches_nothing_is_named_as_the_reason(photos_lib: Library) -> None:
    lib = photos_lib
    result = lib.search("place:Atlantis")
    assert result.total == 0 and result.hits == []
    assert said(result) == [(FILTER_MATCHES_NOTHING, {"filter": "place", "value": "Atlantis"})]
    assert any("Atlantis" in n.text for n in result.notices)      # the CLI's words
    result = lib.search("camera:Hasselblad after:2020")
    assert said(result) == [(FILTER_MATCHES_NOTHING,
                             {"filter": "camera", "value": "Hasselblad"})]
    result = lib.search("beach after:2031")
    assert (FILTER_MATCHES_NOTHING, {"filter": "after", "value": "2031"}) in said(result)
    # Each filter matches photos, but none passes both.
    result = lib.search("camera:Nikon type:png")
    assert said(result) == [(FILTER_MATCHES_NOTHING, {"filter": "type", "value": "png"})]
    result = lib.search("camera:Nikon lens:x", limit=5)
    assert [n.code for n in result.notices] == [FILTER_MATCHES_NOTHING]
    result = lib.search("camera:Nikon folder:Pictures camera:EOS")
    assert result.total == 0
    assert said(result) == [(FILTERS_EXCLUDE_EACH_OTHER, {
        "filters": ["camera:Nikon", "folder:Pictures", "camera:EOS"]})]


def said(result: SearchResult) -> list[tuple[str, dict[str, object]]]:
    """A search's notices as data: each code with its values."""
    return [(n.code, dict(n.values)) for n in result.notices]


def test_similar_counts_every_photo_above_its_cut(clip_lib: Library,  # noqa: F811
                                                  photo_dir: Path) -> None:
    lib = clip_lib
    _photos(photo_dir, 40)
    lib.add_root(photo_dir)
    lib.index()
    conn = lib.reader()
    table = vectors.table_for(conn, MODEL)
    assert table is not None
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM photos ORDER BY id")]
    blobs = vectors.get_many(conn, table, ids)
    mat = np.stack([np.frombuffer(blobs[i], dtype="<f4") for i in ids])
    mat = mat / np.linalg.norm(mat, axis=1, keepdims=True)
    ref = ids[0]
    sims = mat @ mat[0]
    # A cut in the widest gap between the middle similarities (the index keeps its vectors
    # at a lower precision): the count is neither 0 nor everything, and not a rounding.
    order = np.sort(sims[1:])
    gap = max(range(10, 29), key=lambda i: order[i + 1] - order[i])
    cut = float(order[gap] + order[gap + 1]) / 2
    above = int(sum(1 for i, s in zip(ids, sims, strict=True) if i != ref and s >= cut))
    assert 5 < above < 39
    result = lib.similar(ref, limit=5, depth=1000, min_score=cut)
    assert len(result.hits) == 5
    assert result.total == above and result.exact
    rest = lib.search_page(result, 5, 100)
    assert len(result.hits) + len(rest) == above
    assert ref not in _ids(result.hits) + _ids(rest)
