"""The `glimpse` command: every action of the app, headless. A thin layer over the API.

``main`` (cli/main.py) builds the parser from every verb: the library's own (cli/
library_verbs.py), the tools (cli/tool_verbs.py) and those the features and installed plugins
contribute through the ``glimpse_cli_verbs`` hook (``<feature>/cli.py``). What the verbs
share (messages, progress, ``--json``) is in cli/common.py; the ``Verb`` record in
cli/verbs.py.
"""

from __future__ import annotations

from glimpse_desktop.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
