"""Hybrid search: CLIP text-to-image similarity fused with the text index, under filters.

Scores and the cut-off (README "How search decides what matches"):

* CLIP part. A photo's similarity to the query is compared with its similarity to a few
  neutral descriptions ("a photo", "an image", ...). ``p = 1 / (1 + exp(-scale * (s_query -
  s_neutral)))`` with CLIP's own logit scale (100) is the probability, in CLIP's terms, that
  the query describes the photo better than saying nothing in particular does. It is what the
  person sees as "% match", and photos below ``min_score`` (default 0.5) are cut: a query for
  something that is in none of the photos loses to the neutral descriptions on almost every
  photo, so it returns few results rather than the whole library ranked. Comparing per photo
  also cancels the bias of photos that are similar to every text.
* Text part. Photos whose words match (captions, tags, keywords, descriptions, prompts, file
  and folder names) get ``p_text`` between 0.6 and 0.95 by their BM25 rank.
* Fused: ``1 - (1 - p_clip) * (1 - p_text)``: either kind of evidence can find a photo, and a
  photo with both ranks first.
* "Similar" (image to image) uses the cosine similarity itself as the score, cut at
  ``min_similar`` (default 0.8).

How many match: a search ranks the best ``depth`` candidates (by default just enough for the
page asked for), looking further while the weakest ones it has still pass the cut-off, so
``SearchResult.total`` is the number of photos above the cut-off (for "similar", above the
similarity cut), exact unless the ranking stopped at ``depth`` with more still passing
(``exact`` False: at least that many). A filter-only search counts in SQL. Later pages of the
same result come from ``SearchResult.page`` without ranking again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glimpse_desktop.kernel import fts, vectors
from glimpse_desktop.kernel.config import get_setting
from glimpse_desktop.kernel.db import Connection
from glimpse_desktop.kernel.messages import Notice
from glimpse_desktop.kernel.registry import ModelError
from glimpse_desktop.search.filters import (
    Condition,
    FilterContext,
    SearchFilter,
    narrowed,
    registered,
)
from glimpse_desktop.search.query import Query, QueryError, parse
from glimpse_desktop.search.semantic import Semantic, VectorStore

NEUTRAL_PROMPTS = ("a photo.", "a picture.", "an image.", "a photo of something.",
                   "a photo of a scene.", "a photo of an object.")
LOGIT_SCALE = 100.0
MIN_SCORE = 0.5
MIN_SIMILAR = 0.8
MIN_SCORE_KEY = "search.min_score"
MIN_SIMILAR_KEY = "search.min_similar"
# A smart album (a saved search) holds at most this many photos, best matches first.
SMART_ALBUM_LIMIT = 10_000
# album: filters may name smart albums whose searches name albums in turn; deeper than this
# is a loop (an album whose search includes itself).
MAX_ALBUM_NESTING = 4
# Words that carry no meaning for the text index ("kids on a beach" must not require "on").
_STOPWORDS = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "with", "and", "or", "by", "from",
    "into", "onto", "over", "under", "near", "is", "are", "was", "were", "be", "some", "any",
    "this", "that", "these", "those", "my", "our", "your", "their", "his", "her", "its",
    "photo", "photos", "picture", "pictures", "image", "images"))

__all__ = ["Hit", "Notice", "QueryError", "SearchResult", "search", "similar"]

# A search's notices are ``kernel.messages.Notice``s: what happened in words (``text``) and as
# data (``code``, ``values``), which the CLI and the window each phrase in their own words.
# Their codes, with the values each carries:
# a filter that no photo passes: {"filter": "place", "value": "Atlantis"}
FILTER_MATCHES_NOTHING = "filter_matches_nothing"
# each filter matches photos, but no photo passes all of them: {"filters": ["after:2023", ...]}
FILTERS_EXCLUDE_EACH_OTHER = "filters_exclude_each_other"
# the search model is not installed: {"model": id, "name", "file", "url"} (the values of
# ``Registry.missing``, from which each front end says how to get it)
MODEL_NOT_INSTALLED = "model_not_installed"
# the model is installed but no photo has been embedded with it yet: {}
NOTHING_EMBEDDED = "nothing_embedded"
# some photos are not embedded yet (search by content misses them): {"count": n}
NOT_EMBEDDED_YET = "not_embedded_yet"
# search uses the old model's vectors until the new one has embedded every photo:
# {"target": id, "active": id}
SWITCHING_MODEL = "switching_model"
# the model failed to answer: {"reason": text}
MODEL_FAILED = "model_failed"


@dataclass
class Hit:
    photo_id: int
    score: float          # 0..1, shown as a percentage
    clip: float | None    # raw cosine similarity of the query vector, when CLIP took part
    text: bool            # matched by the text index
    path: str = ""
    taken_at: str | None = None
    status: str = ""
    snippet: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.photo_id, "score": round(self.score, 4),
                "percent": round(self.score * 100), "clip": self.clip,
                "text_match": self.text, "path": self.path, "taken_at": self.taken_at,
                "status": self.status, "snippet": self.snippet}


@dataclass
class SearchResult:
    hits: list[Hit] = field(default_factory=list)
    semantic: bool = False        # CLIP took part
    model: str | None = None
    # What the person should know about this search (a filter that matches nothing, a
    # model still missing): codes with values, and the words the CLI prints.
    notices: list[Notice] = field(default_factory=list)
    cut: int = 0                  # candidates dropped by the cut-off
    total: int = 0                # photos that match (at least this many when not ``exact``)
    exact: bool = True
    offset: int = 0               # where ``hits`` start in the ranking
    # What ``page`` reads later pages from: the whole ranking, or a filter-only query's SQL.
    _ranking: list[Hit] | None = field(default=None, repr=False, compare=False)
    _filtered: tuple[str, list[Any], bool] | None = field(default=None, repr=False,
                                                          compare=False)

    @property
    def ranked(self) -> bool:
        """Whether hits are ranked by a score (words or a photo were searched); filters alone
        match or not, and a score would claim a "100% match" that means nothing."""
        return self._filtered is None

    def page(self, conn: Connection, offset: int, limit: int) -> list[Hit]:
        """Hits ``offset`` to ``offset + limit`` of this result's ranking, without ranking
        again (a ranked search keeps its ranking; a filter-only one reads the next rows)."""
        if offset < 0 or limit < 0:
            raise QueryError("a page starts at 0 or later and holds 0 photos or more")
        if self._ranking is not None:
            return self._ranking[offset:offset + limit]
        if self._filtered is not None:
            where, params, include_unavailable = self._filtered
            return _filtered_page(conn, where, params, offset, limit, include_unavailable)
        return []

    def note(self, notice: Notice) -> None:
        self.notices.append(notice)


def _narrowed(semantic: Semantic, conn: Connection, q: Query, nesting: int
              ) -> list[tuple[SearchFilter, Condition]]:
    """Each filter of the query (``q.filters``, in that order) with the condition it puts
    on ``photos p``, resolved now: names to people, albums to their photos. The filters are
    asked in the plugins' order, so of two names nobody has the person's is reported first.
    QueryError for a value that names nothing (a person nobody is called)."""
    known = registered()
    context = FilterContext(
        conn, nesting, MAX_ALBUM_NESTING,
        lambda query: [h.photo_id for h in search(semantic, conn, query,
                                                   limit=SMART_ALBUM_LIMIT,
                                                   nesting=nesting + 1).hits])
    found: dict[int, tuple[SearchFilter, Condition]] = {}
    for key, search_filter in known.items():
        for i, (k, value) in enumerate(q.filters):
            if k == key:
                # A filter's own failure is a QueryError naming it, never a raw exception.
                found[i] = (search_filter, narrowed(search_filter, context, value))
    missing = [f"{k}:" for i, (k, _v) in enumerate(q.filters) if i not in found]
    if missing:      # a filter whose plugin has gone since the query was parsed
        raise QueryError(f"{missing[0]} is not a filter Glimpse knows",
                         code="search.unknown_filter", values={"key": missing[0][:-1]})
    return [_negated(*found[i]) if i in q.negated else found[i] for i in range(len(q.filters))]


def _negated(search_filter: SearchFilter, condition: Condition
             ) -> tuple[SearchFilter, Condition]:
    """``-key:value``: the photos the condition leaves out (a NULL reads as not passing), each
    such value a condition of its own, whatever the filter's repeat."""
    return (dataclasses.replace(search_filter, repeat="all"),
            Condition(f"NOT coalesce(({condition.sql}), 0)", condition.params))


