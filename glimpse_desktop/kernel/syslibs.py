"""The operating system's shared libraries that the window needs on Linux, and the command
that installs the missing ones.

Qt's X11 platform plugin (PySide6's ``libqxcb.so``) links about twenty system libraries that a
minimal Debian or a container does not have (``libxcb-icccm4``, ``libxcb-keysyms1``,
``libxcb-cursor0`` ...). When one is missing Qt says only "could not load the Qt platform plugin
xcb" and suggests reinstalling the application, which does not help. So the list is not
written down here: ``ldd`` asks the system's dynamic loader for the plugin's whole dependency
tree, as the loader will resolve it when Qt opens the plugin (the bundle's LD_LIBRARY_PATH
included), and every library it cannot find is mapped to the package of the distribution
(read from /etc/os-release) that provides it.

Nothing here imports Qt: the check runs before Qt is loaded, which is the point.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

State = Literal["ok", "missing", "not_linux", "no_plugin", "no_ldd"]
Manager = Literal["apt", "dnf", "pacman", "zypper"]
MANAGERS: tuple[Manager, ...] = ("apt", "dnf", "pacman", "zypper")

# The package that provides each library, per package manager (apt: Debian, Ubuntu and their
# derivatives; dnf: Fedora, RHEL and clones; pacman: Arch; zypper: openSUSE), in that order.
# These are the libraries that Qt's own libraries on the window's path (the xcb plugin,
# XcbQpa, Gui, Core, DBus, Widgets) name directly, plus the common libraries beneath them:
# installing a package brings what it depends on, so a library further down is only ever
# missing together with one listed here. A library not listed is still reported (by name);
# dnf and zypper can install it by that name too (a package "provides" its libraries).
PACKAGES: dict[str, tuple[str, str, str, str]] = {
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd", "libGL1"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd", "libEGL1"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd", "libOpenGL0"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx", "libglvnd", "libGLX0"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd", "libglvnd", "libGLdispatch0"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon", "libxkbcommon0"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11",
                              "libxkbcommon-x11-0"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb", "libxcb1"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor",
                           "libxcb-cursor0"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm", "libxcb-icccm4"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util", "libxcb-util1"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image",
                          "libxcb-image0"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms",
                            "libxcb-keysyms1"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil",
                                "xcb-util-renderutil", "libxcb-render-util0"),
    # The protocol extensions: one package each on Debian and openSUSE, all in libxcb elsewhere.
    **{f"libxcb-{ext}.so.{major}": (f"libxcb-{ext}{major}", "libxcb", "libxcb",
                                     f"libxcb-{ext}{major}")
       for ext, major in (("randr", 0), ("shm", 0), ("sync", 1), ("xfixes", 0), ("render", 0),
                          ("shape", 0), ("xkb", 1), ("xinerama", 0), ("xinput", 0),
                          ("glx", 0), ("present", 0), ("dri3", 0))},
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11", "libX11-xcb1"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11", "libX11-6"),
    "libXau.so.6": ("libxau6", "libXau", "libxau", "libXau6"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp", "libxdmcp", "libXdmcp6"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2", "libglib-2_0-0"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2", "libgthread-2_0-0"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig", "libfontconfig1"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2", "libfreetype6"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus", "libdbus-1-3"),
    "libz.so.1": ("zlib1g", "zlib", "zlib", "libz1"),
    "libzstd.so.1": ("libzstd1", "libzstd", "zstd", "libzstd1"),
    "libpng16.so.16": ("libpng16-16", "libpng", "libpng", "libpng16-16"),
    "libexpat.so.1": ("libexpat1", "expat", "expat", "libexpat1"),
    "libbrotlidec.so.1": ("libbrotli1", "libbrotli", "brotli", "libbrotlidec1"),
    "libbrotlicommon.so.1": ("libbrotli1", "libbrotli", "brotli", "libbrotlicommon1"),
    "libpcre2-8.so.0": ("libpcre2-8-0", "pcre2", "pcre2", "libpcre2-8-0"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++", "gcc-libs", "libstdc++6"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc", "gcc-libs", "libgcc_s1"),
}

# Everything the window needs that a minimal system or a container may lack: the libraries
# that Qt's xcb plugin and its XcbQpa library name directly, as ldd finds them (the rest come
# with these packages). The README's command per distribution is ``everything(manager)``;
# tests/test_system_libs.py keeps the two the same.
WINDOW: tuple[str, ...] = (
    "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-image.so.0",
    "libxcb-render-util.so.0", "libxcb-randr.so.0", "libxcb-shape.so.0", "libxcb-shm.so.0",
    "libxcb-sync.so.1", "libxcb-xfixes.so.0", "libxcb-xkb.so.1", "libxkbcommon-x11.so.0",
    "libxkbcommon.so.0", "libX11-xcb.so.1", "libGL.so.1", "libEGL.so.1", "libfontconfig.so.1",
    "libglib-2.0.so.0", "libdbus-1.so.3",
)

# /etc/os-release ID (or one of ID_LIKE) -> the package manager.
_FAMILIES: dict[str, Manager] = {
    "debian": "apt", "ubuntu": "apt",
    "fedora": "dnf", "rhel": "dnf", "centos": "dnf",
    "arch": "pacman",
    "suse": "zypper", "opensuse": "zypper", "sles": "zypper",
}
# What a person runs (sudo, the manager may ask before it installs) ...
_INSTALL: dict[Manager, str] = {
    "apt": "apt-get install", "dnf": "dnf install", "pacman": "pacman -S",
    "zypper": "zypper install",
}
# ... and what runs unattended as root (`make run` in a container): nothing asks, and a
# system with no package lists yet (a fresh container: apt's and pacman's are empty there)
# fetches them and tries again. dnf and zypper fetch missing metadata themselves. pacman's
# retry upgrades the system too: Arch supports no partial upgrade (-Sy alone).
_UNATTENDED: dict[Manager, str] = {
    "apt": "DEBIAN_FRONTEND=noninteractive apt-get install -y -q {0} || "
           "{{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q {0}; }}",
    "dnf": "dnf install -y {0}",
    "pacman": "pacman -S --noconfirm --needed {0} || pacman -Syu --noconfirm --needed {0}",
    "zypper": "zypper --non-interactive install {0}",
}
_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(.*?)\s*(?:\(0x[0-9a-f]+\))?\s*$")


@dataclass(frozen=True)
class SystemLibraries:
    """What the window's Qt needs from the operating system, and what it lacks."""

    state: State
    """``ok``: every library is found; ``missing``: see ``missing``; ``not_linux``: nothing to
    check (Qt on macOS and Windows brings what it needs); ``no_plugin``: PySide6's X11 plugin
    is not installed (``plugin`` says where it was looked for); ``no_ldd``: the system has no
    ``ldd`` to ask."""
    plugin: str | None
    """The plugin checked (its dependency tree is the check)."""
    found: int
    """How many libraries outside PySide6 the loader found for it."""
    missing: tuple[str, ...]
    """The libraries (file names, e.g. ``libxcb-icccm.so.4``) the loader cannot find."""
    packages: tuple[str, ...]
    """The distribution's packages that provide the missing libraries, where known."""
    unknown: tuple[str, ...]
    """Missing libraries with no known package on this distribution (still named in
    ``install`` where the package manager installs by library name)."""
    distribution: str
    """The distribution's name (/etc/os-release PRETTY_NAME), or the platform."""
    manager: Manager | None
    """The distribution's package manager, None when not one of apt, dnf, pacman, zypper."""
    install: str | None
    """The shell command that installs what is missing (``sudo ...`` for a person; as root,
    one that runs unattended); None when nothing is, or no package manager is known."""


