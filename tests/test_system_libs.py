"""The system libraries the window needs on Linux: asked of the real dynamic loader (ldd) for
the installed PySide6's X11 plugin, and a missing one named with its distribution's package.

A missing library is made real, not pretended: a copy of the plugin whose dependency on
libxcb-icccm.so.4 is renamed, in the ELF file itself, to a library no system has. ldd reports
it "not found" exactly as on the minimal Debian that lacked libxcb-icccm4."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glimpse_desktop.kernel import syslibs
from glimpse_desktop.kernel.syslibs import (
    MANAGERS,
    PACKAGES,
    WINDOW,
    check,
    everything,
    install_command,
    os_release,
    package_manager,
)

ABSENT = "libnowhere.so.4"
ABSENT_PACKAGES = {**PACKAGES, ABSENT: ("nowhere4", "nowhere", "nowhere-libs", "libnowhere4")}
ROOT = os.geteuid() == 0
README = Path(__file__).resolve().parent.parent / "README.md"
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
    # What the README lists is what the plugin needs, not a guess.
    assert sorted(set(WINDOW) - set(syslibs.resolve([plugin]))) == []


def test_a_missing_library_is_named_with_the_command_that_installs_its_package(
        tmp_path: Path) -> None:
    plugin = _broken_pyside(tmp_path) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    apt = ("DEBIAN_FRONTEND=noninteractive apt-get install -y -q nowhere4 || { apt-get update -q"
           " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nowhere4; }"
           if ROOT else "sudo apt-get install nowhere4")
    dnf = "dnf install -y nowhere" if ROOT else "sudo dnf install nowhere"
    pacman = ("pacman -S --noconfirm --needed nowhere-libs || "
              "pacman -Syu --noconfirm --needed nowhere-libs"
              if ROOT else "sudo pacman -S nowhere-libs")
    zypper = ("zypper --non-interactive install libnowhere4" if ROOT
              else "sudo zypper install libnowhere4")
    commands = {"debian": apt, "mint": apt, "fedora": dnf, "rocky": dnf, "arch": pacman,
                "manjaro": pacman, "tumbleweed": zypper}
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
    assert fedora.install == (f"dnf install -y '{ABSENT}()(64bit)'" if ROOT
                              else f"sudo dnf install '{ABSENT}()(64bit)'")
    unknown = check(plugin, release=_release(tmp_path, "nixos"))
    assert unknown.manager is None and unknown.install is None
    assert unknown.missing == (ABSENT,)


def test_install_commands_name_the_packages_of_the_libraries_debian_lacked() -> None:
    missing = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0",
               "libxkbcommon-x11.so.0"]
    apt = "libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0"
    xcb_util = "xcb-util-wm xcb-util-keysyms xcb-util-cursor libxkbcommon-x11"
    expected = {   # (as a person runs it, as root runs it unattended)
        "apt": (f"sudo apt-get install {apt}",
                f"DEBIAN_FRONTEND=noninteractive apt-get install -y -q {apt} || "
                f"{{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                f"{apt}; }}"),
        "dnf": (f"sudo dnf install {xcb_util}", f"dnf install -y {xcb_util}"),
        "pacman": (f"sudo pacman -S {xcb_util}",
                   f"pacman -S --noconfirm --needed {xcb_util} || "
                   f"pacman -Syu --noconfirm --needed {xcb_util}"),
        "zypper": (f"sudo zypper install {apt}", f"zypper --non-interactive install {apt}"),
    }
    for manager, (as_user, as_root) in expected.items():
        assert install_command(missing, manager, root=False)[2] == as_user  # type: ignore[arg-type]
        assert install_command(missing, manager, root=True)[2] == as_root   # type: ignore[arg-type]


# Stand-ins for the four package managers, as they behave in a fresh container: apt-get and
# pacman know no package until their lists are fetched (apt-get update, pacman -Sy...); dnf
# and zypper fetch their metadata themselves. Each refuses to install without being told not
# to ask (there is no terminal to answer on) and logs what it was run with.
_FAKE = r"""#!/bin/sh
echo "$(basename "$0") DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} $*" >>"$FAKE_DIR/log"
case "$(basename "$0") $*" in
  "apt-get update"*) touch "$FAKE_DIR/lists"; exit 0 ;;
  "pacman -Syu"*) touch "$FAKE_DIR/lists" ;;
