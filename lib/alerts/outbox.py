"""The outbox: alert messages written in the transaction that saves the run (`enqueue`), then
delivered after commit through apprise (`deliver`).

A message is marked sent only after its channel accepted it, each in a transaction of its own:
a sender killed after deciding and before sending leaves it pending (sent next time, never lost);
killed between sending and marking, it is sent once more (at most one duplicate). A failed attempt
is recorded (channel scheme://host, when, the redacted error) and retried with backoff
(ALERT_RETRY_BASE_S · 2^attempts, at most ALERT_RETRY_MAX_S). With no channel configured the
messages go to the dashboard's own alert log (status `logged`).

PagerDuty (pagerduty://): one message per change, with dedup key `<ALERT_DEPLOYMENT>:<check id>`
and apprise's action `map`: an opened or worse change triggers (or updates) the check's incident,
its resolution resolves it.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from lib.alerts import channels
from lib.alerts.decide import Change, compose, notify_type
from lib.checks.ids import SEVERITY_RANK
from lib.stores.ops import run as ops_run

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from lib.config import Settings
    from lib.stores import Stores

MAX_ERROR = 300


def dedup_key(settings: Settings, check: str) -> str:
    return f"{settings.alert_deployment}:{check}"


def enqueue(conn: Connection, settings: Settings, run_id: int | None, changes: list[Change], *,
            kind: str = "alert") -> list[int]:
    """Queue the messages of `changes` (the silenced ones left out): for each channel the changes
    its route takes, as one message (PagerDuty: one per change). Returns the outbox ids."""
    loud = [c for c in changes if c.silenced is None]
    if not loud:
        return []
    rows: list[dict[str, Any]] = []
    if not channels.configured(settings):
        rows.append(_row(run_id, kind, channels.LOG_CHANNEL, channels.LOG_KEY, loud, settings, status="logged"))
    else:
        per: dict[str, tuple[channels.Channel, list[Change]]] = {}
        for c in loud:
            for ch in channels.route(settings, c.severity):
                per.setdefault(ch.key, (ch, []))[1].append(c)
        for ch, mine in per.values():
            if ch.kind == "pagerduty":
                rows += [_row(run_id, kind, ch.label, ch.key, [c], settings, dedup=dedup_key(settings, c.check))
                         for c in mine]
            else:
                rows.append(_row(run_id, kind, ch.label, ch.key, mine, settings))
    return [int(ops_run(conn, "outbox_insert", r).scalar_one()) for r in rows]


def _row(run_id: int | None, kind: str, label: str, key: str, changes: list[Change], settings: Settings, *,
         status: str = "pending", dedup: str | None = None) -> dict[str, Any]:
    title, body = compose(changes, settings)
    sev = min((c.severity for c in changes), key=lambda s: SEVERITY_RANK.get(s, len(SEVERITY_RANK)))
    return {"run_id": run_id, "kind": kind, "channel": label, "channel_key": key, "severity": sev, "title": title,
            "body": body, "notify_type": notify_type(changes), "dedup_key": dedup,
            "checks": json.dumps([c.check for c in changes]), "changes": json.dumps([c.to_json() for c in changes]),
            "status": status}


def queue_message(conn: Connection, *, run_id: int | None, kind: str, channel: channels.Channel, severity: str,
                  title: str, body: str, checks: list[str], ntype: str = "info") -> int:
    """Queue one message as it is (the digest, a test alert) for one channel."""
    return int(ops_run(conn, "outbox_insert", {
        "run_id": run_id, "kind": kind, "channel": channel.label, "channel_key": channel.key, "severity": severity,
        "title": title, "body": body, "notify_type": ntype, "dedup_key": None, "checks": json.dumps(checks),
        "changes": "[]", "status": "pending"}).scalar_one())


def _send(url: str, title: str, body: str, ntype: str, dedup: str | None, secrets: list[str]) -> str | None:
    """Send one message through apprise; None when the channel accepted it, else the error
    (redacted: no part of the URL but its scheme and host)."""
    import apprise

    channels.quiet_apprise()
    if dedup is not None and channels.kind(url) == "pagerduty":
        url = f"{url}{'&' if '?' in url else '?'}{urlencode({'action': 'map', 'dedup': dedup})}"
    a = apprise.Apprise()
    if not a.add(url):
        return "the channel's URL is not usable any more"
    types = {"info": apprise.NotifyType.INFO, "success": apprise.NotifyType.SUCCESS,
             "warning": apprise.NotifyType.WARNING, "failure": apprise.NotifyType.FAILURE}
    with apprise.LogCapture(level=logging.WARNING) as logs:
        try:
            ok = bool(a.notify(body=body, title=title, notify_type=types.get(ntype, apprise.NotifyType.INFO)))
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is this attempt's error
            ok, extra = False, type(exc).__name__
        else:
            extra = ""
        text = logs.getvalue() if hasattr(logs, "getvalue") else ""
    if ok:
        return None
    lines = [ln.split(" - ", 2)[-1].strip() for ln in str(text).splitlines() if ln.strip()]
    error = "; ".join(dict.fromkeys(lines)) or extra or "the channel did not accept the message"
    for s in sorted(set(secrets) | set(channels.url_secrets(url)), key=len, reverse=True):
        if s:
            error = error.replace(s, "•••")
    return error[:MAX_ERROR]


def deliver(stores: Stores, *, now: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Send the due pending messages, each in a transaction of its own (locked, sent, marked);
    returns one entry per channel and outcome: channel, ok, checks, error (cli.md, `watch --once
    --json`)."""
    known = channels.by_key(stores.settings)
    secrets = stores.settings.secret_values()
    out: list[dict[str, Any]] = []
    after = 0
    for _ in range(limit):
        with stores.ops.transaction() as conn:
            row = ops_run(conn, "outbox_due_after", {"now": now or datetime.now(UTC), "after_id": after}).mappings().first()
            if row is None:
                break
            after = int(row["id"])
            out.append(_attempt(stores.settings, conn, dict(row), known, secrets))
    return _merge(out)


