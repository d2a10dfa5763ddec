"""ONNX Runtime and OpenVINO, each imported one way: telemetry off, only the execution
providers Glimpse uses, and thread teams that share the cores instead of spinning against each
other.

onnxruntime's wheels carry Microsoft's 1DS telemetry: imported with nothing else done, a
process resolves and calls mobile.events.data.microsoft.com a few seconds later. The package's
``__init__`` sets ``ORT_DISABLE_TELEMETRY`` before anything can import onnxruntime (the native
library reads it when it loads); ``onnxruntime()`` also turns telemetry events off through the
API before the first session. Providers that reach a network (the Azure execution provider,
listed by every wheel) are never listed, passed to a session or shown.

OpenVINO's Python package sends a Google Analytics event *when it is imported* (its converter,
``openvino.tools.ovc``, which ``import openvino`` loads, calls ``openvino_telemetry`` unless a
consent file in the person's home says no). ``openvino()`` blocks the ``openvino_telemetry``
module before the first import, so OpenVINO falls back to its own no-op stub (what it uses
when that package is not installed): nothing is counted, written to ``~/intel`` or sent.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sys
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["OPENVINO_TELEMETRY", "TELEMETRY_ENV", "USED_PROVIDERS", "available_providers",
           "cpu_name", "gpu_names", "onnxruntime", "openvino", "openvino_core",
           "openvino_devices", "openvino_usable", "package_version", "session_options"]

TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"
OPENVINO_TELEMETRY = "openvino_telemetry"
# Best first. TensorRT only where its libraries are installed (onnxruntime-gpu lists the
# provider either way, and a session asking for it without them logs errors and falls back).
# Anything else a wheel offers (AzureExecutionProvider: remote inference) is left out on
# purpose.
USED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider",
                  "CoreMLExecutionProvider", "DmlExecutionProvider",
                  "OpenVINOExecutionProvider", "CPUExecutionProvider")

_lock = threading.Lock()
_ready = False
_core: Any = None


def onnxruntime() -> ModuleType:
    """The onnxruntime module, with telemetry off for this process."""
    global _ready
    os.environ[TELEMETRY_ENV] = "1"
    import onnxruntime

    module: ModuleType = onnxruntime
    with _lock:
        if not _ready:
            module.disable_telemetry_events()
            _ready = True
    return module


def available_providers() -> list[str]:
    """The execution providers of this install that Glimpse uses, best first."""
    offered = set(onnxruntime().get_available_providers())
    if "TensorrtExecutionProvider" in offered and not _tensorrt_installed():
        offered.discard("TensorrtExecutionProvider")
    return [p for p in USED_PROVIDERS if p in offered]


def _tensorrt_installed() -> bool:
    """TensorRT's libraries can be found (the pip wheels, or a system install)."""
    if any(importlib.util.find_spec(name) is not None
           for name in ("tensorrt_libs", "tensorrt")):
        return True
    import ctypes.util

    return ctypes.util.find_library("nvinfer") is not None


def session_options(threads: int) -> Any:
    """ONNX Runtime session options every Glimpse session uses: ``threads`` intra-op threads
    (from ``kernel.threads.budget()``), one inter-op thread, sequential execution, and no
    spin-waiting: a team that spins between runs takes the cores the decoders and the other
    models' teams need (measured: two spinning teams halved indexing throughput)."""
    ort = onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: ORT's warnings are not for the person
    return options


def openvino() -> ModuleType:
    """The openvino module, imported with its telemetry blocked (see the module docstring)."""
    if "openvino" not in sys.modules and OPENVINO_TELEMETRY not in sys.modules:
        # A None entry makes `import openvino_telemetry` raise ImportError: OpenVINO then uses
        # its own stub. Once it has been imported by someone else this is too late, which is
        # why everything in Glimpse imports openvino through here.
        sys.modules[OPENVINO_TELEMETRY] = None  # type: ignore[assignment]
    import openvino

    module: ModuleType = openvino
    return module


def openvino_core() -> Any:
    """The process's one ``openvino.Core`` (it owns the plugins and their thread pools).
    RuntimeError in a child forked after the parent started OpenVINO (``openvino_usable``)."""
    global _core
    with _lock:
        if _forked_after_openvino:
            raise RuntimeError("OpenVINO cannot run in a process forked after OpenVINO "
                               "started its threads (a compile would hang)")
        if _core is None:
            _core = openvino().Core()
        return _core


def openvino_usable() -> bool:
    """False in a child forked after this process started OpenVINO: its thread pools do not
    survive fork() (compiling a model there hangs), so ONNX Runtime runs the models there."""
    return not _forked_after_openvino


_forked_after_openvino = False


def _after_fork_in_child() -> None:
    global _forked_after_openvino, _lock
    _lock = threading.Lock()          # it may have been held by another thread at fork()
    if _core is not None:
        _forked_after_openvino = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def openvino_devices() -> dict[str, str]:
    """OpenVINO's devices on this computer ('CPU', 'GPU', 'GPU.1', ...) and their names."""
    core = openvino_core()
    out: dict[str, str] = {}
    for device in core.available_devices:
        try:
            out[str(device)] = str(core.get_property(device, "FULL_DEVICE_NAME"))
        except RuntimeError:  # a device whose plugin cannot answer still counts
            out[str(device)] = str(device)
    return out


def package_version(name: str) -> str | None:
    """An installed distribution's version without importing it (None when absent): asking
    must not cost torch's seconds of import, nor start a runtime."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@cache
def cpu_name() -> str:
    """The CPU's model name (what a measurement on it is remembered by)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def gpu_names() -> tuple[str, ...]:
    """NVIDIA GPUs the driver reports (Linux, without CUDA or torch loaded); empty elsewhere
    (OpenVINO and the providers name their own devices)."""
    names: list[str] = []
    root = Path("/proc/driver/nvidia/gpus")
    try:
        folders = sorted(root.iterdir())
    except OSError:
        return ()
    for folder in folders:
        try:
            for line in (folder / "information").read_text("utf-8", "replace").splitlines():
                if line.startswith("Model:"):
                    names.append(line.split(":", 1)[1].strip())
        except OSError:
            continue
    return tuple(names)
