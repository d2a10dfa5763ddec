"""Glimpse Desktop: a local-first photo manager."""

import os as _os

__version__ = "0.1.0"
APP_NAME = "glimpse-desktop"

# onnxruntime's native library starts Microsoft's telemetry (1DS) as it loads unless this is
# set: it must be in the environment before any module (ours, or a package's) imports it.
# See ml/runtime.py.
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"
