"""The direction of dependencies (DESIGN.md): Qt only in gui/ and app.py; core never imports
the CLI or the GUI; the CLI stays headless."""

from __future__ import annotations

import ast
import re
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
    allowed = {"cli.py": ("core", "progress", "messages"),
               "app.py": ("core", "progress", "messages", "gui")}
    for path in (PACKAGE / "gui").rglob("*.py"):
        allowed[str(path.relative_to(PACKAGE))] = ("core", "progress", "messages", "gui")
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


# "glimpse add", "glimpse models add": a terminal command named in words meant for anyone.
_COMMAND = re.compile(r"\bglimpse [a-z][a-z-]+")
# "--force": a CLI flag, which the layers below the front ends know nothing of (the window
# may show how to start itself: `glimpse-desktop --library PATH`).
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
# The terminal's own words: the CLI, the app's no-display fallback, the entry point that
# reads --library, and SQL schema text whose comments nobody is shown.
_TERMINAL = {"cli.py", "app.py", "__main__.py", "library/migrations.py"}


def _string_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string a module could show (docstrings left out), f-strings with holes."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(
                str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            found.append((node.lineno, node.value))
    return found


def test_only_the_cli_names_glimpse_commands() -> None:
    """Core reports what happened as a code with values (glimpse_desktop.messages); the CLI
    phrases it with its commands and flags, the window with its buttons. app.py speaks to a
    terminal only when there is no display to open a window on."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        if rel in _TERMINAL:
            continue
        front = rel.startswith("gui/")
        for line, text in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if _COMMAND.search(text) or (not front and _FLAG.search(text)):
                offenders.append(f"{rel}:{line}: {text[:80]!r}")
    assert offenders == []
