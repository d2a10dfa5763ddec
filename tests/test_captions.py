"""Captions against a real chat-completions server on 127.0.0.1, through the real client."""

from __future__ import annotations

import base64
import email.utils
import io
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import keyring
import pytest
from PIL import Image

from glimpse_desktop.api import Library
from glimpse_desktop.captions import client
from glimpse_desktop.captions.service import CaptionError
from glimpse_desktop.kernel.progress import Cancelled, CancelToken
from tests import captionserver as cs
from tests import imagegen as ig
from tests.captionserver import (  # noqa: F401 - fixtures
    FakeService,
    MemoryKeyring,
    memory_keyring_fixture,
    service_fixture,
)

MODEL = "test-vision"


@pytest.fixture(autouse=True)
def _hermetic(memory_keyring: MemoryKeyring) -> None:
    """No test touches the developer's own keyring or keys."""


def configure(lib: Library, service: FakeService, *, consent: bool = True,
              concurrency: int = 1) -> None:
    lib.config.set("caption.base_url", service.url)
    lib.config.set("caption.model", MODEL)
    lib.config.set("caption.enabled", True)
    lib.config.set("caption.max_edge", 256)
    lib.config.set("caption.concurrency", concurrency)
    lib.config.set("caption.rpm", 100_000)
    lib.captions.backoff_base = 0.01
    lib.captions.timeout = 0.5
    if consent:
        lib.captions.give_consent()


def add_photos(lib: Library, folder: Path, n: int = 3) -> list[int]:
    for i in range(n):
        ig.write_jpeg(folder / f"p{i}.jpg", size=(900, 600), seed=i,
                      datetime_original=f"2023:07:1{i} 18:03:22", gps=(38.7223, -9.1393),
                      make="Google", model="Pixel 8", image_description=f"photo {i}")
    lib.add_root(folder)
    lib.index()
    return [int(r[0]) for r in lib.reader().execute("SELECT id FROM photos ORDER BY id")]


def image_of(body: dict[str, Any]) -> bytes:
    parts = body["messages"][1]["content"]
    url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
    assert url.startswith("data:image/jpeg;base64,")
    return base64.b64decode(url.split(",", 1)[1])


def prompt_of(body: dict[str, Any]) -> str:
    parts = body["messages"][1]["content"]
    return str(next(p["text"] for p in parts if p["type"] == "text"))


# --------------------------------------------------------------------------- the request


def test_request_carries_model_prompt_and_a_small_jpeg_without_metadata(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 1)
    assert b"Exif" in (photo_dir / "p0.jpg").read_bytes()  # the original has EXIF and GPS
    configure(lib, service)
    report = lib.captions.run()
    assert (report.captioned, report.failed, report.requests) == (1, 0, 1)
    body = service.requests[0]
    assert body["model"] == MODEL
    assert prompt_of(body) == client.DEFAULT_PROMPT
    data = image_of(body)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert max(image.size) <= 256
    assert "exif" not in image.info and not image.getexif()
    assert b"Exif" not in data and b"GPS" not in data and b"Pixel" not in data
    caption = lib.captions.get(ids[0])
    assert caption is not None
    assert caption.source == "model" and caption.model == MODEL
    assert caption.summary == "A red bicycle leans against a yellow wall."
    assert caption.data is not None and caption.data["scene"] == "city street"


def test_metadata_is_sent_only_when_chosen(lib: Library, photo_dir: Path,
                                           service: FakeService) -> None:
    add_photos(lib, photo_dir, 1)
    configure(lib, service)
    lib.config.set("caption.send_metadata", True)
    assert not lib.captions.consented()     # another destination: asks again
    lib.captions.give_consent()
    lib.captions.run()
    assert "Taken on 2023-07-10" in prompt_of(service.requests[0])
    assert "38.72" not in prompt_of(service.requests[0])


# --------------------------------------------------------------------------- consent, keys


