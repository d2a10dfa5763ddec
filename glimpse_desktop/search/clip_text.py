"""CLIP text queries without torch: open_clip's tokenizer in pure Python and the text tower as ONNX.

`import torch` plus `import open_clip` takes seconds, longer than a cold command-line search takes
in all. So the text tower is exported once (with torch, when the model is added; or downloaded
already exported) to an ONNX file, and queries are encoded by ONNX Runtime with a tokenizer that
gives exactly the ids open_clip's ``SimpleTokenizer`` gives, read from the vocabulary file kept
beside the model (or the copy that ships in ``search/data/``).

Nothing here imports torch or open_clip at module level, and neither is imported by tokenising or
encoding; only `export_text_onnx` imports torch, and only when called.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import itertools
import logging
import math
import os
import secrets
import threading
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from glimpse_desktop.kernel import runtime

if TYPE_CHECKING:
    import onnxruntime

__all__ = [
    "DEFAULT_CONTEXT_LENGTH",
    "ClipTextModelError",
    "ClipTokenizer",
    "OnnxTextEncoder",
    "default_vocab_path",
    "export_text_onnx",
    "quantize_text_onnx",
]

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_LENGTH = 77
VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
# The copy that ships with Glimpse (MIT, from open_clip/OpenAI CLIP; see data/LICENSE.*).
BUNDLED_VOCAB = Path(__file__).resolve().parent / "data" / VOCAB_FILE
# Same pre-tokenisation pattern as open_clip (contractions, runs of letters, single digits, runs of
# other non-space characters); the special tokens are prepended as alternatives at build time.
_WORD_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
_SOT, _EOT = "<start_of_text>", "<end_of_text>"

# Texts that an export or a quantisation is checked on: short and long, several scripts, emoji,
# one that is truncated; each row's embedding must agree with the reference.
PROBE_TEXTS: tuple[str, ...] = (
    "red car",
    "a photo of a dog running on the beach at sunset",
    "Grandma's 80th birthday party, 2019",
    "café au lait",
    "東京の夜景",
    "🐶🐱 at home",
    "black and white portrait of an old man with a beard",
    " ".join(["mountains lake reflection"] * 30),
)


class ClipTextModelError(RuntimeError):
    """The ONNX text model is missing, damaged, or not the shape this code expects."""


def default_vocab_path() -> Path:
    """CLIP's BPE vocabulary: the copy that ships inside this package (``search/data/``),
    else the one inside an installed open_clip package, found without importing it.

    ``find_spec`` of a top-level package locates it without executing its ``__init__`` (which
    would import torch).
    """
    shipped = BUNDLED_VOCAB
    if shipped.is_file():
        return shipped
    try:
        spec = importlib.util.find_spec("open_clip")
    except (ImportError, ValueError):  # a finder that refuses it: as good as not installed
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / VOCAB_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"CLIP vocabulary {VOCAB_FILE} not found: it ships in {shipped.parent} (reinstall "
        "Glimpse), or pass the path of a copy of the file to ClipTokenizer(vocab_path=...)"
    )


@cache
def _bytes_to_unicode() -> dict[int, str]:
    """open_clip's reversible map from the 256 byte values to printable characters."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {byte: chr(code) for byte, code in zip(printable, codes, strict=True)}


def _read_merges(path: Path) -> list[str]:
    """The BPE merges open_clip uses, as "a b" lines: lines 1 to 48,894 of the vocabulary file.

    Only the first fifth of the file is used, so decompression stops there (a cold start is
    what this module exists for).
    """
    wanted = 49152 - 256 - 2  # open_clip's slice [1 : 49152 - 256 - 2 + 1]
    with gzip.open(path, "rb") as fh:
        chunks: list[bytes] = []
        newlines = 0
        while newlines <= wanted:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            newlines += chunk.count(b"\n")
    data = b"".join(chunks)
    if newlines > wanted:  # drop a last line cut mid-way (maybe mid-character)
        data = data[: data.rindex(b"\n")]
    merges = data.decode("utf-8").split("\n")[1 : wanted + 1]
    if len(merges) != wanted or any(m.count(" ") != 1 for m in merges):
        raise ValueError(f"{path} is not the CLIP BPE vocabulary")
    return merges


