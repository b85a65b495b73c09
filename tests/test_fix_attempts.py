"""Fix attempts in the ops database, on the real stores (embedded PostgreSQL, Firebase emulators):
an apply killed mid-way (SIGKILL of a real `python -m lib fix apply`) is `abandoned` once its process
is gone, never while it runs, and its start is in the access audit log; fix_audit is append-only
(UPDATE, DELETE, TRUNCATE refused) and an ops database of the former schema migrates with its rows;
an over-long fix id or reason is capped (the command line)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from lib import audit, fixes
from lib.roles import Actor

ROOT = Path(__file__).resolve().parent.parent
ADMIN = Actor("ada@hospital.example", "admin")
FIX = "deactivate_expired_tokens"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _cli(*args: str, timeout: float = 300) -> tuple[int, Any, str]:
    p = subprocess.run([sys.executable, "-m", "lib", *args], cwd=ROOT, env=dict(os.environ), capture_output=True,
                       text=True, timeout=timeout)
    doc = json.loads(p.stdout) if "--json" in args and p.stdout.strip() else p.stdout
    return p.returncode, doc, p.stderr


def _attempt(stores: Any, reason: str) -> dict[str, Any] | None:
    return next((r for r in fixes.audit_log(stores, fix=FIX, limit=1000) if r["reason"] == reason), None)


@pytest.fixture
def dirty(demo: Any) -> Iterator[Any]:
    """The demo stores; marked dirty afterwards (a test here may change them)."""
    demo.ensure()
    stores = demo.stores()
    try:
        yield stores
    finally:
        stores.dispose()
        demo.dirty = True


# ---------------------------------------------------------------------------------- item 9
def test_an_apply_killed_mid_way_is_abandoned_and_its_start_is_in_the_audit_log(dirty: Any) -> None:
    stores = dirty
    reason = f"killed mid-way {uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(stores.supabase._url)) as holder:
        # a row the fix updates, locked here: the apply blocks on it, in the middle of its transaction
        holder.execute("SELECT id FROM public.patient_doctor_connections WHERE is_active AND token_expires_at < now() "
                       "ORDER BY id LIMIT 1 FOR UPDATE")
        proc = subprocess.Popen([sys.executable, "-m", "lib", "fix", "apply", FIX, "--reason", reason, "--yes"],
                                cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            with psycopg.connect(_dsn(stores.supabase._url), autocommit=True) as watcher:
                while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          "AND query ILIKE 'UPDATE public.patient_doctor_connections%%'").fetchone()[0]:
                    assert proc.poll() is None and time.monotonic() < deadline, "the apply never blocked"
                    time.sleep(0.05)
            # it runs: its attempt is started, not abandoned (its process holds the attempt's lock)
            running = _attempt(stores, reason)
            assert running is not None and running["outcome"] == "started"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        holder.rollback()

    deadline = time.monotonic() + 30
    while (row := _attempt(stores, reason)) is not None and row["outcome"] == "started" and time.monotonic() < deadline:
        time.sleep(0.2)  # the server notices the dead client's connection within moments
    assert row is not None and row["outcome"] == "abandoned", row
    assert row["action"] == "apply" and row["id"] == running["id"]
    # once only: listing again adds no second end
    eng = stores.ops.engine()
    with eng.connect() as conn:
        ends = conn.execute(text("SELECT count(*) FROM fix_audit WHERE attempt = :id"), {"id": row["id"]}).scalar()
    fixes.audit_log(stores, limit=5)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM fix_audit WHERE attempt = :id"), {"id": row["id"]}).scalar() \
            == ends == 1
    # the access audit log has the attempt's start (written before anything ran) and its abandonment
    events = audit.log(stores, ADMIN, action="fix.apply", limit=10_000)
    mine = events[events["detail"].str.contains(f'"fix_audit_id": {row["id"]}', regex=False)]
    outcomes = [json.loads(d)["outcome"] for d in mine.sort_values("id")["detail"]]
    assert outcomes == ["started", "abandoned"], outcomes
    assert set(mine["reason"]) == {reason} and set(mine["target"]) == {FIX}


def test_fix_audit_is_append_only(stores: Any) -> None:
    r = fixes.plan(stores, FIX, Actor("sam", "support"))
    eng = stores.ops.engine()
    for statement in ("UPDATE fix_audit SET who = 'someone else' WHERE id = :id",
                      "DELETE FROM fix_audit WHERE id = :id", "TRUNCATE fix_audit"):
        with pytest.raises(DBAPIError) as err, eng.begin() as conn:
            conn.execute(text(statement), {"id": r.audit_id})
        assert "append-only" in str(err.value.orig), statement
    rec = next(x for x in fixes.audit_log(stores, fix=FIX, limit=1000) if x["id"] == r.audit_id)
    assert (rec["who"], rec["action"], rec["outcome"], rec["rows"]) == ("sam", "plan", "planned", r.rows)


OLD_FIX_AUDIT = """
CREATE TABLE fix_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    who          text NOT NULL,
    role         text NOT NULL,
    fix          text NOT NULL,
    checksum     text,
    action       text NOT NULL,
    stores       text,
    rows_touched integer,
    outcome      text NOT NULL,
    reason       text,
    duration_ms  real,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb
);
INSERT INTO fix_audit (who, role, fix, action, outcome, rows_touched, reason, duration_ms) VALUES
    ('old', 'oncall', 'deactivate_expired_tokens', 'apply', 'applied', 14, 'then', 12.5),
    ('old', 'oncall', 'deactivate_expired_tokens', 'apply', 'started', NULL, 'killed then', NULL);
