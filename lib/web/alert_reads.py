"""The reads of the Alerts page and of the banner every page shows: the watcher's heartbeat, the
alert log and its delivery attempts, the open checks, the maintenance windows (lib.watch,
lib.alerts). Each is a cached private `_x` and a public `x(stores, …)` returning a
lib.web.cache.Read, as in lib.web.reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from lib.stores import Stores
from lib.web.access import masked
from lib.web.cache import Read, cached
from lib.web.frame import redact, stores_key

# ---------------------------------------------------------------------- the watcher and its alerts (lib.watch, lib.alerts)
ALERTS_TTL_S = 10  # the alert log, open checks, maintenance windows, the heartbeat: seconds behind at most
BANNER_TTL_S = 15  # the maintenance banner of every page
_STATUS_WORDS = {"sent": "delivered", "logged": "in the alert log", "orphaned": "failed (channel removed)"}


@cached(ttl=ALERTS_TTL_S, groups=("alerts",), show_spinner=False)
def _heartbeat(key: str, _stores: Stores) -> dict[str, Any]:
    from lib import watch

    return watch.heartbeat(_stores)


def watch_heartbeat(stores: Stores) -> Read[dict[str, Any]]:
    """lib.watch.heartbeat (last run, next run, interval, running), cached ALERTS_TTL_S."""
    return _heartbeat(stores_key(stores), stores)


def _changes_text(kind: str, changes: list[dict[str, Any]], checks: list[str]) -> str:
    if kind == "test":
        return "test alert"
    if kind == "digest":
        return f"weekly digest ({len(checks)} checks changed)"
    return "; ".join(f"{c.get('check')} {c.get('change')} {c.get('before')} → {c.get('after')}" for c in changes)


def _status_text(r: dict[str, Any]) -> str:
    if r["status"] == "pending":
        return "failed, retrying" if r["attempts"] and r["last_error"] else "pending"
    return _STATUS_WORDS.get(r["status"], str(r["status"]))


@cached(ttl=ALERTS_TTL_S, groups=("alerts",), show_spinner=False)
def _alert_log(key: str, limit: int, _stores: Stores) -> pd.DataFrame:
    from lib import alerts
    from lib.alerts.channels import label

    rows = [{
        "id": int(r["id"]), "when": r["created_at"], "kind": r["kind"],
        "channel": label(str(r["channel"])),  # already scheme://host; never a URL, whatever was stored
        "severity": r["severity"], "changes": _changes_text(r["kind"], list(r["changes"] or []), list(r["checks"] or [])),
        "status": _status_text(r), "attempts": int(r["attempts"] or 0),
        "error": redact(r["last_error"], _stores.settings) or None, "last attempt": r["last_attempt_at"],
        "run": r["run_id"],
    } for r in alerts.log(_stores, limit)]
    cols = ["id", "when", "kind", "channel", "severity", "changes", "status", "attempts", "error", "last attempt", "run"]
    df = pd.DataFrame(rows, columns=cols)
    df["run"] = df["run"].astype("Int64")
    return df


def alert_log(stores: Stores, limit: int = 200) -> Read[pd.DataFrame]:
    """Every notification, newest first (lib.alerts.log): when, kind, channel (scheme://host), severity,
    the changes (check change before → after), status (delivered, in the alert log, pending, failed,
    retrying), attempts, the last error (redacted), the last attempt, the run; cached ALERTS_TTL_S."""
    return _alert_log(stores_key(stores), limit, stores)


@cached(ttl=ALERTS_TTL_S, groups=("alerts",), show_spinner=False)
def _alert_attempts(key: str, outbox_id: int, _stores: Stores) -> pd.DataFrame:
    from lib import alerts
    from lib.alerts.channels import label

    rows = [{"at": r["at"], "channel": label(str(r["channel"])), "ok": bool(r["ok"]),
             "error": redact(r["error"], _stores.settings) or None} for r in alerts.attempts(_stores, outbox_id)]
    return pd.DataFrame(rows, columns=["at", "channel", "ok", "error"])


def alert_attempts(stores: Stores, outbox_id: int) -> Read[pd.DataFrame]:
    """Every delivery attempt of one notification (lib.alerts.attempts), oldest first."""
    return _alert_attempts(stores_key(stores), int(outbox_id), stores)


@cached(ttl=ALERTS_TTL_S, groups=("alerts",), show_spinner=False)
def _open_checks(key: str, _stores: Stores) -> pd.DataFrame:
    from lib import alerts
    from lib.alerts.decide import duration_text
    from lib.checks.ids import BY_ID

    rows = [{"check": o["check"], "count": o["count"], "open since": o["open_since"],
             "open for": None if o["open_s"] is None else duration_text(o["open_s"]),
             "alerted": "yes" if o["alerted"] else "no",
             "report": _report_of(o["check"], BY_ID)} for o in alerts.open_checks(_stores)]
    return pd.DataFrame(rows, columns=["check", "count", "open since", "open for", "alerted", "report"])


def _report_of(subject: str, by_id: dict[str, Any]) -> str | None:
    from lib import reports

    if subject in by_id:
        return reports.report_link(subject)
    return "stores" if subject.startswith("store.") else None


def open_checks(stores: Stores) -> Read[pd.DataFrame]:
    """What the watcher last saw open (lib.alerts.open_checks): check (or store.<name>), count, open
    since, how long, alerted, its report page; cached ALERTS_TTL_S."""
    return _open_checks(stores_key(stores), stores)


@cached(ttl=ALERTS_TTL_S, groups=("alerts",), show_spinner=False)
def _maintenance(key: str, _stores: Stores) -> list[dict[str, Any]]:
    from lib import alerts

    return alerts.maintenance_windows(_stores)


def maintenance_windows(stores: Stores) -> Read[list[dict[str, Any]]]:
    """The maintenance windows of the last 30 days, newest first, each with its state (scheduled,
    active, over, ended) as of now (lib.alerts.maintenance_windows); cached ALERTS_TTL_S."""
    return _maintenance(stores_key(stores), stores).map(lambda ws: masked([{**w, "state": _state(w)} for w in ws]))


def _state(w: dict[str, Any], now: datetime | None = None) -> str:
    """A window's state now (a cached list keeps its windows; a window ends by the clock too)."""
    now = now or datetime.now(UTC)
    if w["ended_at"] is not None and w["ended_at"] <= now:
        return "ended"
    return "scheduled" if w["starts_at"] > now else "active" if w["ends_at"] > now else "over"


@cached(ttl=BANNER_TTL_S, groups=("alerts",), show_spinner=False)
def _banner_windows(key: str, _stores: Stores) -> list[dict[str, Any]]:
    from lib import alerts

    try:
        return alerts.maintenance_windows(_stores, days=15)
    except Exception:  # noqa: BLE001 - the ops database down: no banner for BANNER_TTL_S (not asked on every page run)
        return []


def maintenance_now(stores: Stores) -> list[dict[str, Any]]:
    """The maintenance windows active now, for the banner of every page (cached BANNER_TTL_S; an ops
    database that cannot be read shows no banner, the Alerts page says why)."""
    windows = _banner_windows(stores_key(stores), stores).value or []
    return masked([w for w in windows if _state(w) == "active"])


@cached(ttl=ALERTS_TTL_S, groups=("alerts",), show_spinner=False)
def _alert_channels(key: str, _stores: Stores) -> list[dict[str, str]]:
    from lib import alerts

    return alerts.channel_list(_stores)


def alert_channels(stores: Stores) -> Read[list[dict[str, str]]]:
    """The configured alert channels (index, scheme://host, the setting naming it; never the URL)."""
    return _alert_channels(stores_key(stores), stores)
