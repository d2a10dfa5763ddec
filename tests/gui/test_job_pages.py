"""A settings page's job that ends at once (refused before any work) still ends on the page.

Its thread may signal before the caller gets the job back: the page's callbacks go in with
the job, so the button comes back and the note says why, however the threads are scheduled.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from glimpse_desktop.api import LibraryError
from glimpse_desktop.gui.settings.jobpage import JobPage
from glimpse_desktop.gui.tasks import Jobs

WAIT = 10_000


@pytest.fixture
def threads_end_before_start_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduling a loaded machine gives at times: the job's thread runs to its end,
    its signals emitted, before ``Thread.start()`` returns to the page."""
    start = threading.Thread.start

    def start_and_finish(self: threading.Thread) -> None:
        start(self)
        self.join()

    monkeypatch.setattr(threading.Thread, "start", start_and_finish)


def _page(qtbot: QtBot) -> tuple[JobPage, QPushButton, Jobs]:
    jobs = Jobs()
    page = JobPage(jobs)
    button = QPushButton("Caption Photos Now…")
    qtbot.addWidget(page)
    qtbot.addWidget(button)
    # A real page lays its note out inside itself; here it is a window of its own, shown by
    # the page's first word, and it must close with the test (a visible window left open
    # keeps a later test's application from quitting when its last window closes).
    qtbot.addWidget(page.run_note)
    return page, button, jobs


@pytest.mark.usefixtures("threads_end_before_start_returns")
def test_a_job_refused_at_once_gives_the_button_back_and_says_why(qtbot: QtBot) -> None:
    page, button, _ = _page(qtbot)

    def work(progress: Any, cancel: Any) -> None:
        raise LibraryError("no API key for api.openai.com")

    assert page.start_job("Writing captions", button, work, lambda result: None) is not None
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT)
    assert button.isEnabled()
    assert page.run_note.text() == "No API key for api.openai.com"   # as the job said it


@pytest.mark.usefixtures("threads_end_before_start_returns")
def test_a_job_done_at_once_reaches_the_page(qtbot: QtBot) -> None:
    page, button, _ = _page(qtbot)
    results: list[Any] = []
    page.start_job("Writing metadata", button, lambda progress, cancel: 7, results.append)
    qtbot.waitUntil(lambda: results == [7], timeout=WAIT)
    assert page.job is None and button.isEnabled()
