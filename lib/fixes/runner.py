"""The runner: `plan` and `apply`, one attempt each: audited start, the checks of the rules (role,
checksum, reason, options), the transaction(s) with their timeouts and advisory lock, the counts
before, the statements, the verification after, and the commit (apply) or rollback (plan)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lib.errors import NotFound, OpsError, StoreUnavailable, safe_message
from lib.fixes.audit_trail import _audit_end, _audit_start
from lib.fixes.counting import _count, _counts, _listed, _post_keys, _Probe, _raw, _violations
from lib.fixes.files import Fix, load_fix, shown
from lib.fixes.results import MAX_REASON, FixResult, StepResult, _Stop
from lib.roles import APPLY_ROLES, Actor
from lib.sqlfiles import load
from lib.stores import Stores
from lib.stores.postgres import PgStore, describe_db_error

LOCK_NAMESPACE = 7_406_006  # first key of pg_try_advisory_xact_lock(namespace, hashtext(fix id))
DEFAULT_LOCK_TIMEOUT_MS = 5_000
SAMPLE_ROWS = 50


def plan(stores: Stores, fix_id: str, actor: Actor, *, params: Mapping[str, Any] | None = None,
         directory: Path | str | None = None, lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
         statement_timeout_ms: int | None = None) -> FixResult:
    """Dry run: the statements in a transaction that is rolled back; the rows they touch and the
    counts before and after. Anybody may plan."""
    return _attempt(stores, fix_id, actor, "plan", None, None, params, directory, lock_timeout_ms,
                    statement_timeout_ms)


def apply(stores: Stores, fix_id: str, actor: Actor, reason: str, *, expect_rows: int | None = None,
          params: Mapping[str, Any] | None = None, directory: Path | str | None = None,
          lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS, statement_timeout_ms: int | None = None) -> FixResult:
    """Apply per checks.md's rules; `expect_rows` is the row count the person typed back (the apply
    fails and rolls back when the fix would now touch another number of rows)."""
    return _attempt(stores, fix_id, actor, "apply", reason, expect_rows, params, directory, lock_timeout_ms,
                    statement_timeout_ms)


def _attempt(stores: Stores, fix_id: str, actor: Actor, action: str, reason: str | None, expect_rows: int | None,
             params: Mapping[str, Any] | None, directory: Path | str | None, lock_timeout_ms: int,
             statement_timeout_ms: int | None) -> FixResult:
    t0 = time.perf_counter()
    fix: Fix | None = None
    load_error: OpsError | None = None
    try:
        fix = load_fix(fix_id, directory)
    except OpsError as exc:
        load_error = exc
    given = (reason or "").strip()
    r = FixResult(fix=str(fix_id) if fix else shown(fix_id, 100), title=fix.title if fix else "",
                  stores=fix.stores if fix else (), action=action, actor=actor, reason=given[:MAX_REASON] or None,
                  checksum=fix.checksum if fix else None, params=dict(params or {}),
                  also_affects=fix.also_affects() if fix else [], reason_length=len(given))
    secrets = stores.settings.secret_values()
    try:
        held = _audit_start(stores, r)
    except Exception as exc:  # no audit, no fix
        raise OpsError(f"The audit log cannot be written, so nothing was run ({safe_message(exc, secrets)}).") from exc
    try:
        if load_error is not None:
            raise _Stop(error=str(load_error))
        assert fix is not None
        _run(stores, fix, r, expect_rows, lock_timeout_ms,
             statement_timeout_ms or stores.settings.statement_timeout_ms)
    except _Stop as stop:
        r.refused, r.error = stop.refused, stop.error
        r.applied = False
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the transaction rolled back
        r.error = safe_message(exc, secrets)
        r.applied = False
    except BaseException:  # interrupted: no end is written; closing the connection frees the lock (abandoned)
        held.invalidate()
        held.close()
        raise
    if r.refused:
        r.outcome = f"refused: {r.refused}"
    elif r.error:
        r.outcome = f"failed: {r.error}"
    r.duration_ms = round((time.perf_counter() - t0) * 1000, 1)
    _audit_end(stores, held, r)
    if load_error is not None and isinstance(load_error, NotFound):
        raise load_error
    return r


def _check_params(fix: Fix, given: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: None for name in fix.options}
    for name, value in given.items():
        if name not in fix.options:
            known = ", ".join(fix.options) or "none"
            raise _Stop(error=f"{fix.id} takes no option {shown(name)!r} (its options: {known}).")
        if value in (None, ""):
            continue
        if str(value) not in fix.options[name]:
            raise _Stop(error=f"{name} must be one of {', '.join(fix.options[name])}.")
        out[name] = str(value)
    return out


def firebase_params(stores: Stores, fix: Fix) -> dict[str, Any]:
    """The fix's FIREBASE_PARAMS, read fresh from Firebase Auth now (never a cached listing)."""
    if not fix.firebase_params:
        return {}
    if stores.firebase is None:
        raise _Stop(error="firebase: not configured, so the disabled patients cannot be read; nothing was run.")
    try:
        return {"disabled_uids": stores.firebase.disabled_uids()}
    except StoreUnavailable as exc:
        raise _Stop(error=f"{exc}: the disabled patients cannot be read, so nothing was run.") from exc


def _pg(stores: Stores, name: str) -> PgStore:
    store = stores.get(name)
    if store is None:
        raise _Stop(error=f"{name}: not configured, so its fixes cannot run.")
    if not isinstance(store, PgStore):
        raise _Stop(error=f"{name}: reached through its HTTP API, which runs no SQL; fixes need SUPABASE_DB_URL.")
    return store


