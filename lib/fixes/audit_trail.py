"""The audit trail of the fix attempts: each attempt's start and end in the ops database's
`fix_audit` and in the access audit log (lib.audit), the attempt's session lock, attempts whose
process died marked "abandoned", and the listing (`audit_log`)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lib import audit
from lib.errors import safe_message
from lib.fixes.results import MAX_REASON, FixResult
from lib.roles import Actor
from lib.stores import Stores
from lib.stores.ops import run as ops_run

ATTEMPT_NAMESPACE = 7_406_007  # first key of the ops database's pg_advisory_lock(namespace, attempt id)


def _ops_error(exc: BaseException) -> bool:
    return isinstance(exc, SQLAlchemyError | DBAPIError | psycopg.Error)


def _mark_abandoned(conn: Connection, noticed_by: str) -> list[int]:
    """In the caller's transaction: an end row "abandoned" (and its access audit event) for every
    started attempt with no end whose session lock nobody holds. Returns their ids."""
    rows = [dict(r._mapping) for r in ops_run(conn, "fix_audit_abandon",
                                              {"namespace": ATTEMPT_NAMESPACE, "noticed_by": noticed_by[:200]})]
    for row in rows:
        audit.record_on(conn, Actor(row["who"], row["role"]), f"fix.{row['action']}"
                        if row["action"] in ("plan", "apply") else "fix.apply", target=row["fix"],
                        reason=row["reason"], detail={"fix_audit_id": row["attempt"], "outcome": "abandoned",
                                                      "noticed_by": noticed_by[:200], "checksum": row["checksum"]})
    return [int(r["attempt"]) for r in rows]


def _audit_start(stores: Stores, r: FixResult) -> Connection:
    """Append the attempt's start to fix_audit and to the access audit log, and take its session
    lock, in one transaction on a connection of its own; returns that connection, which holds the
    lock until `_audit_end`. Attempts found abandoned on the way are marked first."""
    conn = stores.ops.connect()
    try:
        with conn.begin():
            _mark_abandoned(conn, r.actor.who)
        with conn.begin():
            r.audit_id = int(ops_run(conn, "fix_audit_start", {
                "who": r.actor.who[:200], "role": r.actor.role[:50], "fix": r.fix[:100], "checksum": r.checksum,
                "action": r.action, "stores": ", ".join(r.stores), "reason": r.reason,
                "detail": json.dumps({"params": r.params, **({"reason_length": r.reason_length}
                                                              if r.reason_length > MAX_REASON else {})}, default=str),
            }).scalar_one())
            ops_run(conn, "fix_audit_lock", {"namespace": ATTEMPT_NAMESPACE, "id": r.audit_id})
            audit.record_on(conn, r.actor, f"fix.{r.action}", target=r.fix, reason=r.reason, detail={
                "fix_audit_id": r.audit_id, "outcome": "started", "checksum": r.checksum,
                "stores": ", ".join(r.stores)})
    except BaseException:
        conn.invalidate()  # a session lock survives a rollback: closing the connection ends it
        conn.close()
        raise
    return conn


def _audit_end(stores: Stores, conn: Connection, r: FixResult) -> None:
    """Append the attempt's end (fix_audit, then the access audit log), then release its lock. A
    record that cannot be written is said in `r.audit_error`; the attempt's own result stands."""
    secrets = stores.settings.secret_values()
    detail = {k: v for k, v in r.to_json().items()
              if k in ("before", "after", "verify", "refused", "error", "violations", "params", "applied")}
    detail["steps"] = [{"store": s.store, "step": s.title, "rows": s.rows} for s in r.steps]
    finish = {"id": r.audit_id, "outcome": r.outcome[:1000], "rows": r.rows, "duration_ms": r.duration_ms,
              "checksum": r.checksum, "detail": json.dumps(detail, default=str)}
    event = {"fix_audit_id": r.audit_id, "outcome": r.outcome, "rows": r.rows, "applied": r.applied,
             "checksum": r.checksum}
    errors: list[str] = []

    def write(fn: Any) -> Any:
        # on the attempt's connection; if the ops database dropped it, once more on a new one
        nonlocal conn
        try:
            with conn.begin():
                return fn(conn)
        except Exception as exc:
            if not _ops_error(exc):
                raise
            conn.invalidate()
            conn.close()
            conn = stores.ops.connect()
            with conn.begin():
                return fn(conn)

    try:
        try:
            ended = write(lambda c: ops_run(c, "fix_audit_finish", finish).scalar_one_or_none())
            if ended is None:
                errors.append(f"the audit record {r.audit_id} was already marked abandoned (its process had lost "
                              "the ops database); its outcome is in the access audit log")
        except Exception as exc:  # noqa: BLE001 - the attempt stands; say the record is incomplete
            errors.append(f"the audit record {r.audit_id} could not be completed: {safe_message(exc, secrets)}")
        try:  # the access audit log (lib.audit, append-only) has the attempt's end as well
            write(lambda c: audit.record_on(c, r.actor, f"fix.{r.action}", target=r.fix, reason=r.reason,
                                            detail=event))
        except Exception as exc:  # noqa: BLE001 - the fix_audit record stands; say this one is missing
            errors.append(f"the access audit event could not be written: {safe_message(exc, secrets)}")
    finally:
        try:
            if not conn.closed:
                ops_run(conn, "fix_audit_unlock", {"namespace": ATTEMPT_NAMESPACE,
                                                                      "id": r.audit_id})
                conn.commit()
                conn.close()
        except Exception:  # noqa: BLE001 - closing the connection releases the lock as well
            conn.invalidate()
            conn.close()
    if errors:
        r.audit_error = "; ".join(errors)


def audit_log(stores: Stores, *, fix: str | None = None, limit: int = 200,
              noticed_by: str = "the fix audit listing") -> list[dict[str, Any]]:
    """The fix attempts, newest first (of one fix, or of all), each in its latest state; attempts
    whose process died are marked abandoned first."""
    with stores.ops.transaction() as conn:
        _mark_abandoned(conn, noticed_by)
        return [dict(r._mapping) for r in ops_run(conn, "fix_audit_list", {"fix": fix, "limit": limit})]
