"""The Patient page on the real demo stores: the search box and the URL parameter, drift, findings and
fix links, a pick list for a name fragment, bad input in one sentence, a store that is down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lib import web
from lib.patient import NOT_FOUND, TOO_LONG, TOO_SHORT
from tests import apptest_support
from tests.pages.support import TIMEOUT, _ok
from tests.support import _down_env, _rows, _uid_of_key


def _page(q: str | None = None) -> AppTest:
    return apptest_support.app("views/patient.py", query=None if q is None else {"q": q}, timeout=TIMEOUT)


def test_page_search_box_finds_the_patient(demo: Any, normal: dict[str, Any], fresh_caches: None) -> None:
    demo.ensure()
    at = _page()
    _ok(at)
    assert at.title[0].value == "Patient"
    assert not at.dataframe and at.info  # nothing searched yet
    at.text_input(key="patient_q").input(f" {normal['email'].upper()} ").run(timeout=TIMEOUT)
    _ok(at)
    assert not at.error
    assert [s.value for s in at.subheader] == [normal["full_name"]]
    assert [s.value for s in at.success][:4] == ["Present"] * 4
    comparison = at.dataframe[0].value
    assert list(comparison.columns) == ["Firebase Auth", "Firestore", "Core PostgreSQL", "Supabase"]
    assert comparison.loc["email", "Core PostgreSQL"] == normal["email"]
    assert comparison.loc["phone", "Firebase Auth"] == normal["phone"]
    assert at.query_params["q"] == normal["uid"]  # the URL links to the patient, never to what was typed
    assert any(normal["uid"] in c.value for c in at.caption)


def test_page_url_parameter_fills_the_box_and_shows_drift_and_findings(demo: Any, fresh_caches: None) -> None:
    planted = demo.ensure()["planted"]
    key = planted["sync.field_drift"]["keys"][0]
    uid, field = _uid_of_key(key), key.split("|")[1]
    at = _page(uid)
    _ok(at)
    assert at.text_input(key="patient_q").value == uid
    comparison = at.dataframe[0].value
    assert comparison.loc[field].nunique() > 1
    findings = at.dataframe[1].value
    drift = findings[findings["check"] == "sync.field_drift"]
    assert len(drift) == 1 and drift["keys"].iloc[0].startswith(f"{uid}|{field}|")


def test_page_missing_store_and_fix_link(demo: Any, stores: Any, fresh_caches: None) -> None:
    planted = demo.ensure()["planted"]
    uid = planted["sync.profile_missing"]["keys"][0]
    at = _page(uid)
    _ok(at)
    assert [e.value for e in at.error] == ["Missing"]  # Firestore
    assert at.dataframe[0].value["Firestore"].tolist() == ["(missing)"] * len(at.dataframe[0].value)
    # a patient with a failed sync job: the finding links to its fix, the errors are readable
    job = planted["sync.jobs_failed"]["keys"][0]
    juid = _rows(stores.core, "SELECT patient_firebase_uid AS u FROM sync_jobs WHERE id = :i", i=int(job))[0]["u"]
    at = _page(juid)
    _ok(at)
    findings = at.dataframe[1].value
    assert findings.loc[findings["check"] == "sync.jobs_failed", "fix"].tolist() == ["fixes?fix=retry_failed_sync_jobs"]
    error = _rows(stores.core, "SELECT last_error FROM sync_jobs WHERE id = :i", i=int(job))[0]["last_error"]
    assert error and error in [c.value for c in at.code]  # the whole error, readable
    assert any(c.value.startswith(f"Job #{job} ") for c in at.caption)
    assert len(at.get("plotly_chart")) == 1


def test_page_name_fragment_gives_a_pick_list(demo: Any, normal: dict[str, Any], fresh_caches: None) -> None:
    demo.ensure()
    last = normal["full_name"].split()[-1]
    at = _page(last.lower())
    _ok(at)
    pick = at.selectbox(key="patient_pick")
    assert len(pick.options) > 1 and not at.subheader  # nobody picked yet
    candidates = at.dataframe[0].value
    assert normal["uid"] in set(candidates["firebase_uid"])
    assert f"patient?q={normal['uid']}" in set(candidates["open"])
    pick.select(next(o for o in pick.options if o.endswith(normal["uid"]))).run(timeout=TIMEOUT)
    _ok(at)
    assert [s.value for s in at.subheader] == [normal["full_name"]]


@pytest.mark.parametrize("raw", ["nobody@nowhere.example", "'; DROP TABLE users; --", "李小龙", "x" * 10_000, "a"])
def test_page_bad_or_unknown_input_is_one_clear_sentence(demo: Any, raw: str, fresh_caches: None) -> None:
    demo.ensure()
    at = _page(raw)
    _ok(at)
    assert not at.error and not at.dataframe
    expected = TOO_SHORT if raw == "a" else TOO_LONG if len(raw) > 320 else NOT_FOUND
    assert [i.value for i in at.info] == [web.plain(expected[0].upper() + expected[1:] + ".")]  # shown as text


def test_page_store_down_shows_as_down(demo: Any, normal: dict[str, Any], monkeypatch: Any, fresh_caches: None) -> None:
    for k, v in _down_env(demo).items():
        monkeypatch.setenv(k, v)
    at = _page(normal["uid"])
    _ok(at)
    down = [e.value for e in at.error]
    assert len(down) == 2 and all("is down" in d for d in down)
    assert len([w.value for w in at.warning if w.value.startswith("Down:")]) == 2
    assert [s.value for s in at.success] == ["Present"] * 2  # and no "nothing found": Firebase did not answer
    assert [i.value for i in at.info] == ["No finding in the stores that answered (Firebase Auth, Firestore down)."]
    assert at.dataframe[0].value["Core PostgreSQL"]["email"] == normal["email"]


def test_page_flags_a_patient_disabled_in_firebase_at_the_top(demo: Any, stores: Any, normal: dict[str, Any],
                                                               fresh_caches: None) -> None:
    planted = demo.ensure()["planted"]
    conns = planted["token.active_for_disabled_patient"]["keys"]
    owner = {r["id"]: r["u"] for r in _rows(stores.supabase, "SELECT id::text AS id, patient_firebase_uid AS u FROM "
                                                             "public.patient_doctor_connections WHERE id::text = ANY(:i)",
                                            i=conns)}
    uid = owner[conns[0]]
    n = sum(1 for c in conns if owner[c] == uid)
    assert uid in planted["identity.disabled_live_in_supabase"]["keys"]
    at = _page(uid)
    _ok(at)
    flag = at.error[0].value  # the first element of the page after the heading
    text = flag.replace("\\", "")
    signed_in = datetime.fromisoformat(stores.firebase.get_users([uid])[0]["last_sign_in_at"])  # Auth's nearest date
    assert text.startswith(f"Disabled in Firebase Auth since some time after {signed_in:%Y-%m-%d %H:%M} UTC (its "
                           "last sign-in or token refresh: Firebase Auth records no date of disabling)")
    assert f"still live in Supabase, {n} active doctor connections." in text
    assert "(fixes?fix=revoke_disabled_patients_connections)" in flag and "(fixes?fix=ban_disabled_patients_in_supabase)" in flag
    findings = at.dataframe[1].value
    assert set(findings.loc[findings["check"] == "token.active_for_disabled_patient", "keys"].iloc[0].split(", ")) == \
        {c for c in conns if owner[c] == uid}
    # a disabled patient banned in Supabase until a future date: flagged, nothing to fix
    banned = _rows(stores.supabase, "SELECT raw_user_meta_data->>'firebase_uid' AS u FROM auth.users "
                                    "WHERE banned_until > now() ORDER BY id LIMIT 1")[0]["u"]
    at = _page(banned)
    _ok(at)
    text = next(i.value for i in at.info if "Disabled in Firebase Auth" in i.value.replace("\\", "")).replace("\\", "")
    assert "not live in Supabase (banned or deleted), 0 active doctor connections." in text and "fixes?fix=" not in text
    # a patient whose account is on: no flag
    at = _page(normal["uid"])
    _ok(at)
    assert not any("Disabled in Firebase Auth" in e.value.replace("\\", "") for e in [*at.error, *at.info])
