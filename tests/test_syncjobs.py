"""lib.syncjobs.by_kind: the failed sync jobs per kind with a count per day, as the Health page shows
them; on rows of the real demo's core, and at the edges of its window."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import text

from lib import syncjobs


def test_by_kind_counts_each_kinds_failures_per_day_on_the_demo(demo: Any, stores: Any) -> None:
    manifest = demo.ensure()
    failures = syncjobs.failures_by_day(stores.core, 14)
    out = syncjobs.by_kind(failures, 14)
    assert int(out["failed"].sum()) == manifest["planted"]["sync.jobs_failed"]["count"]
    with stores.core.read() as conn:
        rows = conn.execute(text(
            "SELECT kind, (date_trunc('day', now()) - date_trunc('day', updated_at))::interval AS back, count(*) "
            "FROM sync_jobs WHERE status = 'failed' AND updated_at >= date_trunc('day', now()) - interval '14 days' "
            "GROUP BY 1, 2")).all()
    want: dict[str, list[int]] = {}
    for kind, back, n in rows:
        want.setdefault(kind, [0] * 15)[14 - back.days] += n
    assert {k: list(v) for k, v in zip(out["kind"], out["per_day"], strict=True)} == want
    assert list(out["failed"]) == sorted(out["failed"], reverse=True)


def test_by_kind_puts_days_outside_the_window_on_its_ends_and_sorts_by_failures() -> None:
    today = date(2026, 12, 2)

    def day(s: str) -> datetime:
        return datetime.fromisoformat(s).replace(tzinfo=UTC)

    failures = pd.DataFrame({"day": [day("2026-11-10"), day("2026-11-18"), day("2026-12-02"), day("2026-12-03"),
                                     day("2026-12-01")],
                             "kind": ["user", "user", "user", "profile", "profile"], "failed": [2, 1, 4, 3, 5]})
    out = syncjobs.by_kind(failures, 14, today=today)
    assert list(out["kind"]) == ["profile", "user"]  # 8 failures, then 7
    per_day = dict(zip(out["kind"], out["per_day"], strict=True))
    assert per_day["user"] == [3] + [0] * 13 + [4]  # 2026-11-10, before the window, counts on its first day
    assert per_day["profile"] == [0] * 13 + [5, 3]  # 2026-12-03 (a clock ahead) on the last
    assert list(out["last_day"]) == [day("2026-12-03"), day("2026-12-02")]
    empty = syncjobs.by_kind(failures.iloc[:0], 14, today=today)
    assert empty.empty and list(empty.columns) == ["kind", "failed", "per_day", "last_day"]
