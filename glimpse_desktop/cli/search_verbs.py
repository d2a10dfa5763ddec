"""The search feature's verbs: search (words, filters, like a photo), similar, text-search,
tag, duplicates and sort-by-tag."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from glimpse_desktop.api import (
    MODEL_NOT_INSTALLED,
    NOTHING_EMBEDDED,
    LibraryError,
    QueryError,
    SearchResult,
    SortError,
)
from glimpse_desktop.api import search_filters as registered
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    emit_json,
    job,
    photos_changed,
    say,
    show_notices,
)
from glimpse_desktop.cli.verbs import Library, Verb
from glimpse_desktop.kernel.progress import Cancelled

__all__ = ["VERBS"]


def cmd_text_search(lib: Library, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    if not any(w and not w.startswith("-") for w in query.split()):
        raise LibraryError("give at least one word to find (a word starting with - only "
                           "excludes)")
    rows = lib.text_search(query, limit=args.limit)
    if args.json:
        emit_json(rows)
        return EXIT_OK
    if not rows:
        print("No photos match.", file=sys.stderr)
    for r in rows:
        snippet = " ".join(r.snippet.split())
        mark = "" if r.status == "ok" else f" [{r.status}]"
        print(f"{r.id:>7}  {r.path}{mark}  {snippet}")
    return EXIT_OK


def _print_hits(result: SearchResult, args: argparse.Namespace) -> int:
    if args.json:
        # Each notice as stderr says it: what happened, then what to run about it.
        emit_json({"model": result.model, "semantic": result.semantic,
                     "notices": [say(n) for n in result.notices], "cut": result.cut,
                     "results": [h.as_dict() for h in result.hits]})
        return EXIT_OK
    show_notices(result.notices)
    if not result.hits:
        print("No photos match." + (f" ({result.cut} weaker candidates were below the cut-off;"
                                    " --min-score 0 shows them.)" if result.cut else ""),
              file=sys.stderr)
    for h in result.hits:
        mark = "" if h.status == "ok" else f" [{h.status}]"
        why = " text" if h.text else ""
        score = f"{h.score * 100:5.1f}%" if result.ranked else ""
        print(f"{h.photo_id:>7}  {score}{why:<5}  {h.path}{mark}")
    return EXIT_OK


def cmd_search(lib: Library, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    if not query.strip() and not args.like:
        raise LibraryError('say what to find, e.g. `glimpse search "kids building a '
                           'sandcastle"`')
    try:
        result = lib.search(query, limit=args.limit, like=args.like or (),
                            like_weight=args.weight, min_score=args.min_score)
    except QueryError as exc:
        raise LibraryError(f"cannot search for that: {exc}") from exc
    return _print_hits(result, args)


def cmd_similar(lib: Library, args: argparse.Namespace) -> int:
    try:
        result = lib.similar(args.photo, limit=args.limit, min_score=args.min_score,
                             query=" ".join(args.filters))
    except QueryError as exc:
        raise LibraryError(str(exc)) from exc
    if not result.semantic:
        # Looks are compared as the search model's vectors: without them there is no answer
        # (search by words still has the text index; this has nothing).
        for notice in result.notices:
            if notice.code == MODEL_NOT_INSTALLED:
                raise LibraryError(
                    f"similar photos are found with the search model, and "
                    f"{notice.values['model']} ({notice.values.get('name', '')}) is not "
                    "installed", code=notice.code, values=notice.values)
            if notice.code == NOTHING_EMBEDDED:
                raise LibraryError("similar photos are found with the search model, and no "
                                   "photo has been embedded with it yet",
                                   code=notice.code, values=notice.values)
    return _print_hits(result, args)


def cmd_tag(lib: Library, args: argparse.Namespace) -> int:
    tags = [t for t in (args.tags or "").split(",") if t.strip()]
    vocabs = [v.strip() for v in (args.vocab or "").split(",") if v.strip()]
    with job(args.quiet) as (bar, token):
        report = lib.tag(tags, vocabularies=vocabs, threshold=args.threshold, top=args.top,
                         progress=bar, cancel=token)
    if args.json:
        emit_json(asdict(report))
    else:
        print(f"Tagged {report.tagged} of {report.photos} photos.")
        for tag, n in sorted(report.tags.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:>7}  {tag}")
        if report.photos:
            print("New photos get the same tags as `glimpse index` reads them; "
                  "search them with tag:NAME.")
    if report.cancelled:
        return EXIT_INTERRUPTED
    return photos_changed(lib, None, "tags", args)


def cmd_duplicates(lib: Library, args: argparse.Namespace) -> int:
    try:
        with job(args.quiet) as (bar, token):
            groups = lib.duplicates(near=not args.exact, threshold=args.threshold,
                                    progress=bar, cancel=token)
    except Cancelled:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.keep_suggested:
        from glimpse_desktop.cli.trash_verbs import keep_suggested

        return keep_suggested(lib, groups, args)
    from glimpse_desktop.cli.trash_verbs import holdings_text, with_holdings

    if args.json:
        emit_json(with_holdings(lib, groups))
        return EXIT_OK
    if not groups:
        print("No duplicates found.", file=sys.stderr)
    held = holdings_text(lib, groups)
    for g in groups:
        how = "same file" if g.kind == "exact" else f"look alike ({g.similarity:.0%})"
        print(f"{len(g.members)} copies, {how}" + ("" if g.confident else
                                                   " (thumbnail missing: check by eye)"))
        for m in g.members:
            mark = "keep " if m.id == g.best.id else "     "
            print(f"  {mark}{m.id:>7}  {m.width}x{m.height} {m.format or ''} "
                  f"{m.size / 1e6:.1f} MB  {m.path}"
                  + (f"  [{held[m.id]}]" if held.get(m.id) else ""))
    if not args.exact and lib.semantic.active() is None:
        print("Only exact copies were looked for: near duplicates need the search model "
              "(`glimpse models download` fetches the default; `glimpse models list` shows "
              "how to add one without internet).", file=sys.stderr)
    return EXIT_OK


def cmd_sort_by_tag(lib: Library, args: argparse.Namespace) -> int:
    try:
        with job(args.quiet or args.dry_run) as (bar, token):
            report = lib.sort_by_tag(args.output, mode="move" if args.move else "copy",
                                     dry_run=args.dry_run, progress=bar, cancel=token)
    except SortError as exc:
        print(f"glimpse: {exc}", file=sys.stderr)
        if args.json:
            emit_json(exc.report.as_dict())
        return EXIT_ERROR
    if args.json:
        emit_json(report.as_dict())
    else:
        verb = "would go" if args.dry_run else ("moved" if args.move else "copied")
        for p in report.placements:
            print(f"{p.source} -> {p.target}" if args.dry_run else p.target)
        print(f"{len(report.placements)} photos {verb}; {len(report.skipped)} skipped.",
              file=sys.stderr)
        if report.unwatched:
            print(f"{report.unwatched} moved photos are outside your library folders now: "
                  f"`glimpse add {args.output}` keeps them in step.", file=sys.stderr)
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK



# ---------------------------------------------------------------------------- arguments


def _text_search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", metavar="WORD", nargs="*",
                   help='words to find (quoted or not); -word excludes (inside quotes, or '
                        'after "--"); \'"two words"\' is a phrase')
    p.add_argument("--limit", type=int, default=50)


def filters_help() -> str:
    """The filters search knows, each with what its value is: those of the built-in
    features and of every plugin loaded (``glimpse search --help``)."""
    known = registered()
    width = max((len(key) for key in known), default=0) + 2
    lines = [f"  {key + ':':<{width}} {known[key].help}" for key in sorted(known)]
    lines.append(f"  {'-word':<{width}} leaves out photos with that word")
    return "filters (key:value; several narrow the search together):\n" + "\n".join(lines)


def _search_args(p: argparse.ArgumentParser) -> None:
    # The filters are the plugins' (person: from faces, place: from places, any installed
    # plugin's own): listed from them, so a new one is in the help without an edit here.
    p.epilog = filters_help()
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("query", metavar="QUERY", nargs="*",
                   help='e.g. "red car in the snow after:2021"; "beach + sunset - people" '
                        "adds and subtracts ideas; 2:sunset weighs a term twice")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--like", action="append", metavar="PHOTO",
                   help="also look like this photo (id or path; repeatable)")
    p.add_argument("--weight", type=float, default=0.5, metavar="W",
                   help="share of --like photos against the words, 0..1 (default 0.5)")
    p.add_argument("--min-score", type=float, default=None, metavar="S",
                   help="cut-off, 0..1 (default 0.5: the words describe the photo better "
                        "than a neutral description does); 0 shows everything ranked")


def _similar_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("photo", metavar="PHOTO", help="photo id or path")
    p.add_argument("filters", nargs="*", metavar="FILTER",
                   help="filters as in search, e.g. after:2020 camera:canon")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--min-score", type=float, default=None, metavar="S",
                   help="minimum similarity, 0..1 (default 0.8)")


def _tag_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tags", metavar="LIST", help='comma-separated, e.g. "beach,mountain,city"')
    p.add_argument("--vocab", metavar="LIST",
                   help="built-in vocabularies to use: scenes, mood, composition")
    p.add_argument("--threshold", type=float, default=0.3, metavar="P",
                   help="minimum confidence, 0..1 (default 0.3)")
    p.add_argument("--top", type=int, default=3, metavar="K",
                   help="at most K tags per photo and list (default 3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _duplicates_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--exact", action="store_true", help="only identical files")
    p.add_argument("--threshold", type=float, default=0.95, metavar="C",
                   help="embedding similarity for near duplicates, 0..1 (default 0.95)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--keep-suggested", action="store_true",
                   help="keep the suggested copy of every group and move the others to the "
                        "trash; their albums, names, captions and stars go to it (asks; --yes)")
    p.add_argument("--yes", action="store_true", help="agree to --keep-suggested")


def _sort_by_tag_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", required=True, metavar="DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="copy (the default)")
    mode.add_argument("--move", action="store_true",
                      help="move, and update the library so everything stays attached")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


VERBS = [
    Verb("text-search", "find photos by file name, folder and text in the files "
         "(descriptions, keywords, AI prompts)", cmd_text_search, _text_search_args,
         rest="query"),
    Verb("search", "find photos by what is in them, in plain words, narrowed by filters "
         "(key:value, such as after:2021-06; its --help lists them all) and -word",
         cmd_search, _search_args, rest="query"),
    Verb("similar", "photos that look like the given one", cmd_similar, _similar_args,
         rest="filters"),
    Verb("tag", "tag photos by what CLIP sees, from your own words or built-in vocabularies "
         "(scenes, mood, composition)", cmd_tag, _tag_args),
    Verb("duplicates", "exact and near-duplicate photos, grouped, with the copy to keep first",
         cmd_duplicates, _duplicates_args),
    Verb("sort-by-tag", "copy (or move) photos into one folder per tag under DIR; never "
         "overwrites", cmd_sort_by_tag, _sort_by_tag_args),
]
