"""The captions feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations

from typing import Any

from glimpse_desktop.kernel.changes import READ, Change, FollowUp
from glimpse_desktop.kernel.config import Key
from glimpse_desktop.kernel.hookspecs import hookimpl


def _caption_new(library: Any, change: Change) -> bool | None:
    # Captions come from a remote service, seconds a photo: they are written in a thread of
    # the captions service's own, never holding up indexing or watching. A one-shot command
    # (the CLI's index) would cut that run short as it exits, so an index starts one only in
    # a process that stays open (``Library.stays_open``: the window).
    if change.why == "indexed":
        if not getattr(library, "stays_open", False):
            return None
        # Even an index that found nothing new: photos a closed window left uncaptioned are
        # taken up when it opens again.
    elif change.nothing:
        return None
    return True if library.captions.start_background() else None


@hookimpl
def glimpse_follow_ups() -> list[FollowUp]:
    """``captions``: new photos are captioned in the background when caption.enabled and
    caption.auto are on and the person agreed to what is sent; after ``places``, whose names
    may be sent with the photo. Its report is ``True`` when a
    run started; the run's own ``CaptionReport`` is ``library.captions.background_report``
    once it ends, and the captions it wrote go through ``photos_changed(ids, "captions")``
    (write-back)."""
    return [FollowUp("captions", _caption_new, after=("places",), when=READ)]



@hookimpl
def glimpse_settings() -> list[Key]:
    """Captioning's settings (caption.*): off until the person turns it on."""
    return [
        Key("caption.enabled", "bool", False,
            "Captioning is on for this library: photos may be sent to the service below. Off until "
            "you turn it on (and agree to what is sent)."),
        Key("caption.base_url", "url", "https://api.openai.com/v1",
            "The OpenAI-compatible service that writes captions (OpenAI, Groq, OpenRouter, or a "
            "local Ollama, LM Studio or vLLM, e.g. http://localhost:11434/v1).",
            env="GLIMPSE_CAPTION_BASE_URL"),
        Key("caption.model", "str", "gpt-4o-mini",
            "The vision model asked, by the service's name for it.", env="GLIMPSE_CAPTION_MODEL"),
        Key("caption.prompt", "str", "",
            "What the model is asked; empty: Glimpse's own prompt, which asks for a summary, "
            "objects, scene, mood, techniques and visible text as JSON."),
        Key("caption.max_edge", "int", 1024,
            "Photos are sent downscaled to at most this many pixels on the long edge.",
            low=256, high=4096),
        Key("caption.send_metadata", "bool", False,
            "Also send the date and the place's name with each photo (never the GPS coordinates "
            "or the file's EXIF)."),
        Key("caption.concurrency", "int", 2, "Requests in flight at once.", low=1, high=32),
        Key("caption.rpm", "int", 60, "At most this many requests a minute.", low=1, high=100_000),
        Key("caption.max_cost", "float", 0.0,
            "Stop a run when its estimated cost reaches this many US dollars; 0: no cap.",
            low=0),
        Key("caption.price_in", "float", -1.0,
            "US dollars per million input tokens, for the cost estimate; -1: Glimpse's table of "
            "known models (a local service costs nothing).", low=-1),
        Key("caption.price_out", "float", -1.0,
            "US dollars per million output tokens, for the cost estimate; -1: as above.", low=-1),
        Key("caption.auto", "bool", False,
            "Caption new photos in the background as they arrive (only while captioning is on)."),
    ]
