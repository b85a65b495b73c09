"""The Alerts page and the watcher on the dashboard, on the real demo stores with a real HTTP receiver
on loopback for a json:// channel (ALERT_URLS, its URL carrying a token): the notifications of a real
watch run, the channel by scheme and host only, the test alert (oncall and admin, audited), the
maintenance window (started and ended on the page, its banner on every page while it lasts), and
the watcher's heartbeat on Health."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from lib import alerts, web
from lib.config import load_settings
from lib.roles import Actor, Forbidden
from lib.stores import open_stores
from lib.stores.postgres import make_engine
from lib.watch import run_once
from tests.alert_receivers import HttpReceiver
from tests.apptest_support import rendered
from tests.pages.support import TIMEOUT, _app_as, _ok

pytestmark = pytest.mark.usefixtures("fresh_caches")

CHECK = "token.expired_active"
PAGE = "views/alerts.py"


def _ops(stores: Any, sql: str, params: dict[str, Any] | None = None) -> None:
    """A test's own set-up on the real ops database."""
    eng = make_engine(stores.ops.url)
    try:
        with eng.begin() as conn:
            conn.execute(text(sql), params or {})
    finally:
        eng.dispose()


@pytest.fixture
def channel(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A real receiver on loopback configured as the one alert channel, through a URL with a token
    in it; stores opened on that configuration; no maintenance window left behind."""
    demo.ensure()
    token = "tok" + secrets.token_hex(8)
    receiver = HttpReceiver().start()
    url = f"json://127.0.0.1:{receiver.port}/hook/{token}"
    monkeypatch.setenv("ALERT_URLS", url)
    monkeypatch.setenv("ALERT_RETRY_BASE_S", "0")
    s = open_stores(load_settings())
    try:
        yield {"receiver": receiver, "url": url, "token": token, "stores": s}
    finally:
        for w in alerts.maintenance_windows(s):
            if w["state"] in ("active", "scheduled"):
                alerts.end_maintenance(s, Actor("test", "admin"), int(w["id"]))
        s.dispose()
        receiver.stop()


def _log(at: AppTest) -> pd.DataFrame:
    found = [df.value for df in at.dataframe if {"changes", "channel", "status"} <= set(df.value.columns)]
    assert found, "no notifications table"
    return found[0]


def _audit_count(stores: Any, action: str) -> int:
    return len(stores.ops.rows("audit_list", {"who": None, "action": action, "since": None, "until": None,
                                              "limit": 10_000}))


def test_the_page_lists_a_watch_runs_notifications_by_scheme_and_host_and_oncall_sends_a_test(
        channel: dict[str, Any]) -> None:
    s, receiver = channel["stores"], channel["receiver"]
    _ops(s, "DELETE FROM alert_state WHERE subject = :s", {"s": f"check:{CHECK}"})  # the check opens again
    doc, _ = run_once(s, only=[CHECK])
    opened = [c for c in doc["changes"] if c["check"] == CHECK]
    assert [c["change"] for c in opened] == ["opened"] and len(receiver.messages) == 1
    count = opened[0]["after"]

    at = _app_as(PAGE, role="oncall")
    _ok(at)
    assert at.title[0].value == "Alerts" and not at.error, [e.value for e in at.error]
    log = _log(at)
    top = log.iloc[0]
    assert top["channel"] == "json://127.0.0.1" and top["kind"] == "alert"
    assert f"{CHECK} opened 0 → {count}" in top["changes"]
    assert (top["status"], top["attempts"], top["run"]) == ("delivered", 1, doc["run_id"])
    open_table = next(df.value for df in at.dataframe if "open for" in df.value.columns)
    assert int(open_table.set_index("check").loc[CHECK, "count"]) == count
    shown = rendered(at, frames=True)
    assert channel["url"] not in shown and channel["token"] not in shown and "/hook" not in shown
    assert "json://127.0.0.1" in shown

    # oncall: Send test alert delivers one message to the receiver and is audited
    before = _audit_count(s, "alert.test")
    button = at.button(key="alerts_test_0")
    assert not button.disabled
    button.click().run(timeout=TIMEOUT)
    _ok(at)
    assert len(receiver.messages) == 2 and receiver.messages[1]["title"] == "HealBridge test alert"
    assert _audit_count(s, "alert.test") == before + 1
    assert any("Test alert delivered" in m.value for m in at.success), [m.value for m in at.success]
    top = _log(at).iloc[0]  # the cache was cleared: the test message is listed at once
    assert (top["kind"], top["status"], top["changes"]) == ("test", "delivered", "test alert")
    assert channel["token"] not in rendered(at, frames=True)


def test_support_sees_send_test_disabled_and_cannot_start_or_end_maintenance(channel: dict[str, Any]) -> None:
    s, receiver = channel["stores"], channel["receiver"]
    wid = alerts.start_maintenance(s, Actor("olga", "oncall"), "failover drill", datetime.now(UTC) + timedelta(hours=1))
    at = _app_as(PAGE, role="support")
    _ok(at)
    assert at.button(key="alerts_test_0").disabled
    assert at.button(key="alerts_start").disabled and at.text_input(key="alerts_reason").disabled
    assert at.button(key=f"alerts_end_{wid}").disabled
    windows = next(df.value for df in at.dataframe if "reason" in df.value.columns)
    assert windows.set_index("id").loc[wid, "state"] == "active"  # read-only, but shown
    # the work itself refuses support, whatever the page draws (AppTest cannot click a disabled button:
    # a forged click reaches lib.alerts.send_test, which refuses it)
    before = _audit_count(s, "alert.test")
    with pytest.raises(Forbidden):
        alerts.send_test(s, Actor("sam", "support"), 0)
    assert receiver.messages == [] and _audit_count(s, "alert.test") == before
    assert alerts.in_maintenance(s)


def test_a_maintenance_window_started_on_the_page_shows_on_every_page_until_it_ends(channel: dict[str, Any]) -> None:
    s = channel["stores"]
    reason = "database *upgrade* [v16](http://example.org) #1"
    stores_page = _app_as("views/stores.py", role="oncall")
    assert not [w for w in stores_page.warning if "Maintenance window" in w.value]

    at = _app_as(PAGE, role="oncall")
    before = _audit_count(s, "maintenance.start")
    at.text_input(key="alerts_reason").input(reason)
    at.button(key="alerts_start").click().run(timeout=TIMEOUT)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert _audit_count(s, "maintenance.start") == before + 1
    active = [w for w in alerts.maintenance_windows(s) if w["state"] == "active"]
    assert len(active) == 1 and active[0]["reason"] == reason and active[0]["created_by"] == "demo reader"

    stores_page = _app_as("views/stores.py", role="support")
    _ok(stores_page)
    banners = [w.value for w in stores_page.warning if "Maintenance window" in w.value]
    assert len(banners) == 1 and web.plain(reason) in banners[0]  # the reason as plain text, not Markdown
    assert f"{active[0]['ends_at']:%Y-%m-%d %H:%M} UTC" in banners[0]

    at.button(key=f"alerts_end_{active[0]['id']}").click().run(timeout=TIMEOUT)
    _ok(at)
    assert not alerts.in_maintenance(s) and _audit_count(s, "maintenance.end") >= 1
    stores_page = _app_as("views/stores.py", role="oncall")
    assert not [w for w in stores_page.warning if "Maintenance window" in w.value]


def _watcher_line(at: AppTest) -> str:
    lines = [m.value for m in at.markdown if "Watcher" in m.value]
    assert len(lines) == 1, [m.value for m in at.markdown]
    return lines[0]


def test_health_shows_the_watchers_heartbeat(channel: dict[str, Any]) -> None:
    s = channel["stores"]
    _ops(s, "DELETE FROM watch_heartbeat")  # no watcher ever ran
    at = _app_as("views/health.py", role="oncall")
    _ok(at)
    line = _watcher_line(at)
    assert ":red[" in line and "Watcher not running" in line and "python -m lib watch" in line
    assert "./run.sh" in line  # the demo starts it beside the dashboard

    doc, _ = run_once(s, only=[CHECK])
    st.cache_data.clear()  # the heartbeat's cached read expires (its TTL is seconds)
    at = _app_as("views/health.py", role="oncall")
    line = _watcher_line(at)
    assert ":green[" in line and "Watcher running" in line and f"run #{doc['run_id']}" in line, line
    assert "last scheduled run at" in line and "next at" in line and "every 5 min" in line

    _ops(s, "UPDATE watch_heartbeat SET last_run_at = now() - 3 * interval_s * interval '1 second'")
    st.cache_data.clear()
    at = _app_as("views/health.py", role="oncall")
    line = _watcher_line(at)
    assert "Watcher not running" in line and "the last scheduled run was at" in line
    assert "more than two intervals of 5 min" in line