def _where(narrowed: Sequence[tuple[SearchFilter, Condition]], include_unavailable: bool
           ) -> tuple[str, list[Any]]:
    """SQL over ``photos p`` for these filters: the values of one key combine as the filter
    says (each must hold, either may, or the last one given), different keys all hold."""
    # A RAW kept as its JPEG's companion (kernel/pairs.py) is no hit of its own.
    # A photo in the trash (flag 16, kernel.photos.FLAG_TRASHED) is found nowhere.
    where = ["p.companion_of IS NULL AND (p.flags & 16) = 0"] if include_unavailable \
        else ["p.status IN ('ok', 'offline') AND p.companion_of IS NULL"]
    params: list[Any] = []
    by_key: dict[tuple[str, str], tuple[SearchFilter, list[Condition]]] = {}
    for search_filter, condition in narrowed:
        by_key.setdefault((search_filter.key, search_filter.repeat),
                          (search_filter, []))[1].append(condition)
    for search_filter, conditions in by_key.values():
        if search_filter.repeat == "last":
            conditions = conditions[-1:]
        if search_filter.repeat == "any" and len(conditions) > 1:
            where.append("(" + " OR ".join(f"({c.sql})" for c in conditions) + ")")
            params += [v for c in conditions for v in c.params]
            continue
        for c in conditions:
            where.append(c.sql)
            params += c.params
    return " AND ".join(where), params


