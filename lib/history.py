"""The dashboard's own state in the ops database: every check run, passes included.

OPS_DATABASE_URL names it; unset, it is the `ops` database of the embedded PostgreSQL in the data
folder (the demo's, or one started for the ops database alone). The schema is created on first use.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

from lib.sqlfiles import load
from lib.stores.postgres import make_engine

if TYPE_CHECKING:
    from lib.checks.runner import CheckRun
    from lib.stores import Stores

_engines: dict[str, Engine] = {}
_ready: set[str] = set()
_lock = threading.Lock()


def ops_url(stores: Stores) -> str:
    if stores.ops_url:
        return stores.ops_url
    # Not the demo and no OPS_DATABASE_URL: the embedded PostgreSQL in the data folder holds it.
    from lib.demo.services import DemoServices

    services = DemoServices(stores.settings)
    if not services.pg_running() or "postgres" not in services.state.raw:
        services._ensure_pg()
    uri = services.state.raw["postgres"]["uris"]["ops"]
    stores.ops_url = str(uri)
    return stores.ops_url


def engine(url: str) -> Engine:
    """The ops database's engine; its schema is created once per process (thread-safe)."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url, pool_size=2)
        eng = _engines[url]
        if url not in _ready:
            with eng.begin() as conn:
                conn.exec_driver_sql(load("ops/schema").text)
            _ready.add(url)
    return eng


def save_run(stores: Stores, run: CheckRun, *, source: str = "cli", generated: bool = False) -> int:
    eng = engine(ops_url(stores))
    with eng.begin() as conn:
        run_id = conn.execute(
            text(load("ops/insert_run").text),
            {"started_at": run.started_at, "finished_at": run.finished_at, "source": source,
             "generated": generated, "demo": stores.demo, "stores": json.dumps(run.stores, default=str)},
        ).scalar_one()
        conn.execute(
            text(load("ops/insert_result").text),
            [
                {"run_id": run_id, "check_id": r.id, "severity": r.severity, "count": r.count,
                 "sample": json.dumps(r.sample), "duration_ms": r.duration_ms, "error": r.error}
                for r in run.results
            ],
        )
    return int(run_id)


def _rows(stores: Stores, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with engine(ops_url(stores)).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(load(name).text), params)]


def runs(stores: Stores, limit: int = 200) -> list[dict[str, Any]]:
    return _rows(stores, "ops/list_runs", {"limit": limit})


def results(stores: Stores, run_id: int) -> list[dict[str, Any]]:
    return _rows(stores, "ops/run_results", {"run_id": run_id})


def latest_before(stores: Stores, when: datetime) -> int | None:
    rows = _rows(stores, "ops/latest_run_before", {"before": when})
    return int(rows[0]["id"]) if rows else None


def latest_saved_run(stores: Stores, not_before: datetime | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The newest saved run that was not generated (started at or after `not_before`) and its
    results, or None."""
    head = _rows(stores, "ops/latest_saved_run", {"not_before": not_before})
    if not head:
        return None
    return head[0], results(stores, int(head[0]["id"]))
