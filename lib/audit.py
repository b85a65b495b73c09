"""The access audit log in the ops database (table audit_log, append-only).

Every event is one INSERT (sql/ops/audit_insert.sql); nothing here, or anywhere, updates or deletes
it, and triggers of the ops schema refuse UPDATE, DELETE and TRUNCATE. Events: `signin`, `lookup`
(the kind of identifier and the matched Firebase UIDs, never the typed value), `unmask` (with its
reason), `export` (which CSV, how many rows, masked or not), `fix.plan` / `fix.apply` (lib.fixes),
`audit.view`. A fix attempt has two events: its start (detail outcome "started", written before
anything runs) and its end (the outcome, or "abandoned" when its process died).

The functions that do protected work check the role themselves (lib.roles): `unmask` (any role, a
reason required), `export_csv` (any role; masked for support), `log` (AUDIT_ROLES: admin only).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection

from lib import phi
from lib.errors import OpsError
from lib.roles import AUDIT_ROLES, ROLES, Actor, require
from lib.stores.ops import run

if TYPE_CHECKING:
    from lib.stores import Stores

ACTIONS = ("signin", "signout", "lookup", "unmask", "export", "fix.plan", "fix.apply", "audit.view", "alert.test",
           "maintenance.start", "maintenance.end")
COLUMNS = ["id", "at", "who", "role", "action", "target", "reason", "detail"]
MAX_ROWS = 10_000
MAX_REASON = 2_000  # the longest reason kept (audit_log here, fix_audit in lib.fixes)


class AuditError(OpsError):
    """A bad request to the audit functions (one sentence)."""


def record(stores: Stores, actor: Actor, action: str, *, target: str | None = None,
           detail: dict[str, Any] | None = None, reason: str | None = None) -> int:
    """Append one event; returns its id. Raises when the ops database cannot be written: the caller
    decides whether the work may go on without its record (unmask and export may not)."""
    if action not in ACTIONS:
        raise AuditError(f"{action!r} is not an audited action ({', '.join(ACTIONS)}).")
    with stores.ops.transaction() as conn:
        return record_on(conn, actor, action, target=target, detail=detail, reason=reason)


def record_on(conn: Connection, actor: Actor, action: str, *, target: str | None = None,
              detail: dict[str, Any] | None = None, reason: str | None = None) -> int:
    """`record` on an open connection of the ops database, inside the caller's transaction (the fix
    runner writes an attempt's start here and in fix_audit at once: both or neither)."""
    if action not in ACTIONS:
        raise AuditError(f"{action!r} is not an audited action ({', '.join(ACTIONS)}).")
    return int(run(conn, "audit_insert", {
        "who": actor.who[:200], "role": actor.role[:50], "action": action,
        "target": None if target is None else str(target)[:500],
        "detail": json.dumps(detail or {}, default=str), "reason": (reason or "").strip()[:MAX_REASON] or None,
    }).scalar_one())


def lookup(stores: Stores, actor: Actor, kind: str, uids: Sequence[str], down: Sequence[str] = ()) -> int:
    """A patient lookup: which kind of identifier was typed (uid, email, phone, id, name, invalid)
    and which Firebase UIDs it matched. The typed value itself is PHI and is not kept."""
    return record(stores, actor, "lookup", target=",".join(uids[:50]) or None,
                  detail={"kind": kind, "uids": list(uids[:200]), "matches": len(uids), "down": list(down)})


def unmask(stores: Stores, actor: Actor, uid: str, reason: str) -> int:
    """Let `actor` see one patient's PHI in full: needs a stated reason; recorded before anything is
    shown (no record, no unmask)."""
    require(actor, ROLES, "unmask a patient")
    if not uid or not str(uid).strip():
        raise AuditError("Pick a patient to unmask.")
    if len((reason or "").strip()) < 5:
        raise AuditError("Give a reason to unmask this patient (a few words): it goes to the audit log.")
    return record(stores, actor, "unmask", target=str(uid).strip(), reason=reason)


def csv_bytes(actor: Actor, df: pd.DataFrame, *, uid: str | None = None,
              unmasked: str | None = None) -> tuple[bytes, bool]:
    """The CSV bytes of `df` as `actor` may see them (masked for support unless `uid` is the one
    patient unmasked) and whether they were masked. Checks the role itself; records nothing (the
    web records the download when it is clicked, export_csv records at once)."""
    require(actor, ROLES, "export data")
    out = phi.for_role(df, actor.role, uid=uid, unmasked=unmasked)
    return out.to_csv(index=False).encode(), out is not df


def csv_later(actor: Actor, df: pd.DataFrame | Callable[[], pd.DataFrame], *, uid: str | None = None,
              unmasked: str | None = None) -> tuple[Callable[[], bytes], bool]:
    """csv_bytes deferred: the role is checked now; the bytes are built when the returned function
    is called (a download's click), not on every rerun of the page, from `df` or from what `df()`
    reads then. Also whether they are masked."""
    require(actor, ROLES, "export data")
    will_mask = phi.masks(actor.role) and not (uid is not None and unmasked is not None and uid == unmasked)

    def build() -> bytes:
        frame = df if isinstance(df, pd.DataFrame) else df()
        return csv_bytes(actor, frame, uid=uid, unmasked=unmasked)[0]
    return build, will_mask


def record_export(stores: Stores, actor: Actor, name: str, rows: int, masked: bool) -> int:
    return record(stores, actor, "export", target=name, detail={"rows": int(rows), "masked": masked})


def export_csv(stores: Stores, actor: Actor, df: pd.DataFrame, name: str, *, uid: str | None = None,
               unmasked: str | None = None) -> bytes:
    """csv_bytes, recorded in the audit log first (no record, no export)."""
    data, masked = csv_bytes(actor, df, uid=uid, unmasked=unmasked)
    record_export(stores, actor, name, len(df), masked)
    return data


def log(stores: Stores, actor: Actor, *, who: str | None = None, action: str | None = None,
        since: datetime | None = None, until: datetime | None = None, limit: int = 1000) -> pd.DataFrame:
    """The audit log, newest first, filtered (admin only): id, at, who, role, action, target,
    reason, detail (JSON text)."""
    require(actor, AUDIT_ROLES, "read the audit log")
    if action is not None and action not in ACTIONS and action != "fix.":
        raise AuditError(f"{action!r} is not an audited action ({', '.join(ACTIONS)}).")
    if since is not None and until is not None and until <= since:
        raise AuditError("The end of the period must come after its start.")
    limit = max(1, min(int(limit), MAX_ROWS))
    rows = stores.ops.rows("audit_list", {
        "who": (who or "").strip() or None, "action": action, "since": since, "until": until, "limit": limit})
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["detail"] = [json.dumps(d, sort_keys=True, default=str) for d in df["detail"]]
    return df


__all__ = ["ACTIONS", "AuditError", "csv_bytes", "export_csv", "record_export", "log", "lookup", "record", "record_on", "unmask"]