def deliver_one(stores: Stores, outbox_id: int) -> dict[str, Any]:
    """Send one pending message now, whatever its next attempt time (a test alert)."""
    with stores.ops.transaction() as conn:
        row = ops_run(conn, "outbox_lock", {"id": int(outbox_id)}).mappings().first()
        if row is None:
            return {"channel": None, "ok": False, "checks": [], "error": "the message is not pending any more"}
        return _attempt(stores.settings, conn, dict(row), channels.by_key(stores.settings),
                        stores.settings.secret_values())


def _attempt(settings: Settings, conn: Connection, row: dict[str, Any], known: dict[str, channels.Channel],
             secrets: list[str]) -> dict[str, Any]:
    """Send one locked outbox row; mark it sent only once its channel accepted it, else record the
    error and when to try again; record the attempt."""
    oid = int(row["id"])
    ch = known.get(row["channel_key"])
    checks = list(row["checks"] or [])
    if ch is None:
        error: str | None = "its channel is no longer configured"
        ops_run(conn, "outbox_orphaned", {"id": oid, "error": error})
    else:
        error = _send(ch.url, row["title"], row["body"], row["notify_type"], row["dedup_key"], secrets)
        if error is None:
            ops_run(conn, "outbox_sent", {"id": oid})
        else:
            wait = min(settings.alert_retry_max_s, settings.alert_retry_base_s * 2 ** int(row["attempts"]))
            ops_run(conn, "outbox_failed", {"id": oid, "error": error,
                                            "next_attempt_at": datetime.now(UTC) + timedelta(seconds=wait)})
    ops_run(conn, "attempt_insert", {"outbox_id": oid, "channel": row["channel"], "ok": error is None, "error": error})
    return {"channel": row["channel"], "ok": error is None, "checks": checks, "error": error}


def _merge(attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per channel and outcome (a PagerDuty channel gets a message per check)."""
    merged: dict[tuple[str, bool, str | None], dict[str, Any]] = {}
    for a in attempts:
        k = (a["channel"], a["ok"], a["error"])
        if k in merged:
            merged[k]["checks"] = list(dict.fromkeys([*merged[k]["checks"], *a["checks"]]))
        else:
            merged[k] = dict(a)
    return list(merged.values())


def by_channel(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        grouped[r["channel"]].append(r)
    return dict(grouped)


__all__ = ["dedup_key", "deliver", "deliver_one", "enqueue", "queue_message"]
