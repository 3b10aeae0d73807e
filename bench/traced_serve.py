"""Tracemalloc at hand in every process of `dropwire serve` (the API processes are its children).

`bench_soak --tracemalloc` puts this file's directory first on the children's PYTHONPATH as
`sitecustomize` (see `install`): in each process, the first SIGUSR1 starts tracing (after
start-up, which tracing would slow several times) and each later one writes a snapshot of its
allocations to `DROPWIRE_BENCH_SNAPSHOTS/<pid>-<n>.pickle`.
"""

import os
import signal
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

    signal.signal(signal.SIGUSR1, on_signal)


def sitecustomize_dir(root: Path) -> Path:
    """A directory holding a `sitecustomize.py` that installs the handler at interpreter start."""
    directory = root / "site"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        "from bench.traced_serve import install\ninstall()\n"
    )
    return directory
