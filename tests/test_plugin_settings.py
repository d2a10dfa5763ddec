"""Settings come from the features and plugins (``glimpse_settings``): a plugin's setting is
listed, set, read back and overridden like the app's own; a malformed one is left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from glimpse_desktop.api import Library
from glimpse_desktop.kernel import plugins
from glimpse_desktop.kernel.config import ConfigError, Key
from glimpse_desktop.kernel.hookspecs import hookimpl


class _Palette:
    @hookimpl
    def glimpse_settings(self) -> list[Any]:
        return [Key("palette.size", "int", 11, "Colours in the palette.", low=2, high=64,
                    env="GLIMPSE_TEST_PALETTE_SIZE"),
                Key("NoDots", "bool", False, "A name without the plugin's prefix."),
                Key("caption.enabled", "bool", True, "A name the captions feature owns.")]


@pytest.fixture
def palette() -> Iterator[None]:
    plugins.host().register(_Palette(), name="palette-test")
    try:
        yield
    finally:
        plugins.host().unregister("palette-test")


def test_the_features_own_their_settings(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.glimpse") as lib:
        names = [item.name for item in lib.config.items()]
    # Captions, then write-back (features.py order), then the kernel's own.
    assert names.index("caption.enabled") < names.index("writeback.sync") \
        < names.index("models.unload_after")


def test_a_plugins_setting_is_listed_set_and_read_back(tmp_path: Path, palette: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with Library.open(tmp_path / "lib.glimpse") as lib:
        names = [item.name for item in lib.config.items()]
        assert "palette.size" in names
        assert lib.config.get("palette.size") == 11
        lib.config.set("palette.size", "16")
        assert lib.config.describe("palette.size").source == "library"
        with pytest.raises(ConfigError, match="from 2 to 64"):
            lib.config.set("palette.size", "1")
        monkeypatch.setenv("GLIMPSE_TEST_PALETTE_SIZE", "8")
        assert lib.config.describe("palette.size").value == 8
        # Left out: a name without a dot, and one already taken (captions keeps its own).
        assert "NoDots" not in names
        assert lib.config.get("caption.enabled") is False
        with pytest.raises(ConfigError, match="no setting called 'NoDots'"):
            lib.config.get("NoDots")
    with Library.open(tmp_path / "lib.glimpse") as lib:
        monkeypatch.delenv("GLIMPSE_TEST_PALETTE_SIZE")
        assert lib.config.get("palette.size") == 16
