"""The faces feature's verbs: ``glimpse people`` and its actions (list, show, name, merge,
split, reject, assign, hide, cover, tag, find, faces, export, recluster, update, on, off), and
``glimpse faces`` for the faces in no person (waiting, name, add, apart, ignore, ignored)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from glimpse_desktop.api import LibraryError
from glimpse_desktop.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    emit_json,
    job,
    photos_changed,
    plural,
)
from glimpse_desktop.cli.verbs import Library, Verb, actions

if TYPE_CHECKING:
    from glimpse_desktop.api import Face, FacesNamed, Person, PersonDetail

__all__ = ["VERBS"]

# The actions that change who is in which photo: what follows a change (the names written
# back to the photos' sidecars) runs after them.
CHANGES_PEOPLE = ("name", "merge", "split", "reject", "assign", "hide", "unhide", "cover",
                  "tag", "delete", "recluster", "update")


def _person_label(row: Person | PersonDetail) -> str:
    return row.name if row.name else f"Unnamed {row.id}"


def cmd_people(lib: Library, args: argparse.Namespace) -> int:
    people = lib.people
    action = args.people_action
    if action is None:
        action = "list"
        args.all = args.waiting = args.json = False
    result: Any
    if action == "list":
        rows = people.list_people(include_hidden=args.all,
                                  include_waiting=args.waiting and not args.json)
        if args.json:
            emit_json(rows)
            return EXIT_OK
        status = people.status()
        if not rows:
            why = ("faces are off (`glimpse people on`)" if not status.enabled else
                   f"{status.backlog} photos not looked at yet: `glimpse index`"
                   if status.backlog else "no faces found yet")
            print(f"No people yet: {why}.")
            return EXIT_OK
        for r in rows:
            if r.id is None:
                print(f"{'':>6}  {'(waiting for more photos)':<28} {r.faces:>6} faces")
                continue
            flag = " [hidden]" if r.hidden else ""
            cover = f"  cover: face {r.cover.face}" if r.cover else ""
            label = _person_label(r)
            label = label if len(label) <= 40 else label[:39] + "…"
            print(f"{r.id:>6}  {label + flag:<28} {plural(r.faces, 'face'):>10} "
                  f"{plural(r.photos, 'photo'):>11}{cover}")
        if status.waiting and not args.waiting:
            sys.stdout.flush()     # the table first, then the note, in a terminal or a pipe
            print(f"({status.waiting} faces wait for more photos of the same person; "
                  "--waiting counts them)", file=sys.stderr)
        return EXIT_OK
    if action == "show":
        person = people.show(args.person)
        if args.json:
            emit_json(person)
            return EXIT_OK
        print(f"{_person_label(person)} (person {person.id})"
              + (" [hidden]" if person.hidden else ""))
        print(f"  {plural(len(person.faces), 'face')} in "
              f"{plural(len(person.photos), 'photo')}")
        state = {p.id: p.status for p in person.photos}
        for face in person.faces:
            how = " (placed by you)" if face.assigned == "user" else ""
            gone = state.get(face.photo, "ok")
            mark = f" [{gone}]" if gone != "ok" else ""
            print(f"  face {face.face:>6}  {face.path}{mark}{how}")
        return EXIT_OK
    if action == "find":
        photos = people.find(args.name)
        if args.json:
            emit_json(photos)
        else:
            for photo in photos:
                print(photo.path + (f"  [{photo.status}]" if photo.status != "ok" else ""))
        return EXIT_OK
    if action == "faces":
        faces = people.photo_faces(args.photo)
        if args.json:
            emit_json(faces)
        else:
            for f in faces:
                who = f.name or (f"Unnamed {f.person}" if f.person else "(waiting)")
                print(f"face {f.face:>6}  {who:<24} box {list(f.box)}  score {f.score}")
            if not faces:
                print("No faces in this photo" + (
                    " (it has not been looked at yet: `glimpse index`)"
                    if people.status().backlog else "."), file=sys.stderr)
        return EXIT_OK
    if action == "name":
        renamed = result = people.name(args.person, " ".join(args.name))
        message = (f"Renamed {renamed.was} to {renamed.name}" if renamed.was
                   else f"Person {renamed.id} is now {renamed.name}")
    elif action == "merge":
        merged = result = people.merge(args.person, *args.others)
        message = (f"Merged {', '.join(map(str, merged.merged))} into person "
                   f"{merged.id} ({plural(merged.faces, 'face')})")
        if merged.detached:
            message += (f"; {plural(merged.detached, 'face')} shared a photo with another "
                        "face of this person and were taken out")
    elif action == "split":
        split = result = people.split(args.person, args.faces)
        message = (f"Moved {plural(len(split.faces), 'face')} from person "
                   f"{split.source} to new person {split.id}")
    elif action == "reject":
        rejected = result = people.reject(args.faces, args.person)
        message = "; ".join(f"face {r.face} is not person {r.person}"
                            for r in rejected.rejected) + " (remembered)"
    elif action == "assign":
        assigned = result = people.assign_face(args.face, args.person)
        message = f"Face {assigned.face} is now person {assigned.person}"
    elif action in ("hide", "unhide"):
        hidden = result = people.hide(args.person, action == "hide")
        message = f"Person {hidden.id} is {'hidden' if hidden.hidden else 'shown'}"
    elif action == "cover":
        covered = result = people.cover(args.person, args.face)
        message = f"Person {covered.id} shows face {covered.cover} as cover"
    elif action == "tag":
        tagged = result = people.tag(args.name, args.photos)
        message = (f"{tagged.name}: {plural(tagged.tagged, 'photo')} newly tagged "
                   f"from {plural(tagged.references, 'reference face')} ("
                   + ", ".join(f"face {f}" for f in tagged.reference_faces) + "); "
                   f"{plural(tagged.photos, 'photo')} in all"
                   + (f" ({tagged.already} were tagged before)" if tagged.already else ""))
    elif action == "export":
        if args.csv == "-":
            people.export_csv(sys.stdout, include_unnamed=not args.named)
            return EXIT_OK
        count = people.export_csv(args.csv, include_unnamed=not args.named)
        result = {"rows": count, "file": args.csv}
        message = f"Wrote {plural(count, 'row')} to {args.csv}"
    elif action == "delete":
        deleted = result = people.delete(args.person)
        message = (f"Forgot {deleted.name or 'person ' + str(deleted.id)}; their faces "
                   "wait to be grouped again")
    elif action == "recluster":
        default = lib.people.pack().join
        if args.threshold is not None and args.threshold < default:
            print(f"Note: below the default ({default}) more faces join people; faces that "
                  "join a named person stay with them (take a wrong one out with `glimpse "
                  "people reject FACE`).", file=sys.stderr)
        report = people.recluster(join=args.threshold, found=args.found,
                                  min_faces=args.min_faces)
        result = asdict(report)
        message = (f"Re-clustered {plural(report.faces, 'face')}: {report.moved} moved, "
                   f"{plural(report.founded, 'new group')}, {report.waiting} waiting "
                   "(names, faces you placed and rejections kept)")
    elif action == "update":
        with job(args.quiet) as (bar, token):
            found, clustered = lib.update_people(progress=bar, cancel=token)
        result = {"found": asdict(found), "clustered": asdict(clustered)}
        message = (f"Looked at {plural(found.photos, 'photo')}: "
                   f"{plural(found.faces, 'face')} found; {clustered.joined} joined people, "
                   f"{clustered.founded} new {'person' if clustered.founded == 1 else 'people'}"
                   f", {clustered.waiting} waiting")
        if found.cancelled:
            if args.json:
                emit_json({**result, "cancelled": True})
            else:
                print(message + " (interrupted: run it again to finish)", file=sys.stderr)
            return EXIT_INTERRUPTED
    elif action in ("on", "off"):
        lib.set_faces(action == "on")
        result = {"enabled": action == "on"}
        message = (f"Faces are {action} for this library"
                   + (" (faces already found stay)" if action == "off" else
                      "; `glimpse index` looks at photos read before"))
    else:  # pragma: no cover - argparse refuses other actions
        raise LibraryError(f"unknown action {action}")
    if args.json:
        emit_json(result)
    else:
        print(message)
    if action in CHANGES_PEOPLE:
        return photos_changed(lib, None, "people", args)
    return EXIT_OK


def _people_args(p: argparse.ArgumentParser) -> None:
    _, action = actions(p, "people_action")

    q = action("list", "everyone found in your photos, named first")
    q.add_argument("--all", action="store_true", help="hidden people too")
    q.add_argument("--waiting", action="store_true",
                   help="also count faces that wait for more photos of the same person")
    q = action("show", "a person's faces and photos")
    q.add_argument("person", metavar="PERSON", help="person id or name")
    q = action("find", "every photo of a person")
    q.add_argument("name", metavar="NAME", help="person name or id")
    q = action("faces", "the faces in one photo, with their people")
    q.add_argument("photo", metavar="PHOTO", help="photo id or path")
    q = action("name", "name or rename a person")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("name", metavar="NAME", nargs="+")
    q = action("merge", "join people who are the same person (into the first)")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("others", metavar="OTHER", nargs="+")
    q = action("split", "move faces out of a person into a new person")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q = action("reject", "not this person: take faces out of their person for good")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q.add_argument("--from", dest="person", metavar="PERSON",
                   help="the person they are not (default: the one they are in)")
    q = action("assign", "this face is this person")
    q.add_argument("face", metavar="FACE", type=int)
    q.add_argument("person", metavar="PERSON")
    for name, text in (("hide", "keep a person out of the People list"),
                       ("unhide", "show a hidden person again")):
        q = action(name, text)
        q.add_argument("person", metavar="PERSON")
    q = action("delete", "forget a person (the name too); their faces are grouped again")
    q.add_argument("person", metavar="PERSON")
    q = action("cover", "choose the face that shows a person")
    q.add_argument("person", metavar="PERSON")
    q.add_argument("face", metavar="FACE", type=int)
    q = action("tag", "tag every photo of a person from reference photos of them")
    q.add_argument("--name", required=True, metavar="NAME")
    q.add_argument("photos", metavar="PHOTO", nargs="+",
                   help="reference photos (id or path), or face:ID for one face of a photo "
                        "with several people")
    q = action("export", "write photo,person rows to a CSV file")
    q.add_argument("--csv", required=True, metavar="FILE", help="the file, or - for stdout")
    q.add_argument("--named", action="store_true", help="only named people")
    q = action("recluster", "group faces again from stored embeddings (no re-detection); "
               "names, faces you placed and rejections are kept")
    q.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="similarity a face needs to join a person, 0..1 (remembered)")
    q.add_argument("--found", type=float, default=None, metavar="T",
                   help="similarity between faces that found a new person (remembered)")
    q.add_argument("--min-faces", type=int, default=None, metavar="N",
                   help="faces needed to found a new person (remembered)")
    q = action("update", "find faces in photos read before, then group new faces")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    action("on", "find faces in this library (the default)")
    action("off", "stop finding faces (faces already found stay)")


def _face_line(face: Face) -> str:
    name = (face.path or "").replace("\\", "/").rsplit("/", 1)[-1] or f"photo {face.photo}"
    return f"face {face.face} ({name})"


def _named_message(done: FacesNamed) -> str:
    who = done.name or f"Unnamed {done.person}"
    text = (f"{who}: {plural(len(done.added), 'face')} added"
            + (f" (new person {done.person})" if done.created else f" (person {done.person})"))
    if done.already:
        text += f", {plural(len(done.already), 'face')} already theirs"
    return text


def _say_skipped(done: FacesNamed) -> None:
    for skip in done.skipped:
        why = (f"{done.name or 'the person'} is already face {skip.other} in that photo"
               if skip.reason == "same_photo" else "no such face (gone meanwhile)")
        print(f"face {skip.face} not added: {why}", file=sys.stderr)


def cmd_faces(lib: Library, args: argparse.Namespace) -> int:
    people = lib.people
    action = args.faces_action
    if action is None:
        action, args.json, args.limit, args.offset = "waiting", False, None, 0
    result: Any
    if action == "waiting":
        waiting = people.waiting_faces(offset=args.offset, limit=args.limit)
        if args.json:
            emit_json(waiting)
            return EXIT_OK
        if not waiting.faces:
            print("No faces wait for a person." + (
                f" ({plural(waiting.ignored, 'face')} ignored: `glimpse faces ignored`)"
                if waiting.ignored else ""))
            return EXIT_OK
        for k, group in enumerate(waiting.groups, start=args.offset + 1):
            print(f"Group {k}: {plural(len(group.faces), 'face')} in "
                  f"{plural(group.photos, 'photo')}")
            for face in group.faces:
                print(f"  {_face_line(face)}")
        shown = len(waiting.groups)
        sys.stdout.flush()
        print(f"{plural(waiting.faces, 'face')} waiting in "
              f"{plural(waiting.total_groups, 'group')}"
              + (f" ({shown} shown; --offset and --limit page)"
                 if shown < waiting.total_groups else "")
              + (f"; {waiting.ignored} ignored" if waiting.ignored else ""), file=sys.stderr)
        return EXIT_OK
    if action == "ignored":
        faces = people.ignored_faces(limit=args.limit)
        if args.json:
            emit_json(faces)
        else:
            for face in faces:
                print(_face_line(face))
            if not faces:
                print("No faces are ignored.", file=sys.stderr)
        return EXIT_OK
    if action == "name":
        named = result = people.name_faces(args.faces, " ".join(args.person))
        message = _named_message(named)
    elif action == "add":
        named = result = people.add_faces(args.faces, " ".join(args.person))
        message = _named_message(named)
    elif action == "ignore":
        ignored = result = people.ignore_faces(args.faces, undo=args.undo)
        message = (f"{plural(len(ignored.faces), 'face')} "
                   + ("wait for a person again" if args.undo else "ignored")
                   + (f" ({len(ignored.left)} left their person)" if ignored.left else "")
                   + (" (nothing to change)" if not ignored.faces else ""))
    elif action == "apart":
        apart = result = people.keep_apart(args.faces, args.others)
        message = (f"{plural(len(apart.faces), 'face')} kept apart from "
                   f"{plural(len(apart.others), 'face')} (remembered)")
    else:  # pragma: no cover - argparse refuses other actions
        raise LibraryError(f"unknown action {action}")
    if args.json:
        emit_json(result)
    else:
        print(message)
        if action in ("name", "add"):
            _say_skipped(result)
    return photos_changed(lib, None, "people", args)


def _faces_args(p: argparse.ArgumentParser) -> None:
    _, action = actions(p, "faces_action")
    q = action("waiting", "faces in no person yet, grouped by likeness (largest groups first)")
    q.add_argument("--limit", type=int, default=None, metavar="N", help="at most N groups")
    q.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N groups")
    q = action("name", "put faces in the person of this name (made if new), by hand")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q.add_argument("--person", required=True, nargs="+", metavar="NAME")
    q = action("add", "put faces in an existing person (id or name), by hand")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q.add_argument("--to", dest="person", required=True, nargs="+", metavar="PERSON")
    q = action("apart", "not the same person: never group these faces with the others")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q.add_argument("--from", dest="others", required=True, nargs="+", type=int,
                   metavar="FACE")
    q = action("ignore", "a stranger: never group, show or count these faces (--undo: take "
               "it back)")
    q.add_argument("faces", metavar="FACE", nargs="+", type=int)
    q.add_argument("--undo", action="store_true", help="the faces wait for a person again")
    q = action("ignored", "the faces you ignored, the latest first")
    q.add_argument("--limit", type=int, default=None, metavar="N")


VERBS = [
    Verb("people", "people found by their faces: list, show, name, merge, split, reject, hide, "
         "cover, tag from reference photos, find, export, recluster", cmd_people, _people_args,
         json=False, default_action="list"),
    Verb("faces", "faces in no person: waiting groups to name, add, keep apart or ignore; "
         "ignored faces", cmd_faces, _faces_args, json=False, default_action="waiting"),
]
