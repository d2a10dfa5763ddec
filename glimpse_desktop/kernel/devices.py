"""Which compute device Glimpse would use, and why: CUDA, then Apple MPS, then the CPU.

Imports are lazy: torch takes seconds to import and is not needed to report that it is absent.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from typing import Any

__all__ = ["DeviceChoice", "DeviceReport", "OnnxDevices", "TorchDevices", "describe"]


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # a broken install is worth reporting, not crashing on
        return f"broken ({type(exc).__name__}: {exc})"
    return str(getattr(mod, "__version__", "unknown"))


@dataclass(frozen=True, slots=True)
class TorchDevices:
    """What PyTorch sees. ``installed``: its version, 'no', or 'broken (why)'. ``cuda``,
    ``mps``: it sees an NVIDIA (CUDA) or Apple (Metal) GPU; None when torch could not be
    asked (not installed, or broken)."""

    installed: str
    cuda: bool | None = None
    mps: bool | None = None


@dataclass(frozen=True, slots=True)
class OnnxDevices:
    """What ONNX Runtime offers. ``installed``: its version, 'no', or 'broken (why)'.
    ``providers``: the execution providers Glimpse would use, best first
    ('CUDAExecutionProvider', ..., 'CPUExecutionProvider'); None when it could not be asked.
    """

    installed: str
    providers: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """The device search models run on: ``chosen`` ('cuda', 'mps' or 'cpu') and ``why``
    (the GPU's name, or why there is none)."""

    chosen: str
    why: str


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """The compute devices of this computer, for the doctor report and the Settings page.

    ``cpu_threads``: logical CPUs (None when the system does not say). ``torch``,
    ``onnxruntime``: what each runtime sees. ``device``: the device Glimpse would use.
    """

    cpu_threads: int | None
    torch: TorchDevices
    onnxruntime: OnnxDevices
    device: DeviceChoice

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: a runtime's GPU flags and providers only when it was asked."""
        torch: dict[str, Any] = {"installed": self.torch.installed}
        if self.torch.cuda is not None:
            torch["cuda"] = self.torch.cuda
        if self.torch.mps is not None:
            torch["mps"] = self.torch.mps
        ort: dict[str, Any] = {"installed": self.onnxruntime.installed}
        if self.onnxruntime.providers is not None:
            ort["providers"] = list(self.onnxruntime.providers)
        return {"cpu_threads": self.cpu_threads, "torch": torch, "onnxruntime": ort,
                "device": {"chosen": self.device.chosen, "why": self.device.why}}


def describe() -> DeviceReport:
    """Torch and ONNX Runtime devices, for the doctor report."""
    torch_version = _version("torch")
    torch_info = TorchDevices(installed=torch_version or "no")
    chosen, why = "cpu", "no GPU runtime installed"
    if torch_version and not torch_version.startswith("broken"):
        import torch

        cuda = bool(torch.cuda.is_available())
        mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
        torch_info = TorchDevices(installed=torch_version, cuda=cuda, mps=mps)
        if cuda:
            chosen, why = "cuda", torch.cuda.get_device_name(0)
        elif mps:
            chosen, why = "mps", "Apple GPU (Metal)"
        else:
            why = "torch sees no CUDA or MPS device"
    ort_version = _version("onnxruntime")
    ort = OnnxDevices(installed=ort_version or "no")
    if ort_version and not ort_version.startswith("broken"):
        from glimpse_desktop.kernel import runtime

        # Only those Glimpse would use: the Azure provider every wheel lists runs models on a
        # remote service, which is never what "device" means here.
        ort = OnnxDevices(installed=ort_version,
                          providers=tuple(runtime.available_providers()))
    return DeviceReport(cpu_threads=os.cpu_count(), torch=torch_info, onnxruntime=ort,
                        device=DeviceChoice(chosen=chosen, why=why))
