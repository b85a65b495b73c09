"""Alert decisions: what changed in a run, check by check and store by store, against what the
watcher last saw (table alert_state), and the messages that say so.

A check **opens** (count 0 → more; also an open that was never alerted, e.g. once its
acknowledgement expires), gets **worse** (the count reaches ALERT_WORSE_FACTOR times the count
last alerted, or crosses a per-check threshold of the watch config) or **resolves** (back to 0,
when its open was alerted). The same state sends nothing. A check that could not run (count None)
changes nothing. A store unreachable for two runs in a row opens `store.<name>` ("core unreachable
since …"), and its return resolves it. An active acknowledgement of the whole check (lib.review)
or a maintenance window silences a change: it is recorded as silenced, not sent.

Messages carry the check id, title, severity, before → after, the change, how long it has been
open and links (report page, runbook entry, fix); never a sample key or anything of a patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lib.checks.ids import AREA_PAGE, BY_ID, RUNBOOK
from lib.stores.ops import run as ops_run

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from lib.checks.runner import CheckRun
    from lib.config import Settings

STORE_DOWN_RUNS = 2  # a store unreachable this many runs in a row is alerted


@dataclass
class Change:
    check: str  # a check id, or store.<name>
    change: str  # opened | worse | resolved
    before: int
    after: int
    severity: str
    title: str
    open_since: datetime | None
    at: datetime
    silenced: str | None = None  # why it is not sent: acknowledged until …, maintenance

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "change": self.change, "before": self.before, "after": self.after,
                "severity": self.severity, "title": self.title,
                "open_since": self.open_since.isoformat() if self.open_since else None,
                "silenced": self.silenced}

    @property
    def open_for(self) -> str:
        if self.open_since is None:
            return "just now"
        return duration_text((self.at - self.open_since).total_seconds())


def duration_text(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return "just now" if s < 5 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86_400} d {s % 86_400 // 3600} h"


def decide(conn: Connection, run: CheckRun, run_id: int | None, *, now: datetime, factor: float,
           thresholds: Mapping[str, int], acks: Mapping[str, datetime], maintenance: bool) -> list[Change]:
    """The changes of `run` against alert_state (locked and updated on `conn`, the transaction that
    saves the run). `acks`: check id → expiry of an active whole-check acknowledgement."""
    state = {str(r._mapping["subject"]): dict(r._mapping) for r in ops_run(conn, "alert_state_all")}
    changes: list[Change] = []
    updates: list[dict[str, Any]] = []
    for r in run.results:
        if r.count is None:
            continue
        subject = f"check:{r.id}"
        st = state.get(subject) or {"count": 0, "opened_at": None, "notified_count": 0}
        before, after, notified = int(st["count"]), int(r.count), int(st["notified_count"])
        opened_at = st["opened_at"] if before > 0 else None
        info = BY_ID.get(r.id)
        title = info.title if info else r.id
        silenced = None
        if maintenance:
            silenced = "maintenance window"
        elif r.id in acks:
            silenced = f"acknowledged until {acks[r.id]:%Y-%m-%d %H:%M} UTC"
        kind = None
        if after > 0:
            opened_at = opened_at or now
            threshold = thresholds.get(r.id)
            if notified == 0:
                kind = "opened"
            elif after >= notified * factor or (threshold is not None and before < threshold <= after):
                kind = "worse"
        elif before > 0 and notified > 0:
            kind = "resolved"
        if kind is not None:
            changes.append(Change(r.id, kind, before, after, r.severity, title, opened_at, now, silenced))
            if silenced is None:
                notified = after
        if after == 0:
            notified, opened_at = 0, None
        updates.append({"subject": subject, "count": after, "opened_at": opened_at, "notified_count": notified,
                        "down_runs": 0, "down_since": None, "alerted": False, "run_id": run_id})
    for name, s in run.stores.items():
        if s.get("configured") is False:
            continue
        subject = f"store.{name}"
        st = state.get(subject) or {"down_runs": 0, "down_since": None, "alerted": False}
        down_runs, since, alerted = int(st["down_runs"]), st["down_since"], bool(st["alerted"])
        kind = None
        if not s.get("ok"):
            down_runs += 1
            since = since or now
            if down_runs >= STORE_DOWN_RUNS and not alerted:
                kind, alerted = "opened", True
        else:
            if alerted:
                kind = "resolved"
            down_runs, alerted = 0, False
        if kind is not None:
            title = (f"{name} unreachable since {since:%Y-%m-%d %H:%M} UTC" if kind == "opened"
                     else f"{name} reachable again (unreachable since {since:%Y-%m-%d %H:%M} UTC)")
            changes.append(Change(subject, kind, 0 if kind == "opened" else 1, 1 if kind == "opened" else 0,
                                  "error", title, since, now, "maintenance window" if maintenance else None))
        if s.get("ok"):
            since = None
        updates.append({"subject": subject, "count": 0 if s.get("ok") else 1, "opened_at": since,
                        "notified_count": 0, "down_runs": down_runs, "down_since": since, "alerted": alerted,
                        "run_id": run_id})
    if updates:
        ops_run(conn, "alert_state_upsert", updates)
    return changes


# ---------------------------------------------------------------------------------- messages
def links(check: str, settings: Settings) -> dict[str, str]:
    """report page, runbook entry and fix of a check (ALERT_BASE_URL in front where set)."""
    info = BY_ID.get(check)
    if info is None:
        return {}
    base = settings.alert_base_url or ""
    out = {"report": f"{base}/{AREA_PAGE.get(info.area, 'checks')}", "runbook": f"{RUNBOOK}#{info.runbook_anchor}"}
    if info.fix:
        out["fix"] = f"{base}/fixes?fix={info.fix}"
    return out


def notify_type(changes: list[Change]) -> str:
    """apprise's notify type: failure (an error opened or got worse), warning, success (all
    resolved), info."""
    bad = [c for c in changes if c.change != "resolved"]
    if not bad:
        return "success"
    if any(c.severity == "error" for c in bad):
        return "failure"
    return "warning" if any(c.severity == "warn" for c in bad) else "info"


def compose(changes: list[Change], settings: Settings) -> tuple[str, str]:
    """(title, body) of one message listing `changes`."""
    if len(changes) == 1:
        c = changes[0]
        title = f"HealBridge [{c.severity}] {c.check} {c.change}: {c.before} → {c.after}"
    else:
        kinds = {k: sum(1 for c in changes if c.change == k) for k in ("opened", "worse", "resolved")}
        title = "HealBridge: " + ", ".join(f"{n} {k}" for k, n in kinds.items() if n)
    lines = []
    for c in changes:
        if c.check.startswith("store."):
            lines.append(f"- [{c.severity}] {c.check}: {c.title}")
            continue
        lines.append(f"- [{c.severity}] {c.check} — {c.title}: {c.change}, {c.before} → {c.after}"
                     f"{', open for ' + c.open_for if c.change != 'opened' else ''}")
        ln = links(c.check, settings)
        if ln:
            lines.append("  " + " · ".join(f"{k}: {v}" for k, v in ln.items()))
    return title, "\n".join(lines)


def now_utc() -> datetime:
    return datetime.now(UTC)


__all__ = ["Change", "compose", "decide", "duration_text", "links", "notify_type"]
