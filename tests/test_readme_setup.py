"""The README's set-up commands name the versions constraints.txt pins, and the Makefile's
GPU build the same: a bump of a pin cannot leave an install command behind."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[name.lower()] = version
    return pins


def test_the_gpu_and_cpu_only_commands_name_the_pinned_versions() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The GPU build", 1)[1].split("\n### ", 1)[0]
    pins = _pins()
    gpu = set(re.findall(r"onnxruntime-gpu(?:\[[a-z,]+\])?==([\w.]+)", section))
    assert gpu == {pins["onnxruntime"]}
    assert f"({pins['onnxruntime']} now)" in section
    assert set(re.findall(r"torch ([\d.]+)\+cpu", section)) == {pins["torch"]}


def test_make_installs_the_gpu_build_at_the_pinned_version() -> None:
    printed = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "show-ort: ; @echo '$(ORT_GPU)'",
         "show-ort"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert printed.strip() == f"onnxruntime-gpu[cuda,cudnn]=={_pins()['onnxruntime']}"
