#!/usr/bin/env bash
# Build Glimpse Desktop for distribution, into dist/.
#
#   packaging/build.sh [wheel]   the wheel (pip-installable; dependencies come from PyPI)
#   packaging/build.sh bundle    the desktop bundle: dist/glimpse-desktop/, a folder with the
#                                `glimpse-desktop` app, the `glimpse` CLI and everything they
#                                need (Python, Qt, torch with CUDA, the face models), plus the
#                                Linux menu entry and icons. Needs PyInstaller: `make package`
#                                installs it and runs this.
#
# PYTHON picks the interpreter (the one whose site-packages go into the bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
what="${1:-wheel}"

case "$what" in
wheel)
    rm -rf build/lib build/bdist.* dist/glimpse_desktop-*.whl
    "$PYTHON" -m pip wheel --no-deps --wheel-dir dist . >/dev/null
    echo "built: $(cd dist && ls glimpse_desktop-*.whl)"
    ;;
bundle)
    bundle=dist/glimpse-desktop
    started=$(date +%s)
    rm -rf "$bundle" build/pyinstaller
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
        --distpath dist --workpath build/pyinstaller packaging/glimpse-desktop.spec
    if [ "$(uname -s)" = Linux ]; then
        # The freedesktop.org layout (share/applications, share/icons/hicolor), so the entry
        # and icons install with one copy: install-desktop-entry.sh in the bundle does it, with
        # Exec pointing at wherever the bundle was unpacked.
        "$PYTHON" packaging/icons.py "$bundle/share/icons" >/dev/null
        rm -f "$bundle/share/icons/glimpse-desktop.ico"
        install -Dm644 resources/glimpse-desktop.svg \
            "$bundle/share/icons/hicolor/scalable/apps/glimpse-desktop.svg"
        install -Dm644 resources/glimpse-desktop.desktop \
            "$bundle/share/applications/glimpse-desktop.desktop"
        install -Dm755 packaging/install-desktop-entry.sh "$bundle/install-desktop-entry.sh"
    fi
    echo "built: $bundle ($(du -sh "$bundle" | cut -f1), $(( $(date +%s) - started )) s)"
    echo "  $bundle/glimpse-desktop        the app"
    echo "  $bundle/glimpse --help         the CLI"
    if [ "$(uname -s)" = Linux ]; then
        echo "  $bundle/install-desktop-entry.sh   add Glimpse to your applications menu"
    fi
    ;;
*)
    echo "usage: $0 [wheel|bundle]" >&2
    exit 2
    ;;
esac
