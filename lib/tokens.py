"""Token states of Supabase's patient_doctor_connections (the sharing tokens that outlived their expiry) for the Tokens page.

The states that are checks come from the check run (token.expired_active, token.expiring_soon,
token.unused_expired: their rows are fetched by the check's keys); the others are counted here
from `sql/supabase/token_*.sql`. The report holds the first `SHOWN` rows of each state, what the
page shows; `rows` reads a state's whole table (the CSV) when it is asked for. The access token
itself is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

ROW_COLUMNS = ["id", "patient_firebase_uid", "doctor_firebase_uid", "is_active", "token_expires_at",
               "created_at", "used_at"]
ROW_LIMIT = 5000  # a state counted here lists at most this many rows (a check's state: all its keys)
SHOWN = 500  # rows of each state in the report (the page's tables)


@dataclass(frozen=True)
class TokenState:
    id: str
    label: str
    check: str | None  # the check whose count and keys this state is, or None (counted here)
    help: str


def states(hours: int = 24, days: int = 7) -> list[TokenState]:
    """The states the page shows, in order; `hours` is the token.expiring_soon window."""
    return [
        TokenState("active", "Active", None, "active and not expired"),
        TokenState("expired_active", "Expired but still active", "token.expired_active",
                   "is_active and the expiry in the past"),
        TokenState("expiring_soon", f"Expiring within {hours} h", "token.expiring_soon",
                   f"active tokens expiring in the next {hours} hours"),
        TokenState("expiring_days", f"Expiring within {days} d", None,
                   f"active tokens expiring in the next {days} days (the {hours} h ones included)"),
        TokenState("never_used_active", "Never used (still valid)", None, "active, unexpired, no doctor used it yet"),
        TokenState("unused_expired", "Expired, never used", "token.unused_expired",
                   "expired tokens no doctor ever used"),
    ]



def state_counts(store: Any, days: int = 7) -> dict[str, int]:
    """{total, active, expiring_days, never_used_active, inactive}."""
    rows = store.rows("supabase/token_state_counts", {"days": int(days)})
    return {k: int(v or 0) for k, v in rows[0].items()}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    for col in ("token_expires_at", "created_at", "used_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def rows_by_state(store: Any, state: str, days: int = 7, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """The connections of a state counted here ('active', 'expiring_days', 'never_used_active')."""
    if state not in ("active", "expiring_days", "never_used_active"):
        raise ValueError(f"not a state counted here: {state}")
    params = {"state": state, "days": int(days), "limit": int(limit)}
    return _frame(store.rows("supabase/token_connections_by_state", params))


def rows_by_ids(store: Any, ids: list[str], limit: int | None = None) -> pd.DataFrame:
    """The connections whose id is in `ids` (a token check's keys), soonest expiry first; at most
    `limit` of them (None: all)."""
    if not ids:
        return _frame([])
    params = {"ids": list(ids), "limit": None if limit is None else int(limit)}
    return _frame(store.rows("supabase/token_connections_by_id", params))


def expiry_timeline(store: Any, past_days: int = 30, future_days: int = 60) -> pd.DataFrame:
    """Active tokens per day of expiry: day, state ('expired, still active' | 'valid'), tokens."""
    params = {"past_days": int(past_days), "future_days": int(future_days)}
    rows = store.rows("supabase/token_expiry_by_day", params)
    df = pd.DataFrame(
        [{"day": r["day"], "state": "expired, still active" if r["expired"] else "valid", "tokens": int(r["tokens"])}
         for r in rows],
        columns=["day", "state", "tokens"],
    )
    df["day"] = pd.to_datetime(df["day"], utc=True)
    return df


def _state(state: str, hours: int, days: int) -> TokenState:
    by_id = {s.id: s for s in states(hours, days)}
    if state not in by_id:
        raise ValueError(f"not a token state: {state}")
    return by_id[state]


def rows(store: Any, state: str, run_keys: Mapping[str, list[str]], *, hours: int = 24, days: int = 7,
         limit: int | None = None) -> pd.DataFrame:
    """The connections of one state, soonest expiry first: a check's state by the check's keys in
    `run_keys` (all of them unless `limit`), a state counted here up to `limit` or ROW_LIMIT."""
    s = _state(state, hours, days)
    if s.check is not None:
        return rows_by_ids(store, run_keys.get(s.check) or [], limit)
    return rows_by_state(store, s.id, days, ROW_LIMIT if limit is None else min(int(limit), ROW_LIMIT))


def report(store: Any, run_keys: Mapping[str, list[str]], *, hours: int = 24, days: int = 7,
           shown: int = SHOWN) -> dict[str, Any]:
    """Everything the Tokens page shows: {states: [TokenState], counts: {state: int | None},
    rows: {state: DataFrame of its first `shown` rows}, listed: {state: rows its whole table
    (`rows`) holds}, timeline: DataFrame, total: int, inactive: int}. `run_keys` holds the keys of
    the token checks from the check run (a check that could not run is absent: its count is None)."""
    counts_here = state_counts(store, days)
    counts: dict[str, int | None] = {}
    first: dict[str, pd.DataFrame] = {}
    listed: dict[str, int] = {}
    for s in states(hours, days):
        if s.check is not None:
            keys = run_keys.get(s.check)
            counts[s.id] = None if keys is None else len(keys)
            listed[s.id] = len(keys or [])
        else:
            counts[s.id] = counts_here[s.id]
            listed[s.id] = min(counts_here[s.id], ROW_LIMIT)
        first[s.id] = rows(store, s.id, run_keys, hours=hours, days=days, limit=shown)
    return {"states": states(hours, days), "counts": counts, "rows": first, "listed": listed,
            "timeline": expiry_timeline(store), "total": counts_here["total"], "inactive": counts_here["inactive"]}
