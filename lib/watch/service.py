"""The long-running watcher: the lease and the schedule.

The lease: a session-level advisory lock of the ops database (sql/ops/watch_lease.sql) held on a
connection of its own. Of several watchers on one OPS_DATABASE_URL exactly one holds it and works;
the others try again at each tick, so when the holder dies (its connection closes, the lock goes
with it) another takes over within one interval.

The schedule: APScheduler, one interval job per cadence of the watch config (lib.watch.config),
run one at a time; a housekeeping job delivers due retries, prunes the history once a day and
queues the weekly digest. A run that fails (a store or the ops database down) is logged as one
line and the watcher goes on.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lib.errors import DemoNotRunning, OpsError, StoreUnavailable, safe_message
from lib.stores.ops import run as ops_run
from lib.watch import WATCHER, prune, queue_digest, run_once
from lib.watch.config import WatchConfig, load

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from lib.stores import Stores

log = logging.getLogger("healbridge.watch")
HOUSEKEEPING_S = 30.0


class Lease:
    """The watcher's lease on the ops database (a session advisory lock on a connection of its own)."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def ensure(self) -> bool:
        """True when this process holds the lease (taken now if it is free); a lost connection
        loses it."""
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1")
                self._conn.commit()
                return True
            except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
                self.release()
        try:
            conn = self.stores.ops.connect()
        except Exception:  # noqa: BLE001 - the ops database is down: no lease
            return False
        try:
            taken = bool(ops_run(conn, "watch_lease").scalar())
            conn.commit()
        except Exception:  # noqa: BLE001
            conn.close()
            return False
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def wait(self, timeout_s: float) -> bool:
        """Try for the lease for up to `timeout_s` seconds."""
        end = time.monotonic() + timeout_s
        while not self.ensure():
            if time.monotonic() >= end:
                return False
            time.sleep(0.5)
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # a session lock ends with its session
            except Exception:  # noqa: BLE001
                pass
            self._conn = None


def open_when_ready(stop: threading.Event, progress: Any = None) -> Stores:
    """open_stores, retried every few seconds while the demo is not running yet (./run.sh starts the
    watcher beside the dashboard, which starts the demo)."""
    from lib.stores import open_stores

    said = False
    while True:
        try:
            return open_stores()
        except (DemoNotRunning, StoreUnavailable) as exc:
            if not said:
                log.warning("watch: waiting for the stores (%s)", safe_message(exc))
                said = True
            if stop.wait(3.0):
                raise
        except KeyError:  # the demo's state file is being written
            if stop.wait(3.0):
                raise


def serve(stores: Stores, cfg: WatchConfig, *, stop: threading.Event | None = None) -> int:
    """Run until stopped (SIGTERM, SIGINT or `stop`): the lease, the jobs of the schedule."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    lease = Lease(stores)
    work = threading.Lock()  # one run at a time, whatever job it is
    sched = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)}, timezone=UTC,
                                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    last_prune: list[datetime] = []

    def tick(only: list[str] | None, every: float) -> None:
        with work:
            if not lease.ensure():
                return
            try:
                doc, _ = run_once(stores, only=only, config=cfg,
                                  next_run_at=datetime.now(UTC) + timedelta(seconds=every))
                failed = [d for d in doc["deliveries"] if not d["ok"]]
                log.info("watch: run %s, %d change(s), %d delivery failure(s)", doc["run_id"], len(doc["changes"]),
                         len(failed))
            except OpsError as exc:
                log.warning("watch: %s", exc)
            except Exception as exc:  # noqa: BLE001 - the watcher goes on
                log.warning("watch: the run failed (%s)", safe_message(exc, stores.settings.secret_values()))

    def housekeeping() -> None:
        from lib.alerts.outbox import deliver

        with work:
            if not lease.ensure():
                return
            try:
                now = datetime.now(UTC)
                if not last_prune or now - last_prune[0] > timedelta(days=1):
                    prune(stores, now)
                    last_prune[:] = [now]
                queue_digest(stores)
                deliver(stores)
            except Exception as exc:  # noqa: BLE001 - tried again next time
                log.warning("watch: housekeeping failed (%s)", safe_message(exc, stores.settings.secret_values()))

    first = datetime.now(UTC)
    for every, only in cfg.groups().items():
        sched.add_job(tick, "interval", seconds=every, args=(only, every), next_run_time=first,
                      id=f"checks-{every:g}s")
    sched.add_job(housekeeping, "interval", seconds=min(HOUSEKEEPING_S, cfg.interval_s), id="housekeeping")

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    sched.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        sched.shutdown(wait=True)
        lease.release()
    return 0


def main(interval_s: float | None) -> int:
    """`python -m lib watch` without --once."""
    from lib.config import load_settings

    settings = load_settings()
    cfg = load(settings, interval_s)
    logging.getLogger("healbridge.watch").setLevel(logging.INFO)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stores = open_when_ready(stop)
    except OpsError:
        return 0
    print(f"watch: every {cfg.interval_s:g} s ({WATCHER}); stop with Ctrl-C.", file=sys.stderr, flush=True)
    try:
        return serve(stores, cfg, stop=stop)
    finally:
        stores.dispose()


__all__ = ["Lease", "main", "serve"]
