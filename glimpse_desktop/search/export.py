"""The ONNX files a CLIP model runs from, and (with the ``torch`` extra) converting open_clip
weights into them.

Contract between conversion and the runtimes (search/clip.py, search/clip_text.py):

- ``visual``: the image tower in fp32. Input ``image``: float32 (N, 3, S, S), pixels scaled to
  0..1 and normalised with the model's mean/std; output ``embedding``: float32 (N, dim), not
  L2-normalised. N is dynamic.
- ``visual_int8``: the same graph with dynamically quantised int8 weights, where quantisation
  kept it within cosine 0.99 of fp32 (absent otherwise).
- ``text``: the text tower (int8 where it stayed within cosine 0.99, fp32 otherwise): input
  integer token ids (N, context_length); output float32 (N, dim).
- ``vocab``: CLIP's BPE vocabulary (``bpe_simple_vocab_16e6.txt.gz``), copied beside the model
  so the tokenizer needs no open_clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glimpse_desktop.kernel.registry import Installed

__all__ = ["ExportedModel", "exported"]


@dataclass(frozen=True, slots=True)
class ExportedModel:
    """Where an installed model's ONNX files are (whether or not they exist yet)."""

    visual: Path
    visual_int8: Path
    text: Path
    vocab: Path

    @property
    def complete(self) -> bool:
        """Every file a model needs to index and search is there (int8 is optional)."""
        return all(p.is_file() for p in (self.visual, self.text, self.vocab))


def exported(installed: Installed) -> ExportedModel:
    """The paths of ``installed``'s ONNX files (derived from its weights: a new checkpoint
    makes them stale by name)."""
    return ExportedModel(visual=installed.derived("visual.onnx"),
                         visual_int8=installed.derived("visual.int8.onnx"),
                         text=installed.derived("text.onnx"),
                         vocab=installed.derived("bpe_simple_vocab_16e6.txt.gz"))
