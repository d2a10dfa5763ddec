"""The photo menu's "Set date and time…" and "Set place…": a dialog for the selected photos,
then the edit as a job of the window (progress and Cancel in the status bar), then the change
chain (``photos_changed(ids, "taken")``: places, events and trips follow, and write-back when
it is on)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import DateEdit, EditError, PlaceEdit, parse_when, shifted
from glimpse_desktop.gui.tasks import describe

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

# What the change chain is told (api.WHY): photos moved in time or space.
WHY = "taken"
_SHOWN = "%-d %b %Y %H:%M"


def _shown(taken_at: str | None) -> str:
    if not taken_at:
        return "no date"
    try:
        return datetime.fromisoformat(taken_at).strftime(_SHOWN)
    except ValueError:
        return taken_at


def _photos(n: int) -> str:
    return f"{n:,} photo{'s' if n != 1 else ''}"


class DateDialog(QDialog):
    """Set the date and time of ``count`` photos, or shift each by a duration, or take each
    one's date from its file again. ``first``: the first photo's ``taken_at`` (prefills the
    editor and the preview)."""

    def __init__(self, count: int, first: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set date and time")
        self.count, self.first = count, first
        self.from_file = False
        layout = QVBoxLayout(self)
        self.set_radio = QRadioButton("Set to")
        self.shift_radio = QRadioButton("Shift by")
        modes = QButtonGroup(self)
        modes.addButton(self.set_radio)
        modes.addButton(self.shift_radio)
        self.set_radio.setChecked(True)

        self.when = QDateTimeEdit()
        self.when.setDisplayFormat("d MMM yyyy  HH:mm:ss")
        self.when.setCalendarPopup(True)
        local = _local(first)
        self.when.setDateTime(QDateTime.fromString(local.isoformat(timespec="seconds"),
                                                   Qt.DateFormat.ISODate)
                              if local else QDateTime.currentDateTime())
        row = QHBoxLayout()
        row.addWidget(self.set_radio)
        row.addWidget(self.when, 1)
        layout.addLayout(row)

        self.sign = QComboBox()
        self.sign.addItems(["+", "−"])
        self.days, self.hours, self.minutes = (_spin(9999), _spin(23), _spin(59))
        shift = QHBoxLayout()
        shift.addWidget(self.shift_radio)
        shift.addWidget(self.sign)
        for spin, unit in ((self.days, "days"), (self.hours, "h"), (self.minutes, "min")):
            shift.addWidget(spin)
            shift.addWidget(QLabel(unit))
        shift.addStretch(1)
        layout.addLayout(shift)

        self.preview = QLabel()
        self.preview.setObjectName("preview")
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addSpacing(6)
        layout.addWidget(self.preview)
        note = QLabel("Kept in the library as yours; events, trips and places follow.")
        note.setEnabled(False)
        layout.addWidget(note)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        undo = self.buttons.addButton("Use the date from the file",
                                      QDialogButtonBox.ButtonRole.ResetRole)
        undo.setObjectName("from_file")
        undo.clicked.connect(self._from_file)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        for signal in (self.set_radio.toggled, self.when.dateTimeChanged,
                       self.sign.currentIndexChanged, self.days.valueChanged,
                       self.hours.valueChanged, self.minutes.valueChanged):
            signal.connect(self._update)
        for spin in (self.days, self.hours, self.minutes):
            spin.valueChanged.connect(lambda _v: self.shift_radio.setChecked(True))
        self.sign.currentIndexChanged.connect(lambda _i: self.shift_radio.setChecked(True))
        self.when.dateTimeChanged.connect(lambda _d: self.set_radio.setChecked(True))
        self._update()

    def shift(self) -> timedelta:
        """The shift the fields say (signed)."""
        delta = timedelta(days=self.days.value(), hours=self.hours.value(),
                          minutes=self.minutes.value())
        return -delta if self.sign.currentIndex() == 1 else delta

    def shift_text(self) -> str:
        """The shift as the API reads it ("+1d2h3m")."""
        d = self.shift()
        sign, d = ("-", -d) if d < timedelta(0) else ("+", d)
        return f"{sign}{d.days}d{d.seconds // 3600}h{d.seconds % 3600 // 60}m"

    def when_text(self) -> str:
        """The date and time set, as the API reads it (each photo keeps its offset)."""
        return str(self.when.dateTime().toString("yyyy-MM-ddTHH:mm:ss"))

    def _from_file(self) -> None:
        self.from_file = True
        self.accept()

    def _update(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        before = _shown(self.first)
        if self.set_radio.isChecked():
            after = datetime.fromisoformat(self.when_text()).strftime(_SHOWN)
            ok.setEnabled(True)
        elif not self.shift():
            after = before
            ok.setEnabled(False)
        elif not self.first:
            after = "no date"
            ok.setEnabled(True)
        else:
            try:
                after = _shown(shifted(self.first, self.shift())[0])
                ok.setEnabled(True)
            except EditError as exc:
                after = str(exc)
                ok.setEnabled(False)
        first = "" if self.count == 1 else " (the first)"
        self.preview.setText(f"{_photos(self.count)}{first}: {before} → {after}")


def _spin(top: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, top)
    return spin


def _local(taken_at: str | None) -> datetime | None:
    if not taken_at:
        return None
    try:
        return parse_when(taken_at[:19])[0]
    except EditError:
        return None


class PlaceDialog(QDialog):
    """Set the place of ``count`` photos: coordinates, the same place as another photo (by
    id or path), no place, or each one's place from its file again."""

    def __init__(self, count: int, gps: tuple[float, float] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set place")
        self.count = count
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Where {_photos(count)} "
                                f"{'was' if count == 1 else 'were'} taken:"))
        grid = QGridLayout()
        self.coords = QRadioButton("Coordinates")
        self.like = QRadioButton("Same place as photo")
        self.clear = QRadioButton("No place")
        self.from_file = QRadioButton("The place in the file")
        group = QButtonGroup(self)
        for button in (self.coords, self.like, self.clear, self.from_file):
            group.addButton(button)
        self.coords.setChecked(True)
        self.lat, self.lon = QLineEdit(), QLineEdit()
        self.lat.setPlaceholderText("latitude, e.g. 38.7223")
        self.lon.setPlaceholderText("longitude, e.g. -9.1393")
        if gps is not None:
            self.lat.setText(f"{gps[0]:.6f}")
            self.lon.setText(f"{gps[1]:.6f}")
        self.other = QLineEdit()
        self.other.setPlaceholderText("its number or its file's path")
        grid.addWidget(self.coords, 0, 0)
        grid.addWidget(self.lat, 0, 1)
        grid.addWidget(self.lon, 0, 2)
        grid.addWidget(self.like, 1, 0)
        grid.addWidget(self.other, 1, 1, 1, 2)
        grid.addWidget(self.clear, 2, 0, 1, 3)
        grid.addWidget(self.from_file, 3, 0, 1, 3)
        layout.addLayout(grid)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet("color: #c0392b")
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.lat.textEdited.connect(lambda _t: self.coords.setChecked(True))
        self.lon.textEdited.connect(lambda _t: self.coords.setChecked(True))
        self.other.textEdited.connect(lambda _t: self.like.setChecked(True))
        for signal in (self.lat.textChanged, self.lon.textChanged, self.other.textChanged):
            signal.connect(self._update)
        group.buttonToggled.connect(self._update)
        self._update()

    def choice(self) -> tuple[Any, ...]:
        """("set", lat, lon), ("from-photo", ref), ("clear",) or ("from-file",)."""
        if self.coords.isChecked():
            return "set", float(self.lat.text()), float(self.lon.text())
        if self.like.isChecked():
            return "from-photo", self.other.text().strip()
        return ("clear",) if self.clear.isChecked() else ("from-file",)

    def _update(self, *_args: Any) -> None:
        problem = ""
        if self.coords.isChecked():
            try:
                lat, lon = float(self.lat.text()), float(self.lon.text())
            except ValueError:
                problem = "Give the latitude and longitude in degrees." \
                    if self.lat.text() or self.lon.text() else " "
            else:
                if not -90 <= lat <= 90:
                    problem = "The latitude is between -90 and 90 degrees."
                elif not -180 <= lon <= 180:
                    problem = "The longitude is between -180 and 180 degrees."
        elif self.like.isChecked() and not self.other.text().strip():
            problem = " "
        self.problem.setText(problem.strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


# ---------------------------------------------------------------------------- the menu's


def set_date(window: MainWindow, ids: Sequence[int]) -> None:
    """Ask how to date ``ids`` (prefilled with the first one's date), then do it as a job."""
    photo_ids = list(ids)

    def ask(rows: list[Any]) -> None:
        dialog = DateDialog(len(photo_ids), rows[0].taken_at if rows else None, window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            edits = window.lib.edits
            if dialog.from_file:
                name, work = "Dating from the files", lambda p, c: edits.date_from_file(
                    photo_ids, progress=p, cancel=c)
            elif dialog.set_radio.isChecked():
                when = dialog.when_text()
                name, work = "Setting dates", lambda p, c: edits.set_date(
                    photo_ids, when, progress=p, cancel=c)
            else:
                by = dialog.shift_text()
                name, work = "Shifting dates", lambda p, c: edits.shift_date(
                    photo_ids, by, progress=p, cancel=c)
            run_edit(window, name, work, photo_ids)
        dialog.deleteLater()

    window.tasks.run(lambda: window.lib.photo_rows(photo_ids[:1]), ask,
                     lambda exc: window.status.set_idle(f"⚠ {describe(exc)}"), read=True)


def set_place(window: MainWindow, ids: Sequence[int]) -> None:
    """Ask where ``ids`` were taken, then do it as a job."""
    photo_ids = list(ids)
    dialog = PlaceDialog(len(photo_ids), None, window)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        edits, choice = window.lib.edits, dialog.choice()

        def work(progress: Any, cancel: Any) -> PlaceEdit:
            if choice[0] == "set":
                return edits.set_place(photo_ids, choice[1], choice[2], progress=progress,
                                       cancel=cancel)
            if choice[0] == "from-photo":
                return edits.copy_place(photo_ids, choice[1], progress=progress,
                                        cancel=cancel)
            if choice[0] == "clear":
                return edits.clear_place(photo_ids, progress=progress, cancel=cancel)
            return edits.place_from_file(photo_ids, progress=progress, cancel=cancel)

        run_edit(window, "Setting places", work, photo_ids)
    dialog.deleteLater()


def run_edit(window: MainWindow, name: str, work: Any, ids: list[int]) -> None:
    """``work(progress, cancel)`` (an edit) as a job of the window; what it changed goes to
    the change chain and the grid's rows, and the status bar says how it went."""
    def done(edit: DateEdit | PlaceEdit | None) -> None:
        if edit is None:
            window.status.set_idle(f"{name}: stopped")
            return
        if edit.photo_ids:
            window.photos_changed(edit.photo_ids, WHY)
            window.refresh_rows(edit.photo_ids)
        text = f"{name}: {_photos(len(edit.photos))} changed"
        if edit.cancelled:
            text += " before the stop"
        if edit.problems:
            first = edit.problems[0]
            text = f"⚠ {text}, {len(edit.problems):,} left as they were ({first.reason})"
        window.status.set_idle(text)
        shown = window.viewer.current_photo() if window.viewer.isVisible() else None
        if shown in edit.photo_ids:
            # The viewer's details say the new date or place (and where it came from).
            window.tasks.run(lambda: window.lib.photo(shown), _show_info, read=True)

    def _show_info(info: Any) -> None:
        if info is not None and window.viewer.current_photo() == info.id:
            window.viewer.panel.show_info(info)

    def failed(why: str) -> None:
        window.status.set_idle(f"⚠ {name}: {why}")

    window.start_job(name, work, done, failed)
