#!/usr/bin/env bash
# Install the Glimpse menu entry and icon for the current user (freedesktop.org desktops:
# GNOME, KDE…). Works from two places:
#
#   packaging/install-desktop-entry.sh          in a checkout: the entry runs this checkout's
#                                               .venv/bin/glimpse-desktop (`make run`), else
#                                               the `glimpse-desktop` on PATH (a pip install),
#                                               by its absolute path: a menu's PATH is not a
#                                               shell's, and has no virtualenv in it
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

# The Exec key's quoting (Desktop Entry Specification): the path in double quotes with
# " ` $ \ escaped by a backslash, then every backslash doubled for the string value, and
# % written as %%.
exec_key() {
    local quoted
    quoted=$(printf '%s' "$1" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g')
    printf 'Exec="%s" %%F' "$quoted"
}

if [ -x "$here/$app_id" ] && [ -d "$here/share/applications" ]; then
    # Inside the bundle.
    desktop="$here/share/applications/$app_id.desktop"
    icons="$here/share/icons/hicolor"
    exec_line=$(exec_key "$here/$app_id")
else
    # A checkout: the program `make run` installed, or one on PATH.
    root="$(cd "$here/.." && pwd)"
    desktop="$root/resources/$app_id.desktop"
    icons=""
    if [ -x "$root/.venv/bin/$app_id" ]; then
        program="$root/.venv/bin/$app_id"
    elif program=$(command -v "$app_id"); then
        case "$program" in /*) ;; *) program="$(cd "$(dirname "$program")" && pwd)/$(basename "$program")" ;; esac
    else
        echo "$app_id is not installed: run \`make run\` in $root first (it installs it into" \
             "$root/.venv), or pip install the app, then run this again" >&2
        exit 1
    fi
    exec_line=$(exec_key "$program")
fi

mkdir -p "$data/applications"
tmp="$(mktemp "$data/applications/.$app_id.XXXXXX")"
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
    Exec=*) printf '%s\n' "$exec_line" ;;
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
echo "installed the Glimpse menu entry for $(id -un): $entry (${exec_line#Exec=})"
