"""Settings, Plugins: Glimpse's own features and the plugins installed beside them, and
every setting that no other page shows (a plugin's own, and the few the built-in pages
leave out), each with an editor of its kind.

The settings come from ``library.config`` exactly as the CLI's settings list shows them, so
a plugin's ``glimpse_settings`` appear here without the plugin bringing any Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import Key, PluginInfo, Setting
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import ROW_HEIGHT, Notice, Page, run_task, wrapped
from glimpse_desktop.gui.settings.jobpage import indent
from glimpse_desktop.gui.tasks import Tasks, describe

# What a spin box takes when a setting names no limit (Qt's own int range is 32-bit).
_INT_LIMIT = 2_147_483_647
_FLOAT_LIMIT = 1e12


@dataclass(frozen=True, slots=True)
class PluginSettings:
    """What the page shows, read in one go off the GUI thread.

    ``settings``: the settings no other page shows, in the order the library lists them.
    ``keys``: each of those settings' definition by name (its limits). ``plugins``: every
    plugin, built-in features first, with what went wrong where something did."""

    settings: tuple[Setting, ...]
    keys: dict[str, Key]
    plugins: tuple[PluginInfo, ...]


def words(name: str) -> str:
    """'min_share' -> 'Min share': a setting's last name part as a label."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value_text(value: Any, kind: str) -> str:
    """A setting's value as a person reads it: 'on', '5', '1.5', 'empty'."""
    if kind == "bool":
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if text else "empty"


def source_text(setting: Setting) -> str:
    """Where the value in force comes from, as the other pages say it."""
    default = value_text(setting.default, setting.type)
    if setting.source == "environment":
        return f"Set for this session by {setting.env} (the default is {default})."
    if setting.source == "library":
        return f"Set in this library; the default is {default}."
    return "The default."


class SettingRow:
    """One setting's editor, its help, where its value comes from, Reset to Default, and
    an error of its own under it: four rows of ``grid`` from ``row`` on, the label in the
    first column (a grid, not a form: a form sizes wrapped help for a narrower width than
    it gets, leaving gaps under it)."""

    ROWS = 4

    def __init__(self, key: Key, grid: QGridLayout, row: int,
                 save: Callable[[str, Any], None], reset: Callable[[str], None]) -> None:
        self.key = key
        self.setting: Setting | None = None
        name = key.name
        self.editor: QWidget
        label = ""
        if key.kind == "bool":
            box = QCheckBox(words(name.rsplit(".", 1)[1]))
            box.toggled.connect(lambda on: save(name, on))
            self.editor = box
        elif key.kind == "int":
            spin = QSpinBox()
            spin.setRange(int(_bound(key.low, -_INT_LIMIT, _INT_LIMIT)),
                          int(_bound(key.high, _INT_LIMIT, _INT_LIMIT)))
            spin.setMinimumWidth(110)
            spin.editingFinished.connect(lambda: save(name, spin.value()))
            self.editor = spin
            label = words(name.rsplit(".", 1)[1]) + ":"
        elif key.kind == "float":
            number = QDoubleSpinBox()
            low = _bound(key.low, -_FLOAT_LIMIT, _FLOAT_LIMIT)
            high = _bound(key.high, _FLOAT_LIMIT, _FLOAT_LIMIT)
            number.setRange(low, high)
            number.setDecimals(2)
            number.setSingleStep(0.1 if high - low <= 10 else 1.0)
            number.setMinimumWidth(110)
            number.editingFinished.connect(lambda: save(name, number.value()))
            self.editor = number
            label = words(name.rsplit(".", 1)[1]) + ":"
        else:   # 'str' and 'url' (and any kind added later: its text is what it parses)
            line = QLineEdit()
            if key.kind == "url":
                line.setPlaceholderText("https://…")
            line.editingFinished.connect(lambda: save(name, line.text().strip()))
            self.editor = line
            label = words(name.rsplit(".", 1)[1]) + ":"
        self.editor.setToolTip(name)
        self.editor.setAccessibleName(name)
        self.reset_button = QPushButton("Reset to Default")
        self.reset_button.setToolTip(f"Forget this library's own value of {name}")
        self.reset_button.clicked.connect(lambda: reset(name))
        line_row = QHBoxLayout()
        line_row.setSpacing(8)
        line_row.addWidget(self.editor, 1 if isinstance(self.editor, QLineEdit) else 0)
        if not isinstance(self.editor, QLineEdit):
            line_row.addStretch(1)
        line_row.addWidget(self.reset_button)
        self.label = QLabel(label)
        self.label.setToolTip(name)
        self.label.setBuddy(self.editor)
        grid.addWidget(self.label, row, 0,
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addLayout(line_row, row, 1)
        self.help = wrapped(key.help, secondary=True)
        self.source = wrapped(secondary=True)
        self.notice = Notice()
        if isinstance(self.editor, QCheckBox):
            for note in (self.help, self.source, self.notice):
                indent(note, self.editor)    # under the check box's text, as on other pages
        grid.addWidget(self.help, row + 1, 1)
        grid.addWidget(self.source, row + 2, 1)
        grid.addWidget(self.notice, row + 3, 1)

    def show(self, setting: Setting) -> None:
        """Show ``setting`` as it stands; an override from the environment is read-only."""
        self.setting = setting
        editor, value = self.editor, setting.value
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QLineEdit) and not editor.hasFocus():
            editor.setText(str(value))
        fixed = setting.source == "environment"
        editor.setEnabled(not fixed)
        self.reset_button.setEnabled(setting.source == "library")
        self.source.setText(source_text(setting))


def _bound(limit: float | None, unlimited: float, largest: float) -> float:
    """A setting's limit as a spin box can take it (``unlimited`` where it names none)."""
    return float(unlimited if limit is None else max(-largest, min(largest, limit)))


