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


KERNEL = "kernel"
FEATURES = ("metadata", "search", "faces", "places", "albums", "captions", "writeback",
            "judge")
FRONT_ENDS = ("api", "cli", "gui", "app")
# Pure algorithms: data in, data out; no storage, no models, no files of the library.
PURE = ("faces/clustering.py", "albums/events.py", "places/geocode.py")


def _internal(path: Path) -> list[list[str]]:
    return [name.split(".")[1:] for name in imports(path)
            if name.startswith("glimpse_desktop.")]


def test_the_kernel_imports_no_feature_and_no_front_end() -> None:
    offenders = []
    for path in (PACKAGE / KERNEL).rglob("*.py"):
        for parts in _internal(path):
            if parts[0] in FEATURES + FRONT_ENDS:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {'.'.join(parts)}")
    assert sorted(offenders) == sorted(KERNEL_DEBTS)


def test_features_import_no_front_end() -> None:
    """Nothing in a feature knows a front end: a feature's verbs live in cli/, phrased there."""
    offenders = []
    for feature in FEATURES:
        for path in (PACKAGE / feature).rglob("*.py"):
            for parts in _internal(path):
                if parts[0] in FRONT_ENDS:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {'.'.join(parts)}")
    assert offenders == []


# What a feature offers the others: its records and the modules named here. The rest of a
# feature's folder (its storage, stages, CLI, plugin module) is its own business.
PUBLIC_MODULES = {
    "metadata": ("records", "xmp"),
    "search": ("records", "query", "filters", "engine", "sorting"),
    "faces": ("records", "people", "stage"),
    "places": ("records", "service"),
    "albums": ("records",),
    "captions": ("records", "service"),
    "writeback": ("records",),
}


def _feature_modules(path: Path) -> list[list[str]]:
    """``glimpse_desktop.<feature>.<module>`` for every import, ``from pkg import module``
    included (``imports`` records only ``pkg`` there)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "glimpse_desktop" or len(parts) < 2:
                continue
            if len(parts) == 2:
                found += [[parts[1], alias.name] for alias in node.names]
            else:
                found.append(parts[1:3])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "glimpse_desktop" and len(parts) > 2:
                    found.append(parts[1:3])
    return found


def test_features_use_only_each_others_public_api() -> None:
    offenders = []
    for feature in FEATURES:
        for path in (PACKAGE / feature).rglob("*.py"):
            for other, module in _feature_modules(path):
                if other in FEATURES and other != feature \
                        and module not in PUBLIC_MODULES[other]:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {other}.{module}")
    assert sorted(offenders) == sorted(FEATURE_DEBTS)


def test_pure_algorithms_import_no_storage() -> None:
    offenders = []
    for rel in PURE:
        for parts in _internal(PACKAGE / rel):
            offenders.append(f"{rel} imports {'.'.join(parts)}")
    assert offenders == []


def test_the_cli_gui_and_app_reach_the_layers_below_only_through_the_api() -> None:
    """cli -> api; gui -> api; only app.py joins the api and the gui. The kernel's progress
    and messages are part of the public API (what a job reports, what a notice says)."""
    public = ("api", "kernel.progress", "kernel.messages", "kernel.paths")
    files = [PACKAGE / "app.py", *(PACKAGE / "cli").rglob("*.py"), *(PACKAGE / "gui").rglob("*.py")]
    offenders = []
    for path in files:
        rel = path.relative_to(PACKAGE)
        # app.py prints the CLI's words when no window can open (cli/terminal.py).
        own = ("gui",) if rel.parts[0] == "gui" else ("gui", "cli.terminal") \
            if rel.parts[0] == "app.py" else ("cli",)
        for parts in _internal(path):
            name = ".".join(parts)
            if not any(name == p or name.startswith(p + ".") for p in (*public, *own)):
                offenders.append(f"{rel} imports {name}")
    assert sorted(offenders) == sorted(FRONT_END_DEBTS)


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
# Flags outside the CLI: the launcher's and the entry point's own (--library), SQL schema
# text whose comments nobody is shown, and the system package managers' install commands
# for Qt's libraries (their flags, not Glimpse's). Commands are named in cli/ only: the
# launcher prints the CLI's words for them (cli/terminal.py).
_TERMINAL = {"app.py", "__main__.py", "kernel/migrations.py", "kernel/syslibs.py"}


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
    """Core reports what happened as a code with values (glimpse_desktop.kernel.messages); the CLI
    phrases it with its commands and flags, the window with its buttons. When no window can
    open, app.py prints the CLI's own words (cli/terminal.py)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        if rel.startswith("cli/"):
            continue
        flags_ok = rel in _TERMINAL or rel.startswith("gui/")
        for line, text in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            if _COMMAND.search(text) or (not flags_ok and _FLAG.search(text)):
                offenders.append(f"{rel}:{line}: {text[:80]!r}")
    assert offenders == []


# Imports the open-core work has yet to remove (each turns into a hook or an API record); the
# tests above fail on any new one, and on any listed here that has gone (so the list shrinks).
KERNEL_DEBTS: list[str] = []
FRONT_END_DEBTS: list[str] = []
FEATURE_DEBTS: list[str] = []


def test_layers_below_the_front_ends_name_no_commands_in_comments_either() -> None:
    """Docstrings and comments below cli/ and gui/ say what the API does, not which command
    shows it: a command's name is the CLI's to choose and to change."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        if rel.startswith(("cli/", "gui/")):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _COMMAND.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()[:80]}")
    assert offenders == []
