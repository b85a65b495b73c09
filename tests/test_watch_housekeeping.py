"""The watcher's housekeeping: the history pruned to every run for WATCH_KEEP_ALL_DAYS, then the
last run of each day, none older; the weekly digest as Markdown to ALERT_URLS_DIGEST on its day,
once, without PHI; the heartbeat says when the watcher stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lib import history
from lib.alerts import outbox
from lib.checks.runner import CheckResult, CheckRun
from lib.config import load_settings
from lib.stores import open_stores
from lib.watch import heartbeat, prune, queue_digest, run_once
from tests.alert_receivers import HttpReceiver


def _run(at: datetime) -> CheckRun:
    return CheckRun(started_at=at, finished_at=at + timedelta(seconds=2), stores={},
                    results=[CheckResult("token.expired_active", "error", 3, [], 1.0)])


def test_prune_keeps_every_recent_run_then_one_a_day(stores: Any) -> None:
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    ids: dict[str, list[int]] = {}
    for label, days, n in (("recent", 1, 3), ("d100", 100, 3), ("d101", 101, 2), ("old", 400, 2)):
        ids[label] = [history.save_run(stores, _run(now - timedelta(days=days, minutes=i)), source="watch")
                      for i in range(n)]
    removed = prune(stores, now)
    left = {r["id"] for r in stores.ops.rows("list_runs", {"limit": 100_000})}
    assert set(ids["recent"]) <= left
    assert [i for i in ids["d100"] if i in left] == [max(ids["d100"])]
    assert [i for i in ids["d101"] if i in left] == [max(ids["d101"])]
    assert not set(ids["old"]) & left
    assert removed >= 2 + 1 + 2


def test_digest_on_its_day_once_as_markdown(demo: Any) -> None:
    demo.ensure()
    recv = HttpReceiver().start()
    try:
        s = open_stores(load_settings(alert_urls_digest=recv.url, alert_digest_day="wednesday"))
        run_once(s, only=["token.expired_active"])
        history.save_run(s, _run(datetime.now(UTC) - timedelta(days=8)), source="watch")
        tuesday = datetime(2030, 1, 1).date()
        assert tuesday.strftime("%A") == "Tuesday"
        assert queue_digest(s, tuesday) == []
        wednesday = tuesday + timedelta(days=1)
        assert len(queue_digest(s, wednesday)) == 1
        assert queue_digest(s, wednesday) == []  # once that day
        outbox.deliver(s)
        assert len(recv.messages) == 1
        msg = recv.messages[0]
        assert msg["title"] == "HealBridge weekly data-quality review" and "| check |" in msg["message"]
        assert "@" not in msg["message"]
        s.dispose()
    finally:
        recv.stop()


def test_heartbeat_says_not_running_after_two_intervals(stores: Any) -> None:
    run_once(stores, only=["token.expired_active"])
    hb = heartbeat(stores)
    assert hb["running"] and hb["next_run_at"] > hb["last_run_at"]
    later = hb["last_run_at"] + timedelta(seconds=2 * float(hb["interval_s"]) + 1)
    assert not heartbeat(stores, later)["running"]
