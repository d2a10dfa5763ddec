#!/usr/bin/env bash
# Install the Glimpse menu entry and icon for the current user (freedesktop.org desktops:
# GNOME, KDE…). Works from two places:
#
#   packaging/install-desktop-entry.sh          in a checkout: the entry runs the
#                                               `glimpse-desktop` on PATH (a pip install)
#   dist/glimpse-desktop/install-desktop-entry.sh   in the bundle (`make package`): the entry
#                                               runs the bundle where it lies now (run it again
#                                               after moving the folder)
#
#   --uninstall   remove the entry and the icons again
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
app_id=glimpse-desktop
entry="$data/applications/$app_id.desktop"

refresh() {
    command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
    # Refresh an icon cache that exists; never start one in a user's folder (a cache that later
    # installs leave stale hides their icons). A newer folder tells desktops to look again.
    local hicolor="$data/icons/hicolor"
    if [ -f "$hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -qtf "$hicolor" || true
    elif [ -d "$hicolor" ]; then
        touch "$hicolor"
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$entry"
    rm -f "$data"/icons/hicolor/*/apps/"$app_id".png "$data/icons/hicolor/scalable/apps/$app_id.svg"
    refresh
    echo "removed the Glimpse menu entry for $(id -un)"
    exit 0
fi

if [ -x "$here/$app_id" ] && [ -d "$here/share/applications" ]; then
    # Inside the bundle.
    desktop="$here/share/applications/$app_id.desktop"
    icons="$here/share/icons/hicolor"
    # The Exec key's quoting (Desktop Entry Specification): the path in double quotes with
    # " ` $ \ escaped by a backslash, then every backslash doubled for the string value, and
    # % written as %%.
    quoted=$(printf '%s' "$here/$app_id" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g')
    exec_line="Exec=\"$quoted\" %F"
else
    # A checkout: glimpse-desktop is on PATH.
    root="$(cd "$here/.." && pwd)"
    desktop="$root/resources/$app_id.desktop"
    icons=""
    exec_line=""
fi

mkdir -p "$data/applications"
tmp="$(mktemp "$data/applications/.$app_id.XXXXXX")"
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
    Exec=*) printf '%s\n' "${exec_line:-$line}" ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$desktop" >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$entry"

if [ -n "$icons" ]; then
    for icon in "$icons"/*/apps/"$app_id".*; do
        [ -e "$icon" ] || continue
        size_dir="$(basename "$(dirname "$(dirname "$icon")")")"
        install -Dm644 "$icon" "$data/icons/hicolor/$size_dir/apps/$(basename "$icon")"
    done
else
    install -Dm644 "$root/resources/$app_id.svg" "$data/icons/hicolor/scalable/apps/$app_id.svg"
fi
refresh
echo "installed the Glimpse menu entry for $(id -un): $entry"
