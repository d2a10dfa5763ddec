"""Glimpse Desktop: a local-first photo manager."""

import os as _os

__version__ = "0.1.0"
APP_NAME = "glimpse-desktop"

# onnxruntime's native library starts Microsoft's telemetry (1DS) as it loads unless this is
# set: it must be in the environment before any module (ours, or a package's) imports it.
# See kernel/runtime.py.
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"
# An OpenMP team that spin-waits between parallel regions takes the cores other runtimes'
# teams (ONNX Runtime, OpenVINO, OpenCV) need: measured, indexing with faces on ran at 0.35 of
# faces off until torch's team stopped spinning. Read when an OpenMP runtime loads, so set here
# first; a person's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
