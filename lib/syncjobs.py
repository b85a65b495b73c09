"""Sync jobs beyond their counts: failures by kind over time and the most frequent last_error
messages (core `sync_jobs`). The failed and stuck counts themselves are the checks
sync.jobs_failed and sync.jobs_stuck."""

from __future__ import annotations

from typing import Any

import pandas as pd


def failures_by_day(store: Any, days: int = 14) -> pd.DataFrame:
    """Failed jobs per day of their last update and per kind, the last `days` days: day, kind, failed."""
    rows = store.rows("core/sync_jobs_failed_by_day", {"days": int(days)})
    df = pd.DataFrame(rows, columns=["day", "kind", "failed"])
    df["day"] = pd.to_datetime(df["day"], utc=True)
    df["failed"] = df["failed"].astype("int64")
    return df


def top_errors(store: Any, limit: int = 10) -> pd.DataFrame:
    """The most frequent last_error messages of failed jobs: last_error, jobs, kinds, last_seen."""
    rows = store.rows("core/sync_jobs_top_errors", {"limit": int(limit)})
    df = pd.DataFrame(rows, columns=["last_error", "jobs", "kinds", "last_seen"])
    df["jobs"] = df["jobs"].astype("int64")
    df["last_seen"] = pd.to_datetime(df["last_seen"], utc=True)
    return df