def test_nothing_is_sent_without_captioning_on_and_consent(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    add_photos(lib, photo_dir, 2)
    configure(lib, service, consent=False)
    lib.config.set("caption.enabled", False)
    with pytest.raises(CaptionError, match="captioning is off") as off:
        lib.captions.run()
    assert off.value.code == "captions.off"      # how to turn it on: each front end's words
    lib.config.set("caption.enabled", True)
    with pytest.raises(CaptionError, match="not agreed"):
        lib.captions.run()
    text = lib.captions.consent_text()
    assert "256 pixels" in text and "127.0.0.1" in text and MODEL in text
    assert "without its EXIF, GPS" in text
    lib.captions.give_consent()
    assert lib.captions.consented()
    lib.config.set("caption.model", "another-model")
    assert not lib.captions.consented()
    with pytest.raises(CaptionError, match="not agreed"):
        lib.captions.run()
    lib.config.set("caption.model", MODEL)
    lib.config.set("caption.enabled", False)     # off wins over consent
    with pytest.raises(CaptionError):
        lib.captions.run()
    assert lib.captions.run_new() is None
    assert service.requests == []
    lib.config.set("caption.enabled", True)
    lib.captions.revoke_consent()
    assert not lib.captions.consented()

    # A larger copy than the person agreed to is asked about again.
    lib.captions.give_consent()
    lib.config.set("caption.max_edge", 2048)
    assert not lib.captions.consented()
    # Agreement to what was shown is not agreement to what the settings became meanwhile.
    shown = lib.captions.consent_record()
    lib.config.set("caption.base_url", "https://api.example.com/v1")
    with pytest.raises(CaptionError, match="changed while you were reading"):
        lib.captions.give_consent(expected=shown)
    assert not lib.captions.consented()
    lib.captions.give_consent(expected=lib.captions.consent_record())
    assert lib.captions.consented()
    assert service.requests == []


def test_destination_and_key_sources(lib: Library, monkeypatch: pytest.MonkeyPatch,
                                     memory_keyring: MemoryKeyring) -> None:
    d = lib.captions.destination()
    assert (d.host, d.model, d.local) == ("api.openai.com", "gpt-4o-mini", False)
    assert d.key_source is None
    with pytest.raises(CaptionError, match="no API key"):
        lib.config.set("caption.enabled", True)
        lib.captions.give_consent()
        lib.captions.run()
    lib.captions.set_api_key("sk-from-keyring")
    assert memory_keyring.store == {("glimpse-desktop", "api.openai.com"): "sk-from-keyring"}
    assert lib.captions.destination().key_source == "keyring"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    assert lib.captions.api_key() == "sk-openai"
    assert lib.captions.destination().key_source == "OPENAI_API_KEY"
    monkeypatch.setenv("GLIMPSE_CAPTION_API_KEY", "sk-glimpse")
    assert lib.captions.api_key() == "sk-glimpse"
    monkeypatch.delenv("GLIMPSE_CAPTION_API_KEY")
    monkeypatch.delenv("OPENAI_API_KEY")
    assert lib.captions.delete_api_key() is True
    assert lib.captions.delete_api_key() is False
    monkeypatch.setenv("GLIMPSE_CAPTION_BASE_URL", "http://localhost:11434/v1")
    d = lib.captions.destination()
    assert d.local and d.key_source == "not needed (local service)"
    assert lib.captions.estimate().basis == "free: local service"


def test_keyring_without_a_backend_is_a_clear_error(lib: Library) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())
    with pytest.raises(CaptionError, match="GLIMPSE_CAPTION_API_KEY"):
        lib.captions.set_api_key("sk-x")
    assert lib.captions.api_key() is None


