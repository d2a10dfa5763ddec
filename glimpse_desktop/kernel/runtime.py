"""ONNX Runtime, imported one way: its telemetry off, and only the execution providers Glimpse
uses.

onnxruntime's wheels carry Microsoft's 1DS telemetry: imported with nothing else done, a
process resolves and calls mobile.events.data.microsoft.com a few seconds later. The package's
``__init__`` sets ``ORT_DISABLE_TELEMETRY`` before anything can import onnxruntime (the native
library reads it when it loads); ``onnxruntime()`` also turns telemetry events off through the
API before the first session. Providers that reach a network (the Azure execution provider,
listed by every wheel) are never listed, passed to a session or shown.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

__all__ = ["TELEMETRY_ENV", "USED_PROVIDERS", "available_providers", "onnxruntime"]

TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"
# Best first. Anything else a wheel offers (AzureExecutionProvider: remote inference) is left
# out on purpose.
USED_PROVIDERS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider",
                  "CPUExecutionProvider")

_lock = threading.Lock()
_ready = False


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
    return [p for p in USED_PROVIDERS if p in offered]
