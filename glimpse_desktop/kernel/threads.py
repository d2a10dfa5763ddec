"""How many threads each part of Glimpse may use, so the cores are shared, not fought over.

Every runtime that keeps its own thread team (ONNX Runtime, OpenVINO, OpenCV) asks here for its
count instead of defaulting to "all cores": two teams that each take every core, and spin while
they wait, halve the throughput of both (measured: faces on cut indexing to 0.35 of faces off
while torch's OpenMP team spun against onnxruntime's).

``budget()`` is computed once per process from the cores this process may run on
(``GLIMPSE_THREADS`` overrides the count, for benchmarks and for people who want Glimpse to
leave cores free).
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
    releases the GIL).
    """

    cores: int
    model: int
    faces: int
    query: int
    decode: int


@cache
def budget() -> ThreadBudget:
    """This process's thread budget (computed once)."""
    n = cores()
    return ThreadBudget(cores=n, model=n, faces=max(1, n // 2), query=max(1, min(4, n)),
                        decode=n)