@pytest.mark.parametrize("where", ["env", "keyring"])
def test_the_key_reaches_the_service_and_never_the_library(
        where: str, lib: Library, library_path: Path, photo_dir: Path, service: FakeService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    add_photos(lib, photo_dir, 1)
    configure(lib, service)
    secret = "sk-test-SECRET-0123456789"
    if where == "env":
        monkeypatch.setenv("GLIMPSE_CAPTION_API_KEY", secret)
    else:
        lib.captions.set_api_key(secret)
    assert lib.captions.run().captioned == 1
    assert service.headers[0]["authorization"] == f"Bearer {secret}"
    lib.close()
    files = [p for p in library_path.parent.rglob("*") if p.is_file()]
    assert library_path in files
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_openai_api_key_is_the_fallback_for_openai(
        lib: Library, photo_dir: Path, service: FakeService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    add_photos(lib, photo_dir, 1)
    configure(lib, service)
    # The local server stands in for api.openai.com as an HTTP proxy: the real client sends
    # the same request it would send to OpenAI (over http, so the proxy can read it).
    lib.config.set("caption.base_url", "http://api.openai.com/v1")
    lib.config.set("caption.price_in", 0)
    lib.config.set("caption.price_out", 0)
    lib.captions.give_consent()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{service.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{service.port}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-fallback")
    assert lib.captions.destination().key_source == "OPENAI_API_KEY"
    assert lib.captions.run().captioned == 1
    assert service.paths[0] == "http://api.openai.com/v1/chat/completions"
    assert service.headers[0]["authorization"] == "Bearer sk-openai-fallback"


# --------------------------------------------------------------------------- replies


def test_fenced_json_malformed_and_plain_text(lib: Library, photo_dir: Path,
                                              service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 3)
    configure(lib, service)
    service.script.extend([
        cs.fenced("A fenced reply."),
        cs.text("Sure! Here is a nice photo of a dog."), cs.good("A dog on grass."),
        cs.text("not json at all"), cs.text("still not json"),
    ])
    report = lib.captions.run()
    assert (report.captioned, report.plain_text, report.requests) == (3, 1, 5)
    assert len(service.requests) == 5
    again = service.requests[2]["messages"]
    assert again[-2] == {"role": "assistant", "content": "Sure! Here is a nice photo of a dog."}
    assert again[-1]["content"] == client.JSON_AGAIN
    first, second, third = (lib.captions.get(i) for i in ids)
    assert first is not None and first.summary == "A fenced reply."
    assert second is not None and second.summary == "A dog on grass."
    # The first answer is kept: it was the description; the second only failed the format.
    assert third is not None and third.summary == "not json at all" and third.data is None


def test_retries_on_slow_429_and_500_and_fails_fast_on_401(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 3)
    configure(lib, service)
    service.script.extend([
        cs.slow(1.5),                                     # beyond the 0.5 s timeout
        cs.good("Answered the second time."),
        cs.error(429, "slow down", {"Retry-After": "0"}), cs.good("After a 429."),
        cs.error(500, "oops"), cs.good("After a 500."),
    ])
    report = lib.captions.run()
    assert (report.captioned, report.failed) == (3, 0)
    assert [lib.captions.get(i).summary for i in ids] == [  # type: ignore[union-attr]
        "Answered the second time.", "After a 429.", "After a 500."]
    service.default = lambda body: cs.error(401, "Incorrect API key provided")
    with pytest.raises(CaptionError, match=r"did not accept the API key \(401\)"):
        lib.captions.run(prompt="Another question, in JSON.", replace=True)
    assert len(service.requests) == 7  # one 401, no retries


def test_a_bad_photo_is_recorded_and_the_run_goes_on(lib: Library, photo_dir: Path,
                                                     service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 2)
    configure(lib, service)
    service.script.append(cs.error(400, "image too large"))
    report = lib.captions.run()
    assert (report.captioned, report.failed) == (1, 1)
    errors = lib.errors(stage="caption")
    assert len(errors) == 1 and "image too large" in errors[0].reason
    assert lib.captions.run().captioned == 1        # tried again, and the error cleared
    assert lib.errors(stage="caption") == []
    assert all(lib.captions.get(i) for i in ids)


def test_retry_after_is_honoured_and_waits_can_be_cancelled(service: FakeService) -> None:
    waits: list[float] = []

    def record(token: CancelToken, seconds: float) -> bool:
        waits.append(seconds)
        return False

    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    service.script.extend([cs.error(429, headers={"Retry-After": "7"}),
                           cs.error(503, headers={"retry-after-ms": "1500"}),
                           cs.error(429, headers={"Retry-After": later}),
                           cs.error(502), cs.good()])
    cap = client.Captioner(service.url, MODEL, None, backoff_base=0.25, wait=record,
                           max_wait=20)
    reply = cap.caption(b"\xff\xd8jpeg", "Describe it as JSON.")
    assert reply.data is not None and reply.tokens_in == 1000
    assert waits[0] == 7.0 and waits[1] == 1.5
    assert 20 >= waits[2] >= 19     # an HTTP date 30 s away, capped at max_wait
    assert 0.125 <= waits[3] <= 2.0  # no Retry-After: exponential backoff with jitter
    token = CancelToken()
    service.script.append(cs.error(429, headers={"Retry-After": "30"}))
    cancelling = client.Captioner(service.url, MODEL, None,
                                  wait=lambda tok, s: token.cancel() or tok.wait(s))
    with pytest.raises(Cancelled):
        cancelling.caption(b"jpeg", "x", cancel=token)


def test_rate_limiter_spaces_requests() -> None:
    now = [100.0]
    waits: list[float] = []

    def wait(token: CancelToken, seconds: float) -> bool:
        waits.append(seconds)
        return False

    limiter = client.RateLimiter(30, clock=lambda: now[0], wait=wait)
    for _ in range(4):
        limiter.acquire()
    assert waits == [2.0, 4.0, 6.0]
    now[0] += 60          # a quiet minute later: no wait
    limiter.acquire()
    assert waits == [2.0, 4.0, 6.0]


def test_parse_json_and_retry_after() -> None:
    assert client.parse_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert client.parse_json('Here you go: {"a": 2} enjoy') == {"a": 2}
    assert client.parse_json("[1, 2]") is None
    assert client.parse_json("nope") is None
    assert client.retry_after({"retry-after": "3"}) == 3.0
    assert client.retry_after({"retry-after-ms": "250"}) == 0.25
    assert client.retry_after({}) is None


# --------------------------------------------------------------------------- cache, resume


def test_cache_means_nothing_is_paid_for_twice(lib: Library, photo_dir: Path,
                                               service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 2)
    configure(lib, service)
    assert lib.captions.run().captioned == 2
    assert len(service.requests) == 2
    lib.writer.call(lambda c: c.execute("DELETE FROM captions"))
    estimate = lib.captions.estimate()
    assert (estimate.photos, estimate.cached, estimate.to_send) == (2, 2, 0)
    report = lib.captions.run()
    assert (report.captioned, report.from_cache) == (2, 2)
    assert len(service.requests) == 2
    assert lib.captions.get(ids[0]) is not None
    # A copy of a file under another name has the same content: answered from the cache.
    shutil.copy(photo_dir / "p0.jpg", photo_dir / "copy of p0.jpg")
    lib.index()
    report = lib.captions.run()
    assert (report.captioned, report.from_cache) == (1, 1)
    assert len(service.requests) == 2
    # Another prompt is another question: sent again (replacing the model's captions).
    report = lib.captions.run(prompt="Say what is in the photo, as JSON.", replace=True)
    assert report.captioned == 3 and len(service.requests) == 4   # two distinct files
    assert prompt_of(service.requests[-1]) == "Say what is in the photo, as JSON."


def test_cancel_keeps_finished_captions_and_a_rerun_finishes(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    add_photos(lib, photo_dir, 4)
    configure(lib, service)
    token = CancelToken()

    def second(body: dict[str, Any]) -> cs.Answer:
        token.cancel()            # Ctrl-C while this request is in flight
        return cs.good("The second one.")

    service.script.extend([cs.good("The first one."), second])
    report = lib.captions.run(cancel=token)
    assert report.cancelled
    assert (report.captioned, report.skipped) == (2, 2)
    assert len(service.requests) == 2
    report = lib.captions.run()
    assert (report.captioned, report.from_cache) == (2, 0)
    assert len(service.requests) == 4
    assert int(lib.reader().one("SELECT count(*) FROM captions")) == 4


def test_cost_cap_stops_the_run(lib: Library, photo_dir: Path, service: FakeService) -> None:
    add_photos(lib, photo_dir, 4)
    configure(lib, service)
    lib.config.set("caption.price_in", 1000)     # $1 per 1000 prompt tokens
    lib.config.set("caption.price_out", 0)
    estimate = lib.captions.estimate()
    assert estimate.cost_usd == pytest.approx(4 * 1.5)   # the guess: 1,500 tokens each
    report = lib.captions.run(max_cost=2.0)
    assert report.stopped_by_cap and report.captioned == 2 and report.skipped == 2
    assert report.cost_usd == pytest.approx(2.0)
    estimate = lib.captions.estimate()
    assert estimate.basis == "average of 2 earlier replies"
    assert estimate.cost_usd == pytest.approx(2.0)


def test_where_and_limit_choose_the_photos(lib: Library, photo_dir: Path,
                                           service: FakeService) -> None:
    add_photos(lib, photo_dir, 3)
    (photo_dir / "sub").mkdir()
    ig.write_png(photo_dir / "sub" / "drawing.png")
    lib.index()
    configure(lib, service)
    assert lib.captions.run(where="type:png").captioned == 1    # filters alone
    assert lib.captions.run(where="p2").captioned == 1          # the file name, by FTS
    assert lib.captions.run(limit=1).captioned == 1
    assert lib.captions.run(dry_run=True).photos == 1
    assert len(service.requests) == 3


# --------------------------------------------------------------------------- search, edits


def test_search_finds_caption_words_and_tags(lib: Library, photo_dir: Path,
                                             service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 2)
    configure(lib, service)
    service.script.append(cs.good("A zebracorn grazing by a lighthouse.",
                                  objects=[{"label": "Lighthouse", "colour": "white",
                                            "position": "left"}],
                                  text="KEEP OUT"))
    lib.captions.run()
    assert [h.photo_id for h in lib.search("zebracorn").hits] == [ids[0]]
    assert [h.photo_id for h in lib.search("tag:lighthouse").hits] == [ids[0]]
    assert [h.photo_id for h in lib.search("keep out").hits] == [ids[0]]   # visible text
    assert {h.photo_id for h in lib.search("tag:\"rule of thirds\"").hits} == set(ids)
    info = lib.photo(ids[0])
    assert info is not None and info.caption is not None
    assert info.caption.summary.startswith("A zebracorn")


def test_the_persons_caption_survives_runs(lib: Library, photo_dir: Path,
                                           service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 2)
    configure(lib, service)
    lib.captions.set_text(ids[0], "Grandma's quokka, summer 2023")
    lib.captions.run(replace=True)
    lib.captions.run(prompt="Another prompt in JSON.", replace=True)
    mine = lib.captions.get(ids[0])
    assert mine is not None and mine.source == "user"
    assert mine.summary == "Grandma's quokka, summer 2023"
    assert len(service.requests) == 2    # only the other photo, once per prompt
    assert [h.photo_id for h in lib.search("quokka").hits] == [ids[0]]
    # Editing a model's caption keeps its fields (tags) and makes it the person's.
    lib.captions.set_text(ids[1], "My bicycle")
    edited = lib.captions.get(ids[1])
    assert edited is not None and edited.source == "user" and edited.data is not None
    assert [h.photo_id for h in lib.search("tag:bicycle").hits] == [ids[1]]
    lib.captions.set_text(ids[0], "")
    assert lib.captions.get(ids[0]) is None
    assert lib.search("quokka").hits == []


def test_background_captions_new_photos_only_when_auto_applies(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    ids = add_photos(lib, photo_dir, 2)
    configure(lib, service)
    assert lib.captions.start_background() is False       # caption.auto is off
    lib.config.set("caption.auto", True)
    lib.captions.set_text(ids[0], "mine")
    lib.config.set("writeback.sync", True)
    assert lib.captions.start_background() is True
    lib.captions.wait_background(10)
    assert lib.captions.background_error is None
    report = lib.captions.background_report
    assert report is not None and report.captioned == 1 and report.photo_ids == [ids[1]]
    assert len(service.requests) == 1
    # With write-back sync on, what the background run wrote reaches the photo's sidecar.
    photo = lib.photo(ids[1])
    assert photo is not None
    sidecar = Path(photo.path + ".xmp")
    assert "A red bicycle" in sidecar.read_text("utf-8")


def test_many_workers_share_the_run(lib: Library, photo_dir: Path,
                                    service: FakeService) -> None:
    add_photos(lib, photo_dir, 6)
    configure(lib, service, concurrency=4)
    service.default = lambda body: cs.slow(0.1)
    report = lib.captions.run()
    assert (report.captioned, report.failed) == (6, 0)
    assert len(service.requests) == 6


def test_two_runs_at_once_never_pay_twice(lib: Library, photo_dir: Path,
                                          service: FakeService) -> None:
    add_photos(lib, photo_dir, 3)
    configure(lib, service)
    service.default = lambda body: cs.slow(0.3)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(lib.captions.run()))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.captioned for r in reports) >= 3
    assert len(service.requests) == 3
    assert int(lib.reader().one("SELECT count(*) FROM captions")) == 3


def test_an_unreadable_file_is_recorded(lib: Library, photo_dir: Path,
                                        service: FakeService) -> None:
    add_photos(lib, photo_dir, 2)
    configure(lib, service)
    (photo_dir / "p1.jpg").write_bytes(b"no longer a photo")
    report = lib.captions.run()
    assert (report.captioned, report.failed) == (1, 1)
    assert len(service.requests) == 1
    [error] = lib.errors(stage="caption")
    assert error.path.endswith("p1.jpg")


def test_a_service_that_refuses_every_photo_stops_the_run(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    """A model that takes no images answers 400 to each photo: a few, not the library."""
    add_photos(lib, photo_dir, 8)
    configure(lib, service)
    service.default = lambda body: cs.error(400, "this model does not support image input")
    with pytest.raises(CaptionError, match="in a row were refused"):
        lib.captions.run()
    assert len(service.requests) == 5
    assert lib.reader().one("SELECT count(*) FROM captions") == 0


def test_a_cancel_while_asking_again_for_json_keeps_the_reply_paid_for(
        service: FakeService) -> None:
    token = CancelToken()

    def malformed_then_stop(body: dict[str, Any]) -> cs.Answer:
        token.cancel()          # the person presses Cancel while the first reply is read
        return cs.text("A cat asleep on a windowsill.")

    service.script.append(malformed_then_stop)
    captioner = client.Captioner(service.url, MODEL, None, backoff_base=0.01)
    try:
        reply = captioner.caption(b"\xff\xd8\xff\xd9", "Describe.", cancel=token)
    finally:
        captioner.close()
    assert reply.text == "A cat asleep on a windowsill." and reply.data is None
    assert len(service.requests) == 1


def test_a_question_another_process_is_asking_is_not_paid_for_twice(
        lib: Library, photo_dir: Path, service: FakeService) -> None:
    """The app and `glimpse watch` on one library: a claim in the library keeps the second
    from asking what the first is asking; a claim left by a stopped process expires."""
    import time

    ids = add_photos(lib, photo_dir, 2)
    configure(lib, service)
    lib.captions.run(photo_ids=[ids[1]])
    assert len(service.requests) == 1
    conn = lib.reader()
    sha = conn.one("SELECT prompt_sha FROM captions WHERE photo_id = ?", (ids[1],))
    content = conn.one("SELECT content_hash FROM photos WHERE id = ?", (ids[0],))
    assert conn.one("SELECT count(*) FROM caption_claims") == 0     # released when done

    def claim(at: float) -> None:
        lib.writer.call(lambda c: c.execute(
            "INSERT OR REPLACE INTO caption_claims VALUES (?, ?, ?, 'another-process', ?)",
            (content, MODEL, sha, at)))

    claim(time.time())
    report = lib.captions.run()
    assert report.skipped == 1 and report.captioned == 0
    assert len(service.requests) == 1                  # nothing asked twice
    claim(time.time() - 3600)                          # that process stopped long ago
    report = lib.captions.run()
    assert report.captioned == 1 and len(service.requests) == 2
    assert lib.reader().one("SELECT count(*) FROM caption_claims") == 0