def _run(stores: Stores, fix: Fix, r: FixResult, expect_rows: int | None, lock_ms: int, stmt_ms: int) -> None:
    if r.action == "apply" and r.actor.role not in APPLY_ROLES:
        raise _Stop(refused="role")
    if not fix.is_reviewed:
        raise _Stop(refused="checksum")
    if r.action == "apply" and not r.reason:
        raise _Stop(error="A reason is required to apply a fix.")
    if r.reason_length > MAX_REASON:
        raise _Stop(error=f"A reason must be at most {MAX_REASON:,} characters (this one has {r.reason_length:,}): "
                          "shorten it.")
    options = _check_params(fix, r.params)
    targets = [(_pg(stores, name), name) for name in fix.stores]

    from lib.checks.constraints import load_expected

    expected = load_expected()
    try:
        with ExitStack() as stack:
            conns: list[tuple[str, Connection]] = []
            for store, name in targets:
                conn = stack.enter_context(store.engine.connect())
                conn.begin()
                conns.append((name, conn))
            try:
                _in_transaction(stores, fix, r, conns, expected, options, expect_rows, lock_ms, stmt_ms)
            finally:
                for _, conn in conns:
                    if conn.in_transaction():
                        conn.rollback()
    except (SQLAlchemyError, DBAPIError, psycopg.Error) as exc:
        store_name = r.stores[0] if len(r.stores) == 1 else ", ".join(r.stores)
        raise _Stop(error=describe_db_error(store_name, exc)) from exc
    except StoreUnavailable as exc:
        raise _Stop(error=str(exc)) from exc


def _in_transaction(stores: Stores, fix: Fix, r: FixResult, conns: list[tuple[str, Connection]], expected: Any,
                    options: dict[str, Any], expect_rows: int | None, lock_ms: int, stmt_ms: int) -> None:
    probes = [_Probe(name, conn, stores) for name, conn in conns]
    params = {name: {"run_id": r.audit_id, "schemas": expected.schemas(name), **options} for name, _ in conns}
    for _name, conn in conns:
        conn.execute(text(load("fixrunner/timeouts").text),
                     {"lock_timeout_ms": str(int(lock_ms)), "statement_timeout_ms": str(int(stmt_ms))})
        if not conn.execute(text(load("fixrunner/try_lock").text), {"namespace": LOCK_NAMESPACE, "fix": fix.id}).scalar():
            raise _Stop(refused="locked")
    # read from Firebase now, inside the transaction and under the lock: what it re-checks is current
    fresh = firebase_params(stores, fix)
    for name, _ in conns:
        params[name].update(fresh)
    r.inputs = {k: len(v) for k, v in fresh.items()}

    checks = fix.in_tx_checks()
    r.before = _counts(probes, checks)
    for cid in fix.blocked_by:
        if r.before[cid] > 0:
            raise _Stop(refused=f"blocked: {cid} = {r.before[cid]}")
    verify_before = {t.label: _count(probes, t) for t in fix.verify}
    verify_before.update({k: len(v) for k, v in _post_keys(fix, probes, params).items()})
    listed: list[dict[str, Any]] = []
    if any(s.kind == "each" for s in fix.sections):
        for p in probes:
            got, bad = _violations(fix, p, params[p.store])
            listed += got
            r.violations += bad
        if r.violations:
            first = r.violations[0]
            raise _Stop(refused=f"blocked: {first.key} = {first.count}")
        verify_before["each: objects to handle"] = len(listed)

    if not any(verify_before.values()):
        r.outcome = "nothing to do"
        r.after = dict(r.before)
        r.verify = {k: {"before": v, "after": v} for k, v in verify_before.items()}
        return

    for p in probes:
        conn = p.conn
        for s in fix.runs:
            if s.kind == "each":
                mine = [row for row in listed if row["key"].startswith(f"{p.store}.")]
                for row in mine:
                    _raw(conn, row["validate_sql"])
                r.steps.append(StepResult(p.store, s.title, len(mine), [{"validated": row["key"]} for row in mine]))
                r.rows += len(mine)
                continue
            res = conn.execute(text(s.sql), params[p.store])
            sample = [{k: _jsonable(v) for k, v in row._mapping.items()} for row in res.fetchmany(SAMPLE_ROWS)] \
                if res.returns_rows else []
            rows = res.rowcount if s.counts_rows and res.rowcount is not None and res.rowcount >= 0 else None
            res.close()
            r.steps.append(StepResult(p.store, s.title, rows, sample))
            r.rows += rows or 0
        p.forget()

    r.after = _counts(probes, checks)
    verify_after = {t.label: _count(probes, t) for t in fix.verify}
    verify_after.update({k: len(v) for k, v in _post_keys(fix, probes, params).items()})
    if "each: objects to handle" in verify_before:
        verify_after["each: objects to handle"] = sum(len(_listed(fix, p, params[p.store])) for p in probes)
    r.verify = {k: {"before": verify_before.get(k), "after": verify_after.get(k)} for k in verify_before}
    failing = [f"{k} = {v}" for k, v in verify_after.items() if v]
    if failing:
        raise _Stop(error=f"verification failed, everything rolled back: {', '.join(failing)}")
    if expect_rows is not None and r.rows != expect_rows:
        raise _Stop(error=f"the fix now touches {r.rows} rows, not the {expect_rows} confirmed; everything rolled "
                          "back: plan again")
    if r.action == "plan":
        r.outcome = "planned"
        return
    committed: list[str] = []
    for name, conn in conns:
        try:
            conn.commit()
        except (SQLAlchemyError, DBAPIError) as exc:
            done = f" ({', '.join(committed)} committed)" if committed else ""
            raise _Stop(error=describe_db_error(name, exc) + done) from exc
        committed.append(name)
    r.applied = True
    r.outcome = "applied"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return str(value)
