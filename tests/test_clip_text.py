"""CLIP text queries without torch: the tokenizer gives open_clip's ids, the ONNX text tower gives
torch's embeddings, and the query path never imports torch or open_clip."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import pytest
import torch

from glimpse_desktop.search import clip_text
from glimpse_desktop.search.clip_text import (
    ClipTextModelError,
    ClipTokenizer,
    OnnxTextEncoder,
    export_text_onnx,
)
from tests.clipmodels import tiny_clip

REPO = Path(__file__).resolve().parent.parent

TEXTS = [
    "a red car",
    "A Photo Of A DOG on the Beach",
    "sunset, beach; waves! (2019) - #holiday @home?",
    "123 4567 3.14 1st 2nd 80th 1,000,000",
    "don't it's we're they've I'm you'll he'd DON'T It’s",
    "café naïve façade Ångström crème brûlée",
    "東京の夜景 北京 서울 Москва القاهرة तेल अवीव ไทย",
    "🐶🐱🚗 👍🏽 👨‍👩‍👧 ❤️",
    "Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39; &amp;amp;",
    "   lots\tof \n\n whitespace\u00a0here   ",
    "",
    "mojibake: cafÃ© â€œquotesâ€\x9d",
    "½ ² Ⅻ ٣ numbers of other kinds",
    "word " * 200,
]


@pytest.fixture(scope="module")
def tokenizer() -> ClipTokenizer:
    return ClipTokenizer()


@pytest.fixture(scope="module")
def tiny() -> Any:
    model, _, _, _ = tiny_clip(seed=0)
    return model


@pytest.fixture(scope="module")
def text_onnx(tiny: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "clip-text.onnx"
    export_text_onnx(tiny, path)
    return path


def torch_embeddings(model: Any, texts: list[str]) -> np.ndarray:
    with torch.no_grad():
        return model.encode_text(open_clip.tokenize(texts), normalize=True).numpy()


# --- tokenizer ---------------------------------------------------------------------------------


def test_tokens_equal_open_clip_on_varied_texts(tokenizer: ClipTokenizer) -> None:
    ours = tokenizer(TEXTS)
    assert ours.dtype == np.int64
    assert ours.shape == (len(TEXTS), 77)
    np.testing.assert_array_equal(ours, open_clip.tokenize(TEXTS).numpy())
    np.testing.assert_array_equal(ours, open_clip.get_tokenizer("ViT-B-32")(TEXTS).numpy())


def test_a_long_text_is_truncated_with_end_of_text_last(tokenizer: ClipTokenizer) -> None:
    tokens = tokenizer(["word " * 200])[0]
    assert tokens[0] == tokenizer.sot_token_id
    assert tokens[-1] == tokenizer.eot_token_id
    assert np.count_nonzero(tokens) == 77


def test_the_empty_text_is_start_and_end_then_zeros(tokenizer: ClipTokenizer) -> None:
    tokens = tokenizer([""])[0]
    assert list(tokens[:2]) == [tokenizer.sot_token_id, tokenizer.eot_token_id]
    assert not tokens[2:].any()


def test_other_context_lengths_and_a_lone_string_match_open_clip(tokenizer: ClipTokenizer) -> None:
    for length in (5, 16, 100):
        np.testing.assert_array_equal(
            tokenizer(TEXTS, length), open_clip.tokenize(TEXTS, context_length=length).numpy()
        )
    np.testing.assert_array_equal(tokenizer("red car"), open_clip.tokenize("red car").numpy())
    assert tokenizer([]).shape == (0, 77)


def test_random_mixtures_of_scripts_and_entities_match_open_clip(tokenizer: ClipTokenizer) -> None:
    rng = random.Random(7)
    pieces = [*"abcXYZ éüßø'’\"!?.,;:-_/\\()<>&#0123456789½²٣\t\n\u00a0",
              *"日本語한국어Приветمرحباשלוםहिन्दी🐶👍🏽",
              "&amp;", "don't", "I'M", "Ã©", "â€œ", "&#x41;", "<b>", "CAFÉ", "’s", "  ", "👨‍👩‍👧"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))) for _ in range(300)]
    np.testing.assert_array_equal(tokenizer(texts), open_clip.tokenize(texts).numpy())


def test_printable_ascii_skips_ftfy_and_still_matches_open_clip(tokenizer: ClipTokenizer) -> None:
    """Plain ASCII queries are cleaned without ftfy (a cold search's import): every printable
    ASCII character but "&", in random texts, gives open_clip's ids all the same."""
    rng = random.Random(11)
    alphabet = [chr(c) for c in range(0x20, 0x7F) if chr(c) != "&"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
             for _ in range(400)]
    texts += ["<b>bold</b>", "a 'quoted' \"phrase\"", "  padded  ", "x" * 300]
    assert all(clip_text._plain(t) for t in texts)
    np.testing.assert_array_equal(tokenizer(texts), open_clip.tokenize(texts).numpy())
    # Texts ftfy or HTML unescaping may change take the full path.
    assert not any(clip_text._plain(t) for t in ("Tom &amp; Jerry", "caf\u00e9", "a\tb", "x\ny"))


def test_a_plain_query_does_not_import_ftfy() -> None:
    code = ("import sys\n"
            "from glimpse_desktop.search.clip_text import ClipTokenizer\n"
            "t = ClipTokenizer()\n"
            "t(['a dog on a sofa'])\n"
            "assert 'ftfy' not in sys.modules\n"
            "t(['caf\u00e9 au lait'])\n"
            "assert 'ftfy' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- ONNX text tower ---------------------------------------------------------------------------


def test_onnx_embeddings_match_torch(text_onnx: Path, tiny: Any, tokenizer: ClipTokenizer) -> None:
    encoder = OnnxTextEncoder(text_onnx, tokenizer, threads=1)
    assert encoder.dim == 64
    for texts in (["red car"], TEXTS):
        got = encoder.encode(texts)
        expected = torch_embeddings(tiny, texts)
        assert got.dtype == np.float32
        assert got.shape == (len(texts), 64)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
        assert (got * expected).sum(axis=1).min() >= 0.999


def test_export_replaces_the_file_and_leaves_no_temporary(tiny: Any, tmp_path: Path) -> None:
    path = tmp_path / "text.onnx"
    path.write_bytes(b"an older, damaged export")
    export_text_onnx(tiny, path)
    assert [p.name for p in tmp_path.iterdir()] == ["text.onnx"]
    encoder = OnnxTextEncoder(path, ClipTokenizer())
    assert encoder.encode("red car").shape == (1, 64)
    assert tiny.training is False


def test_export_restores_training_mode(tmp_path: Path) -> None:
    model, _, _, _ = tiny_clip(seed=1)
    model.train()
    export_text_onnx(model, tmp_path / "text.onnx")
    assert model.training is True


def test_tiny_clip_is_reproducible() -> None:
    a, _, config, arch = tiny_clip(seed=3)
    b, _, _, _ = tiny_clip(seed=3)
    c, _, _, _ = tiny_clip(seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["token_embedding.weight"], sc["token_embedding.weight"])
    assert config["embed_dim"] == 64
    assert arch in open_clip.list_models()


def test_session_is_created_once_under_concurrent_first_use(
    text_onnx: Path, tokenizer: ClipTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []
    real = clip_text._make_session

    def counting(path: Path, threads: int, **kwargs: Any) -> Any:
        made.append(path)
        return real(path, threads, **kwargs)

    monkeypatch.setattr(clip_text, "_make_session", counting)
    encoder = OnnxTextEncoder(text_onnx, tokenizer, threads=1)
    barrier = threading.Barrier(6)
    results: list[np.ndarray] = []

    def query() -> None:
        barrier.wait()
        results.append(encoder.encode(["red car", "snow"]))

    workers = [threading.Thread(target=query) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(made) == 1
    assert len(results) == 6
    assert all(np.array_equal(r, results[0]) for r in results)

    encoder.load()
    assert len(made) == 1
    encoder.unload()
    assert not encoder.loaded
    np.testing.assert_array_equal(encoder.encode(["red car", "snow"]), results[0])
    assert len(made) == 2


def test_the_optimised_graph_is_kept_and_reused_and_a_damaged_one_made_again(
    tiny: Any, tokenizer: ClipTokenizer, tmp_path: Path
) -> None:
    """A cold search spends half its session time optimising the graph: the first session
    keeps ONNX Runtime's optimised graph beside the model, later ones load it (same vectors),
    and one that is damaged is made again, never an error."""
    from glimpse_desktop.search.clip_text import optimised_path

    path = tmp_path / "text.onnx"
    export_text_onnx(tiny, path)
    texts = ["a red car", "grandma's birthday", "東京の夜景"]
    first = OnnxTextEncoder(path, tokenizer, threads=1).encode(texts)
    cached = optimised_path(path)
    assert cached.is_file() and not list(tmp_path.glob(".*.tmp"))
    stamp = cached.stat().st_mtime_ns
    again = OnnxTextEncoder(path, tokenizer, threads=1).encode(texts)
    assert cached.stat().st_mtime_ns == stamp            # read, not written again
    np.testing.assert_allclose(again, first, atol=1e-5)
    cached.write_bytes(b"\x08\x07not a model")
    healed = OnnxTextEncoder(path, tokenizer, threads=1).encode(texts)
    np.testing.assert_allclose(healed, first, atol=1e-5)
    assert cached.stat().st_size > 1000
    stale = path.with_name(f"{path.stem}.ort-000000000000.onnx")
    stale.write_bytes(b"another runtime's")
    cached.unlink()
    OnnxTextEncoder(path, tokenizer, threads=1).encode(texts)
    assert not stale.exists() and cached.is_file()


def test_empty_query_list_gives_no_rows(text_onnx: Path, tokenizer: ClipTokenizer) -> None:
    assert OnnxTextEncoder(text_onnx, tokenizer).encode([]).shape == (0, 64)


def test_missing_or_damaged_model_is_a_clear_error(
    tmp_path: Path, tokenizer: ClipTokenizer
) -> None:
    with pytest.raises(ClipTextModelError, match="does not exist"):
        OnnxTextEncoder(tmp_path / "absent.onnx", tokenizer).encode(["red car"])
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(b"\x08\x07not a model")
    with pytest.raises(ClipTextModelError, match="could not be loaded"):
        OnnxTextEncoder(damaged, tokenizer).encode(["red car"])


def test_wrong_context_length_is_refused(text_onnx: Path, tokenizer: ClipTokenizer) -> None:
    with pytest.raises(ClipTextModelError, match="not a CLIP text model for 64 tokens"):
        OnnxTextEncoder(text_onnx, tokenizer, context_length=64).load()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.asarray((a * b).sum(axis=1)
                      / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)))


def test_int8_model_stays_close_to_fp32(
    text_onnx: Path, tokenizer: ClipTokenizer, tmp_path: Path
) -> None:
    int8 = tmp_path / "text.int8.onnx"
    reported = clip_text.quantize_text_onnx(text_onnx, int8, tokenizer)
    assert int8.stat().st_size < text_onnx.stat().st_size / 2
    # Both towers run here on the same prompts, and the test measures the drift itself.
    fp32_encoder = OnnxTextEncoder(text_onnx, tokenizer, threads=1)
    int8_encoder = OnnxTextEncoder(int8, tokenizer, threads=1)
    for texts in (list(clip_text.PROBE_TEXTS), TEXTS):
        cosines = _cosines(int8_encoder.encode(texts), fp32_encoder.encode(texts))
        assert cosines.shape == (len(texts),)
        assert cosines.min() >= 0.99, dict(zip(texts, cosines.round(4), strict=True))
        assert cosines.min() < 1.0 - 1e-6      # it is a different model, not a copy
    probe = _cosines(int8_encoder.encode(list(clip_text.PROBE_TEXTS)),
                     fp32_encoder.encode(list(clip_text.PROBE_TEXTS)))
    assert reported == pytest.approx(float(probe.min()), abs=1e-4)


def test_int8_model_that_drifts_too_far_is_refused(
    text_onnx: Path, tokenizer: ClipTokenizer, tmp_path: Path
) -> None:
    int8 = tmp_path / "text.int8.onnx"
    clip_text.quantize_text_onnx(text_onnx, int8, tokenizer)
    probe = list(clip_text.PROBE_TEXTS)
    worst = float(_cosines(OnnxTextEncoder(int8, tokenizer, threads=1).encode(probe),
                           OnnxTextEncoder(text_onnx, tokenizer, threads=1).encode(probe)).min())
    kept = int8.read_bytes()
    # A bar just above what this quantisation reaches (as measured here) refuses it, and the
    # copy already there stays as it was; a bar just below it is met.
    with pytest.raises(ClipTextModelError, match="drifts too far"):
        clip_text.quantize_text_onnx(text_onnx, int8, tokenizer, min_cosine=worst + 1e-3)
    assert int8.read_bytes() == kept
    # (beside it, the optimised graph the encoder above kept: no temporary file)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["text.int8.onnx", clip_text.optimised_path(int8).name])
    again = tmp_path / "again.int8.onnx"
    clip_text.quantize_text_onnx(text_onnx, again, tokenizer, min_cosine=worst - 1e-3)
    assert again.is_file()


# --- the query path stays free of torch ----------------------------------------------------------

QUERY_IN_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from glimpse_desktop.search.clip_text import ClipTokenizer, OnnxTextEncoder
tokenizer = ClipTokenizer()
tokens = tokenizer(["a red car"])
vectors = OnnxTextEncoder(Path(sys.argv[1]), tokenizer).encode(["a red car", "snow"])
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"torch", "open_clip", "torchvision"})
print(json.dumps({"heavy": heavy, "tokens": tokens.tolist(), "shape": list(vectors.shape)}))
"""


def test_tokenising_and_encoding_never_import_torch_or_open_clip(text_onnx: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", QUERY_IN_FRESH_PROCESS, str(text_onnx)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["heavy"] == []
    assert report["tokens"] == open_clip.tokenize(["a red car"]).tolist()
    assert report["shape"] == [2, 64]
