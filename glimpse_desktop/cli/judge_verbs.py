"""The verbs that keep and judge photos: ``glimpse favorite`` (``--off`` to take it back),
``glimpse rate PHOTOS… N`` (0-5 stars; 0: none), ``glimpse reject`` (``--off``) and
``glimpse rotate PHOTOS… left|right|180``.

What is given is kept in the library as the person's (reading the files again keeps it); a
RAW kept with its JPEG follows it; with write-back on the files are written (the change
chain, ``photos_changed(ids, "judged")`` or ``"rotated"``)."""

from __future__ import annotations

import argparse
import sys

from glimpse_desktop.api import Judged, JudgeEdit, Judgement, Photo
from glimpse_desktop.cli.common import EXIT_OK, emit_json, photos_changed, plural
from glimpse_desktop.cli.verbs import Library, Verb

__all__ = ["VERBS", "info_lines", "stars_text"]


def stars_text(stars: int) -> str:
    """★★★☆☆ for three stars of five; "no stars" for none."""
    return "★" * stars + "☆" * (5 - stars) if stars else "no stars"


def _state(j: Judgement) -> str:
    bits = ["♥ favourite" if j.favorite else "", "rejected" if j.rejected else "",
            stars_text(j.stars), f"turned {j.rotation * 90}°" if j.rotation else ""]
    return ", ".join(b for b in bits if b)


def _line(p: Judged) -> str:
    kept = f"  (the RAW kept with #{p.companion_of})" if p.companion_of is not None else ""
    return f"#{p.id} {p.path}  {_state(p.before)} → {_state(p.after)}{kept}"


_DONE = {("favorite", 1): "Made {n} a favourite", ("favorite", 0): "Took the heart from {n}",
         ("reject", 1): "Rejected {n}", ("reject", 0): "Took the reject back from {n}"}


def _finish(lib: Library, edit: JudgeEdit, args: argparse.Namespace) -> int:
    if args.json:
        emit_json(edit)
    else:
        for p in edit.photos:
            print(_line(p))
        n = plural(len([p for p in edit.photos if p.companion_of is None]) or
                   len(edit.photos), "photo")
        if edit.action == "rating":
            done = f"Gave {n} {stars_text(edit.value)}" if edit.value else \
                f"Took the stars from {n}"
        elif edit.action == "rotate":
            done = f"Turned {n} {({1: 'right', 2: 'upside down', 3: 'left'})[edit.value]}"
        else:
            done = _DONE[(edit.action, edit.value)].format(n=n)
        if edit.unchanged:
            done += f"; {plural(len(edit.unchanged), 'photo')} already so"
        print(done + ".", file=sys.stderr)
    if not edit.photo_ids:
        return EXIT_OK
    return photos_changed(lib, edit.photo_ids, edit.why, args)


def cmd_favorite(lib: Library, args: argparse.Namespace) -> int:
    return _finish(lib, lib.judge.favorite(args.photos, not args.off), args)


def cmd_reject(lib: Library, args: argparse.Namespace) -> int:
    return _finish(lib, lib.judge.reject(args.photos, not args.off), args)


def cmd_rate(lib: Library, args: argparse.Namespace) -> int:
    return _finish(lib, lib.judge.rate(args.photos, args.stars), args)


def cmd_rotate(lib: Library, args: argparse.Namespace) -> int:
    return _finish(lib, lib.judge.rotate(args.photos, args.direction), args)


def _photos(p: argparse.ArgumentParser) -> None:
    p.add_argument("photos", nargs="+", metavar="PHOTO",
                   help="photos by id (as `glimpse search` and `glimpse info` show) or path")


def _on_off(p: argparse.ArgumentParser) -> None:
    _photos(p)
    p.add_argument("--off", action="store_true", help="take it back")


def _rate_args(p: argparse.ArgumentParser) -> None:
    _photos(p)
    p.add_argument("stars", type=int, choices=range(6), metavar="N",
                   help="stars, 0 to 5 (0: no stars)")


def _rotate_args(p: argparse.ArgumentParser) -> None:
    _photos(p)
    p.add_argument("direction", choices=("left", "right", "180"),
                   help="a quarter turn left or right, or a half turn")


def info_lines(info: Photo) -> list[str]:
    """``glimpse info``'s lines for what the person thinks of the photo."""
    lines = []
    if info.favorite or info.rejected:
        lines.append("  judged          " + ", ".join(
            w for w, on in (("♥ favourite", info.favorite), ("rejected", info.rejected)) if on))
    stars = max(0, min(5, int(info.rating or 0)))
    if info.rating is not None:
        source = "given by you" if info.rating_source == "manual" else "from the file"
        lines.append(f"  rating          {stars_text(stars)} ({source})")
    if info.rotation:
        lines.append(f"  rotated         {info.rotation * 90}° clockwise by you (the file is "
                     "as it was unless write-back is on)")
    return lines


VERBS = [
    Verb("favorite", "make photos favourites (--off: no longer)", cmd_favorite, _on_off,
         aliases=("favourite",)),
    Verb("rate", "give photos 0 to 5 stars (kept when files are read again)", cmd_rate,
         _rate_args),
    Verb("reject", "flag photos rejected (--off: take it back)", cmd_reject, _on_off),
    Verb("rotate", "turn photos left, right or 180° (the files are left as they are; "
         "write-back writes the orientation)", cmd_rotate, _rotate_args),
]
