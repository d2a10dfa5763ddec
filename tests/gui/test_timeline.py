"""The timeline: the library's months with their counts (API and CLI), the library grid that
sizes itself for the whole library and reads only the pages it shows, the scrubber beside it,
the pinned month header, tile marks and the selection count."""

from __future__ import annotations

import calendar
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPalette, QPixmap
from pytestqt.qtbot import QtBot

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from glimpse_desktop.gui.grid import TileDelegate
from glimpse_desktop.gui.photo_model import PhotoIdRole, Row
from glimpse_desktop.gui.timeline_model import TimelineModel, month_key
from tests.gui.synthetic import fill

# Three years, every month, 100 photos a month (the newest first in the grid): 3,600 rows.
YEARS = (2019, 2020, 2021)
PER_MONTH = 100
PAGE = 50


def _stamps() -> list[float]:
    stamps: list[float] = []
    for year in YEARS:
        for month in range(1, 13):
            start = calendar.timegm((year, month, 1, 0, 0, 0))
            end = calendar.timegm((year + (month == 12), month % 12 + 1, 1, 0, 0, 0))
            stamps += [start + (end - start) * (i + 0.5) / PER_MONTH for i in range(PER_MONTH)]
    return stamps


@pytest.fixture
def big(lib: Library, tmp_path: Path) -> Library:
    """The library with 3,600 photo rows written straight into it; every 7th photo is a
    favourite, every 5th rated."""
    stamps = _stamps()
    fill(lib, tmp_path, stamps, flags={k: 4 for k in range(0, len(stamps), 7)},
         ratings={k: 1 + k % 5 for k in range(0, len(stamps), 5)})
    return lib


