"""Random renames and moves of files, folders and whole photo folders, and the check that the
library kept every photo's identity through them (used by tests/test_moves.py and
bench/moves.py).

A play starts from a library of small real JPEGs in two photo folders, each photo with an
album membership, a caption, a tag and a face-free identity of its own (its content). Then
seeded random sequences of moves run, either between two scans or while a watcher is
watching; after each sequence the library must hold the same photo ids, each at the path
where its bytes now are, with the same albums, captions and tags, and no extra rows.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from glimpse_desktop.api import Library
from glimpse_desktop.kernel.db import Connection
from tests import imagegen as ig


@dataclass
class Play:
    lib: Library
    base: Path                        # where photo folders live (and are renamed to)
    roots: list[Path] = field(default_factory=list)
    ids: dict[int, int] = field(default_factory=dict)          # seed -> photo id
    expected: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id -> data
    album: int = 0
    renamed_roots: int = 0
    counter: int = 0
    rows_compared: int = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"


def start(lib: Library, base: Path, *, photos: int = 12, seed: int = 0) -> Play:
    """Two photo folders with nested folders and ``photos`` tiny JPEGs, indexed, each photo
    in one album, with a caption and a tag of its own."""
    play = Play(lib, base)
    rng = random.Random(seed)
    for name in ("roota", "rootb"):
        root = base / name
        (root / "y2019" / "summer" / "beach").mkdir(parents=True)
        (root / "y2020").mkdir()
        play.roots.append(root)
    folders = [p for r in play.roots for p in (r, r / "y2019", r / "y2019" / "summer",
                                               r / "y2019" / "summer" / "beach", r / "y2020")]
    for n in range(photos):
        # Distinct times: renames and moves keep (size, mtime), which then tells the files
        # apart whatever their names have become.
        ig.write_jpeg(rng.choice(folders) / f"img{n}.jpg", (24, 16), seed=1000 + n,
                      quality=80, mtime=1_500_000_000 + n)
    for root in play.roots:
        lib.add_root(root)
    lib.index()
    by_path = {str(r["path"]): int(r["id"]) for r in
               lib.reader().rows("SELECT id, path FROM photos")}
    for n in range(photos):
        path = next(p for p in by_path if p.endswith(f"{os.sep}img{n}.jpg"))
        play.ids[n] = by_path[path]
    remember_contents(play)
    album = lib.albums.create("Summer", list(play.ids.values()))
    play.album = album.id

    def tags(conn: Connection) -> None:
        for seed_, photo_id in play.ids.items():
            conn.execute("INSERT INTO photo_tags(photo_id, tag, source) VALUES (?, ?, 'user')",
                         (photo_id, f"tag{seed_}"))

    lib.writer.call(tags)
    for seed_, photo_id in play.ids.items():
        lib.captions.set_text(photo_id, f"photo number {seed_}")
        play.expected[photo_id] = (f"photo number {seed_}", f"tag{seed_}", "Summer")
    return play


def _dirs(play: Play) -> list[Path]:
    found: list[Path] = []
    for root in play.roots:
        for folder, subdirs, _ in os.walk(root):
            found.append(Path(folder))
            subdirs.sort()
    return sorted(found)


def _files(play: Play) -> list[Path]:
    return sorted(p for root in play.roots for p in root.rglob("*.jpg"))


def random_step(play: Play, rng: random.Random) -> str:
    """One rename or move on disk; returns what it did (for a failure's message)."""
    dirs = _dirs(play)
    inner = [d for d in dirs if d not in play.roots]
    files = _files(play)
    kind = rng.choice(["file-rename", "file-move", "file-move", "dir-rename", "dir-move",
                       "dir-move-new", "root-rename", "swap"])
    if kind == "root-rename" and play.renamed_roots >= 60:
        kind = "dir-rename"
    if kind in ("dir-rename", "dir-move", "dir-move-new") and not inner:
        kind = "file-move"
    if kind == "swap" and len(files) >= 3:
        # Names swapped or rotated through a temporary name (`mv a t; mv b a; mv c b; mv t c`):
        # every path still exists, each now holding another photo.
        ring = rng.sample(files, rng.choice([2, 3]))
        parked = ring[0].with_name(play.fresh("swap") + ".tmp")
        ring[0].rename(parked)
        for dest, src in itertools.pairwise(ring):
            src.rename(dest)
        parked.rename(ring[-1])
        return f"swap {[str(p) for p in ring]}"
    if kind == "file-rename" and files:
        src = rng.choice(files)
        dest = src.with_name(play.fresh("renamed") + ".jpg")
    elif kind == "file-move" and files:
        src = rng.choice(files)
        dest = rng.choice(dirs) / src.name
        if dest.exists():
            dest = dest.with_name(play.fresh("moved") + ".jpg")
    elif kind == "dir-rename":
        src = rng.choice(inner)
        dest = src.with_name(play.fresh(src.name.split("-")[0] + "-B"))
    elif kind in ("dir-move", "dir-move-new"):
        src = rng.choice(inner)
        targets = [d for d in dirs if d != src and not d.is_relative_to(src)]
        parent = rng.choice(targets)
        if kind == "dir-move-new":
            # `mkdir -p y2020-B/beach2; mv …/beach y2020-B/beach2/nested`: a folder made
            # just before something moves into it (no watch on it yet).
            parent = parent / play.fresh("new")
            parent.mkdir()
        dest = parent / play.fresh("nested")
    elif kind == "root-rename":
        index = rng.randrange(len(play.roots))
        src = play.roots[index]
        dest = play.base / play.fresh(src.name.split("-")[0] + "-renamed")
        src.rename(dest)
        play.roots[index] = dest
        play.renamed_roots += 1
        return f"root {src} -> {dest}"
    else:
        return "nothing"
    src.rename(dest)
    return f"{kind} {src} -> {dest}"


def adopt_renamed_roots(play: Play) -> None:
    """What a person does after renaming a photo folder: add it under its new name."""
    known = set(play.lib.root_paths())
    for root in play.roots:
        if str(root) not in known:
            play.lib.add_root(root)


def drop_old_roots(play: Play) -> list[str]:
    """Then remove the old name, which must take nothing that was found at the new one."""
    current = {str(r) for r in play.roots}
    removed = [p for p in play.lib.root_paths() if p not in current]
    for path in removed:
        play.lib.remove_root(path)
    return removed


def check(play: Play, what: str) -> None:
    """The library still knows every photo by its old id, at the path its bytes are now at,
    with its caption, tag and album; and it has no other rows."""
    conn = play.lib.reader()
    rows = conn.rows("SELECT id, path, status FROM photos ORDER BY id")
    assert len(rows) == len(play.ids), f"{what}: rows {rows}"
    by_id = {int(r["id"]): r for r in rows}
    for path in _files(play):
        data_seed = _seed_of(path)
        photo_id = play.ids[data_seed]
        row = by_id.get(photo_id)
        assert row is not None, f"{what}: photo {photo_id} ({path}) lost; rows {rows}"
        assert row["path"] == str(path) and row["status"] == "ok", (
            f"{what}: photo {photo_id} is at {path}, the library says {row}")
        caption = play.lib.captions.get(photo_id)
        tags = [r[0] for r in conn.execute(
            "SELECT tag FROM photo_tags WHERE photo_id = ? AND source = 'user'", (photo_id,))]
        albums = [r[0] for r in conn.execute(
            "SELECT a.title FROM album_photos p JOIN albums a ON a.id = p.album_id "
            "WHERE p.photo_id = ? AND a.kind = 'manual'", (photo_id,))]
        got = (caption.summary if caption else None, tags[0] if tags else None,
               albums[0] if albums else None)
        assert got == play.expected[photo_id], f"{what}: photo {photo_id}: {got}"
        play.rows_compared += 1
    assert sorted(play.lib.albums.photo_ids(play.album)) == sorted(play.ids.values()), what


_SEEDS: dict[tuple[int, int], int] = {}


def _seed_of(path: Path) -> int:
    """Which photo a file is, whatever its name has become."""
    st = path.stat()
    return _SEEDS[(st.st_size, st.st_mtime_ns)]


def remember_contents(play: Play) -> None:
    """Record each file's (size, mtime) → seed while names still say the seed: renames and
    moves keep both, so the pair identifies the file after any sequence."""
    _SEEDS.clear()
    for path in _files(play):
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns)
        assert key not in _SEEDS
        _SEEDS[key] = int(path.stem.removeprefix("img"))


def pause(rng: random.Random, watching: bool) -> None:
    """Between two steps while watching: none, a little (events that overlap), or longer
    than the watcher's settle time (a batch already under way)."""
    if watching:
        time.sleep(rng.choice([0.0, 0.0, 0.05, 0.3, 0.6]))
