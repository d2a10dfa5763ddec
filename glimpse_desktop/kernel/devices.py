"""Which compute device Glimpse would use, and why: CUDA, then Apple MPS, then the CPU.

Imports are lazy: torch takes seconds to import and is not needed to report that it is absent.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # a broken install is worth reporting, not crashing on
        return f"broken ({type(exc).__name__}: {exc})"
    return str(getattr(mod, "__version__", "unknown"))


def describe() -> dict[str, Any]:
    """Torch and ONNX Runtime devices, for the doctor report."""
    report: dict[str, Any] = {"cpu_threads": os.cpu_count()}
    torch_version = _version("torch")
    torch_info: dict[str, Any] = {"installed": torch_version or "no"}
    chosen, why = "cpu", "no GPU runtime installed"
    if torch_version and not torch_version.startswith("broken"):
        import torch

        cuda = bool(torch.cuda.is_available())
        mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
        torch_info["cuda"] = cuda
        torch_info["mps"] = mps
        if cuda:
            chosen, why = "cuda", torch.cuda.get_device_name(0)
        elif mps:
            chosen, why = "mps", "Apple GPU (Metal)"
        else:
            why = "torch sees no CUDA or MPS device"
    report["torch"] = torch_info
    ort_version = _version("onnxruntime")
    ort: dict[str, Any] = {"installed": ort_version or "no"}
    if ort_version and not ort_version.startswith("broken"):
        from glimpse_desktop.kernel import runtime

        # Only those Glimpse would use: the Azure provider every wheel lists runs models on a
        # remote service, which is never what "device" means here.
        ort["providers"] = runtime.available_providers()
    report["onnxruntime"] = ort
    report["device"] = {"chosen": chosen, "why": why}
    return report
