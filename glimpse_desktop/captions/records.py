"""The captions feature's public records: a photo's caption, where captions are asked, what
the person agrees to, and what a run would cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ENV_KEY", "LARGE_RUN", "Caption", "Consent", "Destination", "Estimate"]

# The variable that holds the captioning service's key: it is read from the environment (or
# the system keyring), never stored in the library.
ENV_KEY = "GLIMPSE_CAPTION_API_KEY"
# Runs bigger than this are shown their estimate and asked about first (CLI, GUI).
LARGE_RUN = 100


@dataclass(frozen=True, slots=True)
class Caption:
    """A photo's caption.

    ``summary``: the text people read (a sentence or two). ``data``: the structured fields a
    model gave (summary, objects, scene, mood, techniques, text: the model's own JSON), or None
    for plain text. ``source``: who wrote it: 'model', 'user' (the person) or 'xmp' (read from
    a sidecar or the file). ``model``: the model that wrote it, None when no model did.
    ``updated_at``: when it was written, ISO 8601 UTC.
    """

    summary: str
    data: Mapping[str, Any] | None
    source: str
    model: str | None
    updated_at: str


@dataclass(frozen=True, slots=True)
class Destination:
    """Where captions would be asked, from the settings in force.

    ``base_url``: the OpenAI-compatible service's address (no trailing slash). ``host``: its
    host name (the address when it has none). ``model``: the vision model asked. ``local``:
    the service runs on this computer or the local network. ``max_edge``: the long edge, in
    pixels, of the copy sent. ``send_metadata``: the date and the place's name go with each
    photo. ``key_source``: where the API key is read from (an environment variable's name,
    'keyring', or 'not needed (local service)'); None when no key was found.
    """

    base_url: str
    host: str
    model: str
    local: bool
    max_edge: int
    send_metadata: bool
    key_source: str | None


@dataclass(frozen=True, slots=True)
class Consent:
    """What the person agrees to when they turn captioning on; a change to any field asks
    again.

    ``base_url``: the service. ``model``: the model asked. ``send_metadata``: the date and
    place go with each photo. ``max_edge``: the long edge, in pixels, of the copy sent.
    """

    base_url: str
    model: str
    send_metadata: bool
    max_edge: int

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (as the agreement is stored)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a captioning run would do, before anything is sent.

    ``photos``: photos it would caption. ``cached``: of them, answered from replies already
    paid for (free). ``to_send``: requests it would make (one per distinct content).
    ``cost_usd``: the expected cost in US dollars, None when the model's price is unknown.
    ``basis``: how the cost was worked out, in words. ``model``: the model asked. ``host``:
    the service's host name.
    """

    photos: int
    cached: int
    to_send: int
    cost_usd: float | None
    basis: str
    model: str
    host: str
