"""The system libraries the window needs on Linux: asked of the real dynamic loader (ldd) for
the installed PySide6's X11 plugin, and a missing one named with its distribution's package.

A missing library is made real, not pretended: a copy of the plugin whose dependency on
libxcb-icccm.so.4 is renamed, in the ELF file itself, to a library no system has. ldd reports
it "not found" exactly as on the minimal Debian that lacked libxcb-icccm4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glimpse_desktop.kernel import syslibs
from glimpse_desktop.kernel.syslibs import PACKAGES, check, os_release, package_manager

ABSENT = "libnowhere.so.4"
ABSENT_PACKAGES = {**PACKAGES, ABSENT: ("nowhere4", "nowhere", "nowhere-libs", "libnowhere4")}
SUDO = "" if os.geteuid() == 0 else "sudo "
RELEASES = {
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
    "ubuntu": 'PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nID_LIKE=debian\n',
    "mint": 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
    "fedora": 'PRETTY_NAME="Fedora Linux 41 (Workstation Edition)"\nID=fedora\n',
    "rocky": 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
    "arch": 'NAME="Arch Linux"\nID=arch\n',
    "manjaro": 'NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\n',
    "tumbleweed": 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\n'
                  'ID_LIKE="opensuse suse"\n',
    "nixos": 'NAME=NixOS\nID=nixos\n',
}


def _release(tmp_path: Path, name: str) -> dict[str, str]:
    path = tmp_path / f"os-release-{name}"
    path.write_text(RELEASES[name], encoding="utf-8")
    return os_release(path)


def _broken_pyside(tmp_path: Path) -> Path:
    """A PySide6 folder whose X11 plugin needs ABSENT instead of libxcb-icccm.so.4: the real
    plugin, one name in its dynamic section rewritten; Qt's own libraries are the real ones."""
    real = syslibs.xcb_plugin()
    assert real is not None and real.is_file()
    qt_real = real.parent.parent.parent
    package = tmp_path / "shadow" / "PySide6"
    platforms = package / "Qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    (package / "Qt" / "lib").symlink_to(qt_real / "lib")
    (package / "__init__.py").write_text("", encoding="utf-8")
    data = real.read_bytes()
    needed = b"libxcb-icccm.so.4\0"
    assert data.count(needed) == 1
    # Same length, NUL-padded: every offset in the file stays where it was.
    data = data.replace(needed, ABSENT.encode().ljust(len(needed), b"\0"))
    (platforms / "libqxcb.so").write_bytes(data)
    return package


def test_nothing_is_missing_on_this_machine() -> None:
    found = syslibs.system_libraries()
    assert found.state == "ok", found
    assert found.plugin is not None and found.plugin.endswith("libqxcb.so")
    assert found.missing == () and found.install is None
    # libxcb, the xcb utilities, xkbcommon, GL, fontconfig, glib, D-Bus ... and what they need.
    assert found.found >= 20


def test_every_library_the_plugin_needs_here_is_found_and_none_of_qts_own_counted() -> None:
    plugin = syslibs.xcb_plugin()
    assert plugin is not None
    libraries = syslibs.resolve([plugin])
    assert "libxcb-icccm.so.4" in libraries and "libxcb-keysyms.so.1" in libraries
    assert all(where is not None for where in libraries.values())
    own = sum(1 for name in libraries if name.startswith("libQt6"))
    assert own >= 3    # XcbQpa, Gui, Core: PySide6's, not the system's
    assert syslibs.system_libraries().found <= len(libraries) - own


def test_the_xcb_libraries_the_plugin_names_have_a_package_on_every_distribution() -> None:
    plugin = syslibs.xcb_plugin()
    assert plugin is not None
    needed = {name for name in syslibs.resolve([plugin])
              if name.startswith(("libxcb", "libxkbcommon", "libX11", "libGL", "libEGL"))}
    assert "libxcb-cursor.so.0" in needed
    assert sorted(needed - set(PACKAGES)) == []


def test_a_missing_library_is_named_with_the_command_that_installs_its_package(
        tmp_path: Path) -> None:
    plugin = _broken_pyside(tmp_path) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    commands = {
        "debian": f"{SUDO}apt-get install nowhere4",
        "mint": f"{SUDO}apt-get install nowhere4",
        "fedora": f"{SUDO}dnf install nowhere",
        "rocky": f"{SUDO}dnf install nowhere",
        "arch": f"{SUDO}pacman -S nowhere-libs",
        "manjaro": f"{SUDO}pacman -S nowhere-libs",
        "tumbleweed": f"{SUDO}zypper install libnowhere4",
    }
    for name, command in commands.items():
        found = check(plugin, release=_release(tmp_path, name), packages=ABSENT_PACKAGES)
        assert found.state == "missing", name
        assert found.missing == (ABSENT,)
        assert found.install == command, name
    debian = check(plugin, release=_release(tmp_path, "debian"), packages=ABSENT_PACKAGES)
    assert debian.distribution == "Debian GNU/Linux 12 (bookworm)"
    assert debian.packages == ("nowhere4",) and debian.unknown == ()
    # Only the renamed one is missing: everything else is found through the copy (the real
    # libxcb-icccm.so.4 too, which Qt's XcbQpa library needs as well).
    assert debian.found == syslibs.system_libraries().found