def _why_nothing(conn: Connection, q: Query,
                 narrowed: Sequence[tuple[SearchFilter, Condition]],
                 include_unavailable: bool) -> list[Notice]:
    """Why a search with filters found nothing: each filter that no photo passes on its own,
    else (no photo passes them all together) the filters together."""
    if not q.filters:
        return []
    out = []
    for i, ((key, value), single) in enumerate(zip(q.filters, narrowed, strict=True)):
        where, params = _where([single], include_unavailable)
        if conn.one(f"SELECT count(*) FROM (SELECT 1 FROM photos p WHERE {where} LIMIT 1)",
                    params) == 0:
            text = (f"every photo matches {key}:{value}" if i in q.negated
                    else single[0].no_match(value))
            out.append(Notice(FILTER_MATCHES_NOTHING, text, {
                "filter": key, "value": value, **({"negated": True} if i in q.negated else {})}))
    if out or len(q.filters) < 2:
        return out
    where, params = _where(narrowed, include_unavailable)
    if conn.one(f"SELECT count(*) FROM (SELECT 1 FROM photos p WHERE {where} LIMIT 1)",
                params) == 0:
        names = [f"{'-' * (i in q.negated)}{key}:{value}"
                 for i, (key, value) in enumerate(q.filters)]
        out.append(Notice(FILTERS_EXCLUDE_EACH_OTHER,
                          "each filter matches photos, but no photo matches all of "
                          + " ".join(names), {"filters": names}))
    return out


def _fts_terms(q: Query) -> str:
    words = [w for w in re.findall(r"\w+", q.text.lower()) if w not in _STOPWORDS]
    return " ".join(words)


