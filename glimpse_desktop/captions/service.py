"""Captions: what a vision model (or the person) wrote about a photo, searchable.

Nothing is sent anywhere until the person turns captioning on for the library *and* agrees to
exactly what is sent to whom (``consent_text``); the agreement is kept for that destination
(service, model, whether the date and place go too), so changing any of them asks again.
What is sent is a downscaled JPEG copy without any metadata, never the original.

API keys come from the environment or the OS keyring and are never written to the library,
its settings or a log. Replies are cached by (content hash, model, prompt), so a photo is never
paid for twice: not after a crash, a rename, a lost row or a copy of the file.

A caption feeds search three ways: its words go into the FTS ``caption`` column (and visible
text into ``ocr``), and its objects, scene, mood and techniques become tags
(source ``caption:<model>``) that ``tag:`` finds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PIL import Image

from glimpse_desktop.captions import client, store
from glimpse_desktop.captions.client import DEFAULT_PROMPT, Reply, ServiceError
from glimpse_desktop.captions.records import ENV_KEY, Caption, Consent, Destination, Estimate
from glimpse_desktop.kernel import fts
from glimpse_desktop.kernel.config import Config, get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, LibraryError, Writer, now_iso
from glimpse_desktop.kernel.decode import SizeRequest, decode
from glimpse_desktop.kernel.messages import Notice
from glimpse_desktop.kernel.pipeline import read_original
from glimpse_desktop.kernel.progress import Cancelled, CancelToken, ProgressCallback, ProgressMeter
from glimpse_desktop.kernel.redact import redact

__all__ = ["DEFAULT_PROMPT", "KEYRING_SERVICE", "CaptionError", "CaptionReport", "Captions",
           "flatten", "index_caption"]

KEYRING_SERVICE = "glimpse-desktop"
CONSENT_KEY = "caption.consent"
# Another process's claim on a question is honoured this long (a request with its retries
# can take minutes); older claims are from a process that stopped.
CLAIM_TTL = 15 * 60
# A run stops when the service refuses this many photos in a row (4xx other than 429).
REFUSALS_IN_A_ROW = 5
TAG_PREFIX = "caption:"
TEXT_SOURCE = "caption"

# The provider's own variable, by host, when GLIMPSE_CAPTION_API_KEY is not set.
_PROVIDER_KEYS = (("openai.com", "OPENAI_API_KEY"), ("groq.com", "GROQ_API_KEY"),
                  ("openrouter.ai", "OPENROUTER_API_KEY"))

# US dollars per million tokens (input, output), and a guess of the input tokens one photo at
# 1024 px costs (image + prompt) before any reply has told us. From OpenAI's pricing and vision
# token pages (platform.openai.com/docs/pricing, .../guides/images-vision), November 2025.
# gpt-4o-mini counts ~33x the image tokens of gpt-4o at 1/17th of the price: hence its guess.
PRICES: dict[str, tuple[float, float, int]] = {
    "gpt-4o-mini": (0.15, 0.60, 25_800),
    "gpt-4o": (2.50, 10.00, 1_100),
    "gpt-4.1-mini": (0.40, 1.60, 2_800),
    "gpt-4.1-nano": (0.10, 0.40, 4_100),
}
GUESS_TOKENS_IN = 1_500
GUESS_TOKENS_OUT = 250


class CaptionError(LibraryError):
    """Captioning cannot go on; the message says why and what to do (redacted: it may carry
    a service's own words)."""

    def __init__(self, message: str, *, code: str = "",
                 values: Mapping[str, Any] | None = None) -> None:
        super().__init__(redact(message), code=code, values=values)


@dataclass
class CaptionReport:
    """What a run did. ``captioned`` counts photos given a caption (``from_cache`` of them
    without a request, ``plain_text`` of them with no JSON in the reply); ``skipped``: not
    done (stopped, or the person wrote a caption meanwhile)."""

    photos: int = 0
    captioned: int = 0
    from_cache: int = 0
    plain_text: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    cost_usd: float | None = 0.0
    stopped_by_cap: bool = False
    cancelled: bool = False
    dry_run: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    photo_ids: list[int] = field(default_factory=list)     # the photos captioned


@dataclass(frozen=True)
class _Plan:
    """The settings of one run, read once."""

    base_url: str
    model: str
    prompt: str
    prompt_sha: str
    want_json: bool
    max_edge: int
    send_metadata: bool
    concurrency: int
    rpm: int
    price: tuple[float, float] | None


def _words(value: Any) -> list[str]:
    """Strings in a JSON value (a string, a list of them, or anything else ignored)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [w for v in value for w in _words(v)]
    return []


def _tag(word: str) -> str:
    return re.sub(r"\s+", " ", word.strip().lower())[:60]


def flatten(data: dict[str, Any] | None) -> tuple[list[str], list[tuple[str, str]], str]:
    """A JSON caption as (lines for the text index, (tag, vocabulary) pairs, visible text)."""
    if not data:
        return [], [], ""
    lines: list[str] = []
    tags: list[tuple[str, str]] = []
    objects = data.get("objects")
    described = []
    for obj in objects if isinstance(objects, list) else []:
        if isinstance(obj, dict):
            label = " ".join(_words(obj.get("label")))
            colour = " ".join(_words(obj.get("colour", obj.get("color"))))
            position = " ".join(_words(obj.get("position")))
        else:
            label, colour, position = " ".join(_words(obj)), "", ""
        if not label:
            continue
        tags.append((_tag(label), "objects"))
        described.append(" ".join(w for w in (colour, label) if w)
                         + (f" ({position})" if position else ""))
    if described:
        lines.append(", ".join(described))
    for key in ("scene", "mood", "techniques"):
        words = _words(data.get(key))
        if words:
            lines.append(", ".join(words))
            tags += [(_tag(w), key) for w in words]
    text = "\n".join(_words(data.get("text", data.get("visible_text"))))
    unique = list(dict.fromkeys((t, v) for t, v in tags if t))
    return lines, unique, text


def _summary(reply_text: str, data: dict[str, Any] | None) -> str:
    if data is not None:
        summary = " ".join(_words(data.get("summary", data.get("caption"))))
        if summary:
            return summary
        lines, _, _ = flatten(data)
        return lines[0] if lines else ""
    return reply_text.strip()


def index_caption(conn: Connection, photo_id: int) -> None:
    """Rewrite a photo's caption text (FTS fields caption and ocr) and its caption tags from
    its captions row, whatever wrote it (inside a write); the caller refreshes the FTS row."""
    store.clear_index(conn, photo_id, TEXT_SOURCE, TAG_PREFIX)
    row = store.caption_for_index(conn, photo_id)
    if row is None:
        return
    data = _load_data(row["data"])
    lines, tags, text = flatten(data)
    store.add_text(conn, photo_id, "caption", TEXT_SOURCE, "\n".join([row["summary"], *lines]))
    if text:
        store.add_text(conn, photo_id, "ocr", TEXT_SOURCE, text)
    if tags:
        store.add_tags(conn, photo_id, TAG_PREFIX + (row["model"] or "unknown"), tags)
        store.add_text(conn, photo_id, "tags", TEXT_SOURCE,
                       "\n".join(dict.fromkeys(t for t, _ in tags)))


_load_data = store.load_data


def _price_of(model: str) -> tuple[float, float, int] | None:
    """The table's entry for a model, also under a provider prefix ("openai/gpt-4o-mini") or
    a dated snapshot ("gpt-4o-mini-2024-07-18"): the longest name it starts with."""
    name = model.lower().rsplit("/", 1)[-1]
    best = max((k for k in PRICES if name == k or name.startswith(k + "-")), key=len,
               default=None)
    return PRICES[best] if best else None


class Captions:
    """Captions of one library: consent, keys, runs, the person's own edits (``lib.captions``).
    """

    def __init__(self, *, reader: Callable[[], Connection], writer: Writer, config: Config,
                 search: Callable[[str, int], Any],
                 release_reader: Callable[[], None] | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self._config = config
        self._search = search
        self._release_reader = release_reader
        # Seams for tests (and a person with an unusual service): None means ml.captioner's.
        self.backoff_base: float | None = None
        self.timeout: float | None = None
        # Content being asked about by any run of this library right now: a second run (the
        # GUI's while a background one goes on) never pays for the same photo again.
        self._inflight: set[tuple[str, str, str]] = set()
        self._inflight_lock = threading.Lock()
        # ...and another process on the same library (caption_claims) never does either.
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._bg_lock = threading.Lock()
        self._bg_thread: threading.Thread | None = None
        self._bg_again = False
        self._bg_cancel = CancelToken()
        self.background_error: str | None = None
        self.background_report: CaptionReport | None = None
        # Called in the background thread after a run that wrote captions (write-back).
        self.after_background: Callable[[CaptionReport], None] | None = None
        # Who follows background runs (the window's status bar), called in the run's thread:
        # ``background_progress`` with its progress (a call may block: the run waits, as a
        # paused job does), ``background_ended`` once it is over (write-back included), with
        # its report (None: caption.auto did not apply after all) and its error (None: none).
        self.background_progress: ProgressCallback | None = None
        self.background_ended: Callable[[CaptionReport | None, str | None], None] | None = None
        # The run going on now: cancel_background_run stops it and not the ones after it.
        self._bg_run_cancel = CancelToken()

    # ------------------------------------------------------------------ reading, editing

    def get(self, photo_id: int) -> Caption | None:
        """A photo's caption; None when it has none."""
        return store.caption(self._reader(), int(photo_id))

    def set_text(self, photo_id: int, summary: str) -> None:
        """The person's own caption (or their edit of the model's): kept over any later run.
        Structured fields from an earlier model caption stay; empty text removes the caption.
        """
        text = summary.strip()
        pid = int(photo_id)

        def apply(conn: Connection) -> None:
            photo = store.photo(conn, pid)
            if photo is None:
                raise CaptionError(f"no photo {pid} in this library")
            if not text:
                store.delete_caption(conn, pid)
            else:
                store.set_user_caption(conn, pid, photo["content_hash"], text, now_iso())
            index_caption(conn, pid)
            fts.mark(conn, [pid])

        self._writer.call(apply)

    # ------------------------------------------------------------------ where to, consent

    def _where(self) -> Destination:
        """The destination without looking for a key (a locked keyring may ask the person to
        unlock it: only when the key is really needed); ``key_source`` is None."""
        base_url = str(self._config.get("caption.base_url")).rstrip("/")
        return Destination(base_url=base_url, host=client.host_of(base_url) or base_url,
                           model=str(self._config.get("caption.model")),
                           local=client.is_local(base_url),
                           max_edge=int(self._config.get("caption.max_edge")),
                           send_metadata=bool(self._config.get("caption.send_metadata")),
                           key_source=None)

    def destination(self) -> Destination:
        """Where captions would be asked, and where the API key is read from."""
        d = self._where()
        _, source = self._find_key(d.base_url)
        if source is None and d.local:
            source = "not needed (local service)"
        return dataclasses.replace(d, key_source=source)

    def consent_text(self) -> str:
        """What turning captioning on means, in plain words, for the person to agree to."""
        d = self.destination()
        sent = (f"a copy of each photo, downscaled to at most {d.max_edge} pixels and "
                "re-encoded as JPEG, without its EXIF, GPS or other metadata")
        if d.send_metadata:
            sent += "; with it, the date the photo was taken and the name of the place"
        where = ("a service on this computer or your local network"
                 if d.local else "a service on the internet")
        key = d.key_source
        key_line = ("No API key is needed." if key == "not needed (local service)" else
                    f"The API key is read from {key}; it is never stored in the library."
                    if key else "No API key was found yet: nothing is sent until one is set.")
        return (f"Captioning sends {sent}.\n"
                f"It goes to {d.host} ({d.base_url}), {where}, which asks the model "
                f"{d.model!r} to describe it.\n"
                f"{key_line}\n"
                "Your originals never leave this computer. Captions are stored only in this "
                "library, and the service's own terms apply to what it receives.")

    def consent_record(self) -> Consent:
        """What the person agrees to: the service, the model, the size of the copy sent and
        whether the date and place go with it. Any change asks again."""
        d = self._where()
        return Consent(base_url=d.base_url, model=d.model, send_metadata=d.send_metadata,
                       max_edge=d.max_edge)

    def consented(self) -> bool:
        """The person agreed to send to exactly this destination (service, model, metadata)."""
        raw = get_setting(self._reader(), CONSENT_KEY)
        stored = _load_data(raw)
        if stored is None:
            return False
        stored.pop("at", None)
        return stored == self.consent_record().as_dict()

    def give_consent(self, expected: Consent | None = None) -> None:
        """Record the person's agreement to ``consent_text()`` for this destination.

        ``expected``: the ``consent_record()`` the person was shown. If the settings changed
        since (another window, the CLI), nothing is recorded: CaptionError asks to look again.
        """
        current = self.consent_record()
        if expected is not None and expected != current:
            raise CaptionError(
                "the captioning settings changed while you were reading (now "
                f"{client.host_of(current.base_url)}, model {current.model}); look "
                "at what is sent again before agreeing")
        record = {**current.as_dict(), "at": now_iso()}
        self._writer.call(lambda c: set_setting(c, CONSENT_KEY, json.dumps(record)))

    def revoke_consent(self) -> None:
        """Nothing is sent any more until the person agrees again."""
        self._writer.call(lambda c: set_setting(c, CONSENT_KEY, None))

    # ------------------------------------------------------------------ API keys

    def _find_key(self, base_url: str) -> tuple[str | None, str | None]:
        """(key, where it came from), or (None, None)."""
        key = os.environ.get(ENV_KEY, "").strip()
        if key:
            return key, ENV_KEY
        host = client.host_of(base_url)
        for domain, variable in _PROVIDER_KEYS:
            if host == domain or host.endswith("." + domain):
                key = os.environ.get(variable, "").strip()
                if key:
                    return key, variable
        try:
            import keyring

            stored = keyring.get_password(KEYRING_SERVICE, host or base_url)
        except Exception:  # any keyring backend failure means "no key there"
            stored = None
        if stored:
            return stored, "keyring"
        return None, None

    def api_key(self) -> str | None:
        """The key for the configured service: GLIMPSE_CAPTION_API_KEY, else the provider's
        usual variable (OPENAI_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY), else the OS
        keyring (service "glimpse-desktop", user = the service's host). Never logged."""
        return self._find_key(self._where().base_url)[0]

    def _keyring_user(self) -> str:
        d = self._where()
        return d.host or d.base_url

    def set_api_key(self, key: str) -> None:
        """Keep the key in the OS keyring for the configured service's host."""
        key = key.strip()
        if not key:
            raise CaptionError("the API key is empty")
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, self._keyring_user(), key)
        except Exception as exc:  # every backend fails its own way
            raise CaptionError(f"no OS keyring could keep the key ({type(exc).__name__}); "
                               f"set {ENV_KEY} in the environment instead") from None

    def delete_api_key(self) -> bool:
        """Remove the configured service's key from the OS keyring; False if none was there."""
        try:
            import keyring
            from keyring.errors import PasswordDeleteError

            try:
                keyring.delete_password(KEYRING_SERVICE, self._keyring_user())
            except PasswordDeleteError:
                return False
        except Exception as exc:  # as above
            raise CaptionError(f"the OS keyring cannot be used ({type(exc).__name__}); a key "
                               f"in {ENV_KEY} is removed from the environment, not here"
                               ) from None
        return True

    # ------------------------------------------------------------------ planning

    def _plan(self, prompt: str | None) -> _Plan:
        cfg = self._config
        d = self._where()
        text = (prompt or "").strip() or str(cfg.get("caption.prompt")).strip() or DEFAULT_PROMPT
        # The date and place change what is asked: a reply made without them is not reused.
        sha = hashlib.sha256(f"{text}\0metadata={d.send_metadata}".encode()).hexdigest()[:16]
        price: tuple[float, float] | None
        p_in, p_out = float(cfg.get("caption.price_in")), float(cfg.get("caption.price_out"))
        known = _price_of(d.model)
        if p_in >= 0 and p_out >= 0:
            price = (p_in, p_out)
        elif d.local:
            price = (0.0, 0.0)
        elif known is not None:
            price = (p_in if p_in >= 0 else known[0], p_out if p_out >= 0 else known[1])
        else:
            price = None
        return _Plan(base_url=d.base_url, model=d.model, prompt=text, prompt_sha=sha,
                     want_json=text == DEFAULT_PROMPT or "json" in text.lower(),
                     max_edge=d.max_edge, send_metadata=d.send_metadata,
                     concurrency=int(cfg.get("caption.concurrency")),
                     rpm=int(cfg.get("caption.rpm")), price=price)

    def _candidates(self, plan: _Plan, *, where: str | None, limit: int | None,
                    replace: bool, photo_ids: Sequence[int] | None) -> list[dict[str, Any]]:
        """Photos a run would caption, oldest first: readable, and with no caption (or, with
        ``replace``, a model's caption from another model or prompt). A caption of earlier
        content (the file was edited) is redone. The person's own captions never are."""
        conn = self._reader()
        rows = store.candidates(conn, replace=replace, model=plan.model,
                                prompt_sha=plan.prompt_sha)
        if photo_ids is not None:
            wanted = {int(i) for i in photo_ids}
            rows = [r for r in rows if int(r["id"]) in wanted]
        if where is not None and where.strip():
            total = store.photo_count(conn)
            result = self._search(where, max(total, 1))
            found = {int(h.photo_id) for h in result.hits}
            rows = [r for r in rows if int(r["id"]) in found]
        if limit is not None:
            rows = rows[:max(0, limit)]
        return rows

    def _cached(self, plan: _Plan, hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
        return store.cached_replies(self._reader(), plan.model, plan.prompt_sha, hashes)

    def _cost(self, plan: _Plan, tokens_in: int | None, tokens_out: int | None) -> float | None:
        if plan.price is None:
            return None
        return ((tokens_in or 0) * plan.price[0] + (tokens_out or 0) * plan.price[1]) / 1e6

    def estimate(self, *, where: str | None = None, limit: int | None = None,
                 prompt: str | None = None, replace: bool = False,
                 photo_ids: Sequence[int] | None = None) -> Estimate:
        """What a run would do, how many requests it makes and what they may cost."""
        plan = self._plan(prompt)
        rows = self._candidates(plan, where=where, limit=limit, replace=replace,
                                photo_ids=photo_ids)
        cached = self._cached(plan, [r["content_hash"] for r in rows])
        from_cache = sum(1 for r in rows if r["content_hash"] in cached)
        to_send = len({r["content_hash"] for r in rows} - set(cached))
        cost, basis = self._per_photo(plan)
        return Estimate(photos=len(rows), cached=from_cache, to_send=to_send,
                        cost_usd=None if cost is None else round(cost * to_send, 4),
                        basis=basis, model=plan.model, host=client.host_of(plan.base_url))

    def _per_photo(self, plan: _Plan) -> tuple[float | None, str]:
        """The expected cost of one photo, and how it was worked out."""
        if plan.price == (0.0, 0.0):
            return 0.0, ("free: local service" if client.is_local(plan.base_url) else
                         "free: caption.price_in and caption.price_out are 0")
        if plan.price is None:
            return None, (f"the price of {plan.model} is unknown: set caption.price_in and "
                          "caption.price_out for an estimate")
        seen = store.average_tokens(self._reader(), plan.model)
        if seen is not None:
            tokens_in, tokens_out, replies = seen
            cost = self._cost(plan, round(tokens_in), round(tokens_out))
            return cost, f"average of {replies} earlier replies"
        known = _price_of(plan.model)
        guess_in = known[2] if known else GUESS_TOKENS_IN
        cost = self._cost(plan, guess_in, GUESS_TOKENS_OUT)
        return cost, (f"a guess of {guess_in:,} input and {GUESS_TOKENS_OUT} output tokens "
                      "per photo")

    # ------------------------------------------------------------------ running

    def ready(self) -> Notice | None:
        """Why nothing may be sent now (each front end says how to fix it), or None when all
        is set."""
        if not self._config.get("caption.enabled"):
            return Notice("captions.off", "captioning is off for this library")
        d = self._where()
        if not self.consented():
            return Notice("captions.no_consent",
                          f"you have not agreed to send photos to {d.host} (model "
                          f"{d.model}) yet", {"host": d.host, "model": d.model})
        if self.destination().key_source is None:
            return Notice("captions.no_key", f"no API key for {d.host}",
                          {"host": d.host, "env": ENV_KEY})
        return None

    def outgoing_image(self, photo_id: int) -> bytes:
        """The JPEG a run would send for this photo (downscaled, no metadata): what the
        person can look at before agreeing."""
        row = store.photo(self._reader(), int(photo_id))
        if row is None:
            raise CaptionError(f"no photo {photo_id} in this library")
        edge = self._where().max_edge
        return client.encode_jpeg(_load(row["path"], edge), edge)

    def _context(self, row: dict[str, Any]) -> str | None:
        """The date and place sent with a photo when the person chose to send them."""
        bits = []
        if row.get("taken_at"):
            bits.append(f"Taken on {str(row['taken_at'])[:10]}")
        place = store.place_names(self._reader(), int(row["id"]))
        names = ", ".join(dict.fromkeys(n for n in place if n))
        if names:
            bits.append(f"in {names}")
        return (" ".join(bits) + ".") if bits else None

    def run(self, *, where: str | None = None, limit: int | None = None,
            prompt: str | None = None, replace: bool = False, dry_run: bool = False,
            max_cost: float | None = None, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None, photo_ids: Sequence[int] | None = None
            ) -> CaptionReport:
        """Caption photos that have none (``where``: a search query, filters alone included;
        ``limit``: at most this many). Cached replies are used first and cost nothing; each
        result is committed as it arrives, so a stopped run keeps what it got and the next
        picks up from there. ``max_cost`` (else caption.max_cost; 0: none) stops the run once
        the spent cost reaches it. ``dry_run`` sends and changes nothing.

        Raises CaptionError when nothing may be sent (off, no consent, no key) or when the
        service refuses every request (bad key, unknown model, down after retries); what
        was captioned before that is kept."""
        plan = self._plan(prompt)
        rows = self._candidates(plan, where=where, limit=limit, replace=replace,
                                photo_ids=photo_ids)
        report = CaptionReport(photos=len(rows), dry_run=dry_run)
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(row["content_hash"], []).append(row)
        cached = self._cached(plan, list(groups))
        if dry_run:
            report.from_cache = sum(len(groups[h]) for h in cached)
            cost, _ = self._per_photo(plan)
            report.cost_usd = None if cost is None else round(cost * (len(groups) - len(cached)),
                                                              4)
            return report
        why_not = self.ready()
        if why_not is not None:
            raise CaptionError.of(why_not)
        cap = float(self._config.get("caption.max_cost")) if max_cost is None else max_cost
        if cap > 0 and plan.price is None:
            raise CaptionError(f"a cost cap of ${cap:g} is set but the price of {plan.model} "
                               "is unknown: set caption.price_in and caption.price_out")
        report.cost_usd = None if plan.price is None else 0.0
        meter = ProgressMeter("caption", progress)
        meter.start_phase("captioning photos", len(rows))
        cancel = cancel or CancelToken()
        for content_hash, hit in cached.items():
            members = groups.pop(content_hash)
            data = _load_data(hit["reply"]) if hit["is_json"] else None
            reply = Reply(hit["reply"], data, None, None, requests=0)
            stored = self._writer.call(partial(self._store, plan=plan, members=members,
                                               reply=reply, new=False))
            self._count(report, stored, len(members), reply, cached=True)
            meter.advance(len(members))
        if groups:
            self._send_all(plan, groups, report, meter, cancel, cap)
        meter.finish()
        return report

    def _count(self, report: CaptionReport, stored: list[int], members: int, reply: Reply,
               *, cached: bool) -> None:
        report.photo_ids.extend(stored)
        report.captioned += len(stored)
        report.skipped += members - len(stored)
        if cached:
            report.from_cache += len(stored)
        if reply.data is None:
            report.plain_text += len(stored)

    def _send_all(self, plan: _Plan, groups: dict[str, list[dict[str, Any]]],
                  report: CaptionReport, meter: ProgressMeter, cancel: CancelToken,
                  cap: float) -> None:
        """Ask the service for every group of identical files, ``concurrency`` at a time."""
        limiter = client.RateLimiter(plan.rpm)
        captioner = client.Captioner(plan.base_url, plan.model, self.api_key(),
                                     timeout=self.timeout, backoff_base=self.backoff_base,
                                     limiter=limiter)
        # Workers wait on this token: the person's cancel, or a fatal error, stops them all.
        stop = CancelToken()
        spent = 0.0
        streak = 0
        fatal: ServiceError | None = None
        queue = iter(list(groups.items()))
        pending: dict[Future[Reply], list[dict[str, Any]]] = {}
        claimed: list[str] = []
        try:
            with ThreadPoolExecutor(plan.concurrency, thread_name_prefix="caption") as pool:
                exhausted = False
                while True:
                    if cancel.cancelled:
                        stop.cancel()
                        report.cancelled = True
                    while not stop.cancelled and not exhausted \
                            and len(pending) < plan.concurrency:
                        if cap > 0 and spent >= cap:
                            report.stopped_by_cap = True
                            break
                        item = next(queue, None)
                        if item is None:
                            exhausted = True
                            break
                        content_hash, members = item
                        if not self._claim(plan, content_hash, report, members):
                            meter.advance(len(members))
                            continue
                        claimed.append(content_hash)
                        context = self._context(members[0]) if plan.send_metadata else None
                        pending[pool.submit(self._ask, captioner, plan, members[0], context,
                                            stop)] = members
                    if not pending:
                        break
                    done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    for future in done:
                        members = pending.pop(future)
                        try:
                            reply = future.result()
                        except Cancelled:
                            report.skipped += len(members)
                            meter.advance(len(members))
                            continue
                        except ServiceError as exc:
                            # The same refusal photo after photo (a model that takes no
                            # images, a request it rejects) would cost a request per photo
                            # of the library: stop after a few in a row.
                            refused = exc.status is not None and 400 <= exc.status < 500
                            streak = streak + 1 if refused else 0
                            if refused and streak >= REFUSALS_IN_A_ROW:
                                exc = ServiceError(f"{exc} ({streak} photos in a row were "
                                                   "refused)", fatal=True, status=exc.status,
                                                   code=exc.code, values=exc.values)
                            if exc.fatal:
                                fatal = fatal or exc
                                stop.cancel()
                                report.skipped += len(members)
                            else:
                                self._failed(report, members, str(exc))
                            meter.advance(len(members), errors=0 if exc.fatal else len(members))
                            continue
                        except Exception as exc:
                            # One photo (unreadable, or a reply we cannot handle) never ends
                            # the run: it is recorded and tried again next time.
                            self._failed(report, members, str(exc) or type(exc).__name__)
                            meter.advance(len(members), errors=len(members))
                            continue
                        streak = 0
                        report.requests += reply.requests
                        cost = self._cost(plan, reply.tokens_in, reply.tokens_out)
                        if cost is not None:
                            spent += cost
                            report.cost_usd = round(spent, 6)
                        stored = self._writer.call(partial(
                            self._store, plan=plan, members=members, reply=reply, new=True))
                        self._count(report, stored, len(members), reply, cached=False)
                        meter.advance(len(members))
                report.skipped += sum(len(m) for _, m in queue)
        finally:
            captioner.close()
            with self._inflight_lock:
                self._inflight.difference_update(
                    (h, plan.model, plan.prompt_sha) for h in claimed)
            if claimed:
                self._writer.call(partial(self._release_claims, plan=plan, hashes=claimed))
        if fatal is not None:
            report.errors.append({"path": None, "reason": str(fatal)})
            raise CaptionError(f"captioning stopped: {fatal} ({report.captioned} captions "
                               "kept)", code=fatal.code, values=fatal.values)

    def _claim(self, plan: _Plan, content_hash: str, report: CaptionReport,
               members: list[dict[str, Any]]) -> bool:
        """Take this content for this run: False when another run is asking about it right
        now, or has got its answer since this run looked (then applied from the cache)."""
        key = (content_hash, plan.model, plan.prompt_sha)
        with self._inflight_lock:
            if key in self._inflight:
                report.skipped += len(members)
                return False
            self._inflight.add(key)
        hit = self._cached(plan, [content_hash]).get(content_hash)
        if hit is None:
            if self._writer.call(partial(self._claim_in_library, key=key)):
                return True
            # Another process is asking this very question now: its answer will be in the
            # cache for the next run.
            with self._inflight_lock:
                self._inflight.discard(key)
            report.skipped += len(members)
            return False
        with self._inflight_lock:
            self._inflight.discard(key)
        reply = Reply(hit["reply"], _load_data(hit["reply"]) if hit["is_json"] else None,
                      None, None, requests=0)
        stored = self._writer.call(partial(self._store, plan=plan, members=members,
                                           reply=reply, new=False))
        self._count(report, stored, len(members), reply, cached=True)
        return False

    def _claim_in_library(self, conn: Connection, key: tuple[str, str, str]) -> bool:
        """Record that this process asks ``key`` (content, model, prompt) now; False when
        another process claimed it less than CLAIM_TTL seconds ago."""
        return store.claim(conn, key, self._owner, time.time(), CLAIM_TTL)

    def _release_claims(self, conn: Connection, plan: _Plan, hashes: list[str]) -> None:
        store.release_claims(conn, plan.model, plan.prompt_sha, self._owner, hashes)

    def _ask(self, captioner: client.Captioner, plan: _Plan, row: dict[str, Any],
             context: str | None, stop: CancelToken) -> Reply:
        """One photo, in a worker thread: read, downscale, send (no database access here)."""
        stop.raise_if_cancelled()
        jpeg = client.encode_jpeg(_load(row["path"], plan.max_edge), plan.max_edge)
        return captioner.caption(jpeg, plan.prompt, context=context, want_json=plan.want_json,
                                 cancel=stop)

    def _failed(self, report: CaptionReport, members: list[dict[str, Any]], reason: str
                ) -> None:
        report.failed += len(members)
        # A reason may be a service's words (or an exception quoting them): no key in the
        # errors table, the report, or what the CLI and the window show of either.
        reason = redact(reason)

        at = now_iso()
        self._writer.call(lambda conn: store.record_errors(conn, members, reason, at))
        report.errors += [{"path": r["path"], "reason": reason} for r in members]

    def _store(self, conn: Connection, plan: _Plan, members: list[dict[str, Any]],
               reply: Reply, *, new: bool) -> list[int]:
        """Save one reply for every photo with that content (inside a write); returns the
        photos that took it (a caption the person wrote meanwhile is kept instead)."""
        content_hash = members[0]["content_hash"]
        if new:
            store.cache_reply(conn, content_hash, plan.model, plan.prompt_sha, reply.text,
                              reply.data is not None, reply.tokens_in, reply.tokens_out,
                              now_iso())
        summary = _summary(reply.text, reply.data)
        data = json.dumps(reply.data, ensure_ascii=False) if reply.data is not None else None
        stored = []
        for row in members:
            pid = int(row["id"])
            if store.caption_source(conn, pid) in ("user", "xmp"):
                continue
            store.set_model_caption(conn, pid, content_hash, plan.model, plan.prompt_sha,
                                    summary, data, now_iso())
            store.clear_caption_error(conn, pid)
            index_caption(conn, pid)
            stored.append(pid)
        fts.mark(conn, stored)
        return stored

    # ------------------------------------------------------------------ in the background

    def auto_applies(self) -> bool:
        """New photos are captioned as they arrive: captioning on, caption.auto on, agreed."""
        return bool(self._config.get("caption.enabled") and self._config.get("caption.auto")
                    and self.ready() is None)

    def run_new(self, *, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> CaptionReport | None:
        """Caption photos that have none, if caption.auto applies; None when it does not."""
        if not self.auto_applies():
            return None
        return self.run(progress=progress, cancel=cancel)

    def start_background(self) -> bool:
        """Start ``run_new`` in a thread of its own (never blocking the caller, e.g. the
        watcher); a call while one runs makes it go round once more. False when
        caption.auto does not apply."""
        # The cheap part of auto_applies() only: the API key is looked up in the thread, so a
        # locked keyring never holds up the caller (the watcher).
        if not (self._config.get("caption.enabled") and self._config.get("caption.auto")
                and self.consented()):
            return False
        with self._bg_lock:
            if self._bg_thread is not None and self._bg_thread.is_alive():
                self._bg_again = True
                return True
            self._bg_again = False
            self._bg_thread = threading.Thread(target=self._background, daemon=True,
                                               name="glimpse-caption")
            self._bg_thread.start()
        return True

    def _background(self) -> None:
        try:
            while not self._bg_cancel.cancelled:
                with self._bg_lock:
                    run_cancel = self._bg_run_cancel = CancelToken()
                if self._bg_cancel.cancelled:      # stopped while this run was set up
                    break
                report: CaptionReport | None = None
                try:
                    report = self.run_new(progress=self.background_progress,
                                          cancel=run_cancel)
                    self.background_report = report
                    self.background_error = None
                    if report is not None and report.captioned and self.after_background:
                        self.after_background(report)
                except Exception as exc:   # the watcher's thread must never die of it
                    self.background_error = redact(str(exc)) or type(exc).__name__
                ended = self.background_ended
                if ended is not None:
                    try:
                        ended(report, self.background_error)
                    except Exception:       # an observer's fault is not the run's
                        pass
                with self._bg_lock:
                    # A run the person stopped is not started again for what was asked
                    # meanwhile; the next change starts one.
                    if not self._bg_again or run_cancel.cancelled:
                        self._bg_again = False
                        break
                    self._bg_again = False
        finally:
            if self._release_reader is not None:
                self._release_reader()

    def cancel_background_run(self) -> None:
        """Stop the background run going on now (the person cancelled it); requests in
        flight finish and are kept, and the next change starts a run again."""
        with self._bg_lock:
            self._bg_run_cancel.cancel()

    def stop_background(self, timeout: float = 10.0) -> None:
        """Stop a background run (requests in flight finish and are kept), and start no more
        (the library is closing)."""
        self._bg_cancel.cancel()
        with self._bg_lock:
            self._bg_run_cancel.cancel()
        thread = self._bg_thread
        if thread is not None:
            thread.join(timeout)

    def wait_background(self, timeout: float | None = None) -> None:
        """Wait for a background run to end (tests; a clean exit)."""
        thread = self._bg_thread
        if thread is not None:
            thread.join(timeout)


def _load(path: str, max_edge: int) -> Image.Image:
    """The photo upright, at least ``max_edge`` on its long edge (JPEG drafts make that
    cheap); the caller scales it to the edge exactly."""
    return decode(read_original(path), path, want=SizeRequest(long_edge=max_edge)).image
