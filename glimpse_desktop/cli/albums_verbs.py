"""The albums feature's verbs: albums (yours, smart ones, and those Glimpse made), events and
trips, home, memories, and copying photos out (export, organize)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from glimpse_desktop.api import (
    Album,
    AlbumAdded,
    AlbumCover,
    AlbumDeleted,
    AlbumFolder,
    AlbumOrder,
    AlbumRemoved,
    AlbumRenamed,
    AutoAlbum,
    Home,
    LibraryError,
    SortError,
    SortReport,
)
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    emit_json,
    job,
    plural,
    show_notices,
)
from glimpse_desktop.cli.verbs import Library, Verb, actions
from glimpse_desktop.kernel.messages import Notice

__all__ = ["VERBS"]


def _album_dates(a: Album) -> str:
    start, end = (a.start or "")[:10], (a.end or "")[:10]
    return start if start == end else f"{start} – {end}"


def _album_kind(a: Album) -> str:
    """The kind column: automatic albums are marked, so a person knows Glimpse made them."""
    return f"{a.kind} (auto)" if a.auto else a.kind


def _albums_list(lib: Library, args: argparse.Namespace) -> int:
    rows = lib.albums.list_albums(args.kind or None, include_empty=not args.non_empty)
    if args.json:
        emit_json(rows)
        return EXIT_OK
    if not rows:
        print("No albums yet: `glimpse albums create TITLE [PHOTO...]` makes one.",
              file=sys.stderr)
    notices: dict[str, Notice] = {}
    for a in rows:
        title = a.title if len(a.title) <= 40 else a.title[:39] + "…"
        extra = f"  search: {a.query}" if a.kind == "smart" else ""
        extra += f"  in {a.folder}/" if a.folder else ""
        print(f"{a.id:>6}  {_album_kind(a):<14} {title:<40} "
              f"{plural(a.count, 'photo'):>11}  {_album_dates(a)}{extra}")
        for notice in a.notices or ():
            notices.setdefault(str(notice), notice)     # one line for albums that share it
    sys.stdout.flush()
    show_notices(list(notices.values()))
    return EXIT_OK


def _albums_show(lib: Library, args: argparse.Namespace) -> int:
    album = lib.albums.show(args.album)
    if args.json:
        emit_json(album)
        return EXIT_OK
    print(f"{album.title} (album {album.id}, {_album_kind(album)}"
          + (", edited by you" if album.auto and album.edited else "")
          + (f", in {album.folder}/" if album.folder else "") + ")")
    if album.query:
        print(f"  search: {album.query}")
    print(f"  {plural(album.count, 'photo')}"
          + (f", {_album_dates(album)}" if album.start else "")
          + (f", cover: photo {album.cover}" if album.cover else ""))
    for p in album.photos:
        mark = "" if p.status == "ok" else f" [{p.status}]"
        score = f"  {p.score * 100:5.1f}%" if p.score is not None else ""
        print(f"{p.id:>7}{score}  {p.path}{mark}")
    sys.stdout.flush()
    show_notices(album.notices or ())
    return EXIT_OK


def _albums_create(lib: Library, args: argparse.Namespace) -> int:
    album = lib.albums.create(args.title, args.photos, query=args.query, folder=args.folder)
    if args.json:
        emit_json(album)
    else:
        what = (f"showing what `{album.query}` finds ({plural(album.count, 'photo')} "
                "now)" if album.kind == "smart" else plural(album.count, "photo"))
        print(f"Created album {album.id} {album.title!r}"
              + (f" in {album.folder}/" if album.folder else "") + f": {what}")
        show_notices(album.notices or ())
    return EXIT_OK


def _albums_change(lib: Library, args: argparse.Namespace) -> int:
    """The actions that change an album and answer with one line (or --json)."""
    albums = lib.albums
    action = args.albums_action
    result: AlbumAdded | AlbumRemoved | AlbumRenamed | AlbumDeleted | AlbumCover | AlbumOrder
    if action == "add":
        added = result = albums.add(args.album, args.photos)
        message = (f"Added {plural(added.added, 'photo')} to {added.title!r}"
                   + (f" ({added.already} already in it)" if added.already else ""))
    elif action == "remove":
        removed = result = albums.remove(args.album, args.photos)
        message = (f"Took {plural(removed.removed, 'photo')} out of {removed.title!r} "
                   "(they stay in the library)"
                   + (f"; {removed.not_in_album} were not in it" if removed.not_in_album
                      else ""))
    elif action == "rename":
        renamed = result = albums.rename(args.album, " ".join(args.title))
        message = f"Renamed {renamed.was!r} to {renamed.title!r}"
    elif action == "delete":
        result = albums.delete(args.album)
        message = f"Deleted album {result.title!r} (its photos stay in the library)"
    elif action == "cover":
        cover = result = albums.set_cover(args.album, args.photo)
        message = f"{cover.title!r} shows photo {cover.cover} as its cover"
    elif action == "order":
        order = result = albums.order(args.album, args.photos, before=args.before,
                                      after=args.after)
        message = f"{order.title!r} now reads: " + ", ".join(map(str, order.order))
    else:  # pragma: no cover - argparse refuses other actions
        raise LibraryError(f"unknown action {action}")
    if args.json:
        emit_json(result)
    else:
        print(message)
    return EXIT_OK


# Each `glimpse albums ACTION` and its handler: a new action adds its sub-parser in
# _albums_parser and its handler here.
ALBUM_ACTIONS: dict[str, Callable[[Library, argparse.Namespace], int]] = {
    "list": _albums_list, "show": _albums_show, "create": _albums_create,
    **dict.fromkeys(("add", "remove", "rename", "delete", "cover", "order"), _albums_change),
}


def cmd_albums(lib: Library, args: argparse.Namespace) -> int:
    action = args.albums_action
    if action is None:  # `glimpse albums`: the list
        action = args.albums_action = "list"
        args.kind, args.non_empty, args.json = None, False, False
    return ALBUM_ACTIONS[action](lib, args)


def _albums_parser(p: argparse.ArgumentParser) -> Any:
    """The actions of `glimpse albums`, each with --json; returns the maker of an action so
    more can join (see ALBUM_ACTIONS)."""
    _, action = actions(p, "albums_action")

    q = action("list", "every album: yours first, then those Glimpse made (marked auto)")
    q.add_argument("--kind", action="append", choices=("manual", "smart", "event", "trip"),
                   help="only albums of this kind (repeatable)")
    q.add_argument("--non-empty", action="store_true", help="leave out empty albums")
    q = action("show", "an album's photos, in its order")
    q.add_argument("album", metavar="ALBUM", help="album id or title")
    q = action("create", "a new album of these photos, or with --query a smart album that "
               "shows what a search finds")
    q.add_argument("title", metavar="TITLE")
    q.add_argument("photos", metavar="PHOTO", nargs="*", help="photo ids or paths")
    q.add_argument("--query", metavar="QUERY",
                   help='a search to save, e.g. "after:2023-06 before:2023-09 beach"')
    q.add_argument("--folder", metavar="FOLDER", help='put it in this folder, e.g. "Travel/2024"')
    q = action("add", "put photos into an album (at the end)")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photos", metavar="PHOTO", nargs="+")
    q = action("remove", "take photos out of an album (never out of the library)")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photos", metavar="PHOTO", nargs="+")
    q = action("rename", "give an album a new title")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("title", metavar="TITLE", nargs="+")
    q = action("delete", "delete an album (its photos stay in the library)")
    q.add_argument("album", metavar="ALBUM")
    q = action("cover", "choose the photo that shows an album")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photo", metavar="PHOTO")
    q = action("order", "arrange a manual album: these photos, in this order, go first (or "
               "before/after another photo)")
    q.add_argument("album", metavar="ALBUM")
    q.add_argument("photos", metavar="PHOTO", nargs="+")
    where = q.add_mutually_exclusive_group()
    where.add_argument("--before", metavar="PHOTO", help="put them before this photo")
    where.add_argument("--after", metavar="PHOTO", help="put them after this photo")
    _folder_args(action)
    return action


# ---------------------------------------------------------------------------- folders


def _tree_lines(folder: AlbumFolder, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}{folder.name}/  ({plural(folder.count, 'album')})"]
    for below in folder.folders:
        lines += _tree_lines(below, depth + 1)
    lines += [_album_line(a, depth + 1) for a in folder.albums]
    return lines


def _album_line(a: Album, depth: int) -> str:
    pad = "  " * depth
    extra = f"  search: {a.query}" if a.kind == "smart" else ""
    return (f"{pad}{a.title}  [{_album_kind(a)}, {plural(a.count, 'photo')}, "
            f"album {a.id}]{extra}")


def _albums_tree(lib: Library, args: argparse.Namespace) -> int:
    tree = lib.albums.tree()
    if args.json:
        emit_json(tree)
        return EXIT_OK
    lines: list[str] = []
    for folder in tree.folders:
        lines += _tree_lines(folder, 0)
    lines += [_album_line(a, 0) for a in tree.albums]
    if tree.auto:
        lines.append(f"Events and trips  ({plural(len(tree.auto), 'album')}, made by Glimpse)")
        lines += [_album_line(a, 1) for a in tree.auto]
    if not lines:
        print("No albums yet: `glimpse albums create TITLE [PHOTO...]` makes one.",
              file=sys.stderr)
    for line in lines:
        print(line)
    return EXIT_OK


def _albums_move(lib: Library, args: argparse.Namespace) -> int:
    moved = lib.albums.move(args.album, None if args.top else args.to)
    if args.json:
        emit_json(moved)
    else:
        print(f"Moved {moved.title!r} to " + (f"{moved.folder}/" if moved.folder
                                              else "the top (in no folder)"))
    return EXIT_OK


def _albums_folder(lib: Library, args: argparse.Namespace) -> int:
    albums = lib.albums
    action = args.folder_action
    result: Any
    if action in (None, "show"):
        result = albums.folder(args.folder) if action == "show" else albums.tree().folders
        if args.json:
            emit_json(result)
            return EXIT_OK
        for folder in ([result] if isinstance(result, AlbumFolder) else result):
            for line in _tree_lines(folder, 0):
                print(line)
        return EXIT_OK
    if action == "create":
        made = result = albums.create_folder(args.path)
        message = f"Created folder {made.path}/"
    elif action == "rename":
        renamed = result = albums.rename_folder(args.folder, " ".join(args.name))
        message = f"Renamed folder {renamed.was}/ to {renamed.path}/"
    elif action == "move":
        moved = result = albums.move_folder(args.folder, None if args.top else args.to)
        message = f"Moved folder {moved.was}/ to {moved.path}/"
    else:
        gone = result = albums.delete_folder(args.folder,
                                             albums="delete" if args.delete_albums else "up")
        if gone.albums == "up":
            where = f"{gone.to}/" if gone.to else "the top"
            message = (f"Deleted folder {gone.path}/: {plural(gone.moved_albums, 'album')} "
                       f"and {plural(gone.moved_folders, 'folder')} moved up to {where}")
        else:
            inside = plural(gone.deleted_folders - 1, "folder")
            message = (f"Deleted folder {gone.path}/ with {inside}"
                       f" inside and {plural(len(gone.deleted_albums), 'album')} (their photos "
                       "stay in the library)")
    if args.json:
        emit_json(result)
    else:
        print(message)
    return EXIT_OK


def _folder_args(album_action: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """`glimpse albums tree`, `move`, and `folder ACTION`."""
    album_action("tree", "every album nested in its folders (People: an album per named "
                 "person; events and trips last)")
    q = album_action("move", "put one of your albums into a folder (or back at the top)")
    q.add_argument("album", metavar="ALBUM")
    to = q.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", metavar="FOLDER", help='the folder, e.g. "Travel/2024"')
    to.add_argument("--top", action="store_true", help="out of every folder")
    q = album_action("folder", "folders of albums: create, rename, move, delete, show")
    _, folder_action = actions(q, "folder_action")
    f = folder_action("create", 'a new folder; its path may name new folders above it too '
                      '("Travel/2024")')
    f.add_argument("path", metavar="PATH")
    f = folder_action("show", "a folder with its folders and albums")
    f.add_argument("folder", metavar="FOLDER", help="its path or id")
    f = folder_action("rename", "give a folder a new name")
    f.add_argument("folder", metavar="FOLDER")
    f.add_argument("name", metavar="NAME", nargs="+")
    f = folder_action("move", "put a folder (with all in it) into another folder")
    f.add_argument("folder", metavar="FOLDER")
    to = f.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", metavar="FOLDER")
    to.add_argument("--top", action="store_true", help="to the top")
    f = folder_action("delete", "delete a folder: its albums and folders move up to the "
                      "folder above (photos are never deleted)")
    f.add_argument("folder", metavar="FOLDER")
    f.add_argument("--delete-albums", action="store_true",
                   help="delete the albums in it (and below) instead of moving them up; "
                        "their photos stay in the library")


ALBUM_ACTIONS.update(tree=_albums_tree, move=_albums_move, folder=_albums_folder)


# ---------------------------------------------------------------------------- events, trips,
# home and memories (the albums Glimpse makes; `glimpse albums` lists and edits them)


def _auto_dates(a: AutoAlbum) -> str:
    start, end = a.start_date or "", a.end_date or ""
    return start if start == end else f"{start} – {end}"


def _build_auto_albums(lib: Library, args: argparse.Namespace, rebuild: bool) -> int | None:
    """Update (or rebuild) events and trips with a progress bar; an exit code when it was
    interrupted, else None and the report in ``args.auto_report``."""
    with job(getattr(args, "quiet", False)) as (bar, token):
        build = lib.auto_albums.rebuild if rebuild else lib.auto_albums.update
        report = build(progress=bar, cancel=token)
    args.auto_report = report
    if report.cancelled:
        print("Interrupted: albums finished so far are saved; run the command again to "
              "finish.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return None


def _home_line(home: Home | None) -> str:
    if home is None:
        return ("Home: not known yet (it is where photos with GPS were taken on the most days; "
                "`glimpse home set LAT LON` tells Glimpse). Without it there are no trips.")
    where = home.place or f"{home.lat:.4f}, {home.lon:.4f}"
    how = ("set by you" if home.source == "set"
           else f"inferred from {plural(home.days or 0, 'day')} of photos")
    return f"Home: {where} ({how})"


def cmd_events(lib: Library, args: argparse.Namespace) -> int:
    interrupted = _build_auto_albums(lib, args, args.rebuild)
    if interrupted is not None:
        return interrupted
    report = args.auto_report
    rows = lib.auto_albums.albums()
    if args.json:
        emit_json({"report": report, "albums": rows})
        return EXIT_OK
    for a in rows:
        title = a.title if len(a.title) <= 44 else a.title[:43] + "…"
        mark = " (edited by you)" if a.edited else ""
        print(f"{a.id:>6}  {a.kind:<5}  {title:<44} {plural(a.count, 'photo'):>11}  "
              f"{_auto_dates(a)}{mark}")
    sys.stdout.flush()
    what = "Rebuilt" if report.full else "Updated"
    print(f"{what} events and trips: {report.created} new, {report.updated} changed, "
          f"{report.deleted} gone; {report.by_kind.get('event', 0)} events and "
          f"{report.by_kind.get('trip', 0)} trips in all. Albums you renamed, changed or "
          "deleted are left as you made them.", file=sys.stderr)
    print(_home_line(report.home), file=sys.stderr)
    return EXIT_OK


def _albums_rebuild(lib: Library, args: argparse.Namespace) -> int:
    """`glimpse albums rebuild`: group the whole library into events and trips again."""
    interrupted = _build_auto_albums(lib, args, True)
    if interrupted is not None:
        return interrupted
    report = args.auto_report
    if args.json:
        emit_json(report)
    else:
        print(f"Rebuilt events and trips: {report.created} new, {report.updated} changed, "
              f"{report.unchanged} unchanged, {report.deleted} gone, {report.kept} left as "
              f"you edited them ({report.by_kind.get('event', 0)} events, "
              f"{report.by_kind.get('trip', 0)} trips).")
    return EXIT_OK


ALBUM_ACTIONS["rebuild"] = _albums_rebuild


def cmd_home(lib: Library, args: argparse.Namespace) -> int:
    home: Home | None
    if args.action == "set":
        if len(args.coords) != 2:
            print("glimpse: `glimpse home set LAT LON` takes a latitude and a longitude in "
                  "decimal degrees, e.g. 38.72 -9.14", file=sys.stderr)
            return EXIT_USAGE
        try:
            lat, lon = float(args.coords[0]), float(args.coords[1])
        except ValueError:
            print(f"glimpse: {' '.join(args.coords)!r} are not numbers: give decimal degrees, "
                  "e.g. 38.72 -9.14", file=sys.stderr)
            return EXIT_USAGE
        home = lib.auto_albums.set_home(lat, lon)
    elif args.coords:
        print("glimpse: only `glimpse home set` takes coordinates", file=sys.stderr)
        return EXIT_USAGE
    elif args.action == "clear":
        home = lib.auto_albums.clear_home()
    else:
        home = lib.auto_albums.home()
    if args.json:
        emit_json(home)
    else:
        print(_home_line(home))
        if args.action:
            print("Trips follow at the next `glimpse events`.", file=sys.stderr)
    return EXIT_OK


def cmd_memories(lib: Library, args: argparse.Namespace) -> int:
    try:
        today = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        print(f"glimpse: --date {args.date!r}: give the date as YYYY-MM-DD", file=sys.stderr)
        return EXIT_USAGE
    found = lib.auto_albums.memories(today)
    if args.json:
        emit_json(found)
        return EXIT_OK
    if not found:
        print("Nothing from this day in earlier years.", file=sys.stderr)
    for m in found:
        ids = " ".join(map(str, m.photo_ids[:12])) + (" …" if m.count > 12 else "")
        print(f"{m.title} — {m.subtitle} ({plural(m.count, 'photo')})\n    {ids}")
    return EXIT_OK


# ---------------------------------------------------------------------------- export, organize


def cmd_export(lib: Library, args: argparse.Namespace) -> int:
    from glimpse_desktop.api import ExportError  # the exporter loads with the first export

    try:
        with job(args.quiet) as (bar, token):
            if args.photos:
                report = _export_photos(lib, args, bar, token)
            else:
                report = lib.export(args.to, album=args.album, search=args.search,
                                    size=args.size, force=args.force, progress=bar,
                                    cancel=token)
    except ExportError as exc:
        print(f"glimpse: {exc}", file=sys.stderr)
        if args.json:
            emit_json(exc.report.as_dict())
        return EXIT_ERROR
    if args.json:
        emit_json(report.as_dict())
    else:
        for e in report.exported:
            print(e.target)
        kinds = report.as_dict()["skipped"]
        print(f"Exported {plural(len(report.exported), 'photo')} to {report.output}"
              + (f" ({report.bytes_written / 1e6:.1f} MB)" if report.exported else "")
              + (f"; {kinds['exists']} were exported before" if kinds.get("exists") else ""),
              file=sys.stderr)
        for s in report.skipped:
            if s.kind != "exists":
                print(f"  not exported: {s.source}: {s.reason}", file=sys.stderr)
        if not report.planned:
            print("Nothing to export: the album is empty or the search found nothing.",
                  file=sys.stderr)
    if report.cancelled:
        print("Interrupted: every file written is complete; run it again to finish.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _organize_json(report: SortReport) -> dict[str, Any]:
    """sort-by-tag's report, with the date folder where it says "tag"."""
    data = report.as_dict()
    for key in ("placements", "skipped_photos"):
        data[key] = [{("folder" if k == "tag" else k): v for k, v in row.items()}
                     for row in data[key]]
    return data


