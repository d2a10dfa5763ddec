#!/usr/bin/env bash
# Install the menu entry and icon for the current user (freedesktop.org desktops: GNOME, KDE…).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
install -Dm644 "$here/resources/glimpse-desktop.desktop" "$data/applications/glimpse-desktop.desktop"
install -Dm644 "$here/resources/glimpse-desktop.svg" "$data/icons/hicolor/scalable/apps/glimpse-desktop.svg"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "installed the Glimpse menu entry for $(id -un)"