def os_release(path: Path = Path("/etc/os-release")) -> dict[str, str]:
    """The KEY=value pairs of an os-release file (empty when there is none)."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("\"'")
    return out


def package_manager(release: Mapping[str, str]) -> Manager | None:
    """The package manager of the distribution an os-release describes."""
    for word in (release.get("ID", ""), *release.get("ID_LIKE", "").split()):
        word = word.lower()
        family = _FAMILIES.get(word) or _FAMILIES.get(word.split("-")[0])
        if family:
            return family
    return None


def install_command(missing: Iterable[str], manager: Manager | None, *, root: bool,
                    packages: Mapping[str, tuple[str, str, str, str]] = PACKAGES,
                    ) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(packages, libraries with no known package, the command) for the missing libraries.
    dnf and zypper install a library by name (``'libfoo.so.1()(64bit)'``), so on them the
    command names every missing library. As root the command runs unattended (nothing asks;
    missing package lists are fetched and the install tried again); otherwise it is the
    ``sudo`` command a person runs."""
    if manager is None:
        return (), tuple(missing), None
    column = MANAGERS.index(manager)
    names: list[str] = []
    unknown: list[str] = []
    for soname in missing:
        row = packages.get(soname)
        if row is None:
            unknown.append(soname)
        elif row[column] not in names:
            names.append(row[column])
    args = list(names)
    if manager in ("dnf", "zypper"):
        bits = "()(64bit)" if sys.maxsize > 2**32 else ""
        args += [f"'{soname}{bits}'" for soname in unknown]
    if not args:
        return tuple(names), tuple(unknown), None
    if root:
        return tuple(names), tuple(unknown), _UNATTENDED[manager].format(" ".join(args))
    return tuple(names), tuple(unknown), f"sudo {_INSTALL[manager]} {' '.join(args)}"


