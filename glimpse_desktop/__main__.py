"""`python -m glimpse_desktop`: the desktop app, or the CLI when given a command."""

import sys


def _wants_gui(argv: list[str]) -> bool:
    rest = list(argv)
    # Only the library option (which both share) and no command: open the app.
    if rest[:1] == ["--library"]:
        rest = rest[2:]
    elif rest and rest[0].startswith("--library="):
        rest = rest[1:]
    return not rest


def main() -> int:
    if _wants_gui(sys.argv[1:]):
        from glimpse_desktop.app import main as app_main

        return app_main()
    from glimpse_desktop.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
