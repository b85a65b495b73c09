"""Sync jobs beyond their counts: failures by kind over time and the most frequent last_error
messages (core `sync_jobs`). The failed and stuck counts themselves are the checks
sync.jobs_failed and sync.jobs_stuck."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd


def failures_by_day(store: Any, days: int = 14) -> pd.DataFrame:
    """Failed jobs per day of their last update and per kind, the last `days` days: day, kind, failed."""
    rows = store.rows("core/sync_jobs_failed_by_day", {"days": int(days)})
    df = pd.DataFrame(rows, columns=["day", "kind", "failed"])
    df["day"] = pd.to_datetime(df["day"], utc=True)
    df["failed"] = df["failed"].astype("int64")
    return df


def by_kind(failures: pd.DataFrame, days: int = 14, today: date | None = None) -> pd.DataFrame:
    """failures_by_day as one row per kind, most failures first: kind, failed (in all), per_day (the
    counts of the `days` + 1 calendar days from `today` - `days` to `today`, UTC, oldest first; a day
    outside them counts on the nearest end, so per_day always sums to failed) and last_day."""
    today = today or datetime.now(UTC).date()
    rows = []
    for kind, group in failures.groupby("kind", sort=False):
        per_day = [0] * (days + 1)
        for day, failed in zip(group["day"], group["failed"], strict=True):
            per_day[min(max((day.date() - today).days + days, 0), days)] += int(failed)
        rows.append({"kind": kind, "failed": sum(per_day), "per_day": per_day, "last_day": group["day"].max()})
    out = pd.DataFrame(rows, columns=["kind", "failed", "per_day", "last_day"])
    return out.sort_values(["failed", "kind"], ascending=[False, True], ignore_index=True)


def top_errors(store: Any, limit: int = 10) -> pd.DataFrame:
    """The most frequent last_error messages of failed jobs: last_error, jobs, kinds, last_seen."""
    rows = store.rows("core/sync_jobs_top_errors", {"limit": int(limit)})
    df = pd.DataFrame(rows, columns=["last_error", "jobs", "kinds", "last_seen"])
    df["jobs"] = df["jobs"].astype("int64")
    df["last_seen"] = pd.to_datetime(df["last_seen"], utc=True)
    return df
