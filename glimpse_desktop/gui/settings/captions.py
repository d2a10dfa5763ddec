"""Settings, Captions: captions written by a vision model. Photos are sent to a
service the person chose, so it is off until they turn it on, and turning it on
shows exactly what is sent and to whom first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from glimpse_desktop.api import Consent, Destination, Estimate, Setting
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import ask, run_task, wrapped
from glimpse_desktop.gui.settings.jobpage import (
    CUSTOM,
    SERVICES,
    JobPage,
    indent,
    money,
    on_decline,
)
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks, describe
from glimpse_desktop.kernel.progress import Progress

# ---------------------------------------------------------------------- Captions


@dataclass(frozen=True, slots=True)
class CaptionSettings:
    """What the page shows, read in one go off the GUI thread: every setting by name, where
    captions would go, and whether the person agreed to that."""

    settings: dict[str, Setting]
    destination: Destination
    consented: bool


class CaptionsPage(JobPage):
    title = "Captions"
    subtitle = ("A vision model can describe each photo — what is in it, the scene, the mood, "
                "the composition, any text — so search finds it by more words. This sends "
                "copies of your photos to the service you choose, so it stays off until you "
                "turn it on.")

    captions_changed = Signal()

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(jobs, parent)
        self.lib, self.tasks = lib, tasks
        self.info: CaptionSettings | None = None
        self._loading = False

        self.enabled = QCheckBox("Write captions with a vision model")
        self.enabled.toggled.connect(self._enabled_toggled)
        self.body.addWidget(self.enabled)
        self.enabled_note = wrapped("", secondary=True)
        indent(self.enabled_note, self)
        self.body.addWidget(self.enabled_note)

        service = QGroupBox("Service")
        form = QFormLayout(service)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.service = QComboBox()
        for name, url, _model in SERVICES:
            self.service.addItem(name, url)
        self.service.addItem(CUSTOM, "")
        self.service.activated.connect(self._service_chosen)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("https://…/v1")
        self.base_url.editingFinished.connect(
            lambda: self._set_destination("caption.base_url", self.base_url.text().strip()))
        self.model = QLineEdit()
        self.model.setPlaceholderText("the service's name for a vision model")
        self.model.editingFinished.connect(
            lambda: self._set_destination("caption.model", self.model.text().strip()))
        key_row = QHBoxLayout()
        self.key_state = QLabel("")
        self.key_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_key_button = QPushButton("Set Key…")
        self.set_key_button.clicked.connect(self.ask_key)
        self.delete_key_button = QPushButton("Remove Key")
        self.delete_key_button.clicked.connect(self.delete_key)
        key_row.addWidget(self.key_state, 1)
        key_row.addWidget(self.set_key_button)
        key_row.addWidget(self.delete_key_button)
        form.addRow("Service:", self.service)
        form.addRow("Address:", self.base_url)
        form.addRow("Model:", self.model)
        form.addRow("API key:", key_row)
        self.env_note = wrapped("", secondary=True)
        form.addRow("", self.env_note)
        self.body.addWidget(service)

        sent = QGroupBox("What is sent")
        sent_form = QFormLayout(sent)
        sent_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # The prompt grows with the window; the number boxes keep their size.
        sent_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.max_edge = QSpinBox()
        self.max_edge.setRange(256, 4096)
        self.max_edge.setSingleStep(128)
        self.max_edge.setSuffix(" px")
        self.max_edge.setMinimumWidth(110)
        self.max_edge.editingFinished.connect(
            lambda: self._set_destination("caption.max_edge", self.max_edge.value()))
        self.send_metadata = QCheckBox("Also send the date and the place's name")
        self.send_metadata.setToolTip("Never the GPS coordinates or the file's EXIF")
        self.send_metadata.toggled.connect(
            lambda on: self._set_destination("caption.send_metadata", on))
        sent_form.addRow("A copy of each photo, at most:", self.max_edge)
        sent_form.addRow("", self.send_metadata)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(
            "Empty: Glimpse's own question, which asks for a one-sentence summary, the "
            "objects with their colours and places, the scene, the mood, the photographic "
            "techniques and any visible text, as JSON.")
        self.prompt.setFixedHeight(84)
        prompt_row = QHBoxLayout()
        self.save_prompt_button = QPushButton("Save Prompt")
        self.save_prompt_button.clicked.connect(
            lambda: self._set("caption.prompt", self.prompt.toPlainText().strip()))
        self.default_prompt_button = QPushButton("Use Glimpse's Prompt")
        self.default_prompt_button.clicked.connect(self._default_prompt)
        prompt_row.addStretch(1)
        prompt_row.addWidget(self.default_prompt_button)
        prompt_row.addWidget(self.save_prompt_button)
        sent_form.addRow("Prompt:", self.prompt)
        sent_form.addRow("", prompt_row)
        self.body.addWidget(sent)

        pace = QGroupBox("Pace and cost")
        pace_form = QFormLayout(pace)
        pace_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        pace_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 32)
        self.concurrency.setMinimumWidth(110)
        self.concurrency.editingFinished.connect(
            lambda: self._set("caption.concurrency", self.concurrency.value()))
        self.rpm = QSpinBox()
        self.rpm.setRange(1, 100_000)
        self.rpm.setSuffix(" a minute")
        self.rpm.setMinimumWidth(140)
        self.rpm.editingFinished.connect(lambda: self._set("caption.rpm", self.rpm.value()))
        self.max_cost = QDoubleSpinBox()
        self.max_cost.setRange(0, 100_000)
        self.max_cost.setDecimals(2)
        self.max_cost.setPrefix("$")
        self.max_cost.setSpecialValueText("No limit")
        self.max_cost.setMinimumWidth(110)
        self.max_cost.editingFinished.connect(
            lambda: self._set("caption.max_cost", self.max_cost.value()))
        pace_form.addRow("Requests at once:", self.concurrency)
        pace_form.addRow("At most:", self.rpm)
        pace_form.addRow("Stop a run at:", self.max_cost)
        self.body.addWidget(pace)

        self.auto = QCheckBox("Caption new photos as they arrive")
        self.auto.toggled.connect(lambda on: self._set("caption.auto", on))
        self.body.addWidget(self.auto)
        auto_note = wrapped("In the background, after Glimpse has read them; photos that "
                             "already have a caption (yours, or from another app) are left "
                             "as they are. A caption already paid for is never asked again.",
                             secondary=True)
        indent(auto_note, self)
        self.body.addWidget(auto_note)

        actions = QHBoxLayout()
        self.run_button = QPushButton("Caption Photos Now…")
        self.run_button.clicked.connect(self.caption_now)
        actions.addStretch(1)
        actions.addWidget(self.run_button)
        self.body.addLayout(actions)
        self.body.addWidget(self.run_note)
        self.body.addWidget(self.notice)
        self.body.addStretch(1)
        self._controls = (self.enabled, self.service, self.base_url, self.model,
                          self.set_key_button, self.delete_key_button, self.max_edge,
                          self.send_metadata, self.prompt, self.save_prompt_button,
                          self.default_prompt_button, self.concurrency, self.rpm,
                          self.max_cost, self.auto, self.run_button)
        for widget in self._controls:
            widget.setEnabled(False)     # until the library's values are read

    # ------------------------------------------------------------------ reading

    def load(self) -> None:
        lib = self.lib

        def read() -> CaptionSettings:
            return CaptionSettings(
                settings={item.name: item for item in lib.config.items()},
                destination=lib.captions.destination(), consented=lib.captions.consented())

        run_task(self, self.tasks, read, done=self._show, failed=self._failed, read=True)

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the caption settings: {describe(exc)}")

    def value(self, name: str) -> Any:
        return self.info.settings[name].value if self.info is not None else None

    def _show(self, info: CaptionSettings) -> None:
        self.info = info
        self._loading = True
        try:
            settings = info.settings
            self.enabled.setChecked(bool(self.value("caption.enabled")))
            url = str(self.value("caption.base_url"))
            self.base_url.setText(url)
            self.model.setText(str(self.value("caption.model")))
            index = next((i for i, (_n, u, _m) in enumerate(SERVICES)
                          if u.rstrip("/") == url.rstrip("/")), len(SERVICES))
            self.service.setCurrentIndex(index)
            self.max_edge.setValue(int(self.value("caption.max_edge")))
            self.send_metadata.setChecked(bool(self.value("caption.send_metadata")))
            if not self.prompt.hasFocus():
                self.prompt.setPlainText(str(self.value("caption.prompt")))
            self.concurrency.setValue(int(self.value("caption.concurrency")))
            self.rpm.setValue(int(self.value("caption.rpm")))
            self.max_cost.setValue(float(self.value("caption.max_cost")))
            self.auto.setChecked(bool(self.value("caption.auto")))
            for widget in self._controls:
                widget.setEnabled(self.job is None or widget is not self.run_button)
            overridden = [f"{item.env}" for item in settings.values()
                          if item.source == "environment" and item.name.startswith("caption.")]
            self.base_url.setEnabled(settings["caption.base_url"].source != "environment")
            self.service.setEnabled(self.base_url.isEnabled())
            self.model.setEnabled(settings["caption.model"].source != "environment")
            self.env_note.setText(
                "Set for this session by " + " and ".join(overridden) + "." if overridden
                else "")
            self.env_note.setVisible(bool(overridden))
            ready = bool(self.value("caption.enabled")) and info.consented
            self.run_button.setEnabled(self.job is None and ready)
            self.run_button.setToolTip("" if ready else "Turn captions on first")
        finally:
            self._loading = False
        self._show_destination()

    def _show_destination(self) -> None:
        if self.info is None:
            return
        dest = self.info.destination
        source = dest.key_source
        if dest.local:
            self.key_state.setText("Not needed: the service runs on this computer.")
        elif source == "keyring":
            self.key_state.setText("Kept in the system keyring.")
        elif source:
            self.key_state.setText(f"From the environment ({source}).")
        else:
            self.key_state.setText("None yet.")
        self.delete_key_button.setVisible(source == "keyring")
        self.set_key_button.setVisible(not dest.local)
        on = bool(self.value("caption.enabled"))
        host = dest.host or "the service"
        if not on:
            self.enabled_note.setText("Off: no photo leaves this computer.")
        elif not self.info.consented:
            self.enabled_note.setText(
                f"Waiting for your agreement to send photos to {host}: turn this off and on "
                "again to see what is sent.")
        elif dest.local:
            self.enabled_note.setText(f"On: photos go to {host}, on this computer.")
        else:
            self.enabled_note.setText(
                f"On: copies of your photos, at most {dest.max_edge} px, go to {host} "
                f"({dest.model}). Nothing else is sent"
                + (" but the date and the place's name." if dest.send_metadata
                   else "."))

    # ------------------------------------------------------------------ changing

    def _set(self, name: str, value: Any, then: Callable[[Any], None] | None = None) -> None:
        if self._loading or self.info is None:
            return
        if self.value(name) == value:
            return
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.config.set(name, value),
             done=then or (lambda _v: self.load()),
             failed=self._set_failed)

    def _set_destination(self, name: str, value: Any) -> None:
        """Where photos go, or what goes with them: agreement was for the old one, so it is
        asked again (declining turns captioning off)."""
        if self._loading or self.info is None or self.value(name) == value:
            return
        if not self.value("caption.enabled"):
            self._set(name, value)
            return
        self._set(name, value, then=lambda _v: self._reconsent())

    def _reconsent(self, *, always: bool = False) -> None:
        """Ask for agreement to what is sent now, read fresh (unless it was given already for
        exactly this, and ``always`` is off)."""
        lib = self.lib

        def read() -> tuple[bool, str, Consent]:
            return (lib.captions.consented(), lib.captions.consent_text(),
                    lib.captions.consent_record())

        def got(state: tuple[bool, str, Consent]) -> None:
            consented, text, record = state
            if consented and not always:
                self.load()
            else:
                self.ask_consent(text, record)

        run_task(self, self.tasks, read, done=got, read=True)

    def _service_chosen(self, index: int) -> None:
        url = str(self.service.itemData(index) or "")
        if not url:
            self.base_url.setFocus()
            self.base_url.selectAll()
            return
        model = SERVICES[index][2]
        self.base_url.setText(url)
        if self.info and self.info.settings["caption.model"].source != "environment":
            self.model.setText(model)
        lib = self.lib
        was_on = bool(self.value("caption.enabled"))

        def apply() -> None:
            lib.config.set("caption.base_url", url)
            if lib.config.describe("caption.model").source != "environment":
                lib.config.set("caption.model", model)

        run_task(self, self.tasks, apply,
             done=lambda _r: self._reconsent() if was_on else self.load(),
             failed=lambda exc: self.notice.warn(describe(exc)))

    def _set_failed(self, exc: BaseException) -> None:
        self.notice.warn(describe(exc))
        self.load()

    def _default_prompt(self) -> None:
        self.prompt.clear()
        self._set("caption.prompt", "")

    def _enabled_toggled(self, on: bool) -> None:
        if self._loading or self.info is None:
            return
        lib = self.lib
        if not on:
            run_task(self, self.tasks, lambda: lib.config.set("caption.enabled", False),
                 done=lambda _v: self.load(), failed=lambda exc: self.notice.warn(describe(exc)))
            return
        # Read what is sent now: an address typed a moment ago may still be on its way in.
        self._reconsent(always=True)

    def ask_consent(self, text: str, record: Consent) -> QMessageBox:
        """What is sent, and to whom; captioning is on only if the person agrees to exactly
        that (``record``: the destination the text describes)."""
        lib = self.lib
        host = urlparse(record.base_url).hostname or "the service"

        def agree() -> None:
            def apply() -> None:
                lib.captions.give_consent(expected=record)
                lib.config.set("caption.enabled", True)

            run_task(self, self.tasks, apply, done=lambda _v: self.load(),
                 failed=self._set_failed)

        box = ask(self, "Send photos for captions?",
                  f"Turn on captions with {host}?", text, f"Send to {host}", agree)
        on_decline(box, self._declined)
        self.consent_box = box
        return box

    def _declined(self) -> None:
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.config.set("caption.enabled", False),
             done=lambda _v: self.load())

    def ask_key(self) -> None:
        host = (self.info.destination.host if self.info is not None else "") or "the service"
        key, ok = QInputDialog.getText(
            self, "API Key", f"The API key for {host}. It is kept in the system keyring, "
            "never in the library or its settings.", QLineEdit.EchoMode.Password)
        if ok and key.strip():
            self.set_key(key.strip())

    def set_key(self, key: str) -> None:
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.captions.set_api_key(key),
             done=lambda _v: self._key_changed("Key saved in the system keyring."),
             failed=lambda exc: self.notice.warn(describe(exc)))

    def delete_key(self) -> None:
        lib = self.lib
        run_task(self, self.tasks, lib.captions.delete_api_key,
             done=lambda _v: self._key_changed("Key removed from the system keyring."),
             failed=lambda exc: self.notice.warn(describe(exc)))

    def _key_changed(self, message: str) -> None:
        self.notice.say(message)
        self.load()

    # ------------------------------------------------------------------ running

    def caption_now(self) -> None:
        """Say how many photos and what it may cost, then caption them as a job."""
        self.run_note.clear()
        lib = self.lib
        run_task(self, self.tasks, lambda: lib.captions.estimate(), done=self._confirm_run,
             failed=lambda exc: self.run_note.warn(describe(exc)), read=True)

    def _confirm_run(self, estimate: Estimate) -> None:
        to_send = estimate.to_send
        cached = estimate.cached
        if to_send == 0 and cached == 0:
            self.run_note.say("Every photo has a caption already.")
            return
        cost = estimate.cost_usd
        lines = [f"{to_send:,} photo{'s' if to_send != 1 else ''} to send"]
        if cached:
            lines.append(f"{cached:,} answered from captions already paid for")
        informative = (" · ".join(lines) + f".\nEstimated cost: {money(cost)}"
                       + (f" ({estimate.basis})" if estimate.basis else "") + ".")
        cap = float(self.value("caption.max_cost") or 0)
        if cap:
            informative += f"\nThe run stops at {money(cap)}."
        self.confirm_box = ask(self, "Caption photos", "Write captions now?", informative,
                               "Caption", self._start_run)

    def _start_run(self) -> None:
        self.start_run()

    def start_run(self) -> Job | None:
        lib = self.lib

        def work(progress: Any, cancel: Any) -> Any:
            progress(Progress("caption", "Writing captions", 0, None))
            return lib.captions.run(progress=progress, cancel=cancel)

        return self.start_job("Writing captions", self.run_button, work, self._ran)

    def _ran(self, report: Any) -> None:
        self.captions_changed.emit()
        if report is None:
            self.run_note.say("Stopped. The captions written so far are kept; run again to "
                              "go on.")
            return
        self.run_note.say(caption_summary(report))


def caption_summary(report: Any) -> str:
    """'Wrote 12 captions (3 from earlier replies) · 1 failed · $0.02.'"""
    captioned = int(getattr(report, "captioned", 0))
    parts = [f"Wrote {captioned:,} caption{'s' if captioned != 1 else ''}"]
    cached = int(getattr(report, "from_cache", 0))
    if cached:
        parts[0] += f" ({cached:,} from earlier replies)"
    failed = int(getattr(report, "failed", 0))
    if failed:
        parts.append(f"{failed:,} failed (see Problems)")
    cost = getattr(report, "cost_usd", None)
    if cost:
        parts.append(money(float(cost)))
    text = " · ".join(parts) + "."
    if getattr(report, "stopped_by_cap", False):
        text += " Stopped at the cost limit."
    return text


