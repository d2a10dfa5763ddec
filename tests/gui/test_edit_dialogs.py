"""The photo menu's "Set date and time…" and "Set place…": the dialogs (real Qt, offscreen)
and the edit run as the window's job, whose change goes through the chain as "taken"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Library, parse_shift
from glimpse_desktop.gui import edit_dialogs
from glimpse_desktop.gui.edit_dialogs import DateDialog, PlaceDialog
from tests import imagegen as ig

WAIT = 20_000


def test_the_date_dialog_previews_a_shift(qtbot: QtBot) -> None:
    dialog = DateDialog(12, "2019-07-14T15:30:12+02:00")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.when.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2019-07-14 15:30:12"
    assert dialog.preview.text() == ("12 photos (the first): 14 Jul 2019 15:30 → "
                                     "14 Jul 2019 15:30")
    dialog.hours.setValue(1)
    dialog.minutes.setValue(3)
    assert dialog.shift_radio.isChecked() and ok.isEnabled()
    assert dialog.preview.text().endswith("14 Jul 2019 15:30 → 14 Jul 2019 16:33")
    assert parse_shift(dialog.shift_text()).total_seconds() == 3780
    dialog.sign.setCurrentIndex(1)
    dialog.days.setValue(2)
    assert dialog.preview.text().endswith("→ 12 Jul 2019 14:27")
    assert parse_shift(dialog.shift_text()).total_seconds() == -(2 * 86400 + 3780)
    for spin in (dialog.days, dialog.hours, dialog.minutes):
        spin.setValue(0)
    assert not ok.isEnabled()              # a shift of nothing
    dialog.set_radio.setChecked(True)
    assert ok.isEnabled() and dialog.when_text() == "2019-07-14T15:30:12"


def test_the_place_dialog_checks_what_is_typed(qtbot: QtBot) -> None:
    dialog = PlaceDialog(3)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and dialog.problem.text() == ""
    dialog.lat.setText("95")
    dialog.lon.setText("10")
    assert not ok.isEnabled() and "between -90 and 90" in dialog.problem.text()
    dialog.lat.setText("38.7223")
    dialog.lon.setText("-9.1393")
    assert ok.isEnabled() and dialog.choice() == ("set", 38.7223, -9.1393)
    dialog.like.setChecked(True)
    assert not ok.isEnabled()
    dialog.other.setText("12")
    assert ok.isEnabled() and dialog.choice() == ("from-photo", "12")
    dialog.clear.setChecked(True)
    assert ok.isEnabled() and dialog.choice() == ("clear",)


def test_an_edit_runs_as_a_job_and_goes_through_the_chain(
        qtbot: QtBot, lib: Library, photo_dir: Path, window: Callable[..., Any]) -> None:
    photo = ig.write_jpeg(photo_dir / "clock.jpg", (64, 48),
                          datetime_original="2019:07:14 15:30:12", offset_time_original="+02:00")
    lib.add_root(photo_dir)
    lib.index()
    info = lib.photo(str(photo))
    assert info is not None
    w = window(start_jobs=False)
    w.changes.timer.setInterval(0)
    jobs: list[str] = []
    w.jobs.started.connect(lambda job: jobs.append(job.name))
    with qtbot.waitSignal(w.changes.ran, timeout=WAIT) as ran:
        edit_dialogs.run_edit(w, "Shifting dates", lambda p, c: lib.edits.shift_date(
            [info.id], "+1h03m", progress=p, cancel=c), [info.id])
    assert jobs == ["Shifting dates"]
    assert [r.change.why for r in ran.args[0]] == ["taken"]
    assert {"places", "albums"} <= set(ran.args[0][0].ran)
    after = lib.photo(info.id)
    assert after is not None and after.taken_at == "2019-07-14T16:33:12+02:00"
    assert after.taken_at_source == "manual"