def cmd_organize(lib: Library, args: argparse.Namespace) -> int:
    mode = "move" if args.move else "copy"
    try:
        with job(args.quiet or args.dry_run) as (bar, token):
            report = lib.organize(args.to, by=args.by, mode=mode, dry_run=args.dry_run,
                                  progress=bar, cancel=token)
    except SortError as exc:
        print(f"glimpse: {exc}", file=sys.stderr)
        if args.json:
            emit_json(_organize_json(exc.report))
        return EXIT_ERROR
    if args.json:
        emit_json(_organize_json(report))
    else:
        for p in report.placements:
            print(f"{p.source} -> {p.target}" if args.dry_run else p.target)
        kinds = report.skipped_by_kind()
        verb = ("would be " + ("moved" if args.move else "copied") if args.dry_run
                else "moved" if args.move else "copied")
        print(f"{plural(len(report.placements), 'photo')} {verb}"
              + (f"; {kinds.pop('in_place')} already in place" if "in_place" in kinds else "")
              + (f"; {kinds.pop('exists')} copied before" if "exists" in kinds else "")
              + "".join(f"; {n} {kind}" for kind, n in sorted(kinds.items()))
              + (" (nothing was changed)" if args.dry_run else "") + ".", file=sys.stderr)
        for s in report.skipped:
            if s.kind not in ("in_place", "exists"):
                print(f"  left alone: {s.source}: {s.reason}", file=sys.stderr)
        if report.output_in_library and not args.move and report.placements:
            print("The copies are inside a library folder: the next `glimpse index` reads "
                  "them as photos of their own (duplicates). --move reorganises instead.",
                  file=sys.stderr)
        if report.unwatched:
            print(f"{report.unwatched} moved photos are outside your library folders now: "
                  f"`glimpse add {args.to}` keeps them in step.", file=sys.stderr)
    return EXIT_INTERRUPTED if report.cancelled else EXIT_OK


