"""What the window does after photos change (captions for new photos, write-back in step)
and how a read of the folders is summed up in the status bar."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from glimpse_desktop.api.library import IndexReport
from glimpse_desktop.gui.settings import caption_summary, writeback_summary

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow


def follow_up_now(window: MainWindow) -> None:
    if window._closing:
        return
    caption, window._follow_caption = window._follow_caption, False
    sync, window._follow_sync = window._follow_sync, False
    lib = window.lib

    def read() -> dict[str, bool]:
        cfg = lib.config
        return {"caption": caption and bool(cfg.get("caption.enabled"))
                and bool(cfg.get("caption.auto")) and lib.captions.consented(),
                "sync": sync and bool(cfg.get("writeback.sync"))}

    window.tasks.run(read, partial(start_follow_ups, window), read=True)


def start_follow_ups(window: MainWindow, wanted: dict[str, bool]) -> None:
    if window._closing:
        return
    busy = window.caption_job is not None and not window.caption_job.done
    if wanted["caption"] and not busy:
        def captioned(report: Any) -> None:
            window.caption_job = None
            if report is not None and (report.captioned or report.failed):
                window.status.set_idle(caption_summary(report))
                window.follow_up(caption=False)     # write the new captions out

        def caption_failed(why: str) -> None:
            window.caption_job = None
            window.status.set_idle(f"⚠ Captions: {why}")

        window.caption_job = window.start_job(
            "Writing captions", lambda progress, cancel: window.lib.captions.run_new(
                progress=progress, cancel=cancel), captioned, caption_failed)
    if wanted["sync"]:
        if window.sync_job is not None and not window.sync_job.done:
            window.follow_up(caption=False)       # again once this run is over
            return

        def synced(report: Any) -> None:
            window.sync_job = None
            if report is not None and (report.written or report.failed):
                window.status.set_idle(writeback_summary(report))

        def sync_failed(why: str) -> None:
            window.sync_job = None
            window.status.set_idle(f"⚠ Write-back: {why}")

        window.sync_job = window.start_job(
            "Writing metadata", lambda progress, cancel: window.lib.writeback.sync(
                progress=progress, cancel=cancel), synced, sync_failed)


def index_summary(report: IndexReport) -> str:
    parts = []
    if report.new:
        parts.append(f"{report.new:,} new")
    if report.updated:
        parts.append(f"{report.updated:,} changed")
    if report.moved:
        parts.append(f"{report.moved:,} moved")
    if report.missing:
        parts.append(f"{report.missing:,} gone")
    if report.faces:
        parts.append(f"{report.faces:,} faces")
    if report.errors:
        parts.append(f"{report.errors:,} could not be read")
    if report.cancelled:
        parts.append("stopped before the end")
    return ("Up to date" if not parts else "Photos read: " + ", ".join(parts))