def _plain(text: str) -> bool:
    """Printable ASCII without ``&``: text ftfy and HTML unescaping both leave as it is (no
    mojibake, entity, control character, curly quote or ligature can be written in it)."""
    return text.isascii() and text.isprintable() and "&" not in text


def _basic_clean(text: str) -> str:
    if _plain(text):
        # Most queries: ftfy would return them unchanged, and importing it is a twelfth of a
        # cold one-shot search (50-80 ms).
        return text.strip()
    import ftfy

    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def _clean_lower(text: str) -> str:
    """open_clip's default ``clean='lower'``: basic_clean, collapse whitespace, lowercase."""
    return " ".join(_basic_clean(text).split()).strip().lower()


class ClipTokenizer:
    """open_clip's ``SimpleTokenizer`` with its defaults (``clean='lower'``, no reduction mask,
    truncation keeping the end-of-text token last), returning numpy instead of torch.

    This is what ``open_clip.tokenize`` and ``open_clip.get_tokenizer(name)`` use for the OpenAI
    and LAION CLIP models; models with a Hugging Face or SigLIP tokenizer need another one.
    Instances are safe to share between threads.
    """

    def __init__(self, vocab_path: Path | None = None) -> None:
        import regex  # type: ignore[import-untyped]  # \p{L}/\p{N} classes; no stubs published

        merges = _read_merges(vocab_path if vocab_path is not None else default_vocab_path())
        byte_chars = list(_bytes_to_unicode().values())
        vocab = [*byte_chars, *(c + "</w>" for c in byte_chars)]
        vocab += [m.replace(" ", "") for m in merges]
        vocab += [_SOT, _EOT]
        self._encoder: dict[str, int] = dict(zip(vocab, range(len(vocab)), strict=True))
        # Keyed by the merge line "a b" (open_clip keys by the tuple): splitting 48,894 lines into
        # tuples costs more at start-up than joining the few pairs a query looks up.
        self._bpe_ranks: dict[str, int] = dict(zip(merges, range(len(merges)), strict=True))
        self._byte_encoder = _bytes_to_unicode()
        # Unbounded like open_clip's: queries are short and their words repeat.
        self._cache: dict[str, str] = {_SOT: _SOT, _EOT: _EOT}
        self._pattern: Any = regex.compile(f"{_SOT}|{_EOT}|{_WORD_PATTERN}", regex.IGNORECASE)
        self.vocab_size = len(self._encoder)
        self.sot_token_id = self._encoder[_SOT]
        self.eot_token_id = self._encoder[_EOT]

    def _bpe(self, token: str) -> str:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        word: tuple[str, ...] = (*token[:-1], token[-1] + "</w>")
        pairs = set(itertools.pairwise(word))
        if not pairs:
            return token + "</w>"
        ranks = self._bpe_ranks
        while True:
            bigram = min(pairs, key=lambda pair: ranks.get(f"{pair[0]} {pair[1]}", math.inf))
            if f"{bigram[0]} {bigram[1]}" not in ranks:
                break
            first, second = bigram
            merged: list[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    merged.extend(word[i:])
                    break
                merged.extend(word[i:j])
                i = j
                if i < len(word) - 1 and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(first)
                    i += 1
            word = tuple(merged)
            if len(word) == 1:
                break
            pairs = set(itertools.pairwise(word))
        result = " ".join(word)
        self._cache[token] = result
        return result

    def encode(self, text: str) -> list[int]:
        """BPE ids of one text, without start/end tokens or truncation."""
        ids: list[int] = []
        for piece in self._pattern.findall(_clean_lower(text)):
            chars = "".join(self._byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self._encoder[t] for t in self._bpe(chars).split(" "))
        return ids

    def __call__(
        self, texts: str | Sequence[str], context_length: int = DEFAULT_CONTEXT_LENGTH
    ) -> npt.NDArray[np.int64]:
        """Token ids, shape ``(len(texts), context_length)``, int64, zero-padded; a text too long
        is cut to ``context_length`` with its last id replaced by end-of-text. A lone string is
        one text (as in open_clip), not a sequence of characters."""
        if context_length < 1:
            raise ValueError(f"context_length must be positive, not {context_length}")
        if isinstance(texts, str):
            texts = [texts]
        result = np.zeros((len(texts), context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot_token_id, *self.encode(text), self.eot_token_id]
            if len(ids) > context_length:
                ids = ids[:context_length]
                ids[-1] = self.eot_token_id
            result[row, : len(ids)] = ids
        return result


def _default_threads() -> int:
    # One query is a 77-token pass; beyond ~4 threads the speed-up is small, and more threads
    # would contend with indexing running beside search on a 2-8 core laptop.
    from glimpse_desktop.kernel.threads import budget

    return budget().query


def optimised_path(path: Path) -> Path:
    """Where ONNX Runtime's optimised graph of ``path`` is kept: valid for this file (size and
    time), this ONNX Runtime and this CPU only (the optimiser picks CPU-specific layouts)."""
    import hashlib

    stat = path.stat()
    key = f"{runtime.package_version('onnxruntime')}|{runtime.cpu_name()}|{stat.st_size}|" \
          f"{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return path.with_name(f"{path.stem}.ort-{digest}.onnx")


def _make_session(path: Path, threads: int, *,
                  keep_optimised: bool = False) -> onnxruntime.InferenceSession:
    """A session for ``path``. Optimising the graph is half of making a session (0.1 s of a
    cold search's 1 s, measured): with ``keep_optimised`` (the query encoder's model, not a
    file being checked) the first session saves the optimised graph beside the model, later
    ones load it with optimisation off."""
    onnxruntime = runtime.onnxruntime()
    providers = ["CPUExecutionProvider"]
    if not keep_optimised:
        return onnxruntime.InferenceSession(
            str(path), runtime.session_options(threads), providers=providers)
    cached = optimised_path(path)
    if cached.is_file():
        options = runtime.session_options(threads)
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return onnxruntime.InferenceSession(str(cached), options, providers=providers)
        except Exception as exc:  # damaged: made again below
            log.info("optimised text model %s unusable (%s); optimising again", cached, exc)
            cached.unlink(missing_ok=True)
    if os.access(path.parent, os.W_OK):
        options = runtime.session_options(threads)
        tmp = _atomic_target(cached)
        options.optimized_model_filepath = str(tmp)
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        except Exception:
            tmp.unlink(missing_ok=True)
        else:
            try:
                os.replace(tmp, cached)
                for old in path.parent.glob(f"{path.stem}.ort-*.onnx"):
                    if old != cached:   # another ONNX Runtime's or CPU's: never read again
                        old.unlink(missing_ok=True)
            except OSError:
                tmp.unlink(missing_ok=True)
            return session
    return onnxruntime.InferenceSession(
        str(path), runtime.session_options(threads), providers=providers
    )


class OnnxTextEncoder:
    """CLIP text embeddings from an ONNX file written by `export_text_onnx`.

    The session is created on first use (or by `load`), once, under a lock; `unload` frees it and
    a later call creates it again. `encode` may be called from several threads at once.
    """

    def __init__(
        self,
        onnx_path: Path,
        tokenizer: ClipTokenizer,
        *,
        context_length: int = DEFAULT_CONTEXT_LENGTH,
        threads: int | None = None,
    ) -> None:
        self.onnx_path = Path(onnx_path)
        self.tokenizer = tokenizer
        self.context_length = context_length
        self.threads = threads if threads is not None else _default_threads()
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._input_name = ""
        self._input_dtype: type[np.integer[Any]] = np.int64
        self._batch = 0   # the batch size the export fixes (Immich's: 1), 0 when free
        self._dim = 0

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        """Create the ONNX Runtime session if there is none (idempotent, thread-safe)."""
        self._ensure_session()

    def unload(self) -> None:
        """Drop the session and its memory; encodes already running finish on their own ref."""
        with self._lock:
            self._session = None

    @property
    def dim(self) -> int:
        """Embedding width (512 for ViT-B-32); creates the session if needed."""
        self._ensure_session()
        return self._dim

    def _ensure_session(self) -> onnxruntime.InferenceSession:
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is None:
                self._session = self._create_session()
            return self._session

    def _create_session(self) -> onnxruntime.InferenceSession:
        if not self.onnx_path.is_file():
            raise ClipTextModelError(
                f"CLIP text model {self.onnx_path} does not exist: set up the CLIP model again "
                "(it is exported from the open_clip weights with export_text_onnx)"
            )
        try:
            session = _make_session(self.onnx_path, self.threads, keep_optimised=True)
        except Exception as exc:  # ORT raises its own exception types for a damaged file
            raise ClipTextModelError(
                f"CLIP text model {self.onnx_path} could not be loaded ({exc}); delete it and set "
                "up the CLIP model again to re-export it"
            ) from exc
        inputs, outputs = session.get_inputs(), session.get_outputs()
        shape = list(inputs[0].shape) if inputs else []
        out_shape = list(outputs[0].shape) if outputs else []
        if (
            len(shape) != 2
            or shape[1] != self.context_length
            or len(out_shape) != 2
            or not isinstance(out_shape[1], int)
        ):
            raise ClipTextModelError(
                f"{self.onnx_path} is not a CLIP text model for {self.context_length} tokens "
                f"(input shape {shape}, output shape {out_shape})"
            )
        # Exports differ in the token type (int64 from torch's default, int32 in Immich's) and
        # the input's name: both are read off the file.
        self._input_name = inputs[0].name
        self._input_dtype = np.int32 if inputs[0].type == "tensor(int32)" else np.int64
        self._batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else 0
        self._dim = out_shape[1]
        return session

    def encode(self, texts: str | Sequence[str]) -> npt.NDArray[np.float32]:
        """L2-normalised embeddings, shape ``(len(texts), dim)``, float32. A lone string is one
        text."""
        if isinstance(texts, str):
            texts = [texts]
        session = self._ensure_session()
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        tokens = self.tokenizer(texts, self.context_length).astype(self._input_dtype)
        step = self._batch or len(tokens)
        embeddings = np.concatenate([
            np.asarray(session.run(None, {self._input_name: tokens[i:i + step]})[0],
                       dtype=np.float32)
            for i in range(0, len(tokens), step)])
        # Normalised again here so that a quantised model's drift never reaches cosine scores.
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        normalised: npt.NDArray[np.float32] = embeddings / np.maximum(norms, np.float32(1e-12))
        return normalised


def _atomic_target(path: Path) -> Path:
    """A fresh name beside ``path`` to write to and then `os.replace` onto it (same file system).

    Not created here (unlike with mkstemp, which would make it 0600): the writer creates it
    with the usual permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _min_cosine(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dots = (a * b).sum(axis=1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float((dots / np.maximum(norms, 1e-12)).min())


def _run_onnx(path: Path, tokens: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    session = _make_session(path, _default_threads())
    (out,) = session.run(None, {session.get_inputs()[0].name: tokens})
    return np.asarray(out, dtype=np.float32)


# The export patches a torch module attribute for its duration (see below); one at a time.
_export_lock = threading.Lock()


def export_text_onnx(
    model: Any, path: Path, *, context_length: int = DEFAULT_CONTEXT_LENGTH
) -> None:
    """Write ``model.encode_text(tokens, normalize=True)`` of an open_clip CLIP model to ``path``.

    The graph takes int64 tokens ``(batch, context_length)`` named ``tokens`` and gives float32
    ``embeddings`` ``(batch, dim)``; the batch axis is dynamic. The file is written beside
    ``path``, checked against torch with ONNX Runtime on `PROBE_TEXTS` (cosine >= 0.999 per row)
    and only then moved into place, so a reader never sees a partial or wrong file.
    The model must be fp32; it is put in eval mode for the export and then restored.
    Imports torch (seconds); meant for model set-up, not for the search path.
    """
    import torch

    if not callable(getattr(model, "encode_text", None)):
        raise TypeError(f"{type(model).__name__} has no encode_text(); expected an open_clip CLIP")
    tokenizer = ClipTokenizer()
    model_vocab = getattr(model, "vocab_size", tokenizer.vocab_size)
    if model_vocab != tokenizer.vocab_size:
        raise ValueError(
            f"model vocabulary has {model_vocab} tokens, the CLIP BPE tokenizer "
            f"{tokenizer.vocab_size}: this model needs its own tokenizer, not ClipTokenizer"
        )
    model_context = getattr(model, "context_length", context_length)
    if model_context != context_length:
        raise ValueError(f"model context length is {model_context}, not {context_length}")
    first = next(iter(model.parameters()))
    if first.dtype != torch.float32:
        raise ValueError(f"export needs an fp32 model, this one is {first.dtype}")

    # Without the torch extra (`make typecheck` runs without it) torch is Any: subclassing
    # it is an error there only, and these ignores unused where torch is installed.
    class TextTower(torch.nn.Module):  # type: ignore[misc, unused-ignore]
        def __init__(self, clip: Any) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.clip.encode_text(tokens, normalize=True)  # type: ignore[no-any-return, unused-ignore]

    probe = tokenizer(PROBE_TEXTS, context_length)
    example = torch.from_numpy(probe[:2]).to(first.device)
    was_training = bool(model.training)
    tmp = _atomic_target(path)
    try:
        model.eval()
        with torch.no_grad():
            expected = model.encode_text(
                torch.from_numpy(probe).to(first.device), normalize=True
            ).float().cpu().numpy()
        with _export_lock, warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of the dynamo one, which needs
            # the onnx and onnxscript packages; this graph (no control flow) exports the same
            # either way. Its tracer warnings (shape checks inside attention frozen into the
            # trace) are answered by the numerical check below, on other texts and batch sizes.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                TextTower(model),
                (example,),
                str(tmp),
                dynamo=False,
                input_names=["tokens"],
                output_names=["embeddings"],
                dynamic_axes={"tokens": {0: "batch"}, "embeddings": {0: "batch"}},
                opset_version=17,
            )
        # A different batch size from the traced one also checks that the batch axis is free.
        got = _run_onnx(tmp, probe)
        worst = _min_cosine(got, expected)
        if not worst >= 0.999:
            raise ClipTextModelError(f"exported text model disagrees with torch (cosine {worst})")
        os.replace(tmp, path)
    finally:
        model.train(was_training)
        tmp.unlink(missing_ok=True)


def quantize_text_onnx(
    src: Path,
    dst: Path,
    tokenizer: ClipTokenizer,
    *,
    context_length: int = DEFAULT_CONTEXT_LENGTH,
    min_cosine: float = 0.99,
    probe_texts: Sequence[str] = PROBE_TEXTS,
) -> float:
    """Write a dynamically int8-quantised copy of the fp32 text model ``src`` to ``dst``.

    The copy is kept only if every probe text's embedding stays within ``min_cosine`` of the fp32
    model's; otherwise `ClipTextModelError` is raised and ``dst`` is left as it was. Returns the
    worst cosine. Needs the ``onnx`` package (ONNX Runtime's quantiser is built on it).
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ClipTextModelError(
            f"int8 quantisation needs the onnx package ({exc}); the fp32 model works without it"
        ) from exc
    tokens = tokenizer(probe_texts, context_length)
    tmp = _atomic_target(dst)
    try:
        # The quantiser logs advice through the root logger, which would reach the person's
        # terminal in the middle of an index run: quiet it for this one call.
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(Path(src), tmp, weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        worst = _min_cosine(_run_onnx(tmp, tokens), _run_onnx(Path(src), tokens))
        if not worst >= min_cosine:
            raise ClipTextModelError(
                f"int8 text model drifts too far from fp32 (cosine {worst:.4f} < {min_cosine})"
            )
        os.replace(tmp, dst)
        return worst
    finally:
        tmp.unlink(missing_ok=True)
