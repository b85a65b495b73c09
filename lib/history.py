"""The dashboard's own state in the ops database: every check run, passes included.

OPS_DATABASE_URL names it; unset, it is the `ops` database of the embedded PostgreSQL in the data
folder (the demo's, or one started for the ops database alone). The schema is created on first use.
"""

from __future__ import annotations

import json
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
            text(
                "INSERT INTO check_runs (started_at, finished_at, source, generated, demo, stores) "
                "VALUES (:s, :f, :src, :g, :d, CAST(:st AS jsonb)) RETURNING id"
            ),
            {"s": run.started_at, "f": run.finished_at, "src": source, "g": generated, "d": stores.demo,
             "st": json.dumps(run.stores, default=str)},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO check_results (run_id, check_id, severity, count, sample, duration_ms, error) "
                "VALUES (:r, :c, :sev, :n, CAST(:sample AS jsonb), :ms, :err)"
            ),
            [
                {"r": run_id, "c": r.id, "sev": r.severity, "n": r.count, "sample": json.dumps(r.sample),
                 "ms": r.duration_ms, "err": r.error}
                for r in run.results
            ],
        )
    return int(run_id)


def runs(stores: Stores, limit: int = 200) -> list[dict[str, Any]]:
    with engine(ops_url(stores)).connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                text("SELECT id, started_at, finished_at, source, generated, demo FROM check_runs "
                     "ORDER BY started_at DESC, id DESC LIMIT :n"),
                {"n": limit},
            )
        ]


def results(stores: Stores, run_id: int) -> list[dict[str, Any]]:
    with engine(ops_url(stores)).connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                text("SELECT check_id, severity, count, sample, duration_ms, error FROM check_results "
                     "WHERE run_id = :r ORDER BY check_id"),
                {"r": run_id},
            )
        ]


def latest_before(stores: Stores, when: datetime) -> int | None:
    with engine(ops_url(stores)).connect() as conn:
        return conn.execute(
            text("SELECT id FROM check_runs WHERE started_at <= :w ORDER BY started_at DESC LIMIT 1"), {"w": when}
        ).scalar()
