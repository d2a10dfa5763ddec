"""Write the README's keyboard shortcuts table from the window's own actions
(glimpse_desktop/gui/shortcuts.py), so the README and Help ▸ Keyboard Shortcuts agree.

    QT_QPA_PLATFORM=offscreen python tools/shortcuts_readme.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from glimpse_desktop.gui.shortcuts import README_END, README_START, readme_table

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n\n" + readme_table() + "\n" + text[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
