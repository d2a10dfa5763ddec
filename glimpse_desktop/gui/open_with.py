"""File ▸ Open With… (Ctrl+Shift+O), Open in Default App, Open in Editor: the selected photos
in another program, started detached (it outlives Glimpse and never blocks the window).

Which programs open a file's type is the system's own list:

* Linux and the BSDs: the desktop entries (``*.desktop``) in the XDG data folders whose
  ``MimeType`` names the file's type or one of its parents, read with the standard library
  per the Desktop Entry Specification (an entry in ``$XDG_DATA_HOME`` hides one of the same
  id further down; ``Hidden``, ``NoDisplay`` and a ``TryExec`` that is not installed leave it
  out); ``Exec``'s field codes (%f %F %u %U %i %c %k) are expanded as the spec says.
* macOS: ``open -a <application>``; the default app through ``open``.
* Windows: the shell's own "Open with" dialog, and the shell verbs "open" and "edit".
"""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeDatabase, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

_SECTION = "Desktop Entry"
# Categories of programs that change pictures, not only show them (freedesktop menu spec).
_EDITING = {"RasterGraphics", "2DGraphics", "Photography"}


@dataclass(frozen=True)
class App:
    """A program that opens a type of file: ``id`` (the desktop file id, or a path),
    ``name``, ``exec`` (the Exec line), ``icon``, ``path`` (its .desktop file),
    ``categories``, ``mime`` (the types it opens)."""

    id: str
    name: str
    exec: str
    icon: str = ""
    path: str = ""
    categories: tuple[str, ...] = ()
    mime: tuple[str, ...] = ()

    @property
    def edits(self) -> bool:
        return bool(_EDITING & set(self.categories)) and "Viewer" not in self.categories


def data_dirs() -> list[Path]:
    """$XDG_DATA_HOME, then $XDG_DATA_DIRS, most important first."""
    home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    rest = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    found: list[Path] = []
    for folder in [home, *rest.split(":")]:
        if folder and Path(folder) not in found:
            found.append(Path(folder))
    return found


def mime_types(path: str) -> list[str]:
    """The file's type and the types it is a kind of ("image/jpeg"), by content and name."""
    mime = QMimeDatabase().mimeTypeForFile(path)
    names = [mime.name(), *mime.aliases(), *mime.allAncestors()]
    return list(dict.fromkeys(n for n in names if n))


def desktop_entries(folders: Iterable[Path] | None = None) -> dict[str, App]:
    """Every application entry by desktop file id; the first folder's wins an id."""
    entries: dict[str, App] = {}
    hidden: set[str] = set()
    for folder in folders if folders is not None else data_dirs():
        apps = folder / "applications"
        if not apps.is_dir():
            continue
        for file in sorted(apps.rglob("*.desktop")):
            ident = str(file.relative_to(apps)).replace(os.sep, "-")
            if ident in entries or ident in hidden:
                continue
            app = _read_entry(file, ident)
            if app is None:
                hidden.add(ident)         # hidden here hides it further down too
            else:
                entries[ident] = app
    return entries


def _read_entry(file: Path, ident: str) -> App | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    try:
        parser.read(file, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    if not parser.has_section(_SECTION):
        return None
    entry = parser[_SECTION]
    if entry.get("Type", "Application") != "Application":
        return None
    if entry.get("Hidden", "false").lower() == "true":
        return None
    command = entry.get("Exec", "").strip()
    if not command:
        return None
    try_exec = entry.get("TryExec", "").strip()
    if try_exec and shutil.which(try_exec) is None:
        return None
    # NoDisplay keeps it out of menus, not out of "Open with" (the spec's own use for it).
    return App(id=ident, name=entry.get("Name", ident.removesuffix(".desktop")),
               exec=command, icon=entry.get("Icon", ""), path=str(file),
               categories=tuple(c for c in entry.get("Categories", "").split(";") if c),
               mime=tuple(m.strip() for m in entry.get("MimeType", "").split(";")
                          if m.strip()))


def apps_for(path: str, folders: Iterable[Path] | None = None) -> list[App]:
    """The programs whose desktop entry opens ``path``'s type, by name."""
    wanted = mime_types(path)
    found = [app for app in desktop_entries(folders).values() if set(app.mime) & set(wanted)]
    # The file's own type first (image/jpeg before its ancestors), then by name.
    return sorted(found, key=lambda a: (min(wanted.index(m) for m in a.mime if m in wanted),
                                        a.name.lower()))


def command_line(app: App, paths: Sequence[str]) -> list[list[str]]:
    """The commands that open ``paths`` with ``app`` (one per file where Exec takes one)."""
    try:
        words = shlex.split(app.exec)
    except ValueError:
        words = app.exec.split()
    many = any(w in ("%F", "%U") for w in words)
    one = any(w in ("%f", "%u") or "%f" in w or "%u" in w for w in words)
    runs = [list(paths)] if many or not one else [[p] for p in paths]
    commands = []
    for files in runs:
        argv: list[str] = []
        for word in words:
            if word in ("%F", "%U"):
                argv += [_as(w, word) for w in files]
            elif word == "%i":
                argv += ["--icon", app.icon] if app.icon else []
            elif word in ("%d", "%D", "%n", "%N", "%v", "%m"):
                continue                  # deprecated: removed
            else:
                argv.append(word.replace("%f", files[0] if files else "")
                            .replace("%u", QUrl.fromLocalFile(files[0]).toString()
                                     if files else "")
                            .replace("%c", app.name).replace("%k", app.path)
                            .replace("%%", "%"))
        commands.append([a for a in argv if a != ""])
    return commands


def _as(path: str, code: str) -> str:
    return QUrl.fromLocalFile(path).toString() if code == "%U" else path


def launch(argv: Sequence[str]) -> None:
    """Start a program detached: its own session, no terminal, never waited for."""
    kwargs: dict[str, object] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
                                 "stderr": subprocess.DEVNULL, "close_fds": True}
    if sys.platform == "win32":
        kwargs["creationflags"] = (subprocess.DETACHED_PROCESS  # type: ignore[attr-defined]
                                   | subprocess.CREATE_NEW_PROCESS_GROUP)  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
    subprocess.Popen(list(argv), **kwargs)  # type: ignore[call-overload]


