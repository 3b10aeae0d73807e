"""`dropwire serve` as a supervisor: API processes and worker processes, one command.

The API processes are uvicorn's own multiprocess manager (`uvicorn.supervisors.Multiprocess`:
it shares one listening socket between them, pings each, replaces one that dies or hangs, and
stops them all on SIGTERM/SIGINT). Job workers are `dropwire worker` children watched by
`WorkerProcesses`, a thread of the same supervising process: a child that exits while the
server runs is started again (after a pause that grows while it keeps dying at once), and
all are stopped — SIGTERM, then their jobs in hand finish — once the API processes are down.

On SIGTERM/SIGINT every child is told at once: API processes let requests in flight finish
for `DROPWIRE_SHUTDOWN_GRACE_SECONDS` (then cancel them: an answer not sent was not a 2xx),
workers finish the batch in hand and stop; a child still running after the grace and a margin
is killed (its jobs' leases run out and they run again). So a stop under load is bounded.

Every child inherits the supervisor's stdout and stderr, so their logs come out merged, each
line naming its process. A child dies with the supervisor even when the supervisor is killed
outright (Linux's parent-death signal), so no orphan keeps the port or the queue.
"""

import ctypes
import logging
import math
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import NoReturn

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

SUPERVISOR_PID = "DROPWIRE_SUPERVISOR_PID"
HEALTHCHECK_SECONDS = 60
"""An API process silent this long (not answering the supervisor's pings) is replaced."""
START_SECONDS = 600
"""... and one that has never answered, this long after its start (start-up on a loaded
two-core machine takes one to three minutes)."""
STOP_MARGIN_SECONDS = 10.0
"""Past the grace, what a stopping child gets to end by itself (lifespan, connections closed)
before it is killed."""
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


def exit_now() -> NoReturn:
    """End a stopped `dropwire serve` or `dropwire worker` without tearing its interpreter down.

    Everything it ran has stopped by then (children reaped, connections closed); what is left
    is freeing every module of the app, which took 5 to 17 s after the last child had stopped
    on a loaded machine (no system call in between: all of it the interpreter's teardown)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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

    def begin_stop(self) -> None:
        """SIGTERM every child (from the watcher thread); `stop` waits for them."""
        self._stopping.set()

    def stop(self) -> None:
        """SIGTERM every child, wait for each to finish its jobs in hand (killed past the
        timeout)."""
        self.begin_stop()
        if self._watcher is not None:
            self._watcher.join()


class Supervisor(Multiprocess):
    """uvicorn's manager of API processes, answering a signal within a second under load, and
    stopping the worker processes with the API processes, all within a bound.

    uvicorn's own check pings each API process in turn and waits for the answer up to the
    healthcheck timeout, so a signal waited behind it: under load, with an API process busy or
    still importing, SIGTERM was seen 23 s late, and a process still starting was killed as
    hung and started again, making start-up longer still. Here a ping's answer is looked for
    without waiting; a process is replaced when it exited or has been silent too long."""

    def __init__(
        self, config: Config, sockets: list[socket.socket], workers: WorkerProcesses, grace: float
    ) -> None:
        super().__init__(config, sockets)
        self.workers = workers
        self.grace = grace
        self._heard: dict[int, float] = {}  # pid: when it last answered, or was started
        self._answered: set[int] = set()  # pids that answered once (started)
        self._asked: set[int] = set()  # pids with a ping unanswered

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.process.is_alive() and not self._silent_too_long(process):
                continue
            process.kill()
            process.join()
            self._forget(process)
            if process.exitcode == STARTUP_FAILURE:  # broken app or socket: it would fail again
                log.error("API process [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            log.warning("API process [%s] died or hung; starting another", process.pid)
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[index] = replacement

    def _silent_too_long(self, process: Process) -> bool:
        pid = process.pid or 0
        now = time.monotonic()
        heard = self._heard.setdefault(pid, now)
        try:
            if pid not in self._asked:
                process.parent_conn.send(b"ping")
                self._asked.add(pid)
            if process.parent_conn.poll(0):
                process.parent_conn.recv()
                self._asked.discard(pid)
                self._answered.add(pid)
                self._heard[pid] = heard = now
        except (OSError, EOFError, pickle.UnpicklingError):
            return True
        limit = HEALTHCHECK_SECONDS if pid in self._answered else START_SECONDS
        return now - heard > limit

    def _forget(self, process: Process) -> None:
        pid = process.pid or 0
        self._heard.pop(pid, None)
        self._answered.discard(pid)
        self._asked.discard(pid)

    def terminate_all(self) -> None:
        self.workers.begin_stop()  # at once: they finish their jobs in hand meanwhile
        super().terminate_all()

    def join_all(self) -> None:
        deadline = time.monotonic() + self.grace + STOP_MARGIN_SECONDS
        for process in self.processes:
            process.process.join(max(0.0, deadline - time.monotonic()))
            if process.process.is_alive():
                log.error("API process [%s] did not stop in time; killing it", process.pid)
                process.kill()
                process.join()


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
    grace: float,
) -> None:
    """Run the API processes and the worker processes until SIGTERM/SIGINT, then stop them all
    within `grace` seconds and a margin (see the module's docstring)."""
    os.environ[SUPERVISOR_PID] = str(os.getpid())  # inherited by every child
    config = Config(
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
        timeout_graceful_shutdown=math.ceil(grace),  # then requests in flight are cancelled
    )
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    listening = config.bind_socket()
    workers = WorkerProcesses(
        worker_command(worker_threads),
        worker_processes,
        stop_timeout=grace + STOP_MARGIN_SECONDS,
    )
    supervisor = Supervisor(config, [listening], workers, grace)  # takes SIGTERM/SIGINT now
    workers.start()
    try:
        supervisor.run()
    finally:
        workers.stop()
        listening.close()


LOG_FORMAT = "%(levelname)s:     [%(process)d] %(name)s: %(message)s"
