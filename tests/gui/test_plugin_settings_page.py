"""The Settings window's Plugins page against a real library and a plugin registered with the
process's plugin host for the test: the plugin's settings appear with an editor of their kind,
edits reach the library, the library's refusals show under the setting, Reset to Default
forgets the library's value, an environment override is read-only, and the plugin list says
what is loaded and what went wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGroupBox, QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import Key, Library, load_plugins
from glimpse_desktop.gui.settings import SettingsDialog
from glimpse_desktop.gui.settings.dialog import ON_THEIR_OWN_PAGES
from glimpse_desktop.gui.settings.plugins import PluginsPage
from glimpse_desktop.gui.tasks import Jobs, Tasks
from glimpse_desktop.kernel.hookspecs import hookimpl

ENV = "GLIMPSE_TINT_STRENGTH"


class Tint:
    """A plugin with a setting of each kind a person edits in the window."""

    @hookimpl
    def glimpse_settings(self) -> list[Key]:
        return [
            Key("tint.enabled", "bool", False, "Tint every thumbnail a little."),
            Key("tint.strength", "int", 3, "How strong the tint is, from 1 to 10.",
                env=ENV, low=1, high=10),
            Key("tint.label", "str", "warm", "The word on the tint's badge."),
            Key("tint.service", "url", "https://tint.example/v1", "Where tints come from."),
        ]


class Broken:
    """A plugin whose settings hook fails: reported, never fatal."""

    @hookimpl
    def glimpse_settings(self) -> list[Key]:
        raise RuntimeError("the palette file is missing")


@pytest.fixture
def tint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV, raising=False)
    host = load_plugins()
    host.register(Tint(), name="tint")
    try:
        yield
    finally:
        host.unregister("tint")
        host.forget("tint", "glimpse_settings")


@pytest.fixture
def broken(tint: None) -> Iterator[None]:
    host = load_plugins()
    host.register(Broken(), name="broken-tint")
    try:
        yield
    finally:
        host.unregister("broken-tint")
        host.forget("broken-tint", "glimpse_settings")


def _page(qtbot: QtBot, settings: Callable[[str], SettingsDialog]) -> PluginsPage:
    dialog = settings("plugins")
    page = dialog.plugins
    qtbot.waitUntil(lambda: page.info is not None)
    assert dialog.current_page() == "plugins" and dialog.stack.currentWidget().isVisible()
    return page


def _plugin_rows(page: PluginsPage) -> dict[str, list[str]]:
    tree = page.tree
    return {tree.topLevelItem(i).text(0): [tree.topLevelItem(i).text(c) for c in range(1, 3)]
            for i in range(tree.topLevelItemCount())}


def test_a_plugins_settings_appear_grouped_with_an_editor_of_their_kind(
        qtbot: QtBot, tint: None, settings: Callable[[str], SettingsDialog]) -> None:
    page = _page(qtbot, settings)
    assert {"tint.enabled", "tint.strength", "tint.label", "tint.service"} <= set(page.rows)
    enabled, strength = page.rows["tint.enabled"], page.rows["tint.strength"]
    assert isinstance(enabled.editor, QCheckBox) and not enabled.editor.isChecked()
    assert enabled.editor.text() == "Enabled"
    assert isinstance(strength.editor, QSpinBox)
    assert (strength.editor.minimum(), strength.editor.maximum(), strength.editor.value()) == (
        1, 10, 3)
    assert isinstance(page.rows["tint.label"].editor, QLineEdit)
    assert page.rows["tint.label"].editor.text() == "warm"
    assert strength.help.text() == "How strong the tint is, from 1 to 10."
    assert strength.source.text() == "The default."
    assert not strength.reset_button.isEnabled()
    assert strength.editor.isEnabled()
    # One group a prefix, titled for people.
    groups = [box.title() for box in page.findChildren(QGroupBox)]
    assert groups.count("Tint") == 1
    # A kernel setting no page has a control for shows here too, as a spin box of floats;
    # those the Captions and Write-Back pages edit do not.
    assert isinstance(page.rows["models.unload_after"].editor, QDoubleSpinBox)
    assert not ON_THEIR_OWN_PAGES & set(page.rows)


def test_the_built_in_pages_list_names_settings_that_exist(lib: Library) -> None:
    names = {setting.name for setting in lib.config.items()}
    assert names >= ON_THEIR_OWN_PAGES


def test_edits_are_saved_to_the_library(
        qtbot: QtBot, lib: Library, tint: None,
        settings: Callable[[str], SettingsDialog]) -> None:
    page = _page(qtbot, settings)
    box = page.rows["tint.enabled"].editor
    assert isinstance(box, QCheckBox)
    box.click()
    qtbot.waitUntil(lambda: lib.config.get("tint.enabled") is True)

    spin = page.rows["tint.strength"].editor
    assert isinstance(spin, QSpinBox)
    spin.selectAll()
    qtbot.keyClicks(spin, "7")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lib.config.get("tint.strength") == 7)

    line = page.rows["tint.label"].editor
    assert isinstance(line, QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, "  cool ")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lib.config.get("tint.label") == "cool")

    row = page.rows["tint.strength"]
    qtbot.waitUntil(lambda: row.setting is not None and row.setting.source == "library")
    assert row.source.text() == "Set in this library; the default is 3."
    assert row.reset_button.isEnabled()


def test_a_value_the_library_refuses_is_shown_under_its_setting(
        qtbot: QtBot, lib: Library, tint: None,
        settings: Callable[[str], SettingsDialog]) -> None:
    page = _page(qtbot, settings)
    strength = page.rows["tint.strength"]
    page.set_value("tint.strength", 11)
    qtbot.waitUntil(lambda: strength.notice.kind == "error")
    assert "from 1 to 10" in strength.notice.text()
    assert strength.notice.isVisible() and not page.notice.isVisible()
    assert lib.config.get("tint.strength") == 3
    assert strength.editor.isEnabled()

    # A service address with a password in it, typed in: refused, the address in force kept.
    service = page.rows["tint.service"]
    line = service.editor
    assert isinstance(line, QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, "https://me:secret@tint.example/v1")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: service.notice.kind == "error")
    assert "secret" not in service.notice.text()
    assert lib.config.get("tint.service") == "https://tint.example/v1"
    assert strength.notice.kind == "error"      # each setting keeps its own error

    # A good value clears that setting's error.
    page.set_value("tint.strength", 10)
    qtbot.waitUntil(lambda: strength.notice.kind == "")
    assert lib.config.get("tint.strength") == 10
    assert not strength.notice.isVisible()


def test_reset_to_default_forgets_the_librarys_value(
        qtbot: QtBot, lib: Library, tint: None,
        settings: Callable[[str], SettingsDialog]) -> None:
    lib.config.set("tint.strength", 8)
    page = _page(qtbot, settings)
    row = page.rows["tint.strength"]
    assert isinstance(row.editor, QSpinBox) and row.editor.value() == 8
    assert row.reset_button.isEnabled()
    row.reset_button.click()
    qtbot.waitUntil(lambda: lib.config.describe("tint.strength").source == "default")
    qtbot.waitUntil(lambda: row.setting is not None and row.setting.source == "default")
    assert row.editor.value() == 3
    assert not row.reset_button.isEnabled()
    assert row.source.text() == "The default."


def test_an_environment_override_is_read_only_and_names_its_variable(
        qtbot: QtBot, lib: Library, tint: None, monkeypatch: pytest.MonkeyPatch,
        workers: tuple[Tasks, Jobs], settings: Callable[[str], SettingsDialog]) -> None:
    lib.config.set("tint.strength", 4)
    monkeypatch.setenv(ENV, "9")
    page = _page(qtbot, settings)
    row = page.rows["tint.strength"]
    assert isinstance(row.editor, QSpinBox) and row.editor.value() == 9
    assert not row.editor.isEnabled()
    assert not row.reset_button.isEnabled()
    assert row.source.text() == f"Set for this session by {ENV} (the default is 3)."
    assert page.rows["tint.label"].editor.isEnabled()
    page.set_value("tint.strength", 5)
    assert workers[0].wait()
    assert lib.config.stored("tint.strength") == 4


def test_the_plugin_list_shows_built_in_and_installed_plugins_and_their_problems(
        qtbot: QtBot, broken: None, settings: Callable[[str], SettingsDialog]) -> None:
    page = _page(qtbot, settings)
    rows = _plugin_rows(page)
    assert rows["tint"] == ["—", "Loaded"]
    assert rows["captions"] == ["Built-in", "Loaded"]
    assert rows["broken-tint"] == ["—", "Loaded, with a problem"]
    assert page.problems.isVisible()
    assert "broken-tint: glimpse_settings: RuntimeError: the palette file is missing" in (
        page.problems.text())
    # The broken plugin's settings are left out; the others' still show.
    assert "tint.strength" in page.rows


def test_a_plugin_gone_takes_its_settings_off_the_page(
        qtbot: QtBot, settings: Callable[[str], SettingsDialog]) -> None:
    host = load_plugins()
    host.register(Tint(), name="tint")
    try:
        dialog = settings("plugins")
        page = dialog.plugins
        qtbot.waitUntil(lambda: "tint.enabled" in page.rows)
    finally:
        host.unregister("tint")
        host.forget("tint", "glimpse_settings")
    dialog.refresh()
    qtbot.waitUntil(lambda: "tint.enabled" not in page.rows)
    assert "tint" not in _plugin_rows(page)
    assert "models.unload_after" in page.rows