def _text_hits(conn: Connection, q: Query, where: str, params: list[Any], limit: int
               ) -> tuple[dict[int, tuple[float, str | None]], bool]:
    """Photo id -> (p_text, snippet) for photos whose words match every query word, and
    whether more than ``limit`` did."""
    terms = _fts_terms(q)
    match = fts.build_match(terms) if terms else None
    if match is None:
        return {}, False
    rows = conn.rows(
        f"""SELECT p.id, bm25(photos_fts, 2.0, 1.0, 4.0, 4.0, 3.0, 4.0, 3.0, 2.0, 2.0, 4.0)
                   AS rank, snippet(photos_fts, -1, '[', ']', '…', 12) AS snippet
            FROM photos_fts JOIN photos p ON p.id = photos_fts.rowid
            WHERE photos_fts MATCH ? AND {where} ORDER BY rank LIMIT ?""",
        (match, *params, limit))
    if not rows:
        return {}, False
    best = min(float(r["rank"]) for r in rows) or -1.0
    out: dict[int, tuple[float, str | None]] = {}
    for r in rows:
        ratio = float(r["rank"]) / best if best else 1.0
        out[int(r["id"])] = (0.6 + 0.35 * max(0.0, min(1.0, ratio)), r["snippet"])
    return out, len(rows) >= limit


def _excluded(conn: Connection, words: Sequence[str]) -> set[int]:
    found: set[int] = set()
    for word in words:
        match = fts.build_match(f'"{word}"')
        if match:
            found.update(int(r[0]) for r in conn.execute(
                "SELECT rowid FROM photos_fts WHERE photos_fts MATCH ?", (match,)))
    return found


def _photo_vectors(conn: Connection, store: VectorStore, ids: Sequence[int]) -> np.ndarray:
    try:
        return np.asarray(store.index.vectors(list(ids)), dtype=np.float32)
    except KeyError:
        blobs = vectors.get_many(conn, store.table, list(ids))
        missing = [i for i in ids if i not in blobs]
        if missing:
            raise QueryError(f"photo {missing[0]} has no embedding yet",
                             code="search.not_embedded", values={"photo": missing[0]}) from None
        return np.stack([np.frombuffer(blobs[i], dtype="<f4") for i in ids])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _setting(conn: Connection, key: str, default: float) -> float:
    raw = get_setting(conn, key)
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        return default


def search(semantic: Semantic, conn: Connection, query: str, *, limit: int = 50,
           offset: int = 0, depth: int | None = None,
           like: Sequence[int] = (), like_weight: float = 0.5, min_score: float | None = None,
           include_unavailable: bool = False, nesting: int = 0) -> SearchResult:
    """Photos for a query (free text, filters, arithmetic), best first, with scores.

    ``limit`` hits from ``offset`` on; ``depth``: how many of the best matches to rank and
    count at most (at least ``offset + limit``; more, for a front end that pages through
    the result with ``SearchResult.page``). ``like``: photo ids whose look the results
    should share (image + text together); ``like_weight`` is the share of the image in the
    combined query (0..1).
    """
    if limit < 0 or offset < 0:
        raise QueryError("a page starts at 0 or later and holds 0 photos or more")
    depth = max(offset + limit, depth or 0)
    q = parse(query)
    narrowed = _narrowed(semantic, conn, q, nesting)
    result = SearchResult(offset=offset)
    if q.is_empty and not like:
        return result
    where, params = _where(narrowed, include_unavailable)
    ranked = bool(q.terms or like)
    if not ranked:
        # Filters alone: every photo that passes them, newest first, a page at a time.
        result.total = int(conn.one(f"SELECT count(*) FROM photos p WHERE {where}", params))
        result._filtered = (where, params, include_unavailable)
        result.hits = result.page(conn, offset, limit)
    else:
        _ranked(semantic, conn, q, where, params, like, like_weight, min_score, depth,
                include_unavailable, result)
        result.hits = result.page(conn, offset, limit)
    if result.total == 0 and q.has_filters:
        for notice in _why_nothing(conn, q, narrowed, include_unavailable):
            result.note(notice)
    return result


