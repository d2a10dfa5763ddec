"""Shape of the package, as JSON lines: modules, the largest ones, import circles, SQL outside
storage modules, and functions that return untyped dicts.

    python bench/architecture.py [PACKAGE_DIR]

Run it on two checkouts to compare (e.g. a `git worktree` of an older commit). Import circles
count every import, including those inside functions: a lazy import that closes a circle is
still a circle a reader has to hold in their head.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

# Modules whose job is storage: the SQL belongs there.
STORAGE = re.compile(r"(^|/)(db|migrations|photos|roots|fts|vectors|store|storage|schema)\.py$")
SQL = re.compile(r"^\s*(SELECT\b.*\bFROM\b|SELECT (count|max|min|1|coalesce)\b"
                 r"|INSERT (OR \w+ )?INTO|UPDATE \w+ SET|DELETE FROM"
                 r"|CREATE (TABLE|INDEX|VIRTUAL|TRIGGER|VIEW|UNIQUE)"
                 r"|WITH \w+|DROP (TABLE|INDEX|TRIGGER)|ALTER TABLE|REPLACE INTO)", re.S)
UNTYPED = re.compile(r"dict\[str,\s*Any\]")


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_only(tree: ast.AST) -> set[int]:
    """Nodes inside ``if TYPE_CHECKING:`` blocks: imports for annotations, never run."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def imported(tree: ast.AST, here: str, is_package: bool, modules: set[str]) -> set[str]:
    """Modules this one imports when it runs. ``from pkg import mod`` counts ``pkg.mod``,
    not ``pkg`` as well: a package's own modules import each other through it."""
    found: set[str] = set()
    skip = _type_only(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = {f"{mod}.{alias.name}" for alias in node.names} & modules
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(mod)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else
                Path(__file__).resolve().parent.parent / "glimpse_desktop").resolve()
    files = sorted(root.rglob("*.py"))
    names = {module_name(root, f): f for f in files}
    sizes = {n: len(f.read_text(encoding="utf-8").splitlines()) for n, f in names.items()}
    graph: dict[str, set[str]] = {}
    sql_in: dict[str, int] = {}
    sql_outside = 0
    untyped = 0
    untyped_front = 0
    for name, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {m for m in imported(tree, name, path.name == "__init__.py", set(names))
                       if m in names and m != name}
        rel = str(path.relative_to(root))
        folder = rel.split("/")[0] if "/" in rel else "(top)"
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and SQL.match(node.value):
                sql_in[folder] = sql_in.get(folder, 0) + 1
                if not STORAGE.search(rel):
                    sql_outside += 1
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns \
                    and UNTYPED.search(ast.unparse(node.returns)) \
                    and not node.name.startswith("_"):
                if folder in ("gui", "cli") or rel in ("cli.py", "app.py"):
                    untyped_front += 1
                else:
                    untyped += 1
    loops = circles(graph)
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
    print(json.dumps({"bench": "architecture", "modules": len(names),
                      "lines": sum(sizes.values()),
                      "modules_over_1000_lines": sum(1 for v in sizes.values() if v > 1000),
                      "largest": [{"module": n, "lines": v} for n, v in largest]}))
    print(json.dumps({"bench": "architecture", "import_circles": len(loops),
                      "modules_in_circles": sum(len(c) for c in loops),
                      "circles": loops}))
    print(json.dumps({"bench": "architecture", "sql_statements": sum(sql_in.values()),
                      "sql_outside_storage_modules": sql_outside,
                      "sql_by_folder": dict(sorted(sql_in.items()))}))
    print(json.dumps({"bench": "architecture",
                      "public_functions_returning_untyped_dicts": untyped,
                      "in_front_ends": untyped_front}))


if __name__ == "__main__":
    main()
