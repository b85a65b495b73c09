"""The watcher's benchmark (lib.bench.watch, `python -m lib bench --only watch`) on a small bench
build of its own (3,000 patients) in real stores, with a real local receiver and the real
`python -m lib watch` process: the result has its shape, every measured interval decided and
delivered an alert, the long-running watcher ran its intervals and delivered alerts meanwhile,
the simulated history was pruned to every run of the last 30 days plus one a day, the bench's
own ops database is untouched and the data flips are undone; the report renders it.

No timing is asserted: speed is what `python -m lib bench` measures.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lib.bench import measure, report, watch

PATIENTS = 3000
SEED = 7
DAYS = 33  # past the 30 days of every run: three days pruned to one run each


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    from lib.bench import data

    path = Path(tempfile.mkdtemp(prefix="hbw", dir="/tmp"))  # short: the server's Unix socket lives there
    try:
        yield data.build(PATIENTS, seed=SEED, data_dir=path, firebase_users=2000, progress=lambda _: None)
    finally:
        data.stop(path)
        shutil.rmtree(path, ignore_errors=True)


def _scalar(url: str, sql: str) -> Any:
    with psycopg.connect(measure.libpq_url(url)) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_the_watch_part_measures_alerting_intervals_memory_and_a_pruned_year(bench: Any) -> None:
    bench_runs = _scalar(bench.ops_url, "SELECT count(*) FROM check_runs")
    res = watch.measure_watch(bench, intervals=3, memory_intervals=24, year_days=DAYS)
    assert res["ok"], res

    o = res["overhead"]
    assert [i["interval"] for i in o["intervals"]] == [0, 1, 2, 3] and o["intervals"][0]["warm_up"]
    for iv in o["intervals"][1:]:
        # the flipped sync job crossed its threshold: one "worse" change, decided, queued, delivered
        assert [c["change"] for c in iv["changes"]] == ["worse"], iv
        assert iv["changes"][0]["check"] in watch.FLIPPED and iv["delivered_ok"] == 1 and not iv["delivery_errors"]
        assert iv["checks_s"] > 0 and iv["overhead_ms"] >= iv["transaction_ms"] > 0 and iv["deliver_ms"] > 0
    assert o["alerts_in_every_interval"] and o["received"] == 4  # the warm-up's opened checks + one per interval
    assert o["overhead_median_ms"] <= o["overhead_p95_ms"] <= o["overhead_max_ms"]

    m = res["memory"]
    assert m["intervals"] == len(m["rss_mb"]) == 24 and all(x > 10 for x in m["rss_mb"])
    assert m["startup"]["rest_run_done_s"] > 0 and m["received"] >= 2  # opened at start, then flips
    assert m["mean_first_mb"] > 0 and m["mean_last_mb"] > 0 and isinstance(m["met"], bool)

    y = res["year"]
    per_day = 86_400 // watch.EVERY_S
    assert y["runs_written"] == DAYS * per_day and y["checks_per_run"] == len(bench.expected)
    assert y["unpruned"]["runs"] == DAYS * per_day
    assert y["unpruned"]["results"] == DAYS * per_day * len(bench.expected)
    kept = y["pruned"]["runs"]
    # every run of the last 30 days (give or take the run at the boundary) plus one a day before
    assert 30 * per_day <= kept <= 30 * per_day + DAYS - 30 + 2 and y["runs_removed"] == y["runs_written"] - kept
    assert y["pruned"]["results"] == kept * len(bench.expected)
    assert y["unpruned"]["database_bytes"] > y["vacuum_full"]["database_bytes"] > y["empty"]["database_bytes"]

    # the bench's own history untouched, the databases of the measurement dropped, the data flipped back
    assert _scalar(bench.ops_url, "SELECT count(*) FROM check_runs") == bench_runs
    dbs = _scalar(bench.ops_url, "SELECT array_agg(datname::text) FROM pg_database")
    assert not {watch.WATCH_DB, watch.MEMORY_DB, watch.YEAR_DB} & set(dbs)
    assert _scalar(bench.core_url, f"SELECT array_agg(status ORDER BY id) FROM sync_jobs WHERE id IN "
                                   f"({watch.FAILED_JOB}, {watch.STUCK_JOB})") == ["succeeded", "succeeded"]

    text = "\n".join(report.watch_lines({"watch": res}))
    assert "The watcher's own work per interval" in text and "after VACUUM FULL (compact)" in text
    assert "Memory of the long-running watcher" in text and "**error**" not in text
