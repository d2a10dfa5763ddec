"""The `glimpse` command: every action of the app, headless. A thin layer over the API.

``main`` (cli/main.py) builds the parser from every verb: the library's own (cli/
library_verbs.py), each feature's (cli/search_verbs.py, faces_verbs.py, places_verbs.py,
albums_verbs.py, captions_verbs.py, writeback_verbs.py), the tools (cli/tool_verbs.py), and
those installed plugins contribute through the ``glimpse_cli_verbs`` hook. What the verbs
share (messages, progress, ``--json``) is in cli/common.py; the ``Verb`` record in
cli/verbs.py.
"""

from __future__ import annotations

from glimpse_desktop.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