# ---------------------------------------------------------------------------- arguments


def _albums_args(p: argparse.ArgumentParser) -> None:
    album_action = _albums_parser(p)
    q = album_action("rebuild", "group the whole library into events and trips again "
                     "(albums you edited or deleted stay as they are)")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _events_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rebuild", action="store_true",
                   help="group the whole library again (same as `glimpse albums rebuild`)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _home_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("set", "clear"))
    p.add_argument("coords", nargs="*", metavar="LAT LON",
                   help="decimal degrees, e.g. 38.72 -9.14 (south and west are negative)")


def _memories_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", metavar="YYYY-MM-DD", help="as if today were this day")


def _export_photos(lib: Library, args: argparse.Namespace, bar: Any, token: Any) -> Any:
    """``--photos``: these photos (ids or paths), with the window's Export choices."""
    from glimpse_desktop.api import ExportOptions

    if args.album or args.search:
        raise LibraryError("export --photos, an album or a search: one of the three",
                           code="export.which")
    ids: list[int] = []
    for ref in args.photos:
        found = lib.photo(int(ref) if ref.isdigit() else ref)
        if found is None:
            raise LibraryError(f"no photo {ref} in this library", code="export.unknown_photo",
                               values={"photo": ref})
        ids.append(found.id)
    resized = args.size == "preview" or args.long_edge is not None
    options = ExportOptions(size="resized" if resized else "original",
                            long_edge=args.long_edge or 2048, quality=args.quality,
                            metadata=args.metadata, naming=args.names, clash=args.on_clash)
    return lib.exports.photos(ids, args.to, options, force=args.force, progress=bar,
                              cancel=token)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("album", metavar="ALBUM", nargs="?", help="album id or title")
    p.add_argument("--search", metavar="QUERY", help="export what this search finds instead")
    p.add_argument("--to", required=True, metavar="DIR", help="the folder (created if needed)")
    p.add_argument("--size", choices=("full", "preview"), default="full",
                   help="full: the original files (default); preview: 2048 px JPEGs with "
                        "the photos' EXIF")
    p.add_argument("--force", action="store_true",
                   help="export into a library folder even so (the copies become duplicates)")
    p.add_argument("--photos", nargs="+", metavar="PHOTO",
                   help="export these photos (ids or paths) instead, with the choices below")
    p.add_argument("--long-edge", type=int, metavar="PX",
                   help="with --photos: resized JPEGs of this many pixels on the long edge")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality of resized copies")
    p.add_argument("--metadata", choices=("keep", "no-gps", "strip"), default="keep",
                   help="with --photos: keep the metadata, keep it without the location, or "
                        "remove it")
    p.add_argument("--names", choices=("original", "date"), default="original",
                   help="with --photos: file names as they are, or by the date taken")
    p.add_argument("--on-clash", choices=("number", "skip", "replace"), default="number",
                   help="with --photos: a name taken in the folder gets a number, is skipped "
                        "or is replaced")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _organize_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--by", choices=("date",), default="date", help="date (the default)")
    p.add_argument("--to", required=True, metavar="DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="copy (the default)")
    mode.add_argument("--move", action="store_true",
                      help="move, and update the library so everything stays attached")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


VERBS = [
    Verb("albums", "albums: list, show, create (or a smart album from a search), add, remove, "
         "rename, delete, cover, order; folders of albums (tree, move, folder)", cmd_albums,
         _albums_args, json=False, default_action="list", aliases=("album",)),
    Verb("events", "events and trips Glimpse made from dates and places: brings them up to "
         "date with new photos, then lists them", cmd_events, _events_args),
    Verb("home", "where you live, which trips are measured from: show it, set LAT LON, or "
         "clear (back to the one inferred from your photos)", cmd_home, _home_args),
    Verb("memories", "photos from this day in earlier years, and events of the same week",
         cmd_memories, _memories_args),
    Verb("export", "copy an album's photos, or a search's results, to a folder (originals or "
         "previews; never moves, never overwrites)", cmd_export, _export_args),
    Verb("organize", "copy (or move) photos into DIR/YYYY/YYYY-MM-DD/ by the day they were "
         "taken; never overwrites", cmd_organize, _organize_args),
]