def test_months_with_counts_from_the_api_and_the_cli(
        big: Library, library_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = big.timeline.months()
    assert [m.key for m in summary.months][:3] == ["2021-12", "2021-11", "2021-10"]
    assert all(m.count == PER_MONTH for m in summary.months) and len(summary.months) == 36
    assert summary.years() == [(2021, 1200), (2020, 1200), (2019, 1200)]
    assert summary.total == big.photo_count() == 3600
    # A page at a date: the month's newest photos first, by date.
    page = big.timeline.page_at(2020, 6, limit=5)
    assert [month_key(r.taken_ts) for r in page] == ["2020-06"] * 5
    assert page[0].taken_ts == max(m.newest_ts for m in summary.months if m.key == "2020-06")
    deeper = big.timeline.month_page(2020, 6, offset=95, limit=10)
    assert len(deeper) == 5 and deeper[-1].taken_ts == min(
        m.oldest_ts for m in summary.months if m.key == "2020-06")
    with pytest.raises(ValueError, match="no month 13"):
        big.timeline.page_at(2020, 13)

    assert cli.main(["--library", str(library_path), "timeline", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["photos"] == 3600 and [y["year"] for y in out["years"]] == [2021, 2020, 2019]
    assert out["years"][0]["months"][0] == {"month": "2021-12", "year": 2021, "number": 12,
                                            "name": "December", "photos": 100}
    assert cli.main(["--library", str(library_path), "timeline"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("2021") and "Dec 100" in text


def test_a_jump_reads_only_the_pages_near_the_month(qtbot: QtBot, big: Library) -> None:
    model = TimelineModel(big, page=PAGE)
    model.fetchMore()
    # The first page, then the months: every photo has its row, none more was read.
    assert model.known and model.rowCount() == 3600 and model.rows_read == PAGE
    assert not model.canFetchMore()
    row = model.month_row("2019-03")
    assert row == (12 + 12 + 9) * PER_MONTH
    assert model.row_at(row) is None              # not read yet: asked for now
    first = model.row_at(row)
    assert first is not None and month_key(first.taken_ts) == "2019-03"
    assert first.taken_at is not None and first.taken_at.startswith("2019-03-31")
    assert model.rows_read == 2 * PAGE            # the first page and this one, nothing else
    # Deeper into the month: its own page, by an offset within the month.
    assert model.row_at(row + 75) is None and model.rows_read == 3 * PAGE
    near = model.row_at(row + 75)
    assert near is not None and month_key(near.taken_ts) == "2019-03"
    order = [model.row_at(r) for r in range(row, row + PAGE)]
    assert all(a is not None and b is not None and a.key < b.key
               for a, b in itertools.pairwise(order))
    assert model.photo_ids([model.index(row)]) == [first.id]
    # What an action reads (an id, a path) is read at once, even where nobody scrolled.
    far = model.month_row("2019-01")
    assert far is not None and model._slots[far + 10] is None
    assert model.data(model.index(far + 10), PhotoIdRole) == model.row_at(far + 10).id  # type: ignore[union-attr]


def test_new_photos_go_in_at_their_place(qtbot: QtBot, big: Library, tmp_path: Path) -> None:
    model = TimelineModel(big, page=PAGE)
    model.fetchMore()
    top = model.row_at(0)
    assert top is not None
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    newest = top.taken_ts + 10 if top.taken_ts is not None else 0.0
    # A new newest photo (next to the rows read) and one in a month not read yet.
    deep = calendar.timegm((2019, 3, 15, 12, 0, 0))
    before = big.photo_count()
    fill(big, tmp_path / "more", [newest, deep])
    ids = [r.id for r in big.photo_page(limit=1)] + [
        r.id for r in big.timeline.page_at(2019, 3, limit=200) if r.taken_ts == deep]
    assert big.photo_count() == before + 2
    assert model.add_photos(ids) == 1
    assert model.rowCount() == 3602 and resets == [] and len(inserted) == 2
    assert model.row_of(ids[0]) == 0
    # The other one left a slot in its month, read with that month's page.
    start = model.month_row("2019-03")
    assert start is not None
    sections = dict((label, s) for s, label in model.sections())
    assert sections["February 2019"] - sections["March 2019"] == PER_MONTH + 1
    for r in range(start, start + PER_MONTH + 1):
        model.row_at(r)          # the first call reads the page, the second returns the row
    read = [model.row_at(r) for r in range(start, start + PER_MONTH + 1)]
    assert ids[1] in {r.id for r in read if r is not None}


def test_undated_photos_come_last_under_no_date(qtbot: QtBot, lib: Library,
                                                tmp_path: Path) -> None:
    stamps: list[float | None] = [*_stamps()[:300], None, None, None]
    fill(lib, tmp_path, stamps)
    assert lib.timeline.months().undated == 3
    model = TimelineModel(lib, page=PAGE)
    model.fetchMore()
    assert model.rowCount() == 303 and model.sections()[-1] == (300, "No date")
    assert model.month_keys()[-1] == ""
    model.row_at(301)
    undated = [model.row_at(r) for r in range(300, 303)]
    assert all(r is not None and r.taken_ts is None for r in undated)
    assert model.rows_read == PAGE + 3          # the first page, then the undated ones


def _settled(qtbot: QtBot, w: Any) -> None:
    qtbot.waitUntil(lambda: w.model.known, timeout=10_000)
    qtbot.waitUntil(lambda: w.library_page.grid.months() != [], timeout=10_000)


def test_the_scrubber_lists_the_years_and_jumps_with_a_pinned_header(
        qtbot: QtBot, big: Library, window: Any) -> None:
    w = window(start_jobs=False)
    w.show()
    _settled(qtbot, w)
    grid = w.library_page.grid
    scrubber = grid.scrubber
    assert scrubber is not None and scrubber.isVisible()
    assert not grid.verticalScrollBar().isVisible()
    months = grid.months()
    assert [m[1] for m in months] == [f"{y}-{m:02d}" for y in reversed(YEARS)
                                      for m in range(12, 0, -1)]
    assert months[0][2] == "December 2021"
    # Every month is somewhere along the bar, in order, the years spread over its height.
    ys = [scrubber.y_of(top) for top, _k, _l in months]
    assert ys == sorted(ys) and ys[-1] - ys[0] > scrubber.height() / 2
    # Hovering names the month under the pointer.
    y_2020 = round(scrubber.y_of(next(top for top, k, _l in months if k == "2020-06")) + 1)
    hovered: list[str] = []
    scrubber.hovered.connect(hovered.append)
    scrubber.hover_at(y_2020)
    assert hovered[-1] == "June 2020" and scrubber.bubble.text() == "June 2020"
    assert scrubber.bubble.isVisible()
    # A click there jumps to that month: its photos at the top once their page is read.
    read_before = w.model.rows_read
    jumps: list[str] = []
    grid.jumped.connect(jumps.append)
    qtbot.mouseClick(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(scrubber.width() // 2, y_2020))
    assert jumps == ["2020-06"]
    first = w.model.month_row("2020-06")

    def top_left_is_june() -> bool:
        grid.viewport().repaint()
        row = w.model.row_at(first)
        return row is not None and month_key(row.taken_ts) == "2020-06"

    qtbot.waitUntil(top_left_is_june, timeout=10_000)
    index = w.model.index(first)
    assert grid.indexAt(grid.visualRect(index).center()) == index
    assert grid.visualRect(index).top() < grid.viewport().height() // 3
    assert w.model.rows_read - read_before <= 4 * w.page       # pages near June, no more
    # Scrolled into the month: its header has gone by, the pinned one names it.
    grid.verticalScrollBar().setValue(grid.verticalScrollBar().value() + 150)
    assert grid.pinned_label() == "June 2020"
    image = grid.viewport().grab().toImage()
    band = image.copy(QRect(0, 0, image.width(), 40))
    base = grid.palette().color(QPalette.ColorRole.Base)
    assert band.pixelColor(5, 5) == base           # painted over the tiles
    # A drag moves through time continuously.
    start = scrubber.y_of(0) + 2
    qtbot.mousePress(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(10, round(start)))
    end = QPointF(10, scrubber.height() - 12)
    move = QMouseEvent(QMouseEvent.Type.MouseMove, end, scrubber.mapToGlobal(end),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    scrubber.mouseMoveEvent(move)
    bar = grid.verticalScrollBar()
    assert bar.value() > bar.maximum() * 0.9
    assert grid.pinned_label().endswith("2019")


def test_selection_count_in_the_status_bar(qtbot: QtBot, big: Library, window: Any) -> None:
    w = window(start_jobs=False)
    w.show()
    _settled(qtbot, w)
    grid = w.library_page.grid
    counts: list[int] = []
    grid.selection_count_changed.connect(counts.append)
    grid.selectionModel().select(w.model.index(3), QItemSelectionModel.SelectionFlag.Select)
    assert counts[-1] == 1 and w.status.selected.text() == "1 selected"
    grid.selectAll()
    assert counts[-1] == 3600 and w.status.selected.text() == "3,600 selected"
    assert w.status.selected.isVisibleTo(w.status)
    grid.clearSelection()
    assert counts[-1] == 0 and not w.status.selected.isVisibleTo(w.status)


def test_favourite_and_rating_marks_on_tiles(qtbot: QtBot, big: Library) -> None:
    model = TimelineModel(big, page=PAGE)
    model.fetchMore()
    rows = [r for r in (model.row_at(i) for i in range(PAGE)) if r is not None]
    assert any(r.favorite for r in rows) and any(r.rating for r in rows)
    assert all(r.favorite == (big.photo(r.id).favorite) for r in rows[:10])  # type: ignore[union-attr]
    delegate = TileDelegate()

    def tile(**marks: Any) -> QImage:
        image = QImage(160, 160, QImage.Format.Format_ARGB32)
        photo = QPixmap(160, 160)
        photo.fill(QColor(120, 120, 120))
        painter = QPainter(image)
        delegate.paint_tile(painter, QRect(0, 0, 160, 160), QPalette(), photo, "ok", None,
                            selected=False, hover=False, focus=False, **marks)
        painter.end()
        return image

    plain, heart, stars, rejected = (tile(), tile(favorite=True), tile(rating=3),
                                     tile(rejected=True, rating=3))
    corner = QRect(120, 120, 40, 40)

    def colours(image: QImage, area: QRect) -> set[tuple[int, int, int]]:
        return {image.pixelColor(x, y).getRgb()[:3] for x in range(area.left(), area.right())
                for y in range(area.top(), area.bottom())}

    # The heart, bottom right, in its own colour; stars bottom left in gold; nothing on a
    # plain tile.
    assert colours(plain, corner) == {(120, 120, 120)}
    assert any(r > 200 and g < 120 for r, g, _b in colours(heart, corner))
    left = QRect(0, 120, 80, 40)
    assert any(r > 200 and 150 < g < 230 and b < 80 for r, g, b in colours(stars, left))
    # A rejected photo is dimmed, its stars not shown.
    assert rejected.pixelColor(10, 10).lightness() < plain.pixelColor(10, 10).lightness()
    assert not any(r > 200 and 150 < g < 230 and b < 80 for r, g, b in colours(rejected, left))


def test_row_carries_the_judgement(big: Library) -> None:
    photo = big.photo_page(limit=1)[0]
    row = Row.of(photo)
    assert (row.favorite, row.rating, row.rejected, row.rotation) == (
        photo.favorite, photo.rating, photo.rejected, photo.rotation)
