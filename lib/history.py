"""The check history in the ops database (lib.stores.ops): every check run, passes included.

The check runner returns a run; whoever ran it saves it here (`save_run`, or `record_run`: best
effort, the run says why it was not saved): the command line, the dashboard's runs, the demo's
generated history.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lib.errors import safe_message
from lib.stores.ops import run as ops_run

KEEP_KEYS_RUNS = 3  # runs whose finding keys (check_finding_keys) the ops database keeps

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from lib.checks.runner import CheckRun
    from lib.stores import Stores


def save_run(stores: Stores, run: CheckRun, *, source: str = "cli", generated: bool = False,
             conn: Connection | None = None) -> int:
    """Save `run` and its results in one transaction; returns its id. Raises when it cannot. With
    `conn` (an open ops connection), inside the caller's transaction: the watcher writes the run,
    its alert decisions and its outbox at once."""
    if conn is None:
        with stores.ops.transaction() as own:
            return save_run(stores, run, source=source, generated=generated, conn=own)
    run_id = ops_run(conn, "insert_run", {
        "started_at": run.started_at, "finished_at": run.finished_at, "source": source,
        "generated": generated, "demo": stores.demo, "stores": json.dumps(run.stores, default=str),
    }).scalar_one()
    ops_run(conn, "insert_result", [
        {"run_id": run_id, "check_id": r.id, "severity": r.severity, "count": r.count,
         "sample": json.dumps(r.sample), "duration_ms": r.duration_ms, "error": r.error}
        for r in run.results
    ])
    # every kept key of the checks an incremental run looks up again, for the newest runs only
    keyed = [{"run_id": run_id, "check_id": r.id, "complete": len(r.keys) == r.count, "keys": r.keys}
             for r in run.results if r.id in run.keep_keys and r.count is not None]
    if keyed and not generated:
        ops_run(conn, "finding_keys_insert", keyed)
        ops_run(conn, "finding_keys_prune", {"keep": KEEP_KEYS_RUNS})
    if run.reads:
        ops_run(conn, "run_reads_insert", [
            {"run_id": run_id, "part": p, "mode": r.mode, "rows_read": r.rows_read, "last_full_at": r.last_full_at}
            for p, r in sorted(run.reads.items())])
    return int(run_id)


def record_run(stores: Stores, run: CheckRun, *, source: str) -> CheckRun:
    """Save `run`, best effort: its `run_id` once saved, else its `history_error` (one sentence);
    the run itself stands either way. Returns `run`."""
    try:
        run.run_id = save_run(stores, run, source=source)
    except Exception as exc:  # noqa: BLE001 - history is best effort; the run itself stands
        run.history_error = f"history not saved: {safe_message(exc, stores.settings.secret_values())}"
    return run


def runs(stores: Stores, limit: int = 200) -> list[dict[str, Any]]:
    return stores.ops.rows("list_runs", {"limit": limit})


def results(stores: Stores, run_id: int) -> list[dict[str, Any]]:
    return stores.ops.rows("run_results", {"run_id": run_id})


def latest_before(stores: Stores, when: datetime) -> int | None:
    rows = stores.ops.rows("latest_run_before", {"before": when})
    return int(rows[0]["id"]) if rows else None


def latest_saved_run(stores: Stores, not_before: datetime | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The newest saved run that was not generated (started at or after `not_before`) and its
    results, or None."""
    head = stores.ops.rows("latest_saved_run", {"not_before": not_before})
    if not head:
        return None
    return head[0], results(stores, int(head[0]["id"]))
