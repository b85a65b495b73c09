"""The watcher (`python -m lib watch`): the checks on a schedule, every run saved, alerts on state
changes (checks.md, "Watch and alerts").

`run_once` is one interval: run the checks (lib.checks.runner), then in ONE ops transaction save
the run (lib.history), decide the changes (lib.alerts.decide) and write the outbox
(lib.alerts.outbox); after commit, deliver. `heartbeat` is what the Health page shows. `prune`
bounds the history; `queue_digest` the weekly digest. The long-running service (the lease, the
schedule) is lib.watch.service.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lib import history
from lib.alerts import outbox
from lib.alerts.decide import decide
from lib.checks.runner import exit_status, run_checks
from lib.errors import StoreUnavailable, safe_message
from lib.stores.ops import run as ops_run
from lib.watch.config import WatchConfig, load

if TYPE_CHECKING:
    from lib.stores import Stores

WATCHER = "main"
STARTED_AT = datetime.now(UTC)


def _active_acks(stores: Stores, now: datetime) -> dict[str, datetime]:
    """check id -> expiry of the active acknowledgements of a whole check."""
    from lib.review import acknowledgements

    out: dict[str, datetime] = {}
    for a in acknowledgements(stores):
        if a.finding_key is None and a.state(now) == "active":
            out[a.check_id] = max(out.get(a.check_id, a.expires_at), a.expires_at)
    return out


def run_once(stores: Stores, *, only: list[str] | None = None, config: WatchConfig | None = None,
             next_run_at: datetime | None = None, send: bool = True,
             timings: dict[str, float] | None = None) -> tuple[dict[str, Any], int]:
    """One interval: the checks, then the run + decisions + outbox in one ops transaction, then
    delivery. Returns (the document of `watch --once --json`, the exit status of `check`).
    `timings` (the benchmark's): filled with the seconds of each phase (checks_s, transaction_s,
    deliver_s)."""
    cfg = config or load(stores.settings)
    t0 = time.perf_counter()
    run = run_checks(stores, only=only, incremental=cfg.incremental)
    t1 = time.perf_counter()
    now = run.finished_at
    try:
        acks = _active_acks(stores, now)
        with stores.ops.transaction() as conn:
            maintenance = bool(ops_run(conn, "maintenance_active", {"now": now}).scalar())
            run_id = history.save_run(stores, run, source="watch", conn=conn)
            changes = decide(conn, run, run_id, now=now, factor=stores.settings.alert_worse_factor,
                             thresholds=cfg.thresholds, acks=acks, maintenance=maintenance)
            outbox.enqueue(conn, stores.settings, run_id, changes)
            ops_run(conn, "heartbeat_upsert", {
                "watcher": WATCHER, "host": socket.gethostname()[:200], "pid": os.getpid(), "started_at": STARTED_AT,
                "last_run_at": now, "last_run_id": run_id,
                "next_run_at": next_run_at or now + timedelta(seconds=cfg.interval_s), "interval_s": cfg.interval_s})
    except Exception as exc:
        raise StoreUnavailable("The ops database cannot be written, so the run and its alerts were not saved "
                               f"({safe_message(exc, stores.settings.secret_values())}).") from exc
    run.run_id = run_id
    t2 = time.perf_counter()
    deliveries = outbox.deliver(stores) if send else []
    if timings is not None:
        timings.update(checks_s=t1 - t0, transaction_s=t2 - t1, deliver_s=time.perf_counter() - t2)
    doc = {
        "run_id": run_id,
        "generated_at": run.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stores": {n: {"ok": s["ok"], "latency_ms": s["latency_ms"], **({"error": s["error"]} if not s["ok"] else {})}
                   for n, s in run.stores.items()},
        "changes": [{"check": c.check, "change": c.change, "before": c.before, "after": c.after,
                     "severity": c.severity, **({"silenced": c.silenced} if c.silenced else {})} for c in changes],
        "deliveries": deliveries,
        "incremental": run.reads is not None,
    }
    return doc, exit_status(run)


def heartbeat(stores: Stores, now: datetime | None = None) -> dict[str, Any]:
    """The watcher's heartbeat for the Health page: last run, next one, interval, host and pid, and
    `running` (False when there never was a run or the last is older than two intervals)."""
    now = now or datetime.now(UTC)
    rows = stores.ops.rows("heartbeat_get", {"watcher": WATCHER})
    if not rows:
        return {"running": False, "last_run_at": None, "next_run_at": None, "last_run_id": None, "interval_s": None}
    r = rows[0]
    last = r["last_run_at"]
    running = last is not None and (now - last).total_seconds() <= 2 * float(r["interval_s"])
    return {**r, "running": running}


def prune(stores: Stores, now: datetime | None = None) -> int:
    """Prune the check history: every run of the last WATCH_KEEP_ALL_DAYS days, then the last run
    of each day for WATCH_KEEP_DAILY_DAYS, none older (the demo's generated runs are kept).
    Returns how many runs were removed."""
    now = now or datetime.now(UTC)
    s = stores.settings
    keep_all = now - timedelta(days=s.watch_keep_all_days)
    keep_daily = now - timedelta(days=max(s.watch_keep_daily_days, s.watch_keep_all_days))
    with stores.ops.transaction() as conn:
        n = ops_run(conn, "prune_runs", {"keep_all_since": keep_all, "keep_daily_since": keep_daily}).rowcount
        ops_run(conn, "heartbeat_pruned", {"watcher": WATCHER, "at": now})
    return int(n or 0)


def queue_digest(stores: Stores, today: date | None = None) -> list[int]:
    """The weekly digest (the review's comparison of the latest run with the one a week before, as
    Markdown) queued for ALERT_URLS_DIGEST, once on ALERT_DIGEST_DAY. Returns the outbox ids."""
    from lib import review
    from lib.alerts.channels import route

    today = today or datetime.now(UTC).date()
    s = stores.settings
    if today.strftime("%A").lower() != s.alert_digest_day:
        return []
    chans = route(s, "digest")
    hb = stores.ops.rows("heartbeat_get", {"watcher": WATCHER})
    if not chans or (hb and hb[0]["last_digest_on"] == today):
        return []
    before, after = review.default_pair(stores)
    if before is None or after is None:
        return []
    changes = review.compare_runs(stores, before.id, after.id)
    acks = review.acknowledgements(stores)
    # no acknowledgement list: its finding keys and comments may name a patient; the coverage
    # column says only "whole check, until …" or "n of m findings"
    body = review.summary_markdown(before, after, changes, review.coverage(changes, acks), [])
    ids = []
    with stores.ops.transaction() as conn:
        for ch in chans:
            ids.append(outbox.queue_message(conn, run_id=after.id, kind="digest", channel=ch, severity="info",
                                            title="HealBridge weekly data-quality review", body=body,
                                            checks=[c.check for c in changes if c.status in ("new", "worse", "better",
                                                                                              "resolved")]))
        ops_run(conn, "heartbeat_digest", {"watcher": WATCHER, "day": today})
    return ids


__all__ = ["WATCHER", "heartbeat", "prune", "queue_digest", "run_once"]