def test_a_library_no_table_knows_is_still_named(tmp_path: Path) -> None:
    plugin = _broken_pyside(tmp_path) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    debian = check(plugin, release=_release(tmp_path, "debian"))
    assert debian.state == "missing" and debian.unknown == (ABSENT,)
    assert debian.install is None   # apt installs packages, not files
    # dnf and zypper install what provides a library, by the library's name.
    fedora = check(plugin, release=_release(tmp_path, "fedora"))
    assert fedora.install == f"{SUDO}dnf install '{ABSENT}()(64bit)'"
    unknown = check(plugin, release=_release(tmp_path, "nixos"))
    assert unknown.manager is None and unknown.install is None
    assert unknown.missing == (ABSENT,)


def test_install_commands_name_the_packages_of_the_libraries_debian_lacked() -> None:
    missing = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0",
               "libxkbcommon-x11.so.0"]
    expected = {
        "apt": "apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0",
        "dnf": "dnf install xcb-util-wm xcb-util-keysyms xcb-util-cursor libxkbcommon-x11",
        "pacman": "pacman -S xcb-util-wm xcb-util-keysyms xcb-util-cursor libxkbcommon-x11",
        "zypper": "zypper install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 "
                  "libxkbcommon-x11-0",
    }
    for manager, command in expected.items():
        _, _, as_root = syslibs.install_command(missing, manager, root=True)   # type: ignore[arg-type]
        assert as_root == command
        _, _, as_user = syslibs.install_command(missing, manager, root=False)  # type: ignore[arg-type]
        assert as_user == f"sudo {command}"


def test_distributions_map_to_their_package_manager(tmp_path: Path) -> None:
    managers = {name: package_manager(_release(tmp_path, name)) for name in RELEASES}
    assert managers == {"debian": "apt", "ubuntu": "apt", "mint": "apt", "fedora": "dnf",
                        "rocky": "dnf", "arch": "pacman", "manjaro": "pacman",
                        "tumbleweed": "zypper", "nixos": None}
    assert os_release(tmp_path / "none") == {}


def test_only_a_linux_x11_window_is_checked() -> None:
    assert syslibs.window_uses_xcb({"DISPLAY": ":0"}, "linux")
    assert syslibs.window_uses_xcb({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, "linux")
    assert not syslibs.window_uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "linux")
    assert not syslibs.window_uses_xcb({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"},
                                       "linux")
    assert not syslibs.window_uses_xcb({"DISPLAY": ":0"}, "darwin")
    assert not syslibs.window_uses_xcb({"DISPLAY": ":0"}, "win32")
    assert check(None, release={}, platform="darwin").state == "not_linux"
    assert check(Path("/nonexistent/libqxcb.so"), release={}).state == "no_plugin"


def _run_with(shadow: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A Glimpse program whose PySide6 is the broken one (found first on the path), on an
    X11 display (none is needed: the check comes before Qt)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":99", PYTHONPATH=str(shadow.parent),
               GLIMPSE_LIBRARY=str(tmp_path / "lib.glimpse"))
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_the_window_names_the_missing_library_instead_of_qts_message(tmp_path: Path) -> None:
    shadow = _broken_pyside(tmp_path)
    run = _run_with(shadow, tmp_path, "-c",
                    "import sys; from glimpse_desktop.app import main; sys.exit(main([]))")
    assert run.returncode == 3, run.stderr
    assert ABSENT in run.stderr and "the window cannot start" in run.stderr
    assert "Qt platform plugin" not in run.stderr
    assert not (tmp_path / "lib.glimpse").exists()   # stopped before opening anything


def test_doctor_shows_the_missing_library(tmp_path: Path) -> None:
    shadow = _broken_pyside(tmp_path)
    run = _run_with(shadow, tmp_path, "-m", "glimpse_desktop", "doctor", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)["system_libraries"]
    assert report["state"] == "missing" and report["missing"] == [ABSENT]
    assert report["plugin"] == str(shadow / "Qt" / "plugins" / "platforms" / "libqxcb.so")
    text = _run_with(shadow, tmp_path, "-m", "glimpse_desktop", "doctor").stdout
    assert f"1 missing on {report['distribution']}: {ABSENT}" in text


@pytest.mark.parametrize("display", [":99", ""])
def test_the_make_check_exits_with_the_command(tmp_path: Path, display: str) -> None:
    shadow = _broken_pyside(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY")}
    env.update(PYTHONPATH=str(shadow.parent), DISPLAY=display)
    run = subprocess.run([sys.executable, "-m", "glimpse_desktop.kernel.syslibs"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    if display:    # an X11 window would need it
        assert run.returncode == 1 and ABSENT in run.stderr
    else:          # no window to open here: nothing to say
        assert run.returncode == 0 and run.stderr == ""
