"""The checks of kind `history` (lib.checks.ids: `history(fn)`): computed after every other check
of a run, from this run's counts and the check history saved in the ops database.

`pulse.count_anomaly`, the rule (deterministic, checks.md and docs/checks.md):

- a check's recent history is one count a day: for each of the PULSE_ANOMALY_WINDOW_DAYS (14) UTC
  days before the day this run started, the count of the last saved run started that day that
  counted the check (runs that could not count it are skipped; a day with no such run has none);
- a check with fewer than PULSE_ANOMALY_MIN_DAYS (7) such days is not judged;
- it counts when this run's count > median + max(PULSE_ANOMALY_MIN_EXCESS (10),
  PULSE_ANOMALY_MAD_FACTOR (3) × MAD), the median and the median absolute deviation (MAD) of
  those daily counts;
- only the checks of this run with a count are judged, never a `history` check itself; the key is
  the check id, sorted.

`judge` is the pure arithmetic; `daily_counts` reads the history (sql/ops/check_daily_counts.sql).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

from lib.config import Settings

if TYPE_CHECKING:
    from lib.stores import Stores

# (stores, this run's counts by check id, when the run started) -> the keys of the findings
HistoryFn = Callable[["Stores", Mapping[str, int], datetime], list[str]]


def window_days(started: datetime, days: int) -> list[datetime]:
    """The starts (UTC midnight) of the `days` days before the UTC day of `started`, oldest first."""
    start = started.astimezone(UTC) if started.tzinfo else started.replace(tzinfo=UTC)
    today = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=d) for d in range(days, 0, -1)]


def excess_needed(history: Sequence[int], settings: Settings) -> float | None:
    """How far above the median of `history` a count must be to count (strictly more than this,
    added to the median); None when the history has fewer than the minimum days."""
    if len(history) < settings.pulse_anomaly_min_days:
        return None
    mid = median(history)
    mad = median(abs(x - mid) for x in history)
    return max(float(settings.pulse_anomaly_min_excess), settings.pulse_anomaly_mad_factor * mad)


def is_anomaly(count: int, history: Sequence[int], settings: Settings) -> bool:
    """Whether `count` is far above `history` (one count a day) by the rule of this module."""
    need = excess_needed(history, settings)
    return need is not None and count > median(history) + need


def judge(counts: Mapping[str, int | None], history: Mapping[str, Sequence[int]], settings: Settings) -> list[str]:
    """The ids of the checks whose count is far above their daily `history`, sorted."""
    return sorted(cid for cid, n in counts.items()
                  if n is not None and is_anomaly(n, history.get(cid, ()), settings))


def daily_counts(stores: Stores, checks: Sequence[str], started: datetime) -> dict[str, list[int]]:
    """Each check's daily counts over the window before the day of `started`, oldest first (days
    without a run that counted it are left out)."""
    days = window_days(started, stores.settings.pulse_anomaly_window_days)
    out: dict[str, list[int]] = {c: [] for c in checks}
    if not checks:
        return out
    for row in stores.ops.rows("check_daily_counts", {"checks": list(checks), "days": days}):
        out[row["check_id"]].append(int(row["count"]))
    return out


def count_anomaly(stores: Stores, counts: Mapping[str, int], started: datetime) -> list[str]:
    """pulse.count_anomaly: the checks of this run far above their own recent history."""
    return judge(counts, daily_counts(stores, sorted(counts), started), stores.settings)


__all__ = ["HistoryFn", "count_anomaly", "daily_counts", "excess_needed", "is_anomaly", "judge", "window_days"]
