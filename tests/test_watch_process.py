"""`python -m lib watch` as a process: --once --json and its exit status, bad configuration as one
sentence naming the setting, a watcher killed mid-delivery (at most one duplicate, never none), and
two watchers on one ops database (one works; the other takes over when it dies)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lib.stores.postgres import make_engine
from tests.alert_receivers import HttpReceiver

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALERT_", "WATCH_"))}
    return env | extra


def _watch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lib", "watch", *args], cwd=ROOT, env=_env(**env),
                          capture_output=True, text=True, timeout=300)


def _ops(stores: Any, sql: str) -> list[Any]:
    eng = make_engine(stores.ops.url)
    try:
        with eng.begin() as conn:
            res = conn.execute(text(sql))
            return list(res.all()) if res.returns_rows else []
    finally:
        eng.dispose()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver().start()
    yield r
    r.stop()


@pytest.mark.parametrize(("name", "value"), [
    ("ALERT_URLS", "nosuchscheme://hunter2@example.org/x"),
    ("ALERT_URLS_ERROR", "json://"),
    ("ALERT_URLS_DIGEST", "json://127.0.0.1:9/ok, hunter2-not-a-url"),
    ("ALERT_BASE_URL", "ftp://hunter2.example.org"),
    ("WATCH_INTERVAL_S", "often-hunter2"),
])
def test_bad_setting_is_one_sentence_exit_2(name: str, value: str) -> None:
    got = _watch("--once", **{name: value})
    assert got.returncode == 2, got.stderr
    err = got.stderr.strip()
    assert name in err and "hunter2" not in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cadence_that_is_not_a_duration_names_the_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "watch.toml"
    cfg.write_text('[cadence]\ntokens = "every-hunter2"\n')
    got = _watch("--once", WATCH_CONFIG=str(cfg))
    assert got.returncode == 2 and "WATCH_CONFIG" in got.stderr and "tokens" in got.stderr
    assert "hunter2" not in got.stderr and len(got.stderr.strip().splitlines()) == 1


def test_once_json_shape_and_exit_status(stores: Any, receiver: HttpReceiver) -> None:
    _ops(stores, "DELETE FROM alert_state")  # every open check opens again
    got = _watch("--once", "--json", ALERT_URLS=receiver.url)
    doc = json.loads(got.stdout)
    assert got.returncode == 1  # as `check`: error findings in the demo
    assert set(doc) >= {"run_id", "generated_at", "stores", "changes", "deliveries"}
    assert doc["stores"]["core"]["ok"] and isinstance(doc["run_id"], int)
    assert doc["changes"] and all(c["change"] == "opened" for c in doc["changes"])
    assert doc["deliveries"] == [{"channel": "json://127.0.0.1", "ok": True, "error": None,
                                  "checks": [c["check"] for c in doc["changes"] if c["severity"] != "info"]}]
    assert len(receiver.messages) == 1
    again = json.loads(_watch("--once", "--json", ALERT_URLS=receiver.url).stdout)
    assert again["changes"] == [] and again["deliveries"] == [] and len(receiver.messages) == 1
    # a channel that is down: the delivery fails, the exit status does not change
    _ops(stores, "DELETE FROM alert_state")
    down = _watch("--once", "--json", ALERT_URLS="json://127.0.0.1:9/hook")
    assert down.returncode == 1 and not json.loads(down.stdout)["deliveries"][0]["ok"]
    assert "127.0.0.1:9/hook" not in down.stdout


@pytest.mark.parametrize(("hold", "expected"), [("before_read", 1), ("after_read", 2)])
def test_killed_mid_delivery_sends_at_most_one_duplicate(stores: Any, hold: str, expected: int) -> None:
    """Killed after the decision was committed and before (or while) its message was sent: the
    next watcher sends it — once when the first never got it out, twice at most otherwise."""
    _ops(stores, "UPDATE alert_outbox SET status = 'orphaned' WHERE status = 'pending'")
    _ops(stores, "DELETE FROM alert_state")
    recv = HttpReceiver()
    recv.hold = hold
    recv.start()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "lib", "watch", "--once", "--json"], cwd=ROOT,
                                env=_env(ALERT_URLS=recv.url, ALERT_RETRY_BASE_S="0"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert recv.connected.wait(240), "the watcher never tried to deliver"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        received = len(recv.messages)
        recv.hold = None
        recv.release.set()
        time.sleep(1.0)  # the killed session's transaction is rolled back
        got = _watch("--once", "--json", ALERT_URLS=recv.url, ALERT_RETRY_BASE_S="0")
        doc = json.loads(got.stdout)
        assert doc["changes"] == []  # the decision was committed before the kill
        assert len(recv.messages) == expected, (received, doc["deliveries"])
        assert any(d["ok"] for d in doc["deliveries"])
    finally:
        recv.stop()


def test_two_watchers_one_works_the_other_takes_over(stores: Any) -> None:
    interval = 4
    start = datetime.now(UTC)
    env = _env()
    procs = [subprocess.Popen([sys.executable, "-m", "lib", "watch", "--interval", str(interval)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        time.sleep(5 * interval)
        runs = _ops(stores, "SELECT started_at, finished_at FROM check_runs WHERE source = 'watch' "
                            f"AND started_at >= '{start.isoformat()}' ORDER BY started_at")
        assert 2 <= len(runs) <= 6, len(runs)  # one watcher's runs, not two watchers'
        # one watcher's cadence: a run starts an interval after the one before, or at once when that
        # one took longer than the interval (the scheduler's catch-up), never while it still runs
        for a, b in zip(runs, runs[1:], strict=False):
            gap, took = (b[0] - a[0]).total_seconds(), (a[1] - a[0]).total_seconds()
            assert b[0] >= a[1], (a, b)
            assert gap >= interval * 0.7 or took >= interval * 0.7, (gap, took)
        leader = _ops(stores, "SELECT pid FROM watch_heartbeat WHERE watcher = 'main'")[0][0]
        other = next(p for p in procs if p.pid != leader)
        next(p for p in procs if p.pid == leader).send_signal(signal.SIGKILL)
        killed_at = datetime.now(UTC)
        time.sleep(3 * interval)
        after = _ops(stores, f"SELECT count(*) FROM check_runs WHERE source = 'watch' AND started_at > '{killed_at.isoformat()}'")
        assert after[0][0] >= 1
        assert _ops(stores, "SELECT pid FROM watch_heartbeat WHERE watcher = 'main'")[0][0] == other.pid
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