"""


def test_an_ops_database_of_the_former_schema_migrates_with_its_rows(stores: Any) -> None:
    name = f"ops_old_{uuid.uuid4().hex[:8]}"
    core = make_url(stores.core._url)
    with psycopg.connect(_dsn(stores.core._url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = core.set(database=name).render_as_string(hide_password=False)
    try:
        with psycopg.connect(_dsn(url), autocommit=True) as conn:
            conn.execute(OLD_FIX_AUDIT)
        old = replace(stores, ops_url=url)
        rows = {r["reason"]: r for r in fixes.audit_log(old, limit=100)}
        assert (rows["then"]["outcome"], rows["then"]["rows"], rows["then"]["duration_ms"]) == ("applied", 14, 12.5)
        assert rows["killed then"]["outcome"] == "abandoned"  # no process holds it
        r = fixes.plan(old, FIX, Actor("sam", "support"))
        assert {x["id"]: x["outcome"] for x in fixes.audit_log(old, limit=100)}[r.audit_id] == "planned"
        with pytest.raises(DBAPIError), old.ops.transaction() as conn:
            conn.execute(text("DELETE FROM fix_audit"))
    finally:
        replace(stores, ops_url=url).ops.dispose()
        with psycopg.connect(_dsn(stores.core._url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------------------------- item 11
def test_an_over_long_fix_id_and_reason_are_capped(dirty: Any) -> None:
    stores = dirty
    code, _, err = _cli("fix", "plan", "x" * 100_000)
    assert code == 4 and err.startswith("error: There is no fix 'xxx") and "…" in err, err[:300]
    assert len(err) < 400 and "Traceback" not in err
    code, _, err = _cli("fix", "apply", "y" * 100_000, "--reason", "why", "--yes")
    assert code == 4 and len(err) < 400

    marker = uuid.uuid4().hex
    reason = marker + "r" * 100_000
    code, doc, err = _cli("fix", "apply", FIX, "--reason", reason, "--yes", "--json")
    assert code == 1 and doc["applied"] is False, (code, doc and doc.get("outcome"))
    assert doc["error"] == "A reason must be at most 2,000 characters (this one has 100,032): shorten it."
    assert "Traceback" not in err and len(err) < 400
    assert len(doc["reason"]) <= 2000 and doc["reason"].startswith(marker)
    rec = next(r for r in fixes.audit_log(stores, fix=FIX, limit=1000) if (r["reason"] or "").startswith(marker))
    assert len(rec["reason"]) <= 2000 and rec["outcome"].startswith("failed: A reason must be at most 2,000")
    events = audit.log(stores, ADMIN, action="fix.apply", limit=10_000)
    assert all(len(r) <= 2000 for r in events["reason"].dropna())
