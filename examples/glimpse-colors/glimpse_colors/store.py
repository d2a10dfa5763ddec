"""The plugin's own tables: what it keeps in the library, and the queries over them.

The tables are made by the ``glimpse_migrations`` hook; their names start with the plugin's
name (``colors_``), so they never meet the app's or another plugin's.
"""

from __future__ import annotations

from collections.abc import Sequence

from glimpse_desktop.api import PluginMigration
from glimpse_desktop.kernel.db import Connection

from glimpse_colors.palette import PALETTE

PLUGIN = "colors"

MIGRATIONS = [
    PluginMigration(PLUGIN, 1, """
-- A photo's dominant colours, with the share of the photo each covers.
CREATE TABLE colors_photo(
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    color    TEXT NOT NULL,
    share    REAL NOT NULL,
    PRIMARY KEY (photo_id, color)
) WITHOUT ROWID;
CREATE INDEX colors_by_color ON colors_photo(color, photo_id);
-- Which content each photo was looked at in: a photo whose file changed is owed again, and
-- one with no dominant colour is not owed for ever.
CREATE TABLE colors_done(
    photo_id     INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL
);
""", why="dominant colours per photo, and which photos were looked at"),
]

# The SQL condition (on ``photos p``) of a photo whose colours are known for its content.
DONE = ("EXISTS (SELECT 1 FROM colors_done c WHERE c.photo_id = p.id "
        "AND c.content_hash = p.content_hash)")


def save(conn: Connection, photo_id: int, content_hash: str,
         colors: Sequence[tuple[str, float]]) -> None:
    """Replace a photo's colours (on the writer, inside its transaction)."""
    conn.execute("DELETE FROM colors_photo WHERE photo_id = ?", (photo_id,))
    conn.executemany("INSERT INTO colors_photo(photo_id, color, share) VALUES (?, ?, ?)",
                     [(photo_id, name, round(share, 4)) for name, share in colors])
    conn.execute("INSERT OR REPLACE INTO colors_done(photo_id, content_hash) VALUES (?, ?)",
                 (photo_id, content_hash))


def colors_of(conn: Connection, photo_id: int) -> list[tuple[str, float]] | None:
    """A photo's dominant colours, largest first; None when it has not been looked at."""
    if conn.one("SELECT 1 FROM colors_done WHERE photo_id = ?", (photo_id,)) is None:
        return None
    return [(str(r["color"]), float(r["share"])) for r in conn.rows(
        "SELECT color, share FROM colors_photo WHERE photo_id = ? "
        "ORDER BY share DESC, color", (photo_id,))]


def counts(conn: Connection) -> dict[str, int]:
    """How many photos (on disk or offline) each palette colour dominates, in palette
    order."""
    found = {str(r["color"]): int(r["n"]) for r in conn.rows(
        "SELECT c.color, count(*) AS n FROM colors_photo c JOIN photos p ON p.id = c.photo_id "
        "WHERE p.status IN ('ok', 'offline') GROUP BY c.color")}
    return {name: found.get(name, 0) for name in PALETTE}


def looked_at(conn: Connection) -> int:
    """How many photos have had their colours found (in their current content)."""
    return int(conn.one(f"SELECT count(*) FROM photos p WHERE p.status IN ('ok', 'offline') "
                        f"AND {DONE}"))
