"""How many threads each part of Glimpse may use, so the cores are shared, not fought over.

Every runtime that keeps its own thread team (ONNX Runtime, OpenVINO, OpenCV) asks here for its
count instead of defaulting to "all cores": two teams that each take every core, and spin while
they wait, halve the throughput of both (measured: faces on cut indexing to 0.35 of faces off
while torch's OpenMP team spun against onnxruntime's).

``budget()`` is computed once per process from the cores this process may run on
(``GLIMPSE_THREADS`` overrides the count, for benchmarks and for people who want Glimpse to
leave cores free).

How the cores are shared while photos are read (``kernel.pipeline``, ``kernel.stages``):

- Each batched stage's model runs on one long-lived thread of its own
  (``kernel.stages.model_thread``), and the batched stages run one after the other on a
  batch, never side by side. So each model's team may take every core (``model``), and the
  face recogniser's team (``faces``) never runs beside CLIP's: on 2 cores, CLIP's 2 threads
  and the recogniser's 1 would otherwise ask for 3.
- The decode workers (``decode``: one per core) compete with the model only while the
  queue between them has room: when a batch or two is ready they block (bounded queues) and
  the model has the cores. Their CPU work is what it is (a draft decode of a 12 MP JPEG is
  ~20 ms of entropy decoding); fewer workers would only leave a core idle while the model
  waits for I/O or the writer.
- Work that runs on the decode workers (face detection, OpenCV's resize and warp there) is
  already parallel across the workers: it gets one thread per call (``opencv``), never a
  team per worker.
- Nothing spins while it waits (ONNX Runtime sessions: ``kernel.runtime.session_options``;
  OpenMP runtimes: ``OMP_WAIT_POLICY=PASSIVE``, set by the package), so a blocked team
  gives its core back at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

__all__ = ["ENV_THREADS", "ThreadBudget", "budget", "cores"]

ENV_THREADS = "GLIMPSE_THREADS"


def cores() -> int:
    """Logical CPUs this process may run on (``GLIMPSE_THREADS`` when set and valid)."""
    forced = os.environ.get(ENV_THREADS, "").strip()
    if forced.isdigit() and int(forced) > 0:
        return int(forced)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class ThreadBudget:
    """Thread counts for one process.

    ``cores``: logical CPUs available. ``model``: intra-op threads of the CLIP image tower (the
    bottleneck of indexing). ``faces``: intra-op threads of the face detector and recogniser.
    ``query``: intra-op threads of the text tower (one short pass per search). ``decode``:
    workers that read, hash and decode files (they mostly wait on I/O or run C code that
    releases the GIL). ``opencv``: OpenCV's threads per call on those workers (1: the workers
    are the parallelism). ``libraw``: LibRaw's OpenMP team when it develops a RAW on those
    workers (1, for the same reason).
    """

    cores: int
    model: int
    faces: int
    query: int
    decode: int
    opencv: int = 1
    libraw: int = 1


@cache
def budget() -> ThreadBudget:
    """This process's thread budget (computed once)."""
    n = cores()
    # The recogniser embeds a few 112 px crops per photo: past a few threads its batches are
    # too small to share out; half the cores, as the team sizes before this budget.
    return ThreadBudget(cores=n, model=n, faces=max(1, n // 2), query=max(1, min(4, n)),
                        decode=n, opencv=1)