def open_with_app(app: App, paths: Sequence[str]) -> None:
    if sys.platform == "darwin":
        launch(["open", "-a", app.exec, *paths])
        return
    for argv in command_line(app, paths):
        launch(argv)


def open_default_paths(paths: Sequence[str]) -> None:
    for path in paths:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def editor_for(path: str) -> App | None:
    """The first program for the file's type that edits pictures (not a viewer)."""
    if sys.platform in ("darwin", "win32"):
        return None
    return next((a for a in apps_for(path) if a.edits), None)


# ------------------------------------------------------------------ the window's side


def _chosen_paths(window: MainWindow) -> list[str]:
    rows = window.lib.photo_rows(window.selected_ids())
    return [r.path for r in rows if os.path.exists(r.path)]


def open_default(window: MainWindow) -> None:
    paths = _chosen_paths(window)
    if not paths:
        window.status.set_idle("⚠ The file is not there now (missing, or on a drive not "
                               "connected)")
        return
    open_default_paths(paths)


def open_in_editor(window: MainWindow) -> None:
    paths = _chosen_paths(window)
    if not paths:
        window.status.set_idle("⚠ The file is not there now")
        return
    if sys.platform == "win32":
        for path in paths:
            os.startfile(path, "edit")  # type: ignore[attr-defined]
        return
    app = editor_for(paths[0])
    if app is None:
        window.status.set_idle("No picture editor is installed for this type of file: "
                               "opening it in the default app")
        open_default_paths(paths)
        return
    open_with_app(app, paths)
    window.status.set_idle(f"Opened in {app.name}")


class OpenWithDialog(QDialog):
    """The programs for the photos' type; the default first."""

    def __init__(self, paths: Sequence[str], apps: Sequence[App],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = list(paths)
        self.setWindowTitle("Open With")
        layout = QVBoxLayout(self)
        what = os.path.basename(self.paths[0]) if len(self.paths) == 1 else \
            f"{len(self.paths):,} photos"
        label = QLabel(f"Open {what} with:")
        label.setWordWrap(True)
        layout.addWidget(label)
        self.list = QListWidget()
        default = QListWidgetItem(QIcon.fromTheme("document-open"), "The default app")
        default.setData(Qt.ItemDataRole.UserRole, None)
        self.list.addItem(default)
        for app in apps:
            item = QListWidgetItem(QIcon.fromTheme(app.icon) if app.icon else QIcon(),
                                   app.name)
            item.setData(Qt.ItemDataRole.UserRole, app)
            item.setToolTip(app.path or app.exec)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        other = buttons.addButton("Other program…", QDialogButtonBox.ButtonRole.ActionRole)
        other.clicked.connect(self._other)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.accepted.connect(self._open)
        self.resize(420, 380)

    def chosen(self) -> App | None:
        item = self.list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, App) else None

    def _open(self) -> None:
        app = self.chosen()
        if app is None:
            open_default_paths(self.paths)
        else:
            open_with_app(app, self.paths)

    def _other(self) -> None:
        start = "/Applications" if sys.platform == "darwin" else "/usr/bin"
        program, _ = QFileDialog.getOpenFileName(self, "Open with", start)
        if program:
            name = os.path.basename(program).removesuffix(".app")
            app = App(id=program, name=name, exec=program if sys.platform == "darwin"
                      else f"{shlex.quote(program)} %F")
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, app)
            self.list.addItem(item)
            self.list.setCurrentItem(item)
            self.accept()


def choose_app(window: MainWindow) -> OpenWithDialog | None:
    """Open With…: the system's own dialog on Windows; the list of programs elsewhere."""
    paths = _chosen_paths(window)
    if not paths:
        window.status.set_idle("⚠ The file is not there now (missing, or on a drive not "
                               "connected)")
        return None
    if sys.platform == "win32":
        launch(["rundll32.exe", "shell32.dll,OpenAs_RunDLL", paths[0]])
        return None
    apps = [] if sys.platform == "darwin" else apps_for(paths[0])
    dialog = OpenWithDialog(paths, apps, window)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
