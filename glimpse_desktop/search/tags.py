"""Zero-shot tags with CLIP: the person's own list of words, or built-in vocabularies.

For each photo, each candidate tag competes with the other tags of its list *and* with a few
neutral descriptions ("a photo", ...) in a softmax at CLIP's logit scale: a tag is kept when
its share is at least ``threshold`` and it is among the ``top`` best. The neutral descriptions
let a photo get no tag at all when none fits, instead of the least bad one.

Tags are stored with their confidence and source (``clip:<model id>``) in photo_tags, and as
text in the FTS index (column ``tags``), so a search for beach and ``tag:beach`` find them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glimpse_desktop.kernel import fts, vectors
from glimpse_desktop.kernel.config import get_setting, set_setting
from glimpse_desktop.kernel.db import Connection, Writer
from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback, ProgressMeter

LOGIT_SCALE = 100.0
NEUTRAL = ("a photo.", "a picture.", "an image.", "a photo of something.")
CHUNK = 4096

# Built-in vocabularies: tag -> the prompts that describe it (averaged).
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "scenes": {t: (f"a photo of a {t}.", f"a picture taken at a {t}.") for t in (
        "beach", "mountain", "city", "forest", "lake", "river", "desert", "snowy landscape",
        "countryside", "park", "garden", "street", "restaurant", "kitchen", "living room",
        "bedroom", "office", "museum", "church", "stadium", "concert", "party", "wedding",
        "birthday party", "playground", "swimming pool", "airport", "train station",
        "harbour", "night sky", "sunset", "waterfall", "cave", "farm", "market")},
    "mood": {t: (f"a {t} photo.", f"a photo with a {t} mood.") for t in (
        "happy", "joyful", "calm", "peaceful", "romantic", "melancholic", "gloomy",
        "dramatic", "energetic", "nostalgic", "cozy", "mysterious", "playful", "serene")},
    "composition": {
        "rule of thirds": ("a photo composed with the rule of thirds.",
                           "the subject is placed off-centre on a third line."),
        "centered": ("a photo with the subject in the centre of the frame.",
                     "a centred, symmetrical composition."),
        "symmetry": ("a symmetrical photo.", "a photo with mirror symmetry."),
        "leading lines": ("a photo with leading lines drawing the eye into the picture.",
                          "lines in the photo lead towards the subject."),
        "pattern": ("a photo of a repeating pattern.", "a photo full of repetition and "
                                                         "texture."),
        "framing": ("a photo where the subject is framed by a doorway, window or branches.",
                    "a frame within the frame."),
        "minimalism": ("a minimalist photo with lots of empty space.",
                       "a simple photo with negative space."),
        "close-up": ("a close-up photo.", "a macro photo of a small detail."),
    },
}
VOCAB_KEY = "tags.vocabularies"
# The last vector change (``vectors.last_seq``) whose photos were given the remembered tags.
SEQ_KEY = "tags.seq"


@dataclass
class TagReport:
    photos: int = 0
    tagged: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False


def normalise(tag: str) -> str:
    return re.sub(r"\s+", " ", tag.strip().lower())


def custom_vocabulary(tags: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The person's own words, each described as a photo of it."""
    out: dict[str, tuple[str, ...]] = {}
    for raw in tags:
        tag = normalise(raw)
        if tag:
            out[tag] = (f"a photo of {tag}.", f"{tag}.")
    return out


def label_vectors(encode: Callable[[Sequence[str]], np.ndarray],
                  vocab: dict[str, tuple[str, ...]]) -> tuple[list[str], np.ndarray]:
    """One unit vector per tag: the mean of its prompts' embeddings."""
    names = list(vocab)
    prompts = [p for n in names for p in vocab[n]]
    embs = encode(prompts)
    out = []
    i = 0
    for n in names:
        k = len(vocab[n])
        v = embs[i:i + k].mean(axis=0)
        out.append(v / (np.linalg.norm(v) or 1.0))
        i += k
    return names, np.asarray(out, dtype=np.float32)


def assign(images: np.ndarray, labels: np.ndarray, neutral: np.ndarray, *, threshold: float,
           top: int) -> list[list[tuple[int, float]]]:
    """Per image: (label index, confidence) kept, best first."""
    logits = LOGIT_SCALE * (images @ np.vstack([labels, neutral]).T)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    p = p[:, :len(labels)]
    out: list[list[tuple[int, float]]] = []
    for row in p:
        order = np.argsort(-row)[:top]
        out.append([(int(i), float(row[i])) for i in order if row[i] >= threshold])
    return out


