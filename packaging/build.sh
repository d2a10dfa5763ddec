#!/usr/bin/env bash
# Build Glimpse Desktop for distribution, into dist/.
#
#   packaging/build.sh [wheel]   the wheel (pip-installable; dependencies come from PyPI)
#   packaging/build.sh bundle    the desktop bundle: dist/glimpse-desktop/, a folder with the
#                                `glimpse-desktop` app, the `glimpse` CLI and everything they
#                                need (Python, Qt, ONNX Runtime, OpenVINO, the face models; no
#                                torch), plus the Linux menu entry and icons. Needs PyInstaller:
#                                `make package` installs it (in a venv of its own) and runs this.
#
# PYTHON picks the interpreter (the one whose site-packages go into the bundle); DIST and WORK
# the output and scratch folders (tests/test_packaging.py builds into a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
what="${1:-wheel}"
DIST="${DIST:-dist}"
WORK="${WORK:-build/pyinstaller}"

case "$what" in
wheel)
    rm -rf build/lib build/bdist.* dist/glimpse_desktop-*.whl
    "$PYTHON" -m pip wheel --no-deps --wheel-dir dist . >/dev/null
    echo "built: $(cd dist && ls glimpse_desktop-*.whl)"
    ;;
bundle)
    bundle="$DIST/glimpse-desktop"
    started=$(date +%s)
    rm -rf "$bundle" "$WORK"
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$DIST" --workpath "$WORK" packaging/glimpse-desktop.spec
    if [ "$(uname -s)" = Linux ]; then
        # The CLI is the same program under its own name (see the spec).
        ln -sf glimpse-desktop "$bundle/glimpse"
        # Debug sections, which no one reads from a bundle: numkong's library alone carries
        # 40 MB of them. --strip-debug keeps every symbol a loader needs, but a library that
        # auditwheel rewrote (patchelf) can come out unloadable ("ELF load command address/
        # offset not page-aligned"), so each stripped copy replaces its original only when the
        # loader still reads it (ldd).
        if command -v strip >/dev/null 2>&1; then
            scratch=$(mktemp -d)
            find "$bundle/_internal" -type f -name '*.so*' -size +1M | while read -r lib; do
                copy="$scratch/$(basename "$lib")"
                if strip --strip-debug -o "$copy" "$lib" 2>/dev/null \
                        && [ "$(stat -c %s "$copy")" -lt "$(stat -c %s "$lib")" ] \
                        && ldd "$copy" >/dev/null 2>&1; then
                    mv "$copy" "$lib"
                fi
                rm -f "$copy"
            done
            rm -rf "$scratch"
        else
            echo "note: no strip (binutils) here, so the bundle keeps its debug sections"
        fi
        # Qt's translations of its own dialogs: the window speaks English only.
        rm -rf "$bundle/_internal/PySide6/Qt/translations"
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
