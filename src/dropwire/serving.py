"""`dropwire serve` as a supervisor: API processes and worker processes, one command.

The API processes are uvicorn's own multiprocess manager (`uvicorn.supervisors.Multiprocess`:
it shares one listening socket between them, pings each, replaces one that dies or hangs, and
stops them all on SIGTERM/SIGINT). Job workers are `dropwire worker` children watched by
`WorkerProcesses`, a thread of the same supervising process: a child that exits while the
server runs is started again (after a pause that grows while it keeps dying at once), and
all are stopped — SIGTERM, then their jobs in hand finish — once the API processes are down.

Every child inherits the supervisor's stdout and stderr, so their logs come out merged, each
line naming its process. A child dies with the supervisor even when the supervisor is killed
outright (Linux's parent-death signal), so no orphan keeps the port or the queue.
"""

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

SUPERVISOR_PID = "DROPWIRE_SUPERVISOR_PID"
HEALTHCHECK_SECONDS = 60
_PR_SET_PDEATHSIG = 1

log = logging.getLogger("dropwire.serve")


def follow_supervisor() -> None:
    """In a child of `dropwire serve`: die when the supervisor does, whatever kills it.

    A no-op in a process not started by `dropwire serve`, or where Linux's `prctl` is missing.
    """
    supervisor = os.environ.get(SUPERVISOR_PID)
    if not supervisor or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(supervisor):  # it died before the signal was armed
        os._exit(1)


def api_app() -> object:
    """The app factory uvicorn's API processes load: the app, following the supervisor."""
    from dropwire.app import create_app

    follow_supervisor()
    return create_app()


class WorkerProcesses:
    """`count` worker children (`command`), each restarted when it exits unasked."""

    RESTART_PAUSE = 0.5  # seconds before restarting a child; doubles while children die at once
    LONGEST_PAUSE = 30.0
    QUICK_DEATH = 5.0  # a child that dies sooner than this after its start "died at once"

    def __init__(self, command: Sequence[str], count: int, *, stop_timeout: float = 40.0) -> None:
        self.command = list(command)
        self.count = count
        self.stop_timeout = stop_timeout
        self.children: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        self._started_at: list[float] = []
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        # The children are started from the watcher thread, for as long as it lives: Linux's
        # parent-death signal follows the thread that started a child, not the process.
        ready = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, args=(ready,), name="dropwire-serve-workers", daemon=True
        )
        self._watcher.start()
        ready.wait()

    def pids(self) -> list[int]:
        return [child.pid for child in self.children]

    def _spawn(self) -> subprocess.Popen[bytes]:
        # our own interpreter running our own command; a new session: Ctrl-C reaches us, we stop it
        child = subprocess.Popen(self.command, start_new_session=True)  # noqa: S603
        log.info("started worker process [%d]", child.pid)
        return child

    def _watch(self, ready: threading.Event) -> None:
        for _ in range(self.count):
            self.children.append(self._spawn())
            self._started_at.append(time.monotonic())
        ready.set()
        pause = self.RESTART_PAUSE
        while not self._stopping.wait(0.2):
            for index, child in enumerate(self.children):
                code = child.poll()
                if code is None:
                    continue
                lived = time.monotonic() - self._started_at[index]
                pause = pause * 2 if lived < self.QUICK_DEATH else self.RESTART_PAUSE
                pause = min(pause, self.LONGEST_PAUSE)
                log.warning(
                    "worker process [%d] exited with %s; restarting in %.1f s",
                    child.pid,
                    code,
                    pause,
                )
                if self._stopping.wait(pause):
                    return
                self.children[index] = self._spawn()
                self._started_at[index] = time.monotonic()
                self.restarts += 1
        # stopping: the children go before this thread ends (see `start`)
        self._terminate()

    def _terminate(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in self.children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker process [%d] did not stop in time; killing it", child.pid)
                child.kill()
                child.wait()
            log.info("worker process [%d] stopped", child.pid)

    def stop(self) -> None:
        """SIGTERM every child, wait for each to finish its jobs in hand (killed past the
        timeout)."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()


def worker_command(threads: int) -> list[str]:
    return [sys.executable, "-m", "dropwire", "worker", "--threads", str(threads)]


def serve(
    *,
    host: str,
    port: int,
    api_processes: int,
    worker_processes: int,
    worker_threads: int,
    log_level: str,
    access_log: bool,
) -> None:
    """Run the API processes and the worker processes until SIGTERM/SIGINT, then stop them all:
    the API processes first (no new work comes in), then the workers (the work in hand ends)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[SUPERVISOR_PID] = str(os.getpid())  # inherited by every child
    config = uvicorn.Config(
        "dropwire.serving:api_app",
        factory=True,
        host=host,
        port=port,
        workers=api_processes,
        log_level=log_level,
        access_log=access_log,
        # uvicorn replaces an API process that does not answer its ping in time; the default
        # 5 s is shorter than a start-up on a busy machine, which then restarts forever
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
    )
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    socket = config.bind_socket()
    workers = WorkerProcesses(worker_command(worker_threads), worker_processes)
    supervisor = Multiprocess(config, sockets=[socket])  # takes SIGTERM/SIGINT from here on
    workers.start()
    try:
        supervisor.run()
    finally:
        workers.stop()
        socket.close()


LOG_FORMAT = "%(levelname)s:     [%(process)d] %(name)s: %(message)s"
