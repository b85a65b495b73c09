"""The demo's start belongs to the server, not to a browser session.

The first page that finds the demo stores down asks `starter(settings).ensure()`: one background
thread of the server process starts and fills them (lib.demo.run_demo), and every page of every
session only reads its progress (`state()`) and polls until it is ready. A session that ends, a
tab that closes or reloads, any number of tabs at once: none of them owns the start, so none can
leave it half done or hold a lock. Across processes (the dashboard and `python -m lib demo` at the
same time), run_demo holds a file lock of the data folder (`start_lock`), which the kernel releases
when its holder dies.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lib.config import Settings
from lib.errors import OpsError, safe_message

LOCK_FILE = "start.lock"
_held = threading.local()  # the data folders whose lock this thread holds (the lock is re-entrant per thread)


@contextmanager
def start_lock(data_dir: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the data folder's start lock (an flock: released by the kernel if the holder dies);
    OpsError after `timeout_s` when another process keeps it. Re-entrant within one thread."""
    data_dir = data_dir.resolve()
    held: set[Path] = getattr(_held, "dirs", None) or set()
    _held.dirs = held
    if data_dir in held:
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OpsError(f"Another process has been starting the demo stores for over {timeout_s:.0f} s; "
                                   f"stop it or remove it (`python -m lib demo --stop`).") from None
                time.sleep(0.2)
        held.add(data_dir)
        try:
            yield
        finally:
            held.discard(data_dir)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass
class StartState:
    """What a page shows of the start: the steps so far, whether it runs, its end."""

    steps: list[str] = field(default_factory=list)
    running: bool = False
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    starts: int = 0  # how many starts this process ran (a test reads it: one start for any number of tabs)

    @property
    def elapsed_s(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started_at


class DemoStarter:
    """Starts the demo of one data folder in a thread of its own, once at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # held only to read or change the state, never while starting
        self._state = StartState()
        self._thread: threading.Thread | None = None

    def state(self) -> StartState:
        with self._lock:
            return self._copy()

    def ensure(self, *, retry_failed: bool = True) -> StartState:
        """Start the demo in the background unless a start runs already; return the state. A start
        that failed is tried again (`retry_failed`), so a page reload after fixing the cause works."""
        with self._lock:
            if not self._state.running and (retry_failed or self._state.error is None):
                self._state = StartState(running=True, started_at=time.monotonic(), starts=self._state.starts + 1)
                self._thread = threading.Thread(target=self._run, name="healbridge-demo-start", daemon=True)
                self._thread.start()
            return self._copy()

    def _copy(self) -> StartState:
        s = self._state
        return StartState(list(s.steps), s.running, s.error, s.started_at, s.finished_at, s.starts)

    def wait(self, timeout_s: float) -> StartState:
        t = self._thread
        if t is not None:
            t.join(timeout_s)
        return self.state()

    def _progress(self, message: str) -> None:
        with self._lock:
            self._state.steps.append(message)

    def _run(self) -> None:
        from lib.demo import run_demo

        error: str | None = None
        try:
            run_demo(self.settings, progress=self._progress)  # holds the data folder's start lock
        except Exception as exc:  # noqa: BLE001 - shown on every page as one sentence
            error = safe_message(exc, self.settings.secret_values())
        with self._lock:
            self._state.running = False
            self._state.error = error
            self._state.finished_at = time.monotonic()


_starters: dict[Path, DemoStarter] = {}
_starters_lock = threading.Lock()


def starter(settings: Settings) -> DemoStarter:
    """The one starter of this process for the settings' data folder."""
    key = settings.healbridge_data_dir.resolve()
    with _starters_lock:
        s = _starters.get(key)
        if s is None or s.settings != settings:
            if s is not None and s.state().running:
                return s
            s = _starters[key] = DemoStarter(settings)
        return s


__all__ = ["DemoStarter", "StartState", "start_lock", "starter"]
