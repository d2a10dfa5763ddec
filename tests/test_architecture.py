"""The direction of dependencies (DESIGN.md): Qt only in gui/ and app.py; core never imports
the CLI or the GUI; the CLI stays headless."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "glimpse_desktop"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_qt_is_imported_only_by_the_gui_and_the_composition_root() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "gui" or rel == Path("app.py"):
            continue
        if any(name.split(".")[0] in QT for name in imports(path)):
            offenders.append(str(rel))
    assert offenders == []


def test_lower_layers_never_import_upper_ones() -> None:
    upper = {"library": ("core", "cli", "gui", "app", "ingest"),
             "ingest": ("core", "cli", "gui", "app"),
             "ml": ("core", "cli", "gui", "app"),
             "core": ("cli", "gui", "app")}
    offenders = []
    for layer, banned in upper.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for name in imports(path):
                parts = name.split(".")
                if parts[0] == "glimpse_desktop" and len(parts) > 1 and parts[1] in banned:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_the_cli_gui_and_app_reach_the_layers_below_only_through_core() -> None:
    """cli -> core; gui -> core; only app.py joins core and gui."""
    allowed = {"cli.py": ("core", "progress"), "app.py": ("core", "progress", "gui")}
    for path in (PACKAGE / "gui").rglob("*.py"):
        allowed[str(path.relative_to(PACKAGE))] = ("core", "progress", "gui")
    offenders = []
    for rel, layers in allowed.items():
        for name in imports(PACKAGE / rel):
            parts = name.split(".")
            if parts[0] == "glimpse_desktop" and len(parts) > 1 and parts[1] not in layers:
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_the_cli_runs_without_loading_qt() -> None:
    code = ("import sys, glimpse_desktop.cli; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
