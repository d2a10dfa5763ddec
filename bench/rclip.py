"""rclip (3.3) beside Glimpse in the benchmarks: its model made here, its runs timed from here.

rclip runs ONNX only and finds its model under ``RCLIP_DATADIR``; it downloads one from Hugging
Face when the files are missing, which a benchmark must never do. ``export_model`` makes random
ViT-B-32-256 weights (rclip's architecture: 256 px input) and writes them the way rclip's own
``scripts/convert_model.py`` does (torch.onnx.export, opset 18, the TorchScript exporter with
the attention fast path off, inputs named ``input``, outputs ``output``, dynamic batch), in the
layout ``rclip/model_download.py`` looks for:

    <datadir>/ViT-B-32-256-datacomp_s34b_b86k/visual.onnx
    <datadir>/ViT-B-32-256-datacomp_s34b_b86k/textual.onnx
    <datadir>/tokenizer/bpe_simple_vocab_16e6.txt.gz

``fresh_datadir`` gives each run its own ``RCLIP_DATADIR`` (its own ``db.sqlite3``) with the
model files linked in, so one export serves every run. rclip indexes the folder it is started
in (the current directory) before it searches; ``--no-indexing`` skips that check.

rclip is installed in its own virtual environment, never Glimpse's:

    python3.11 -m venv /work/rclip-venv && /work/rclip-venv/bin/pip install 'rclip==3.3.*'
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MODEL_SUBDIR", "RclipRun", "export_model", "fill_db", "fresh_datadir", "run",
           "stored_vectors"]

ARCH = "ViT-B-32-256"
IMAGE_SIZE = 256
CONTEXT_LENGTH = 77
MODEL_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"
VOCAB = Path("tokenizer") / "bpe_simple_vocab_16e6.txt.gz"


def export_model(folder: Path, *, seed: int = 0) -> Path:
    """rclip's model files, random weights, in ``folder`` (made once: kept when complete)."""
    visual = folder / MODEL_SUBDIR / "visual.onnx"
    textual = folder / MODEL_SUBDIR / "textual.onnx"
    vocab = folder / VOCAB
    if visual.is_file() and textual.is_file() and vocab.is_file():
        return folder
    import open_clip
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = open_clip.create_model(ARCH, pretrained=None)
    model.eval()

    class Visual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.visual = model.visual

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            return self.visual(inputs)

    class Textual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.clip_model = model

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            return self.clip_model.encode_text(inputs)

    visual.parent.mkdir(parents=True, exist_ok=True)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        for wrapper, dummy, path in (
                (Visual(), torch.randn(1, 3, IMAGE_SIZE, IMAGE_SIZE), visual),
                (Textual(), torch.zeros(1, CONTEXT_LENGTH, dtype=torch.long), textual)):
            wrapper.eval()
            tmp = path.with_suffix(".tmp")
            torch.onnx.export(wrapper, (dummy,), str(tmp), input_names=["input"],
                              output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              opset_version=18, dynamo=False)
            os.replace(tmp, path)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    vocab.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(open_clip.__file__).parent / VOCAB.name, vocab)
    return folder


def fresh_datadir(model: Path, datadir: Path) -> Path:
    """An empty ``RCLIP_DATADIR`` (no index yet) that finds the model files of ``model``."""
    if datadir.exists():
        shutil.rmtree(datadir)
    (datadir / MODEL_SUBDIR).mkdir(parents=True)
    (datadir / VOCAB.parent).mkdir(parents=True)
    for name in ("visual.onnx", "textual.onnx"):
        (datadir / MODEL_SUBDIR / name).symlink_to((model / MODEL_SUBDIR / name).resolve())
    (datadir / VOCAB).symlink_to((model / VOCAB).resolve())
    return datadir


@dataclass(frozen=True)
class RclipRun:
    """One rclip process: ``seconds`` from start to exit, ``indexed`` the rows its index holds
    afterwards, ``results`` the result lines it printed."""

    seconds: float
    indexed: int
    results: int


def run(rclip: Path, folder: Path, datadir: Path, query: str, *, no_indexing: bool = False,
        top: int = 50) -> RclipRun:
    """``rclip QUERY`` started in ``folder`` (rclip indexes the current directory), timed.
    Raises RuntimeError with rclip's stderr when it fails."""
    env = {**os.environ, "RCLIP_DATADIR": str(datadir), "HF_HUB_OFFLINE": "1",
           "TQDM_DISABLE": "1"}
    cmd = [str(rclip), "--filepath-only", "--top", str(top), query]
    if no_indexing:
        cmd.insert(1, "--no-indexing")
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"rclip failed ({done.returncode}): {done.stderr[-2000:]}")
    db = datadir / "db.sqlite3"
    with sqlite3.connect(db) as conn:
        indexed = conn.execute("SELECT count(*) FROM images WHERE deleted IS NULL").fetchone()[0]
    return RclipRun(seconds, int(indexed), len(done.stdout.splitlines()))


def fill_db(rclip: Path, datadir: Path, files: list[Path], vectors: np.ndarray) -> None:
    """rclip's index of ``files`` with the given embeddings, written straight into its
    database (rows as rclip's own indexing writes them: absolute path, mtime, size, float32
    vector, content fingerprint), so a search over thousands of photos needs no embedding run.
    rclip creates the database first (an empty ``--no-indexing`` run), so its schema and
    version are its own."""
    empty = datadir / "empty"
    empty.mkdir(exist_ok=True)
    run(rclip, empty, datadir, "warm up", no_indexing=True)
    rows = []
    for path, vec in zip(files, vectors, strict=True):
        st = path.stat()
        rows.append((str(path.resolve()), st.st_mtime, st.st_size,
                     np.ascontiguousarray(vec, np.float32).tobytes(), _fingerprint(path)))
    with sqlite3.connect(datadir / "db.sqlite3") as conn:
        conn.executemany("INSERT INTO images(filepath, modified_at, size, vector, hash) "
                         "VALUES (?, ?, ?, ?, ?)", rows)


def stored_vectors(datadir: Path, files: list[Path]) -> np.ndarray:
    """The vectors rclip's index holds for ``files`` (to check that a run did not embed them
    again: then they would no longer be the ones ``fill_db`` wrote)."""
    with sqlite3.connect(datadir / "db.sqlite3") as conn:
        found = dict(conn.execute("SELECT filepath, vector FROM images WHERE deleted IS NULL"))
    return np.stack([np.frombuffer(found[str(p.resolve())], np.float32) for p in files])


def _fingerprint(path: Path) -> str:
    """rclip's content fingerprint (helpers.compute_file_hash): sha256 of the first MiB and
    the last KiB."""
    import hashlib

    hasher = hashlib.sha256()
    with open(path, "rb") as fh:
        hasher.update(fh.read(1 << 20))
        size = fh.seek(0, 2)
        if size > 1024:
            fh.seek(-1024, 2)
            hasher.update(fh.read(1024))
    return hasher.hexdigest()
