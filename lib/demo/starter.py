"""The demo's start belongs to the server, not to a browser session.

The first page that finds the demo stores down asks `starter(settings).ensure()`: one background
thread of the server process starts and fills them (lib.demo.run_demo), and every page of every
session only reads its progress (`state()`) and polls until it is ready. A session that ends, a
tab that closes or reloads, any number of tabs at once: none of them owns the start, so none can
leave it half done or hold a lock. Across processes (the dashboard and `python -m lib demo` at the
same time), run_demo holds a file lock of the data folder (`start_lock`), which the kernel releases
when its holder dies (lib.services).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lib.config import Settings
from lib.errors import safe_message


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


__all__ = ["DemoStarter", "StartState", "starter"]
