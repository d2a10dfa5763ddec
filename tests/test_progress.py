"""Progress events: the rate and the time left a person reads, driven by a clock the test turns."""

from __future__ import annotations

import pytest

from glimpse_desktop.kernel.progress import Progress, ProgressMeter


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def test_rate_and_time_left_follow_the_work_done() -> None:
    clock, events = Clock(), list[Progress]()
    meter = ProgressMeter("index", events.append, interval=0.1, clock=clock)
    meter.start_phase("reading", 1000)
    assert events[-1].rate is None and events[-1].eta is None   # nothing measured yet

    clock.tick(1.0)
    meter.advance(100)                          # 100 files in the first second
    first = events[-1]
    assert first.done == 100 and first.total == 1000
    assert first.rate == pytest.approx(100.0)
    assert first.eta == pytest.approx(9.0)      # 900 left at 100 a second

    clock.tick(1.0)
    meter.advance(200)                          # faster now: 200 in the next second
    second = events[-1]
    assert second.done == 300
    # Smoothed: 0.7 of the old rate and 0.3 of the new one, so one fast or slow file does
    # not throw the estimate about.
    assert second.rate == pytest.approx(0.7 * 100 + 0.3 * 200)
    assert second.eta == pytest.approx(700 / 130)

    clock.tick(1.0)
    meter.advance(700)
    meter.finish()
    last = events[-1]
    assert last.finished and last.done == 1000
    assert last.eta == 0.0                      # nothing left: no time left


def test_events_are_throttled_but_phase_changes_and_the_end_always_arrive() -> None:
    clock, events = Clock(), list[Progress]()
    meter = ProgressMeter("index", events.append, interval=0.5, clock=clock)
    meter.start_phase("hashing", 10)
    for _ in range(10):
        clock.tick(0.01)
        meter.advance()
    # Ten files in a tenth of a second: one event for the phase, none for the files.
    assert [(e.phase, e.done) for e in events] == [("hashing", 0)]
    meter.start_phase("reading", 4)
    meter.finish()
    assert [(e.phase, e.done, e.finished) for e in events] == [
        ("hashing", 0, False), ("hashing", 10, False), ("reading", 0, False),
        ("reading", 0, True)]


def test_a_rate_needs_half_a_second_of_work_and_an_unknown_total_has_no_eta() -> None:
    clock, events = Clock(), list[Progress]()
    meter = ProgressMeter("scan", events.append, interval=0.0, clock=clock)
    meter.start_phase("scanning", None)
    clock.tick(0.2)
    meter.advance(50)
    assert events[-1].rate is None              # too short a time to say
    clock.tick(0.3)
    meter.advance(50)
    assert events[-1].rate == pytest.approx(200.0)
    assert events[-1].eta is None               # no total: no time left to tell
    # A new phase starts its rate afresh rather than carrying the last one's.
    meter.start_phase("reading", 10)
    assert events[-1].rate is None and events[-1].eta is None
