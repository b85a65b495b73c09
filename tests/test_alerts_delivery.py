"""Alerts on state changes, delivered through apprise to real receivers on loopback (an HTTP server
for json://, aiosmtpd for mailto://): opened, unchanged, worse, resolved, acknowledged, maintenance,
a channel down then back, the dashboard's own log, no PHI in any message."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from lib import alerts, review
from lib.checks.ids import BY_ID, CHECK_IDS
from lib.config import load_settings
from lib.roles import Actor, Forbidden
from lib.stores import open_stores
from lib.stores.postgres import make_engine
from lib.watch import heartbeat, run_once
from tests.alert_receivers import HttpReceiver, SmtpReceiver
from tests.support import _write

CHECK = "token.expired_active"


def set_expired(stores: Any, n: int) -> None:
    """Make exactly `n` connections active with an expired token (real SQL on the demo's Supabase)."""
    url = stores.supabase._url
    _write(url, "UPDATE patient_doctor_connections SET is_active = false WHERE is_active AND token_expires_at < now()")
    if n:
        _write(url, "INSERT INTO patient_doctor_connections (id, patient_firebase_uid, doctor_firebase_uid, access_token,"
                    " token_expires_at, is_active, created_at) SELECT gen_random_uuid(), 'watch-test', NULL,"
                    " 'watch-' || gen_random_uuid(), now() - interval '1 day', true, now() - interval '2 days'"
                    " FROM generate_series(1, :n)", {"n": n})


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def wired(demo: Any, receiver: HttpReceiver) -> Iterator[Any]:
    """Stores whose settings send every alert to the receiver; the demo is marked dirty (the tests
    change its data) and the check starts from a known state (0, nothing pending)."""
    demo.ensure()
    demo.dirty = True
    s = open_stores(load_settings(alert_urls=receiver.url, alert_retry_base_s=0))
    set_expired(s, 0)
    run_once(s, only=[CHECK])
    receiver.messages.clear()
    yield s
    s.dispose()


def _once(stores: Any) -> dict[str, Any]:
    doc, _ = run_once(stores, only=[CHECK])
    return doc


def test_opened_unchanged_worse_resolved_one_message_each(wired: Any, receiver: HttpReceiver) -> None:
    set_expired(wired, 3)
    doc = _once(wired)
    assert [(c["check"], c["change"], c["before"], c["after"]) for c in doc["changes"]] == [(CHECK, "opened", 0, 3)]
    assert len(receiver.messages) == 1 and CHECK in receiver.text()
    assert doc["deliveries"] == [{"channel": "json://127.0.0.1", "ok": True, "checks": [CHECK], "error": None}]
    assert "0 → 3" in receiver.text() and f"docs/checks.md#{BY_ID[CHECK].runbook_anchor}" in receiver.text()

    assert _once(wired)["changes"] == [] and len(receiver.messages) == 1  # unchanged: nothing

    set_expired(wired, 4)  # 3 → 4: not doubled
    assert _once(wired)["changes"] == [] and len(receiver.messages) == 1
    set_expired(wired, 7)  # at least double the count last alerted (3)
    doc = _once(wired)
    assert [(c["change"], c["before"], c["after"]) for c in doc["changes"]] == [("worse", 4, 7)]
    assert len(receiver.messages) == 2 and "worse" in receiver.messages[1]["message"]

    set_expired(wired, 0)
    doc = _once(wired)
    assert [c["change"] for c in doc["changes"]] == ["resolved"]
    assert len(receiver.messages) == 3 and CHECK in receiver.messages[2]["title"]
    assert _once(wired)["changes"] == [] and len(receiver.messages) == 3


def test_threshold_crossing_is_worse(wired: Any, receiver: HttpReceiver, tmp_path: Any) -> None:
    from lib.watch.config import load

    cfg_file = tmp_path / "watch.toml"
    cfg_file.write_text(f'[thresholds]\n"{CHECK}" = 5\n')
    cfg = load(load_settings(watch_config=cfg_file))
    set_expired(wired, 4)
    run_once(wired, only=[CHECK], config=cfg)
    set_expired(wired, 5)  # not doubled, but crosses 5
    doc, _ = run_once(wired, only=[CHECK], config=cfg)
    assert [c["change"] for c in doc["changes"]] == ["worse"] and len(receiver.messages) == 2


def test_acknowledged_check_is_silent_until_expiry(wired: Any, receiver: HttpReceiver) -> None:
    ack = review.acknowledge(wired, CHECK, "known: token rotation under way", datetime.now(UTC) + timedelta(hours=1))
    try:
        set_expired(wired, 3)
        doc = _once(wired)
        assert [c["change"] for c in doc["changes"]] == ["opened"] and doc["changes"][0]["silenced"]
        assert receiver.messages == []
        set_expired(wired, 9)
        _once(wired)
        assert receiver.messages == []
    finally:
        review.end_acknowledgement(wired, ack, by="test")  # the acknowledgement is over
    doc = _once(wired)  # still open, never alerted: it opens now
    assert [c["change"] for c in doc["changes"]] == ["opened"] and len(receiver.messages) == 1


def test_maintenance_window_silences(wired: Any, receiver: HttpReceiver) -> None:
    actor = Actor("alice", "oncall")
    wid = alerts.start_maintenance(wired, actor, "database upgrade", datetime.now(UTC) + timedelta(hours=1))
    try:
        assert alerts.in_maintenance(wired)
        assert any(w["id"] == wid and w["state"] == "active" for w in alerts.maintenance_windows(wired))
        set_expired(wired, 2)
        doc = _once(wired)
        assert doc["changes"][0]["silenced"] == "maintenance window" and receiver.messages == []
    finally:
        assert alerts.end_maintenance(wired, actor, wid)
    assert not alerts.in_maintenance(wired)
    _once(wired)
    assert len(receiver.messages) == 1
    with pytest.raises(Forbidden):
        alerts.start_maintenance(wired, Actor("bob", "support"), "x", datetime.now(UTC) + timedelta(hours=1))


def test_channel_down_then_up_delivers_exactly_once(wired: Any, receiver: HttpReceiver) -> None:
    receiver.stop()
    set_expired(wired, 3)
    doc = _once(wired)
    assert doc["deliveries"] and not doc["deliveries"][0]["ok"]
    err = doc["deliveries"][0]["error"]
    assert err and "/hook" not in err and str(receiver.port) not in err  # redacted: scheme and host at most
    assert doc["changes"][0]["change"] == "opened"
    log = alerts.log(wired, 5)
    assert log[0]["status"] == "pending" and log[0]["attempts"] == 1 and log[0]["channel"] == "json://127.0.0.1"
    receiver.start()  # the same port again
    doc = _once(wired)  # nothing new changed; the pending message is retried and delivered
    assert doc["changes"] == [] and doc["deliveries"][0]["ok"]
    assert len(receiver.messages) == 1 and CHECK in receiver.text()
    _once(wired)
    assert len(receiver.messages) == 1
    tries = alerts.attempts(wired, log[0]["id"])
    assert [t["ok"] for t in tries] == [False, True] and all(t["channel"] == "json://127.0.0.1" for t in tries)


def test_several_changes_one_message_per_channel_and_email(demo: Any, receiver: HttpReceiver) -> None:
    demo.ensure()
    demo.dirty = True
    smtp = SmtpReceiver().start()
    try:
        s = open_stores(load_settings(alert_urls=f"{receiver.url},{smtp.url}"))
        only = [CHECK, "sync.jobs_failed"]
        set_expired(s, 0)
        _write(s.core._url, "UPDATE sync_jobs SET status = 'succeeded' WHERE status = 'failed'")
        run_once(s, only=only)
        receiver.messages.clear()
        smtp.messages.clear()
        set_expired(s, 2)
        _write(s.core._url, "UPDATE sync_jobs SET status = 'failed' WHERE id IN (SELECT id FROM sync_jobs LIMIT 3)")
        doc, code = run_once(s, only=only)
        assert sorted(c["check"] for c in doc["changes"]) == sorted(only) and code == 1
        assert len(receiver.messages) == 1 and all(c in receiver.text() for c in only)
        assert len(smtp.messages) == 1 and all(c in smtp.messages[0] for c in only)
        assert sorted(d["channel"] for d in doc["deliveries"]) == ["json://127.0.0.1", "mailto://127.0.0.1"]
        s.dispose()
    finally:
        smtp.stop()


def test_no_phi_in_any_message(demo: Any, receiver: HttpReceiver) -> None:
    """A whole run of the planted demo: the message names the checks, never an email, phone, name or
    uid of the demo's stores or manifest."""
    man = demo.ensure()
    s = open_stores(load_settings(alert_urls=receiver.url))
    try:
        with make_engine(s.core._url).connect() as conn:
            people = conn.execute(text("SELECT u.firebase_uid, u.email, u.phone, p.full_name, u.id::text "
                                       "FROM users u LEFT JOIN patients p ON p.user_id = u.id")).all()
        _write(s.ops.url, "DELETE FROM alert_state")  # every open check opens again: the biggest message
        run_once(s)
        body = receiver.text() + json.dumps(alerts.log(s, 50), default=str)
    finally:
        s.dispose()
    assert receiver.messages and "token.expired_active" in body
    needles = {v for row in people for v in row if v and len(str(v)) >= 5}
    needles |= {k for v in man["planted"].values() for k in v.get("keys", []) if len(k) >= 6}
    needles -= set(CHECK_IDS)  # pulse.count_anomaly's keys are check ids: they name checks, no patient
    found = sorted(n for n in needles if str(n) in body)
    assert not found, found[:5]
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", receiver.text())


def test_no_channel_goes_to_the_dashboard_log(demo: Any) -> None:
    demo.ensure()
    demo.dirty = True
    s = open_stores(load_settings())
    try:
        set_expired(s, 0)
        run_once(s, only=[CHECK])
        set_expired(s, 2)
        doc, _ = run_once(s, only=[CHECK])
        assert doc["changes"][0]["change"] == "opened" and doc["deliveries"] == []
        top = alerts.log(s, 1)[0]
        assert top["status"] == "logged" and top["channel"] == "dashboard://alert-log" and CHECK in top["checks"]
        opened = {o["check"]: o for o in alerts.open_checks(s)}
        assert opened[CHECK]["count"] == 2 and opened[CHECK]["open_since"] is not None
        hb = heartbeat(s)
        assert hb["running"] and hb["last_run_id"] == doc["run_id"]
    finally:
        s.dispose()


def test_send_test_needs_oncall_and_is_audited(stores: Any, receiver: HttpReceiver) -> None:
    s = open_stores(load_settings(alert_urls=receiver.url))
    try:
        assert alerts.channel_list(s) == [{"index": "0", "channel": "json://127.0.0.1", "setting": "ALERT_URLS"}]
        with pytest.raises(Forbidden):
            alerts.send_test(s, Actor("sam", "support"), 0)
        assert receiver.messages == []
        got = alerts.send_test(s, Actor("olga", "oncall"), 0)
        assert got["ok"] and len(receiver.messages) == 1 and receiver.messages[0]["title"] == "HealBridge test alert"
        rows = s.ops.rows("audit_list", {"who": "olga", "action": "alert.test", "since": None, "until": None,
                                         "limit": 5})
        assert rows and rows[0]["target"] == "json://127.0.0.1" and rows[0]["role"] == "oncall"
    finally:
        s.dispose()