esac
case "$(basename "$0") $*" in
  "apt-get install -y"*|"pacman -S --noconfirm"*|"pacman -Syu --noconfirm"*)
    [ -e "$FAKE_DIR/lists" ] || { echo "E: Unable to locate package" >&2; exit 100; } ;;
  "dnf install -y"*|"zypper --non-interactive install"*) ;;
  *) echo "would ask: Do you want to continue? [Y/n] (no terminal)" >&2; exit 1 ;;
esac
exit 0
"""


def _run_unattended(tmp_path: Path, command: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("apt-get", "dnf", "pacman", "zypper"):
        (bin_dir / name).write_text(_FAKE, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DEBIAN_FRONTEND"}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", FAKE_DIR=str(tmp_path))
    run = subprocess.run(["sh", "-c", command], env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, (command, run.stderr)
    return log.read_text(encoding="utf-8").splitlines()


def test_as_root_the_command_installs_unattended_in_a_fresh_container(tmp_path: Path) -> None:
    missing = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    apt = install_command(missing, "apt", root=True)[2]
    assert apt is not None
    # No package lists yet: the install fails, the lists are fetched, the install is retried.
    assert _run_unattended(tmp_path, apt) == [
        "apt-get DEBIAN_FRONTEND=noninteractive install -y -q libxcb-icccm4 libxcb-keysyms1",
        "apt-get DEBIAN_FRONTEND= update -q",
        "apt-get DEBIAN_FRONTEND=noninteractive install -y -q libxcb-icccm4 libxcb-keysyms1",
    ]
    # With lists, one install.
    assert _run_unattended(tmp_path, apt) == [
        "apt-get DEBIAN_FRONTEND=noninteractive install -y -q libxcb-icccm4 libxcb-keysyms1"]
    (tmp_path / "lists").unlink()
    pacman = install_command(missing, "pacman", root=True)[2]
    assert pacman is not None
    assert _run_unattended(tmp_path, pacman) == [
        "pacman DEBIAN_FRONTEND= -S --noconfirm --needed xcb-util-wm xcb-util-keysyms",
        "pacman DEBIAN_FRONTEND= -Syu --noconfirm --needed xcb-util-wm xcb-util-keysyms"]
    for manager in ("dnf", "zypper"):
        (tmp_path / "lists").unlink(missing_ok=True)
        command = install_command(missing, manager, root=True)[2]
        assert command is not None
        assert len(_run_unattended(tmp_path, command)) == 1, manager
    # What a person runs asks first: run unattended, the stand-ins refuse it.
    as_user = install_command(missing, "apt", root=False)[2]
    assert as_user is not None
    with pytest.raises(AssertionError, match="would ask"):
        _run_unattended(tmp_path, as_user.removeprefix("sudo "))


def _readme_commands() -> dict[str, str]:
    """The install commands in the README's "System libraries (Linux)" section, by package
    manager, each joined onto one line."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### System libraries (Linux)", 1)[1].split("\n## ", 1)[0]
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", section, flags=re.S))
    lines = re.sub(r"\\\n\s*", " ", blocks).splitlines()
    prefixes = {"apt": "sudo apt-get install ", "dnf": "sudo dnf install ",
                "pacman": "sudo pacman -S ", "zypper": "sudo zypper install "}
    found: dict[str, str] = {}
    for line in lines:
        line = " ".join(line.split("#", 1)[0].split())
        for manager, prefix in prefixes.items():
            if line.startswith(prefix):
                assert manager not in found, f"two {manager} commands in the README"
                found[manager] = line
    return found


def test_the_readme_lists_what_the_check_would_install_on_each_distribution() -> None:
    expected = {manager: everything(manager) for manager in MANAGERS}
    assert _readme_commands() == expected, (
        "README.md, System libraries: make its commands `python -m "
        "glimpse_desktop.kernel.syslibs --all` prints:\n" + "\n".join(expected.values()))
    printed = subprocess.run([sys.executable, "-m", "glimpse_desktop.kernel.syslibs", "--all"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert printed.splitlines() == [f"{m}: {c}" for m, c in expected.items()]


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