def tag_photos(
    *,
    reader: Callable[[], Connection],
    writer: Writer,
    model_id: str,
    table: str,
    encode: Callable[[Sequence[str]], np.ndarray],
    vocabularies: dict[str, dict[str, tuple[str, ...]]],
    threshold: float,
    top: int,
    meter: ProgressMeter,
    cancel: CancelToken,
    photo_ids: Sequence[int] | None = None,
) -> TagReport:
    """Tag the embedded photos (or only ``photo_ids``) with each vocabulary; a photo's earlier
    tags from the same model and vocabulary are replaced."""
    report = TagReport()
    source = f"clip:{model_id}"
    neutral = encode(list(NEUTRAL))
    prepared = {name: label_vectors(encode, vocab) for name, vocab in vocabularies.items()}
    conn = reader()
    if photo_ids is None:
        ids = [int(r[0]) for r in conn.execute(
            "SELECT photo_id FROM photo_embeddings WHERE model_id = ? ORDER BY photo_id",
            (model_id,))]
    else:
        ids = sorted(set(photo_ids))
    meter.start_phase("tagging photos", len(ids))
    for start in range(0, len(ids), CHUNK):
        if cancel.cancelled:
            report.cancelled = True
            break
        chunk = ids[start:start + CHUNK]
        blobs = vectors.get_many(conn, table, chunk)
        present = [i for i in chunk if i in blobs]
        if not present:
            meter.advance(len(chunk))
            continue
        mat = np.frombuffer(b"".join(blobs[i] for i in present), dtype="<f4")
        mat = mat.reshape(len(present), -1)
        found: dict[int, list[tuple[str, float, str]]] = {i: [] for i in present}
        for vname, (names, labels) in prepared.items():
            for pid, kept in zip(present, assign(mat, labels, neutral, threshold=threshold,
                                                 top=top), strict=True):
                found[pid].extend((names[li], conf, vname) for li, conf in kept)

        def save(c: Connection, found: dict[int, list[tuple[str, float, str]]] = found
                 ) -> None:
            for pid, tags in found.items():
                for vname in prepared:
                    c.execute("DELETE FROM photo_tags WHERE photo_id = ? AND source = ? "
                              "AND vocabulary = ?", (pid, source, vname))
                for tag, conf, vname in tags:
                    c.execute("INSERT OR REPLACE INTO photo_tags(photo_id, tag, source, "
                              "confidence, vocabulary) VALUES (?, ?, ?, ?, ?)",
                              (pid, tag, source, conf, vname))
                words = [r[0] for r in c.execute(
                    "SELECT DISTINCT tag FROM photo_tags WHERE photo_id = ? ORDER BY tag",
                    (pid,))]
                c.execute("DELETE FROM photo_text WHERE photo_id = ? AND field = 'tags' AND "
                          "source = 'clip'", (pid,))
                if words:
                    c.execute("INSERT INTO photo_text(photo_id, field, source, value) "
                              "VALUES (?, 'tags', 'clip', ?)", (pid, "\n".join(words)))
            fts.mark(c, list(found))

        writer.call(save)
        report.photos += len(present)
        for tags in found.values():
            if tags:
                report.tagged += 1
            for tag, _, _ in tags:
                report.tags[tag] = report.tags.get(tag, 0) + 1
        meter.advance(len(chunk))
    return report


def enabled(raw: str | None) -> dict[str, list[str]]:
    """The tag lists a library tags new photos with (settings value, JSON)."""
    try:
        data = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return {str(k): [str(t) for t in v] for k, v in data.items() if isinstance(v, list)}


def tag_new(library: Any, *, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> TagReport | None:
    """Give photos embedded since the last pass the tag lists the person asked to remember
    (``Library.tag(remember=True)``), with the same threshold and number of tags. None when
    there is nothing to do: no remembered lists, no search model, no new embeddings.
    ``library`` is the ``api.Library`` (a feature never imports the API it serves)."""
    conn = library.reader()
    raw = get_setting(conn, VOCAB_KEY)
    model_id = library.semantic.active()
    if not raw or model_id is None:
        return None
    try:
        setting = json.loads(raw)
    except json.JSONDecodeError:
        return None
    since = int(get_setting(conn, SEQ_KEY) or 0)
    changed, seq = vectors.changes_since(conn, model_id, since, limit=10_000_000)
    if not changed:
        return None
    vocabs = setting.get("vocabularies", {})
    report: TagReport = library.tag(
        vocabs.get("custom", []), vocabularies=[v for v in vocabs if v != "custom"],
        threshold=float(setting.get("threshold", 0.3)), top=int(setting.get("top", 3)),
        remember=False, progress=progress, cancel=cancel, photo_ids=changed)
    if not report.cancelled:
        library.writer.call(lambda c: set_setting(c, SEQ_KEY, str(seq)))
    return report
