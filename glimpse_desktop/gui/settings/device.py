"""Settings, Device: where models run (CPU or an accelerator) and what is there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from glimpse_desktop.api import DeviceReport, Doctor, json_default
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import Page, run_task, wrapped
from glimpse_desktop.gui.tasks import Tasks, describe

# ---------------------------------------------------------------------- Device


class DevicePage(Page):
    title = "Device"
    subtitle = ("What runs the models on this computer. The search model runs on whichever "
                "runtime measured fastest here on your own photos, as long as it gives the "
                "same results as full precision.")

    def __init__(self, lib: Library, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.tasks = lib, tasks
        self.info: Doctor | None = None
        self._loading = False
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setHorizontalSpacing(16)
        self.form.setVerticalSpacing(10)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("search", "Search model runs on:"),
                           ("measured", "Measured:"),
                           ("device", "Best device:"),
                           ("faces", "Face models run on:"),
                           ("providers", "ONNX Runtime can use:"),
                           ("openvino", "OpenVINO can use:"),
                           ("torch", "PyTorch:"),
                           ("cpu", "CPU threads:"),
                           ("model", "Search model:"),
                           ("versions", "Versions:")):
            field = wrapped("Looking…" if key == "search" else "")
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = field
            self.form.addRow(label, field)
        self.body.addLayout(self.form)
        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy Details")
        self.copy_button.setToolTip("Everything this page says, for a bug report")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_details)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)

    def load(self) -> None:
        # Asking the devices starts onnxruntime and OpenVINO: only when shown.
        if self._loading or self.info is not None:
            return
        self._loading = True
        run_task(self, self.tasks, self.lib.doctor, done=self._show, failed=self._failed, read=True)

    def _show(self, info: Doctor) -> None:
        self._loading = False
        self.info = info
        dev: DeviceReport = info.devices
        chosen = dev.device
        search = info.search
        choice = search.runtime if search is not None else None
        if choice is not None:
            text = runtime_text(choice.runtime, choice.device, choice.precision)
            if choice.images_per_s is not None and choice.cosine is not None:
                text += (f" — {choice.images_per_s:.1f} images/s, cosine {choice.cosine:.4f} "
                         "to full precision")
            self.fields["search"].setText(f"{text}\n{choice.why}")
            self.fields["measured"].setText("\n".join(
                runtime_text(f.runtime, f.device, f.precision) + ": "
                + (f"{f.images_per_s:.1f} images/s, cosine {f.cosine:.4f}"
                   if f.images_per_s is not None and f.cosine is not None else "did not run")
                + (f" (not used: {f.problem})" if f.problem else "")
                for f in choice.candidates) or "not measured (chosen by a setting)")
        elif search is not None and search.runtime_why is not None:
            self.fields["search"].setText(search.runtime_why)
            self.fields["measured"].setText("not yet")
        else:
            self.fields["search"].setText("no search model installed")
            self.fields["measured"].setText("not yet")
        names = {"cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)", "coreml": "Apple (Core ML)",
                 "directml": "GPU (DirectML)", "gpu": "GPU (OpenVINO)"}
        self.fields["device"].setText(f"{names.get(chosen.chosen, chosen.chosen)}"
                                      f" — {chosen.why}")
        self.fields["faces"].setText(faces_text(info.faces.providers, info.faces.recogniser))
        available = dev.onnxruntime.providers or ()
        self.fields["providers"].setText(
            ", ".join(provider_name(p) for p in available) if available
            else f"onnxruntime {dev.onnxruntime.installed}")
        ov = dev.openvino
        self.fields["openvino"].setText(
            f"{ov.installed}: " + ", ".join(ov.devices) if ov.devices
            else f"openvino {ov.installed}")
        self.fields["torch"].setText(
            f"{dev.torch.installed} (used only to convert models)"
            if dev.torch.installed != "no"
            else "not installed (only needed to add an open_clip checkpoint by hand)")
        self.fields["cpu"].setText(f"{dev.cpu_threads or '?'} · {dev.cpu}")
        if search is not None and search.status.active:
            model = search.status.active
        elif search is not None and search.status.installed:
            model = f"{search.status.target} (photos are being read with it)"
        else:
            model = "not installed — search uses file names and text"
        self.fields["model"].setText(model)
        self.fields["versions"].setText(
            f"Glimpse {info.glimpse} · Python {info.python} · SQLite "
            f"{info.sqlite} · sqlite-vec {info.sqlite_vec} · Pillow "
            f"{info.pillow} · libheif {info.libheif}")
        self.copy_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.fields["search"].setText("")
        self.notice.warn(f"Could not ask the devices: {describe(exc)}")

    def copy_details(self) -> None:
        if self.info is not None:
            QGuiApplication.clipboard().setText(json.dumps(self.info, indent=2,
                                                           default=json_default))
            self.notice.say("Copied: paste it into your bug report.")


def provider_name(name: str) -> str:
    """'CUDAExecutionProvider' -> 'CUDA'."""
    return name.removesuffix("ExecutionProvider") or name


def faces_text(providers: Sequence[str], recogniser: str) -> str:
    """'Finding: ONNX Runtime on CPU · recognising: OpenVINO on CPU': the detector runs on
    onnxruntime's first provider; the recogniser on OpenVINO when it is the one chosen."""
    if not providers:
        return "not available"
    detector = f"ONNX Runtime on {provider_name(providers[0])}"
    recognising = "OpenVINO on CPU" if recogniser == "openvino" else detector
    return f"finding faces: {detector} · recognising them: {recognising}"


def runtime_text(runtime: str, device: str, precision: str) -> str:
    """'OpenVINO on CPU, bf16', 'ONNX Runtime on CUDA, fp32'."""
    name = {"openvino": "OpenVINO", "onnxruntime": "ONNX Runtime"}.get(runtime, runtime)
    return f"{name} on {provider_name(device)}, {precision}"


