"""The latest check run the dashboard shows, one per configuration for the whole server.

Pages never start a check run because something was not cached: they ask `service(key).latest()`,
which returns the run this process holds (every key of every finding), and only starts a run in the
background when the dashboard's refresh interval has passed since the last one (one run per
interval for the whole server, however many sessions look) or when this process holds none yet.
While the first run of a process is under way a page waits a few seconds for it, then shows the
latest run saved in the history (samples only) and says a new one is in progress.

A run on request ("Run checks now", after a fix) needs the role oncall or admin (lib.roles.RUN_ROLES),
checked here; a request while a run is under way joins it: never more than one run at a time per
configuration. Every run this module starts is saved in the history (source "web").

The run itself happens in a worker process of the service's own (lib.checks.worker; one per
configuration, started on the first run, kept for the next ones so that its Firebase listing can be
reused): a check run is seconds to a minute of Python, and in the dashboard's own process it would
hold the interpreter lock against every page's rerun of every session meanwhile. The worker opens
the stores from the same settings, saves the run and hands it back whole (every key); its memory is
its own. A worker that dies costs the run under way (one sentence); the next run starts a new one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lib import history
from lib.checks.ids import BY_ID
from lib.checks.runner import CheckResult, CheckRun
from lib.checks.worker import read_message, write_message
from lib.errors import OpsError, safe_message
from lib.roles import RUN_ROLES, Actor, require

if TYPE_CHECKING:
    from lib.config import Settings
    from lib.stores import Stores


# ---------------------------------------------------------------------- the worker process
class _Worker:
    """The service's worker process (lib.checks.worker), started on the first run and kept."""

    def __init__(self) -> None:
        from lib.config import PROJECT_ROOT

        self.proc = subprocess.Popen([sys.executable, "-m", "lib.checks.worker"], cwd=PROJECT_ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, settings: Settings, reuse_firebase_s: float) -> tuple[CheckRun | None, str | None]:
        from lib.checks.sync import listings_epoch

        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            write_message(self.proc.stdin, (settings, reuse_firebase_s, listings_epoch()))
            answer: tuple[CheckRun | None, str | None] = read_message(self.proc.stdout)
            return answer
        except (EOFError, OSError, ValueError):  # it died, or forget() closed its input first
            raise _WorkerEnded from None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()  # the worker ends at the end of its input, after a run under way
            except OSError:
                pass


class _WorkerEnded(Exception):
    pass


@dataclass
class Latest:
    """What a page shows: the run (None when there is none yet), whether a newer one is under way,
    whether `run` came from the history (samples only), and the last run's error, if it failed."""

    run: CheckRun | None
    refreshing: bool
    from_history: bool = False
    error: str | None = None


