"""Tracemalloc at hand in every process of `dropwire serve` (the API processes are its children).

`bench_soak --tracemalloc` puts this file's directory first on the children's PYTHONPATH as
`sitecustomize` (see `install`): in each process, the first SIGUSR1 starts tracing (after
start-up, which tracing would slow several times) and each later one writes a snapshot of its
allocations to `DROPWIRE_BENCH_SNAPSHOTS/<pid>-<n>.pickle`. SIGUSR2 costs nothing until it
comes: it writes `<pid>-<n>.counts` (JSON: the live objects the collector tracks, by type, and
the interpreter's allocated blocks), a cheap first look that slows no request between two.
"""

import collections
import gc
import json
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

SNAPSHOTS = "DROPWIRE_BENCH_SNAPSHOTS"


def install() -> None:
    target = Path(os.environ[SNAPSHOTS])
    taken = 0

    def on_signal(_signal: int, _frame: FrameType | None) -> None:
        nonlocal taken
        if not tracemalloc.is_tracing():
            tracemalloc.start(4)
            return
        taken += 1
        path = target / f"{os.getpid()}-{taken:03d}.pickle"
        tracemalloc.take_snapshot().dump(str(path.with_suffix(".tmp")))
        path.with_suffix(".tmp").rename(path)

    counted = 0

    def on_count(_signal: int, _frame: FrameType | None) -> None:
        nonlocal counted
        counted += 1
        types = collections.Counter(type(item).__qualname__ for item in gc.get_objects())
        found = {"blocks": sys.getallocatedblocks(), "types": dict(types)}
        path = target / f"{os.getpid()}-{counted:03d}.counts"
        path.with_suffix(".tmp").write_text(json.dumps(found))
        path.with_suffix(".tmp").rename(path)

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGUSR2, on_count)


def sitecustomize_dir(root: Path) -> Path:
    """A directory holding a `sitecustomize.py` that installs the handler at interpreter start."""
    directory = root / "site"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        "from bench.traced_serve import install\ninstall()\n"
    )
    return directory
