"""Alerts on state changes of the checks, through apprise channels (checks.md, "Watch and alerts").

- lib.alerts.channels: the configured channels (ALERT_URLS…), their routes, their names
  (scheme://host, never the URL: it carries tokens).
- lib.alerts.decide: what changed in a run (opened, worse, resolved; stores unreachable / back),
  what silences it (an acknowledgement, a maintenance window) and the messages' text.
- lib.alerts.outbox: the outbox written with the run, the sender that delivers after commit.

Here, the plain-Python reads and actions the dashboard uses: `log` (every message and its last
attempt), `attempts`, `open_checks` (what is open and since when), `maintenance_windows`,
`start_maintenance` / `end_maintenance`, `in_maintenance`, `channel_list` and `send_test`
(oncall and admin, audited).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lib.errors import OpsError
from lib.roles import APPLY_ROLES, Actor, require

if TYPE_CHECKING:
    from lib.stores import Stores

ALERT_ROLES = APPLY_ROLES  # who may send a test alert or start / end a maintenance window
MAX_REASON = 2000


class AlertError(OpsError):
    """Bad input to the alert functions (one sentence)."""


def log(stores: Stores, limit: int = 200) -> list[dict[str, Any]]:
    """The latest messages, newest first: when, kind (alert, digest, test), channel (scheme://host),
    severity, title, body, checks, changes, status (pending, sent, logged, orphaned), attempts,
    last error (redacted), last attempt."""
    return stores.ops.rows("outbox_list", {"limit": max(1, min(int(limit), 10_000))})


def attempts(stores: Stores, outbox_id: int) -> list[dict[str, Any]]:
    """Every delivery attempt of one message: when, channel, ok, error (redacted)."""
    return stores.ops.rows("attempt_list", {"outbox_id": int(outbox_id)})


def open_checks(stores: Stores, now: datetime | None = None) -> list[dict[str, Any]]:
    """What the watcher last saw open: subject (a check id or store.<name>), count, open since, how
    long (seconds), whether it was alerted."""
    now = now or datetime.now(UTC)
    out = []
    for r in stores.ops.rows("alert_state_list"):
        if int(r["count"]) <= 0:
            continue
        subject = str(r["subject"]).removeprefix("check:")
        since = r["opened_at"] or r["down_since"]
        out.append({"check": subject, "count": int(r["count"]), "open_since": since,
                    "open_s": (now - since).total_seconds() if since else None,
                    "alerted": bool(r["notified_count"]) or bool(r["alerted"]), "run_id": r["run_id"]})
    return out


def maintenance_windows(stores: Stores, *, days: int = 30, limit: int = 200) -> list[dict[str, Any]]:
    """The maintenance windows not over for more than `days`, newest first, each with its state
    (scheduled, active, over, ended)."""
    now = datetime.now(UTC)
    out = []
    for r in stores.ops.rows("maintenance_list", {"since": now - timedelta(days=days), "limit": limit}):
        state = ("ended" if r["ended_at"] is not None and r["ended_at"] <= now else
                 "scheduled" if r["starts_at"] > now else "active" if r["ends_at"] > now else "over")
        out.append({**r, "state": state})
    return out


def in_maintenance(stores: Stores, now: datetime | None = None) -> bool:
    """True while a maintenance window is active (the banner every page shows)."""
    return bool(stores.ops.scalar("maintenance_active", {"now": now or datetime.now(UTC)}))


def start_maintenance(stores: Stores, actor: Actor, reason: str, ends_at: datetime, *,
                      starts_at: datetime | None = None) -> int:
    """Open a maintenance window (oncall, admin): no alert is sent while it lasts. Returns its id."""
    require(actor, ALERT_ROLES, "start a maintenance window")
    reason = (reason or "").strip()
    if not reason:
        raise AlertError("Say why: a maintenance window needs a reason.")
    if len(reason) > MAX_REASON:
        raise AlertError(f"The reason is too long (at most {MAX_REASON:,} characters).")
    starts = starts_at or datetime.now(UTC)
    if ends_at.tzinfo is None:
        ends_at = ends_at.replace(tzinfo=UTC)
    if ends_at <= starts:
        raise AlertError("The maintenance window must end after it starts.")
    if ends_at - starts > timedelta(days=14):
        raise AlertError("A maintenance window may last at most 14 days.")
    from lib import audit
    from lib.stores.ops import run

    with stores.ops.transaction() as conn:
        wid = int(run(conn, "maintenance_insert", {"starts_at": starts, "ends_at": ends_at, "reason": reason,
                                                   "created_by": actor.who[:100]}).scalar_one())
        audit.record_on(conn, actor, "maintenance.start", target=str(wid), reason=reason,
                        detail={"starts_at": starts.isoformat(), "ends_at": ends_at.isoformat()})
    return wid


def end_maintenance(stores: Stores, actor: Actor, window_id: int) -> bool:
    """End a maintenance window now (kept, marked ended); False when it had already ended."""
    from lib import audit
    from lib.stores.ops import run

    require(actor, ALERT_ROLES, "end a maintenance window")
    with stores.ops.transaction() as conn:
        ended = run(conn, "maintenance_end", {"id": int(window_id), "ended_by": actor.who[:100]}).first() is not None
        if ended:
            audit.record_on(conn, actor, "maintenance.end", target=str(int(window_id)))
    return ended


def channel_list(stores: Stores) -> list[dict[str, str]]:
    """Every configured channel: its index (for send_test), scheme://host and the setting naming it."""
    from lib.alerts.channels import configured

    return [{"index": str(i), "channel": c.label, "setting": c.setting}
            for i, c in enumerate(configured(stores.settings))]


def send_test(stores: Stores, actor: Actor, channel_index: int) -> dict[str, Any]:
    """Send a test alert to one configured channel now (oncall, admin; audited). It goes through
    the outbox like every alert; returns the delivery (channel, ok, error)."""
    from lib import audit
    from lib.alerts.channels import configured
    from lib.alerts.outbox import deliver_one, queue_message

    require(actor, ALERT_ROLES, "send a test alert")
    chans = configured(stores.settings)
    if not 0 <= int(channel_index) < len(chans):
        raise AlertError("There is no such alert channel: pick one of the configured channels.")
    ch = chans[int(channel_index)]
    with stores.ops.transaction() as conn:
        oid = queue_message(conn, run_id=None, kind="test", channel=ch, severity="info",
                            title="HealBridge test alert", body=f"A test alert sent by {actor.who} from HealBridge Ops.",
                            checks=[])
        audit.record_on(conn, actor, "alert.test", target=ch.label, detail={"outbox_id": oid})
    return deliver_one(stores, oid)


__all__ = ["ALERT_ROLES", "AlertError", "attempts", "channel_list", "end_maintenance", "in_maintenance", "log",
           "maintenance_windows", "open_checks", "send_test", "start_maintenance"]