class RunService:
    """The latest run of one configuration, and the one run at a time that replaces it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: CheckRun | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._error: str | None = None
        self._generation = 0  # bumped by forget(): a run started before it is not kept
        self._pool: _Worker | None = None  # the worker process (started on the first run)
        self.runs_started = 0  # how many runs this service started (one per interval, whatever the sessions)

    # ------------------------------------------------------------------ reading
    def latest(self, stores: Stores, *, max_age_s: float, wait_s: float = 15.0,
               not_before: datetime | None = None, reuse_firebase_s: float = 0.0) -> Latest:
        """The run to show. Starts a background run when the one held is older than `max_age_s`
        (or there is none); waits up to `wait_s` only when there is none yet."""
        with self._lock:
            run = self._run
            stale = run is None or (datetime.now(UTC) - run.finished_at).total_seconds() >= max_age_s
            if stale:
                self._start(stores, reuse_firebase_s)
            refreshing = self._thread is not None and self._thread.is_alive()
            done = self._done
        if run is not None:
            return Latest(run, refreshing, error=self._error)
        done.wait(wait_s)
        with self._lock:
            run, refreshing = self._run, self._thread is not None and self._thread.is_alive()
        if run is not None:
            return Latest(run, refreshing, error=self._error)
        saved = _saved_run(stores, not_before)
        return Latest(saved, refreshing, from_history=saved is not None, error=self._error)

    def held(self) -> CheckRun | None:
        """The run this service holds now, if any; starts nothing and waits for nothing."""
        with self._lock:
            return self._run

    # ------------------------------------------------------------------ running
    def run_now(self, stores: Stores, actor: Actor | None, *, timeout_s: float = 3600.0,
                progress: Callable[[str], None] = lambda _: None) -> CheckRun:
        """Run every check now (a fresh Firebase listing), or join the run under way; the role is
        checked here. Returns the finished run; raises the run's error as one sentence."""
        require(actor, RUN_ROLES, "run the checks now")
        with self._lock:
            joining = self._thread is not None and self._thread.is_alive()
            if not joining:
                self._start(stores, 0.0)
            done = self._done
        progress("Joining the run already under way" if joining else "Started a run of every check")
        done.wait(timeout_s)
        with self._lock:
            if self._run is None or self._error:
                raise OpsError(self._error or "The check run did not finish.")
            return self._run

    def refresh(self, stores: Stores, reuse_firebase_s: float = 0.0) -> None:
        """Start a background run now unless one is under way: the server's own schedule reacting
        to a store that answers again after the held run found it down (no role: nobody asked)."""
        with self._lock:
            self._start(stores, reuse_firebase_s)

    def forget(self) -> None:
        """Drop the run held (the data changed under it: a demo refill); a run under way finishes
        but is not kept."""
        with self._lock:
            self._run = None
            self._error = None
            self._generation += 1
        # the worker stays (its start costs seconds): it forgets its Firebase listings when this
        # process did (lib.checks.sync.listings_epoch), e.g. after the demo was refilled

    def close(self) -> None:
        """Forget the run held and end the worker (after a run under way)."""
        self.forget()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    @property
    def worker_pid(self) -> int | None:
        """The process id of the worker that runs the checks (None before the first run)."""
        pool = self._pool
        return pool.proc.pid if pool is not None else None

    def _worker(self) -> _Worker:
        with self._lock:
            started = self._pool is None or not self._pool.alive()
            if started:
                self._pool = _Worker()
            pool = self._pool
        assert pool is not None
        if started:
            _keep_few_workers(self)
        return pool

    def _idle(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def _start(self, stores: Stores, reuse_firebase_s: float) -> None:
        """Start a background run unless one is under way (the caller holds the lock)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._done = done = threading.Event()
        generation = self._generation
        self.runs_started += 1

        def work() -> None:
            pool = None
            try:
                pool = self._worker()
                run, error = pool.run(stores.settings, reuse_firebase_s)
            except _WorkerEnded:
                run, error = None, "The check run's worker process ended before the run finished (out of memory?)."
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
            except Exception as exc:  # noqa: BLE001 - shown on the pages as one sentence
                run, error = None, safe_message(exc, stores.settings.secret_values())
            with self._lock:
                if generation == self._generation:
                    if run is not None:
                        self._run = run
                    self._error = error
            done.set()

        self._thread = threading.Thread(target=work, name="healbridge-check-run", daemon=True)
        self._thread.start()

    def wait_idle(self, timeout_s: float = 600.0) -> None:
        """Wait for the run under way, if any (tests, and a clean stop)."""
        t = self._thread
        if t is not None:
            t.join(timeout_s)


def _saved_run(stores: Stores, not_before: datetime | None) -> CheckRun | None:
    """The newest saved run that was not generated (keys: its samples), or None."""
    try:
        saved = history.latest_saved_run(stores, not_before)
    except Exception:  # noqa: BLE001 - no history to fall back on: the page waits for the run
        return None
    if saved is None:
        return None
    head, rows = saved
    stored = head["stores"] if isinstance(head["stores"], dict) else json.loads(head["stores"] or "{}")

    results = [CheckResult(r["check_id"], r["severity"], r["count"], list(r["sample"] or []), float(r["duration_ms"] or 0),
                           error=r["error"], fix=BY_ID[r["check_id"]].fix if r["check_id"] in BY_ID else None)
               for r in rows]
    return CheckRun(started_at=head["started_at"], finished_at=head["finished_at"], stores=stored, results=results,
                    run_id=int(head["id"]))


_services: dict[str, RunService] = {}
_services_lock = threading.Lock()
_with_workers: list[RunService] = []  # the services whose worker was started, oldest first
MAX_WORKERS = 2  # live workers a process keeps (a configuration no longer asked for lets its go)


def _keep_few_workers(newest: RunService) -> None:
    """`newest` just started a worker: end the oldest idle others' beyond MAX_WORKERS (a server
    whose configuration changed, or tests, would otherwise keep a process for every one it saw)."""
    with _services_lock:
        if newest in _with_workers:
            _with_workers.remove(newest)
        _with_workers.append(newest)
        live = [s for s in _with_workers if s._pool is not None]
        extra = [s for s in live[:-1] if s._idle()][: max(0, len(live) - MAX_WORKERS)]
        for s in extra:
            _with_workers.remove(s)
    for s in extra:
        with s._lock:
            pool, s._pool = s._pool, None
        if pool is not None:
            pool.close()


def service(key: str) -> RunService:
    """The one RunService of this process for a configuration key."""
    with _services_lock:
        if key not in _services:
            _services[key] = RunService()
        return _services[key]


def forget_all() -> None:
    """Forget every run held (the data changed: a fix applied, the demo refilled; tests start clean)."""
    with _services_lock:
        for s in _services.values():
            s.forget()


def wait_all(timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    with _services_lock:
        services = list(_services.values())
    for s in services:
        s.wait_idle(max(0.0, deadline - time.monotonic()))


__all__ = ["Latest", "RunService", "forget_all", "service", "wait_all"]
