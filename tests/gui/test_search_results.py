"""The window's search results against a real library: the true count of a search with more
matches than one page, more rows as the grid scrolls, the real reason a filter-only search
found nothing, and Esc, which closes suggestions first and never throws a query away."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library
from glimpse_desktop.gui.photo_model import PhotoIdRole, ScoreRole
from tests import imagegen as ig


def _photos(folder: Path, n: int) -> None:
    for i in range(n):
        ig.write_jpeg(folder / f"IMG_{i:04d}.jpg", (32, 24), seed=i,
                      datetime_original=f"20{10 + i % 14}:{1 + i % 12:02d}:{1 + i % 27:02d} "
                                        f"10:{i % 60:02d}:00",
                      make="Canon", model="EOS R6")


def test_more_matches_than_a_page_show_their_true_count_and_load_as_the_grid_scrolls(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    # More than the 500 the window used to stop at, and more than one page of 100.
    _photos(photo_dir, 530)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False, page=100)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    w.search.setFocus()
    qtbot.keyClicks(w.search, "camera:canon")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    grid = w.results_page.grid
    qtbot.waitUntil(lambda: w.results_page.title.text() == "530 photos", timeout=20_000)
    model = grid.model()
    assert model.rowCount() == 100            # the first page, not every match
    bar = grid.verticalScrollBar()

    def scrolled_to_the_end() -> bool:
        bar.setValue(bar.maximum())
        return model.rowCount() == 530

    qtbot.waitUntil(scrolled_to_the_end, timeout=30_000)
    ids = [model.data(model.index(i, 0), PhotoIdRole) for i in range(model.rowCount())]
    want = [int(r[0]) for r in lib.reader().execute(
        "SELECT id FROM photos ORDER BY taken_ts DESC, id DESC")]
    assert ids == want                        # newest first, each photo once
    # Filters alone rank nothing: no "100% match" on the tiles (nor on the paged-in ones).
    assert {model.data(model.index(i, 0), ScoreRole) for i in (0, 529)} == {None}
    assert w.results_page.title.text() == "530 photos"
    # Words (ranked by the text index here): the same count, the same paging.
    w.search.setText("IMG")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: grid.model() is not model
                    and w.results_page.title.text() == "530 photos", timeout=20_000)
    ranked = grid.model()
    assert ranked.rowCount() == 100
    bar = grid.verticalScrollBar()

    def ranked_to_the_end() -> bool:
        bar.setValue(bar.maximum())
        return ranked.rowCount() == 530

    qtbot.waitUntil(ranked_to_the_end, timeout=30_000)
    assert all(isinstance(ranked.data(ranked.index(i, 0), ScoreRole), float) for i in (0, 529))


def test_a_filter_that_matches_nothing_says_so(qtbot: QtBot, lib: Library, photo_dir: Path,
                                               window: object) -> None:
    _photos(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    w.search.setFocus()
    qtbot.keyClicks(w.search, "place:Atlantis")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Nothing matches" in w.results_page.empty.text())
    said = w.results_page.empty.text() + " " + w.results_page.subtitle.text()
    assert "o photo was taken in a place called “Atlantis”" in said
    assert "prepared" not in said and "glimpse " not in said
    assert w.results_page.title.text() == "0 photos"
    w.search.setText("camera:Hasselblad")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Hasselblad" in w.results_page.empty.text())
    assert "o photo was taken with a camera called “Hasselblad”" \
        in w.results_page.empty.text()


def test_esc_closes_suggestions_first_then_leaves_results_keeping_the_query(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    _photos(photo_dir, 4)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    box = w.search
    qtbot.waitUntil(lambda: bool(box.vocabulary.get("camera")))
    box.setFocus()
    qtbot.keyClicks(box, "IMG camera:")
    popup = box.completer_.popup()
    qtbot.waitUntil(lambda: popup is not None and popup.isVisible())
    # Esc with suggestions open closes them, and nothing else.
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert box.text() == "IMG camera:"
    box.setText("IMG camera:canon")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.results_page.title.text() == "4 photos")
    box.setFocus()
    # Esc without suggestions leaves the results; the query is put away, not thrown away.
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert w.stack.currentWidget() is w.library_page
    assert box.text() == ""
    # Up in the search box brings it back...
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert box.text() == "IMG camera:canon"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.results_page
                    and w.results_page.title.text() == "4 photos")
    # ...and so does Ctrl+F, after Esc from the results grid.
    w.results_page.grid.setFocus()
    qtbot.keyClick(w.results_page.grid, Qt.Key.Key_Escape)
    assert w.stack.currentWidget() is w.library_page and box.text() == ""
    w.library_page.grid.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert box.hasFocus() and box.text() == "IMG camera:canon"
    assert box.selectedText() == "IMG camera:canon"      # typing replaces it


def test_a_query_with_quotes_of_its_own_is_not_quoted_again_in_the_header(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: object) -> None:
    _photos(photo_dir, 3)
    lib.add_root(photo_dir)
    lib.index()
    w = window(start_jobs=False)  # type: ignore[operator]
    w.show()
    qtbot.waitExposed(w)
    for typed, said in (('camera:"EOS R6"', 'for camera:"EOS R6"'),
                        ("camera:canon", "for “camera:canon”")):
        w.search.setFocus()
        w.search.selectAll()
        qtbot.keyClicks(w.search, typed)
        qtbot.keyClick(w.search, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda said=said: w.results_page.title.text() == "3 photos"
                        and said in w.results_page.subtitle.text(), timeout=20_000)
        # “camera:"EOS R6"” was a quote inside a quote.
        assert "“" not in w.results_page.subtitle.text() or '"' not in typed