def _ranked(semantic: Semantic, conn: Connection, q: Query, where: str, params: list[Any],
            like: Sequence[int], like_weight: float, min_score: float | None, depth: int,
            include_unavailable: bool, result: SearchResult) -> None:
    """Rank the photos for words (and/or a look), into ``result``'s ranking and total."""
    excluded = _excluded(conn, q.excluded_words)
    cut_at = min_score if min_score is not None else _setting(conn, MIN_SCORE_KEY, MIN_SCORE)
    clip_scores: dict[int, tuple[float, float]] = {}
    clip_more = False

    store = None
    model_id = semantic.active()
    if model_id is not None:
        store = semantic.store(model_id)
    if store is None or len(store.index) == 0:
        status = semantic.status(max_age=10.0)
        missing = status.missing
        if missing is not None:
            result.note(Notice(MODEL_NOT_INSTALLED, missing.text,
                               {"model": status.target, **missing.values}))
        else:
            result.note(Notice(NOTHING_EMBEDDED,
                               "no photo has been embedded yet, so search cannot understand "
                               "what is in the photos"))
    else:
        try:
            clip_scores, clip_more = _clip_part(semantic, conn, store, q, where, params, like,
                                                like_weight, depth, excluded, cut_at)
            result.semantic = True
            result.model = model_id
        except ModelError as exc:
            result.note(Notice(MODEL_FAILED, str(exc), {"reason": str(exc)}))
        status = semantic.status(max_age=10.0)
        if status.backlog:
            result.note(Notice(NOT_EMBEDDED_YET, f"{status.backlog} photos are not embedded yet",
                               {"count": int(status.backlog)}))
        if status.target != status.active and status.installed:
            result.note(Notice(SWITCHING_MODEL,
                               f"switching to {status.target}: search uses {status.active} "
                               "until every photo is embedded",
                               {"target": status.target, "active": status.active}))

    text: dict[int, tuple[float, str | None]] = {}
    text_more = False
    if q.terms:
        # As deep as the ranking (four times, for the CLI's small pages), and a little more
        # to know whether there is more.
        text, text_more = _text_hits(conn, q, where, params,
                                     min(max(depth * 4, 200), depth + 1000))
    hits = []
    for pid in set(clip_scores) | set(text):
        if pid in excluded or pid in like:
            continue
        p_clip, sim = clip_scores.get(pid, (0.0, float("nan")))
        p_text, snippet = text.get(pid, (0.0, None))
        if pid not in text and p_clip < cut_at:
            result.cut += 1
            continue
        score = 1.0 - (1.0 - p_clip) * (1.0 - p_text)
        hits.append(Hit(pid, score, None if math.isnan(sim) else sim, pid in text,
                        snippet=snippet))
    hits.sort(key=lambda h: (-h.score, -(h.clip or 0.0), h.photo_id))
    ranking = _fill(conn, hits, include_unavailable)
    result.exact = not (clip_more or text_more or len(ranking) > depth)
    result._ranking = ranking[:depth]
    result.total = len(result._ranking)


def _filtered_page(conn: Connection, where: str, params: list[Any], offset: int, limit: int,
                   include_unavailable: bool) -> list[Hit]:
    rows = conn.rows(f"SELECT p.id FROM photos p WHERE {where} "
                     "ORDER BY p.taken_ts DESC, p.id DESC LIMIT ? OFFSET ?",
                     (*params, limit, offset))
    return _fill(conn, [Hit(int(r["id"]), 1.0, None, False) for r in rows],
                 include_unavailable)