def everything(manager: Manager) -> str:
    """The command that installs every library the window may need (``WINDOW``) on a
    distribution of this package manager, as a person runs it: the README's list."""
    command = install_command(WINDOW, manager, root=False)[2]
    if command is None:   # every library in WINDOW has a package on every manager
        raise ValueError(f"no install command for {manager}")
    return command


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin, in a virtualenv or in the PyInstaller bundle; None
    when PySide6 is not installed. The plugin's file may still be absent."""
    folders: list[str] = []
    spec = importlib.util.find_spec("PySide6")   # finds without importing Qt
    if spec is not None and spec.submodule_search_locations:
        folders += list(spec.submodule_search_locations)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(os.path.join(bundle, "PySide6"))
    for folder in folders:
        plugin = Path(folder, "Qt", "plugins", "platforms", "libqxcb.so")
        if plugin.is_file():
            return plugin
    return Path(folders[0], "Qt", "plugins", "platforms", "libqxcb.so") if folders else None


def resolve(files: Iterable[Path]) -> dict[str, str | None]:
    """Every library the files need, directly or not, with the path the dynamic loader finds
    it at (None: not found), as ``ldd`` reports it. Raises FileNotFoundError without ldd."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise FileNotFoundError("ldd")
    out: dict[str, str | None] = {}
    for file in files:
        # ldd's "not found" is translated; the C locale keeps it parseable.
        result = subprocess.run([ldd, str(file)], capture_output=True, text=True,
                                env={**os.environ, "LC_ALL": "C"}, timeout=60, check=False)
        for line in result.stdout.splitlines():
            match = _LDD_LINE.match(line)
            if match:
                name, where = match.groups()
                found = None if where == "not found" else where
                out[name] = out.get(name) or found
    return out


def check(plugin: Path | None, *, release: Mapping[str, str] | None = None,
          packages: Mapping[str, tuple[str, str, str, str]] = PACKAGES,
          platform: str = sys.platform) -> SystemLibraries:
    """The system libraries ``plugin`` needs, through the loader's eyes (see the module)."""
    info = os_release() if release is None else release
    distribution = info.get("PRETTY_NAME") or info.get("NAME") or platform
    manager = package_manager(info)

    def result(state: State, found: int = 0, missing: tuple[str, ...] = ()) -> SystemLibraries:
        names, unknown, command = install_command(missing, manager, root=_is_root(),
                                                  packages=packages)
        return SystemLibraries(state=state, plugin=str(plugin) if plugin else None,
                               found=found, missing=missing, packages=names, unknown=unknown,
                               distribution=distribution, manager=manager, install=command)

    if not platform.startswith("linux"):
        return result("not_linux")
    if plugin is None or not plugin.is_file():
        return result("no_plugin")
    try:
        libraries = resolve([plugin])
    except (OSError, subprocess.SubprocessError):
        return result("no_ldd")
    qt = plugin.parent.parent.parent   # PySide6/Qt: Qt's own libraries, not the system's

    def own(where: str) -> bool:
        # As ldd names it (Qt/plugins/platforms/../../lib/...) or where a link leads.
        return (Path(os.path.normpath(where)).is_relative_to(os.path.normpath(qt))
                or Path(where).resolve().is_relative_to(qt.resolve()))

    system = {name: where for name, where in libraries.items()
              if where is None or not own(where)}
    missing = tuple(sorted(name for name, where in system.items() if where is None))
    return result("missing" if missing else "ok", len(system) - len(missing), missing)


def system_libraries() -> SystemLibraries:
    """The check of this machine: PySide6's X11 plugin, this distribution."""
    return check(xcb_plugin() if sys.platform.startswith("linux") else None)


def window_uses_xcb(environ: Mapping[str, str] = os.environ,
                    platform: str = sys.platform) -> bool:
    """Whether Qt will open the window through X11 (xcb), whose libraries ``check`` covers:
    on Linux, asked for (QT_QPA_PLATFORM=xcb) or by default on an X11 desktop. Offscreen,
    Wayland, macOS and Windows use other plugins."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _main() -> int:
    """``python -m glimpse_desktop.kernel.syslibs``: when the window would open through X11
    and libraries are missing, says so on stderr and prints the install command (exit 1);
    nothing otherwise (exit 0). The Makefile's run target uses it before it starts the window.
    ``--all``: the command for every library the window may need, per package manager."""
    if sys.argv[1:] == ["--all"]:
        for manager in MANAGERS:
            print(f"{manager}: {everything(manager)}")
        return 0
    if not window_uses_xcb():
        return 0
    found = system_libraries()
    if found.state != "missing":
        return 0
    print(found.install or "", end="\n" if found.install else "")
    sys.stderr.write(
        f"The window needs system libraries that {found.distribution} does not have: "
        f"{', '.join(found.missing)}.\n"
        + (f"Install them with:\n  {found.install}\n" if found.install else
           "Install the packages of your distribution that provide them.\n"))
    return 1


if __name__ == "__main__":
    sys.exit(_main())
