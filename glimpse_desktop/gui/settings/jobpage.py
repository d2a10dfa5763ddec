"""What the Captions and Write-back pages share: a page that runs one long job at a
time through the window's jobs, the services a caption can come from, money.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QMessageBox,
    QPushButton,
    QStyle,
    QWidget,
)

from glimpse_desktop.gui.settings.common import Notice, Page
from glimpse_desktop.gui.tasks import Job, Jobs

SERVICES = (
    ("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
    ("Groq", "https://api.groq.com/openai/v1", "meta-llama/llama-4-scout-17b-16e-instruct"),
    ("OpenRouter", "https://openrouter.ai/api/v1", "openai/gpt-4o-mini"),
    ("Ollama on this computer", "http://localhost:11434/v1", "qwen2.5vl"),
    ("LM Studio on this computer", "http://localhost:1234/v1", "qwen2.5-vl-7b-instruct"),
)
CUSTOM = "Another service…"


def indent(widget: QWidget, owner: QWidget) -> None:
    """Line a note up with its check box's text."""
    indicator = owner.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
    spacing = owner.style().pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing)
    widget.setContentsMargins(indicator + spacing, 0, 0, 0)


def on_decline(box: QMessageBox, fn: Callable[[], None]) -> None:
    """Call ``fn`` when ``box`` (from ``ask``) closes any way but its accept button."""

    def finished() -> None:
        clicked = box.clickedButton()
        if clicked is None or box.buttonRole(clicked) not in (
                QMessageBox.ButtonRole.AcceptRole, QMessageBox.ButtonRole.DestructiveRole):
            fn()

    box.finished.connect(finished)


def money(value: float | None) -> str:
    """'$0.42', 'under $0.01', 'free', or 'unknown'."""
    if value is None:
        return "unknown"
    if value <= 0:
        return "free"
    if value < 0.01:
        return "under $0.01"
    return f"${value:,.2f}"


class JobPage(Page):
    """A page with a button that starts one long job at a time: the button waits while it
    runs, ``run_note`` says how it ended (the status bar shows its progress and Cancel)."""

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.job: Job | None = None
        self.run_note = Notice()

    def start_job(self, name: str, button: QPushButton,
                  work: Callable[[Any, Any], Any], finished: Callable[[Any], None]
                  ) -> Job | None:
        if self.job is not None:
            return None

        def ended() -> None:
            self.job = None
            button.setEnabled(True)

        def done(result: Any) -> None:
            ended()
            finished(result)

        def failed(why: str) -> None:
            ended()
            self.run_note.warn(why)

        button.setEnabled(False)
        self.run_note.say(f"{name}… (the status bar shows progress and can stop it)")
        # The page's callbacks go in with the job, connected before its thread starts: one
        # that ends at once (no API key) would otherwise signal before they were connected,
        # and the page would wait for it for ever.
        self.job = self.jobs.start(name, work, done=done, failed=failed)
        return self.job