def _clip_part(semantic: Semantic, conn: Connection, store: VectorStore, q: Query, where: str,
               params: list[Any], like: Sequence[int], like_weight: float, depth: int,
               excluded: set[int], cut_at: float) -> tuple[dict[int, tuple[float, float]], bool]:
    """Photo id -> (p_clip, similarity) for the best candidates of the query vector, and
    whether more candidates above the cut-off may lie beyond them (``depth`` reached)."""
    assert store is not None
    encoder = semantic.text_encoder(store.model_id)
    texts = [t.text for t in q.terms]
    text_vec: np.ndarray | None = None
    neutral: np.ndarray | None = None
    if texts:
        embs = encoder.encode(texts)
        weights = np.array([t.weight for t in q.terms], dtype=np.float32)
        text_vec = _unit((embs * weights[:, None]).sum(axis=0))
        neutral = encoder.constant(NEUTRAL_PROMPTS)
    query_vec: np.ndarray
    if like:
        image_vec = _unit(_photo_vectors(conn, store, like).mean(axis=0))
        w = min(1.0, max(0.0, like_weight))
        query_vec = image_vec if text_vec is None else _unit((1 - w) * text_vec + w * image_vec)
    else:
        assert text_vec is not None
        query_vec = text_vec
    allowed = None
    if q.has_filters:
        allowed = np.fromiter((r[0] for r in conn.execute(
            f"SELECT p.id FROM photos p WHERE {where} ORDER BY p.id", params)), dtype=np.int64)
        if allowed.size == 0:
            return {}, False
    k = max(depth * 3, 100) + len(excluded)
    if depth > 1000:
        # A deep ranking (a window paging through every match) starts small and looks
        # further only while the weakest candidates still pass the cut-off.
        k = 1000 + len(excluded)
    cap = max(k, depth + len(excluded) + len(like))
    while True:
        found = store.index.search(query_vec.astype(np.float32), k, allowed=allowed,
                                   exclude=list(like))
        if not found:
            return {}, False
        found.sort(key=lambda pair: -pair[1])
        ids = [i for i, _ in found]
        sims = np.array([s for _, s in found], dtype=np.float32)
        if neutral is None:
            # Image only ("similar"): the similarity is the score.
            p = sims
        else:
            cand = _photo_vectors(conn, store, ids)
            base = (cand @ neutral.T).max(axis=1)
            p = 1.0 / (1.0 + np.exp(-LOGIT_SCALE * (sims - base)))
        # The index may hold more candidates, and the weakest quarter of these (by
        # similarity) still passes: the ones beyond may too.
        more = len(found) >= k and bool((p[-max(1, len(p) // 4):] >= cut_at).any())
        if not more or k >= cap:
            break
        k = min(cap, k * 4)
    return ({i: (float(pi), float(s)) for i, pi, s in zip(ids, p, sims, strict=True)},
            more)


def similar(semantic: Semantic, conn: Connection, photo_id: int, *, limit: int = 50,
            offset: int = 0, depth: int | None = None, min_score: float | None = None,
            query: str = "") -> SearchResult:
    """Photos that look like ``photo_id`` (filters from ``query`` apply); ``total``
    counts the photos above the similarity cut-off."""
    cut = min_score if min_score is not None else _setting(conn, MIN_SIMILAR_KEY, MIN_SIMILAR)
    return search(semantic, conn, query, limit=limit, offset=offset, depth=depth,
                  like=[photo_id], like_weight=1.0, min_score=cut)


def _fill(conn: Connection, hits: list[Hit], include_unavailable: bool = False) -> list[Hit]:
    """Paths and dates for the hits; photos forgotten since the vector index last caught up,
    or gone missing, are dropped."""
    if not hits:
        return hits
    ids = [h.photo_id for h in hits]
    # One JSON parameter, however long the ranking (SQLite caps ? parameters).
    rows = {int(r["id"]): r for r in conn.rows(
        "SELECT id, path, taken_at, status, flags FROM photos WHERE id IN "
        "(SELECT value FROM json_each(?))", (json.dumps(ids),))}
    kept = []
    for h in hits:
        r = rows.get(h.photo_id)
        # A photo in the trash (flag 16) is found nowhere, unavailable ones asked for or not.
        if r is None or int(r["flags"]) & 16 or (
                not include_unavailable and r["status"] not in ("ok", "offline")):
            continue
        h.path, h.taken_at, h.status = r["path"], r["taken_at"], r["status"]
        kept.append(h)
    return kept