class PluginsPage(Page):
    title = "Plugins"
    subtitle = ("Glimpse's own features and the plugins installed beside them, and the "
                "settings they add that no other page shows.")

    def __init__(self, lib: Library, tasks: Tasks, elsewhere: Collection[str] = (),
                 parent: QWidget | None = None) -> None:
        """``elsewhere``: the settings another page edits (left out here)."""
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self.elsewhere = frozenset(elsewhere)
        self.info: PluginSettings | None = None
        self.rows: dict[str, SettingRow] = {}
        self._shape: tuple[tuple[str, str, float | None, float | None], ...] = ()
        self._loading = False

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Plugin", "Version", "State"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setAccessibleName("Plugins")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.body.addWidget(self.tree)
        # A plugin that failed is said in full here: the list's State column is short.
        self.problems = Notice()
        self.body.addWidget(self.problems)

        self.groups = QVBoxLayout()
        self.groups.setContentsMargins(0, 0, 0, 0)
        self.groups.setSpacing(12)
        self.body.addLayout(self.groups)
        self.empty = wrapped("Every setting is on its own page.", secondary=True)
        self.empty.hide()
        self.body.addWidget(self.empty)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)

    # ------------------------------------------------------------------ reading

    def load(self) -> None:
        lib, elsewhere = self.lib, self.elsewhere

        def read() -> PluginSettings:
            settings = tuple(s for s in lib.config.items() if s.name not in elsewhere)
            return PluginSettings(
                settings=settings,
                keys={s.name: lib.config.key(s.name) for s in settings},
                plugins=tuple(lib.plugins.plugins()))

        run_task(self, self.tasks, read, done=self._show, failed=self._failed, read=True)

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the plugins and their settings: {describe(exc)}")

    def _show(self, info: PluginSettings) -> None:
        self.info = info
        self._show_plugins(info.plugins)
        shape = tuple((s.name, s.type, info.keys[s.name].low, info.keys[s.name].high)
                      for s in info.settings)
        if shape != self._shape:
            self._build(info)
            self._shape = shape
        self._loading = True
        try:
            for setting in info.settings:
                self.rows[setting.name].show(setting)
        finally:
            self._loading = False
        self.empty.setVisible(not info.settings)

    def _show_plugins(self, plugins: tuple[PluginInfo, ...]) -> None:
        self.tree.clear()
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        problems = []
        for plugin in plugins:
            if plugin.problem is None:
                state = "Loaded"
            elif plugin.hooks:
                state = "Loaded, with a problem"
            else:
                state = "Not loaded"
            version = "Built-in" if plugin.builtin else plugin.version or "—"
            item = QTreeWidgetItem([plugin.name, version, state])
            item.setSizeHint(0, QSize(0, ROW_HEIGHT))
            hooks = ", ".join(plugin.hooks) or "none"
            item.setToolTip(0, f"{plugin.module or plugin.name}\nHooks: {hooks}")
            if plugin.problem is not None:
                item.setIcon(2, warning)
                item.setToolTip(2, plugin.problem)
                problems.append(f"{plugin.name}: {plugin.problem}")
            self.tree.addTopLevelItem(item)
        # A handful of plugins: the list is as tall as its rows (as the model lists are).
        frame = 2 * self.tree.frameWidth()
        self.tree.setFixedHeight(self.tree.header().sizeHint().height() + frame + 2
                                 + ROW_HEIGHT * max(2, len(plugins)))
        if problems:
            self.problems.warn("\n".join(["Glimpse goes on without what failed:", *problems]))
        else:
            self.problems.clear()

    def _build(self, info: PluginSettings) -> None:
        """One group a prefix (``colors.*`` under Colors), one row a setting; errors shown
        in the rows so far are dropped with them."""
        while self.groups.count():
            item = self.groups.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.rows = {}
        grids: dict[str, QGridLayout] = {}
        for setting in info.settings:
            prefix = setting.name.split(".", 1)[0]
            grid = grids.get(prefix)
            if grid is None:
                group = QGroupBox(words(prefix))
                grid = QGridLayout(group)
                grid.setColumnStretch(1, 1)
                grid.setVerticalSpacing(4)
                grids[prefix] = grid
                self.groups.addWidget(group)
            row = grid.rowCount() if grid.count() else 0
            if row:
                grid.setRowMinimumHeight(row, 8)    # a little air between two settings
                row += 1
            self.rows[setting.name] = SettingRow(info.keys[setting.name], grid, row,
                                                 self.set_value, self.reset)

    # ------------------------------------------------------------------ changing

    def set_value(self, name: str, value: Any) -> None:
        """Store ``value`` for the setting ``name``, as its editor does when a person changes
        it; what the library says is wrong with it shows under that setting."""
        row = self.rows.get(name)
        if self._loading or row is None or row.setting is None or row.setting.value == value \
                or row.setting.source == "environment":     # read-only while it is set
            return
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.config.set(name, value),
                 done=lambda _v: self._saved(name), failed=lambda exc: self._refused(name, exc))

    def reset(self, name: str) -> None:
        """Forget the library's own value of ``name``: its default is in force again."""
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.config.unset(name),
                 done=lambda _v: self._saved(name), failed=lambda exc: self._refused(name, exc))

    def _saved(self, name: str) -> None:
        row = self.rows.get(name)
        if row is not None:
            row.notice.clear()
        self.load()

    def _refused(self, name: str, exc: BaseException) -> None:
        row = self.rows.get(name)
        # Lead-in words: the Notice capitalises its first letter, which would change the
        # setting's name that core messages start with.
        (row.notice if row is not None else self.notice).warn(f"Not saved: {describe(exc)}")
        self.load()     # the editor shows the value still in force
