"""`dropwire serve` with tracemalloc at hand: the first SIGUSR1 starts tracing (after start-up,
which tracing would slow several times), each later one writes a snapshot of the allocations.

    .venv/bin/python -m bench.traced_serve SNAPSHOT_DIR serve --port 8000 [...]

For `bench_soak --tracemalloc`: snapshots minutes apart, compared, name what grows.
"""

import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    taken = 0

    def snapshot(_signal: int, _frame: FrameType | None) -> None:
        nonlocal taken
        if not tracemalloc.is_tracing():
            tracemalloc.start(4)
            return
        taken += 1
        path = target / f"snapshot-{taken:03d}.pickle"
        tracemalloc.take_snapshot().dump(str(path.with_suffix(".tmp")))
        path.with_suffix(".tmp").rename(path)

    signal.signal(signal.SIGUSR1, snapshot)
    from dropwire.cli import app

    sys.argv = ["dropwire", *sys.argv[2:]]
    app()


if __name__ == "__main__":
    main()
