"""The Tokens page on the real demo stores: the token states from the checks and the store, the expiry
timeline, and never a token."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from lib.sqlfiles import adhoc
from tests.apptest_support import rendered
from tests.pages.support import _app, _frame, _metric, _ok, _plotly, _total

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_tokens_page_shows_the_token_states_from_the_checks_and_never_a_token(demo: Any, stores: Any,
                                                                               downloads: dict[str, bytes]) -> None:
    manifest = demo.ensure()
    at = _app("views/tokens.py")
    _ok(at)
    assert at.title[0].value == "Tokens"
    planted = manifest["planted"]
    assert _metric(at, "Expired but still active") == [str(planted["token.expired_active"]["count"])]
    assert _metric(at, "Expiring within 24 h") == [str(planted["token.expiring_soon"]["count"])]
    assert _metric(at, "Expired, never used") == [str(planted["token.unused_expired"]["count"])]
    # the states that are no check, against the store itself
    sb = stores.supabase
    active = sb.scalar(adhoc("SELECT count(*) FROM patient_doctor_connections WHERE is_active AND token_expires_at >= now()"))
    week = sb.scalar(adhoc("SELECT count(*) FROM patient_doctor_connections WHERE is_active AND token_expires_at >= now() "
                           "AND token_expires_at < now() + interval '7 days'"))
    unused = sb.scalar(adhoc("SELECT count(*) FROM patient_doctor_connections WHERE is_active AND "
                             "token_expires_at >= now() AND doctor_firebase_uid IS NULL"))
    assert _metric(at, "Active") == [f"{active:,}"] and active > 0
    assert _metric(at, "Expiring within 7 d") == [f"{week:,}"] and week > 0
    assert _metric(at, "Never used (still valid)") == [f"{unused:,}"] and unused > 0

    # the tables behind the check states hold exactly the check's keys
    for state, check in (("expired_active", "token.expired_active"), ("expiring_soon", "token.expiring_soon"),
                         ("unused_expired", "token.unused_expired")):
        rows = _frame(at, f"tokens_{state}")
        assert sorted(rows["id"]) == planted[check]["keys"], state
        assert "access_token" not in rows.columns
        got = list(csv.DictReader(io.StringIO(downloads[f"tokens_{state}.csv"].decode())))
        assert sorted(r["id"] for r in got) == planted[check]["keys"]
    assert len(_frame(at, "tokens_expiring_days")) == week
    assert len(list(csv.DictReader(io.StringIO(downloads["tokens_expiring_days.csv"].decode())))) == week
    assert all(b.proto.deferred_file_id and not b.proto.url for b in at.get("download_button"))  # read on click

    # the expiry timeline: the expired-but-active bars add up to the check
    spec = _plotly(at, "token_timeline")
    assert spec["layout"]["title"]["text"] == "Active tokens by day of expiry"
    assert spec["layout"]["yaxis"]["title"]["text"] == "Active tokens"

    expired = [t for t in spec["data"] if t["name"] == "expired, still active"]
    assert sum(_total(t) for t in expired) == planted["token.expired_active"]["count"]
    valid = [t for t in spec["data"] if t["name"] == "valid"]
    assert sum(_total(t) for t in valid) == active  # every valid token expires within 60 days in the demo

    # no access token anywhere on the page
    tokens = [r["access_token"] for r in sb.rows(adhoc("SELECT access_token FROM patient_doctor_connections"))]
    page = rendered(at)
    assert tokens and not [t for t in tokens if t and t in page]
