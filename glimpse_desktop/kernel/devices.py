"""Which compute devices Glimpse can use, and why: what ONNX Runtime and OpenVINO see.

torch is not a runtime of Glimpse any more (it converts models, with the ``torch`` extra): it
is reported as installed or not from its package metadata, never imported (that takes
seconds, and loads CUDA libraries for nothing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from glimpse_desktop.kernel import runtime

__all__ = ["DeviceChoice", "DeviceReport", "OnnxDevices", "OpenVinoDevices", "TorchDevices",
           "describe"]


@dataclass(frozen=True, slots=True)
class TorchDevices:
    """PyTorch, used only to convert open_clip models to ONNX. ``installed``: its version or
    'no' (read from the package metadata, without importing it)."""

    installed: str


@dataclass(frozen=True, slots=True)
class OnnxDevices:
    """What ONNX Runtime offers. ``installed``: its version, 'no', or 'broken (why)'.
    ``providers``: the execution providers Glimpse would use, best first
    ('CUDAExecutionProvider', ..., 'CPUExecutionProvider'); None when it could not be asked.
    """

    installed: str
    providers: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class OpenVinoDevices:
    """What OpenVINO sees. ``installed``: its version, 'no', or 'broken (why)'. ``devices``:
    its devices as 'CPU: <name>', 'GPU: <name>'; None when it could not be asked."""

    installed: str
    devices: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """The best accelerator the runtimes see: ``chosen`` ('cuda', 'coreml', 'directml',
    'gpu' (OpenVINO's) or 'cpu') and ``why`` (its name, or why there is none). Which runtime
    runs the image model on it is measured (the search part of the doctor report)."""

    chosen: str
    why: str


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """The compute devices of this computer, for the doctor report and the Settings page.

    ``cpu_threads``: logical CPUs (None when the system does not say). ``cpu``: the CPU's
    name. ``torch``, ``onnxruntime``, ``openvino``: what each package is and sees.
    ``device``: the best device the runtimes see.
    """

    cpu_threads: int | None
    cpu: str
    torch: TorchDevices
    onnxruntime: OnnxDevices
    openvino: OpenVinoDevices
    device: DeviceChoice

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: a runtime's providers or devices only when it was asked."""
        ort: dict[str, Any] = {"installed": self.onnxruntime.installed}
        if self.onnxruntime.providers is not None:
            ort["providers"] = list(self.onnxruntime.providers)
        ov: dict[str, Any] = {"installed": self.openvino.installed}
        if self.openvino.devices is not None:
            ov["devices"] = list(self.openvino.devices)
        return {"cpu_threads": self.cpu_threads, "cpu": self.cpu,
                "torch": {"installed": self.torch.installed}, "onnxruntime": ort,
                "openvino": ov, "device": {"chosen": self.device.chosen, "why": self.device.why}}


def _onnxruntime() -> OnnxDevices:
    # The GPU and DirectML builds are other distributions of the same `onnxruntime` module.
    version = next((found for name in ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml")
                    if (found := runtime.package_version(name)) is not None), None)
    if version is None:
        return OnnxDevices(installed="no")
    try:
        # Only those Glimpse would use: the Azure provider every wheel lists runs models on a
        # remote service, which is never what "device" means here.
        return OnnxDevices(installed=version, providers=tuple(runtime.available_providers()))
    except Exception as exc:  # a broken install is worth reporting, not crashing on
        return OnnxDevices(installed=f"broken ({type(exc).__name__}: {exc})")


def _openvino() -> tuple[OpenVinoDevices, dict[str, str]]:
    version = runtime.package_version("openvino")
    if version is None:
        return OpenVinoDevices(installed="no"), {}
    try:
        found = runtime.openvino_devices()
    except Exception as exc:  # a broken install is worth reporting, not crashing on
        return OpenVinoDevices(installed=f"broken ({type(exc).__name__}: {exc})"), {}
    return (OpenVinoDevices(installed=version,
                            devices=tuple(f"{k}: {v}" for k, v in found.items())), found)


def describe() -> DeviceReport:
    """ONNX Runtime and OpenVINO devices, for the doctor report (torch is not imported)."""
    ort = _onnxruntime()
    ov, ov_devices = _openvino()
    providers = ort.providers or ()
    gpus = runtime.gpu_names()
    cpu = runtime.cpu_name()
    ov_gpu = next((name for device, name in ov_devices.items() if device.startswith("GPU")),
                  None)
    if "CUDAExecutionProvider" in providers or "TensorrtExecutionProvider" in providers:
        choice = DeviceChoice("cuda", gpus[0] if gpus else "NVIDIA GPU (CUDA)")
    elif "CoreMLExecutionProvider" in providers:
        choice = DeviceChoice("coreml", "Apple GPU and Neural Engine (Core ML)")
    elif "DmlExecutionProvider" in providers:
        choice = DeviceChoice("directml", "GPU through DirectML")
    elif ov_gpu is not None:
        choice = DeviceChoice("gpu", f"{ov_gpu} (OpenVINO)")
    else:
        choice = DeviceChoice("cpu", f"{cpu}: no runtime here sees a GPU")
    return DeviceReport(cpu_threads=os.cpu_count(), cpu=cpu,
                        torch=TorchDevices(installed=runtime.package_version("torch") or "no"),
                        onnxruntime=ort, openvino=ov, device=choice)
