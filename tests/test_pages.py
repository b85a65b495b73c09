"""The monitoring pages under Streamlit's AppTest, on the real demo stores (no mocks): Health,
Duplicates & orphans, Tokens, Constraints and Weekly review show exactly what the check engine
finds and the demo planted (its manifest), link to the report, patient and fix pages, never show a
token, and say "all good" on the clean demo."""

from __future__ import annotations

import base64
import csv
import io
import json
import socket
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import history
from lib.checks.ids import AREA_PAGE, BY_ID, CHECK_IDS, CHECKS
from lib.checks.runner import run_checks
from lib.services import EmbeddedServices
from lib.sqlfiles import adhoc
from tests import apptest_support
from tests.apptest_support import rendered

pytestmark = pytest.mark.usefixtures("fresh_caches")

TIMEOUT = 180
DUP_ORPHAN = [c for c in CHECK_IDS if c.startswith(("dup.", "orphan."))]
CONSTRAINT_IDS = [c for c in CHECK_IDS if c.startswith(("constraint.", "advisor."))]


def _app(page: str | None = None) -> AppTest:
    return apptest_support.app(page, timeout=TIMEOUT)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# st.dataframe without selections carries no key: each table of the pages is recognised by the tab
# it is in and a column only it has there (or a column value).
TABLES: dict[str, tuple[str, str | None]] = {
    "health_failing": ("report", None), "health_errors": ("last_error", None), "dup_summary": ("trend", None),
    "con_summary": ("title", None), "con_findings": ("key", None), "review_table": ("status", None),
}


def _tables(at: AppTest, key: str) -> list[pd.DataFrame]:
    where: Any = at
    value: tuple[str, str] | None = None
    if key in TABLES:
        column = TABLES[key][0]
    elif key.startswith("keys_"):
        column, value = "key", ("check", key[5:])
    elif key.startswith("acks_"):
        column, value = "state", ("state", key[5:])
    elif key.startswith("tokens_"):
        from lib.tokens import states

        label = next(s.label for s in states() if s.id == key[7:])
        where, column = next(t for t in at.tabs if t.label == label), "id"
    else:  # con_<kind>_<store>
        kind, store = key[4:].rsplit("_", 1)
        label = {"core": "Core PostgreSQL", "supabase": "Supabase"}[store]
        where = next(t for t in at.tabs if t.label == label)
        column = {"missing": "note", "constraints": "validated", "indexes": "partial"}[kind]
    out = []
    for df in where.dataframe:
        v = df.value
        if column in v.columns and (value is None or (value[0] in v.columns and (v[value[0]] == value[1]).any())):
            out.append(v)
    return out


def _frame(at: AppTest, key: str) -> pd.DataFrame:
    found = _tables(at, key)
    assert found, f"no table {key!r}"
    return found[0]


def _counts(df: pd.DataFrame, col: str = "count") -> dict[str, int | None]:
    return {str(c): (None if pd.isna(n) else int(n)) for c, n in zip(df["check"], df[col], strict=True)}


def _metric(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def _plotly(at: AppTest, key: str) -> dict[str, Any]:
    charts = [c for c in at.get("plotly_chart") if key in c.proto.id]
    assert charts, f"no chart {key!r}"
    return json.loads(charts[0].proto.spec)


def _total(trace: dict[str, Any]) -> int:
    """The sum of a plotly trace's y values (a list, or plotly's typed-array encoding)."""
    ys = trace["y"]
    if isinstance(ys, dict):
        ys = np.frombuffer(base64.b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
    return int(sum(ys))


def _planted(manifest: dict[str, Any], ids: list[str] | tuple[str, ...] = CHECK_IDS) -> dict[str, int]:
    return {c: manifest["planted"][c]["count"] for c in ids}


def _uris(demo: Any) -> dict[str, str]:
    return EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]


# ---------------------------------------------------------------------- Health
def test_health_is_the_landing_page_and_shows_what_the_checks_find(demo: Any, stores: Any) -> None:
    manifest = demo.ensure()
    at = _app()  # no page asked: the default one
    _ok(at)
    assert at.title[0].value == "Health"
    direct = run_checks(stores)
    assert {r.id: r.count for r in direct.results} == _planted(manifest)

    # the failing checks: every planted check with its count, worst first, with report and fix links
    failing = _frame(at, "health_failing")
    assert _counts(failing) == {c: n for c, n in _planted(manifest).items() if n}
    rank = {"error": 0, "warn": 1, "info": 2}
    order = [(rank[s], -int(n)) for s, n in zip(failing["severity"], failing["count"], strict=True)]
    assert order == sorted(order)
    links = dict(zip(failing["check"], failing["fix"], strict=True))
    assert links["dup.open_conversations"] == "fixes?fix=close_duplicate_conversations"
    assert links["token.expired_active"] == "fixes?fix=deactivate_expired_tokens"
    assert pd.isna(links["sync.field_drift"]) or links["sync.field_drift"] is None
    reports = dict(zip(failing["check"], failing["report"], strict=True))
    assert reports["orphan.documents_patient"] == "duplicates" and reports["constraint.missing"] == "constraints"
    assert reports["token.expired_active"] == "tokens" and reports["sync.jobs_failed"] == "checks"
    # the trend since the previous run of the history (at least the demo's generated weeks)
    caption = next(c.value for c in at.caption if "change since run #" in c.value)
    prev_id = int(caption.split("change since run #")[1].split(" ")[0])
    prev = {r["check_id"]: r["count"] for r in history.results(stores, prev_id)}
    assert _counts(failing, "previous") == {c: prev[c] for c in failing["check"]}
    known = failing["previous"].notna()
    assert (failing["change"][known] == (failing["count"] - failing["previous"])[known]).all()

    # stores: reachable with a latency, Firebase snapshot age = the check run's time
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    assert sum("Reachable" in b for b in badges) == 3
    assert any(c.value.startswith("Users and profiles listed") for c in at.caption)
    assert any(c.value.startswith("Checked at") for c in at.caption)

    # a tile per area, coloured by its worst finding, with the sum of its counts
    findings = _metric(at, "Findings")
    areas = ["sync", "duplicates", "orphans", "tokens", "constraints", "pulse"]
    assert findings == [f"{sum(n for c, n in _planted(manifest).items() if BY_ID[c].area == a):,}" for a in areas]
    area_badges = [b for b in badges if "Reachable" not in b]
    assert len(area_badges) == 6 and all(b.startswith(":red-badge[") for b in area_badges)  # every area has an error
    assert [p.proto.page for p in at.get("page_link")] == ["checks", "duplicates", "duplicates", "tokens", "constraints", "checks"]

    # sync jobs: the failed and stuck checks, failures by kind over time, top last_error messages
    assert _metric(at, "Failed") == [str(manifest["planted"]["sync.jobs_failed"]["count"])]
    assert _metric(at, "Stuck") == [str(manifest["planted"]["sync.jobs_stuck"]["count"])]
    spec = _plotly(at, "health_failures")
    assert spec["layout"]["title"]["text"] == "Failed sync jobs by kind, last 14 days"
    assert spec["layout"]["xaxis"]["title"]["text"] == "Day of the last attempt"
    assert spec["layout"]["yaxis"]["title"]["text"] == "Failed jobs"
    assert sum(_total(t) for t in spec["data"]) == manifest["planted"]["sync.jobs_failed"]["count"]
    errors = _frame(at, "health_errors")
    assert int(errors["jobs"].sum()) == manifest["planted"]["sync.jobs_failed"]["count"]

    # "Run checks now" runs them afresh, with its progress, and the page shows the new run
    before = [c.value for c in at.caption if c.value.startswith("Checked at")][0]
    at.button(key="health_run").click().run(timeout=TIMEOUT)
    _ok(at)
    assert at.status and at.status[0].state == "complete"
    after = [c.value for c in at.caption if c.value.startswith("Checked at")][0]
    assert after != before
    assert _counts(_frame(at, "health_failing")) == {c: n for c, n in _planted(manifest).items() if n}


def test_health_shows_a_store_down_and_one_not_configured(demo: Any, monkeypatch: Any) -> None:
    """Outside the demo: core up, Supabase not configured, Firebase where nothing listens. The page
    still renders: the stores for what they are, the checks that could not run as unknown."""
    demo.ensure()
    monkeypatch.setenv("CORE_DATABASE_URL", _uris(demo)["core"])
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "healbridge-down")
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            monkeypatch.setenv(name, f"127.0.0.1:{sock.getsockname()[1]}")
    at = _app("pages/health.py")
    _ok(at)
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    assert badges[:3] == [":green-badge[:material/check_circle: Reachable]", ":gray-badge[:material/help: Not configured]",
                          ":red-badge[:material/error: Down]"]
    failing = _frame(at, "health_failing")
    unknown = failing[failing["count"].isna()]
    assert set(unknown["check"]) == {c for c in CHECK_IDS if set(BY_ID[c].stores) - {"core"}}
    assert unknown["error"].notna().all()
    # the core-only checks still count
    assert _counts(failing[failing["count"].notna()]) == {
        c: n for c, n in _planted(demo.manifest).items() if BY_ID[c].stores == ("core",) and n}
    assert _metric(at, "Failed") == [str(demo.manifest["planted"]["sync.jobs_failed"]["count"])]


# ---------------------------------------------------------------------- Duplicates & orphans
def test_duplicates_page_shows_every_dup_and_orphan_check_with_its_keys(demo: Any, downloads: dict[str, bytes]) -> None:
    manifest = demo.ensure()
    at = _app("pages/duplicates.py")
    _ok(at)
    assert at.title[0].value == "Duplicates & orphans"
    summary = _frame(at, "dup_summary")
    assert _counts(summary) == _planted(manifest, DUP_ORPHAN)
    assert list(summary["check"]) == DUP_ORPHAN
    # a trend line from the history: the generated weeks and today's run, ending at today's count
    for check, trend, count in zip(summary["check"], summary["trend"], summary["count"], strict=True):
        assert len(trend) >= 2 and int(trend[-1]) == int(count), check
    trend = dict(zip(summary["check"], summary["trend"], strict=True))
    assert list(trend["dup.active_connections"][-2:]) == [manifest["patients"] // 500 or 1, 0]  # resolved this week

    for check in DUP_ORPHAN:
        planted = manifest["planted"][check]
        if not planted["count"]:
            assert not _tables(at, f"keys_{check}"), check
            continue
        keys = _frame(at, f"keys_{check}")
        assert list(keys["key"]) == planted["keys"], check
        # CSV download of the whole report
        rows = list(csv.DictReader(io.StringIO(downloads[f"{check}.csv"].decode())))
        assert [r["key"] for r in rows] == planted["keys"] and {r["check"] for r in rows} == {check}
    users = _frame(at, "keys_dup.core_users_email")
    assert list(users["patient"]) == [f"patient?q={k}" for k in manifest["planted"]["dup.core_users_email"]["keys"]]
    objects = _frame(at, "keys_orphan.storage_objects")
    assert list(objects["patient"]) == [f"patient?q={k.split('/')[0]}" for k in objects["key"]]

    # filters: severity info only, then the Firebase store only
    at.pills(key="dup_severity").set_value(["info"]).run(timeout=TIMEOUT)
    _ok(at)
    assert list(_frame(at, "dup_summary")["check"]) == ["orphan.storage_objects"]
    at.pills(key="dup_severity").set_value(["error", "warn", "info"])
    at.multiselect(key="dup_stores").set_value(["firebase"]).run(timeout=TIMEOUT)
    _ok(at)
    assert list(_frame(at, "dup_summary")["check"]) == ["orphan.supabase_documents_patient", "orphan.connections_patient"]


# ---------------------------------------------------------------------- Tokens
def test_tokens_page_shows_the_token_states_from_the_checks_and_never_a_token(demo: Any, stores: Any,
                                                                               downloads: dict[str, bytes]) -> None:
    manifest = demo.ensure()
    at = _app("pages/tokens.py")
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


# ---------------------------------------------------------------------- Constraints
def test_constraints_page_shows_live_constraints_with_drift_and_fixes(demo: Any) -> None:
    manifest = demo.ensure()
    at = _app("pages/constraints.py")
    _ok(at)
    assert at.title[0].value == "Constraints"
    assert _counts(_frame(at, "con_summary")) == _planted(manifest, CONSTRAINT_IDS)

    drift = _frame(at, "con_findings")
    assert sorted(zip(drift["check"], drift["key"], strict=True)) == sorted(
        (c, k) for c in CONSTRAINT_IDS for k in manifest["planted"][c]["keys"])
    fixes = {(c, k): f for c, k, f in zip(drift["check"], drift["key"], drift["fix"], strict=True)}
    assert fixes[("constraint.unexpected", "core.conversations.conversations_telegramConnectionId_psid_key")] == \
        "fixes?fix=open_conversation_index"
    assert fixes[("constraint.unexpected", "supabase.patient_doctor_connections."
                  "patient_doctor_connections_patient_firebase_uid_doctor_fire_key")] == "fixes?fix=token_constraints"
    assert fixes[("constraint.mismatch", "core.appointments.appointments_patient_id_fkey")] == \
        "fixes?fix=appointments_patient_fk"
    assert fixes[("constraint.missing", "core.documents.fk_documents_patient")] == "fixes?fix=patient_foreign_keys"
    assert fixes[("constraint.missing", "supabase.rag_chunks.rag_chunks_document_id_fkey")] == "fixes?fix=rag_chunks_fk"
    # NOT VALID: validated, except the appointments key defined otherwise, which is recreated (seed 001)
    assert {k: f for (c, k), f in fixes.items() if c == "constraint.not_valid"} == {
        k: "fixes?fix=appointments_patient_fk" if k == "core.appointments.appointments_patient_id_fkey"
        else "fixes?fix=validate_constraints" for k in manifest["planted"]["constraint.not_valid"]["keys"]}

    # which expected file said what
    assert sum("expected_constraints.toml" in c.value for c in at.caption) == 2
    missing = _frame(at, "con_missing_core")
    assert set(missing["name"]) == {"fk_documents_patient", "fk_session_notes_patient"}
    assert all(s.endswith("expected_constraints.toml") for s in missing["source"])
    assert set(missing["fix"]) == {"fixes?fix=patient_foreign_keys"}

    # the live catalog, quoted camelCase names included, with the drift on its row
    idx = _frame(at, "con_indexes_core")
    conv = idx[idx["table"] == "conversations"]
    assert conv["definition"].str.contains('"pageConnectionId"').any()
    bad = conv[conv["name"] == "conversations_telegramConnectionId_psid_key"]
    assert len(bad) == 1 and "constraint.unexpected" in bad["findings"].iloc[0]
    assert bad["fix"].iloc[0] == "fixes?fix=open_conversation_index"
    cons = _frame(at, "con_constraints_core")
    fk = cons[cons["name"] == "appointments_patient_id_fkey"].iloc[0]
    assert not fk["validated"] and "constraint.mismatch" in fk["findings"] and "constraint.not_valid" in fk["findings"]
    assert "patients(id)" in fk["definition"] and fk["fix"] == "fixes?fix=appointments_patient_fk"
    ok = cons[cons["name"] == "users_pkey"].iloc[0]
    assert ok["drift"] == "" and "users_pkey" in ok["expected"]

    # "only drift" leaves the rows that have some
    at.toggle(key="con_only_drift").set_value(True).run(timeout=TIMEOUT)
    _ok(at)
    assert (_frame(at, "con_constraints_core")["drift"] != "").all()
    assert (_frame(at, "con_indexes_supabase")["drift"] != "").all()


def test_constraints_page_says_which_store_is_not_configured(demo: Any, monkeypatch: Any) -> None:
    demo.ensure()
    monkeypatch.setenv("CORE_DATABASE_URL", _uris(demo)["core"])
    at = _app("pages/constraints.py")
    _ok(at)
    infos = [i.value for i in at.info]
    assert "Supabase is not configured." in infos
    assert not _frame(at, "con_constraints_core").empty
    summary = _frame(at, "con_summary")
    assert summary["count"].isna().all() and summary["error"].str.contains("supabase").all()


def test_supabase_through_its_http_api_says_what_needs_sql(demo: Any, stores: Any, monkeypatch: Any) -> None:
    """Supabase reached by its HTTP API (an HTTP-level fake of GoTrue/PostgREST over the demo's real
    Supabase database): the Constraints page says the API has no catalog while core still shows,
    and the Tokens page says it needs SQL, each in one sentence without the key."""
    import jwt

    from tests.fake_supabase import FakeSupabase

    demo.ensure()
    key = jwt.encode({"iss": "supabase", "ref": "fakeproject", "role": "service_role", "iat": 1700000000,
                      "exp": 2000000000}, "fake-jwt-secret-with-at-least-32-bytes!", algorithm="HS256")
    with FakeSupabase(stores.supabase._url, key) as fake:
        monkeypatch.setenv("CORE_DATABASE_URL", _uris(demo)["core"])
        monkeypatch.setenv("SUPABASE_URL", fake.url)
        monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", key)
        at = _app("pages/constraints.py")
        _ok(at)
        assert [i.value for i in at.info if "HTTP API" in i.value] == [
            "Supabase is reached through its HTTP API, which offers no catalog: set SUPABASE_DB_URL to see its "
            "constraints and indexes."]
        assert not _frame(at, "con_constraints_core").empty
        assert key not in rendered(at)
        at = _app("pages/tokens.py")
        _ok(at)
        assert [e.value for e in at.error] == ["supabase: this needs SQL; set SUPABASE_DB_URL (the HTTP API has no "
                                               "SQL or catalog)"]
        assert key not in rendered(at)


# ---------------------------------------------------------------------- Weekly review
def test_weekly_review_compares_with_the_generated_week_and_acknowledges(demo: Any, stores: Any,
                                                                           downloads: dict[str, bytes]) -> None:
    from lib import review

    manifest = demo.ensure()
    run = run_checks(stores)  # the latest run of the history
    run.run_id = history.save_run(stores, run)
    at = _app("pages/review.py")
    _ok(at)
    assert at.title[0].value == "Weekly review"
    caption = next(c.value for c in at.caption if c.value.startswith("Comparing"))
    assert "(generated)" in caption and f"#{run.run_id} " in caption and "7 days apart" in caption

    table = _frame(at, "review_table")
    assert _counts(table, "after") == _planted(manifest)
    status = dict(zip(table["check"], table["status"], strict=True))
    expected = {"sync.jobs_stuck": "new", "orphan.documents_file_missing": "new", "sync.jobs_failed": "worse",
                "dup.medications": "better", "orphan.appointments_patient": "better", "dup.active_connections": "resolved",
                "dup.core_users_email": "same", "constraint.missing": "same"}
    assert {c: status[c] for c in expected} == expected
    assert _metric(at, "New") == ["2"] and _metric(at, "Resolved") == ["1"]

    # acknowledge one finding: a missing comment is one sentence; then it is kept and shown apart
    key = manifest["planted"]["dup.medications"]["keys"][0]
    at.selectbox(key="ack_check").set_value("dup.medications").run(timeout=TIMEOUT)
    at.selectbox(key="ack_key").set_value(key)
    at.text_input(key="ack_by").input("on-call")
    at.form_submit_button[0].click().run(timeout=TIMEOUT)
    _ok(at)
    assert [e.value for e in at.error] == ["Write a comment that says why this finding is acknowledged."]
    at.selectbox(key="ack_key").set_value(key)
    at.text_area(key="ack_comment").input("Duplicates of a retried sync; cleaned up next sprint")
    at.text_input(key="ack_by").input("on-call")
    at.form_submit_button[0].click().run(timeout=TIMEOUT)
    _ok(at)
    assert not at.error
    active = _frame(at, "acks_active")
    mine = active[active["finding"] == key]
    assert len(mine) == 1 and mine["check"].iloc[0] == "dup.medications" and mine["by"].iloc[0] == "on-call"
    table = _frame(at, "review_table")
    row = table[table["check"] == "dup.medications"].iloc[0]  # still there: never hidden
    assert row["after"] == manifest["planted"]["dup.medications"]["count"]
    assert row["acknowledged"] == f"1 of {manifest['planted']['dup.medications']['count']} findings"
    assert any(a.finding_key == key for a in review.acknowledgements(stores))

    # the summary downloads
    rows = list(csv.DictReader(io.StringIO(downloads[[n for n in downloads if n.endswith(".csv")][0]].decode())))
    assert {r["check"]: int(r["after"]) for r in rows} == _planted(manifest)
    md = downloads[[n for n in downloads if n.endswith(".md")][0]].decode()
    assert md.startswith("# HealBridge weekly data-quality review") and "## Acknowledged" in md
    assert "| sync.jobs_stuck | warn | 0 |" in md

    # trend charts over the weeks
    spec = _plotly(at, "review_trend")
    assert spec["layout"]["title"]["text"] == "Findings per area, weekly"
    assert {t["name"] for t in spec["data"]} == {"sync", "duplicates", "orphans", "tokens", "constraints", "pulse"}

    # any two runs: the latest against itself is not offered, the previous one is
    at.toggle(key="review_pick").set_value(True).run(timeout=TIMEOUT)
    _ok(at)
    latest = at.selectbox(key="review_after").options[0]
    assert latest.startswith(f"#{run.run_id} ")
    assert latest not in at.selectbox(key="review_before").options
    oldest = review.run_list(stores)[-1]  # the first generated week
    assert oldest.generated and oldest.label in at.selectbox(key="review_before").options
    at.selectbox(key="review_before").set_value(oldest).run(timeout=TIMEOUT)
    _ok(at)
    assert any(c.value.startswith(f"Comparing {oldest.label} with #{run.run_id} ") for c in at.caption)
    table = _frame(at, "review_table")
    want = {c.check: c.status for c in review.compare_runs(stores, oldest.id, run.run_id)}
    assert dict(zip(table["check"], table["status"], strict=True)) == want
    assert want["dup.active_connections"] == "resolved" and want["sync.jobs_stuck"] == "new"


# ---------------------------------------------------------------------- every page
MONITORING_PAGES = ["pages/health.py", "pages/duplicates.py", "pages/tokens.py", "pages/constraints.py",
                    "pages/review.py"]


@pytest.mark.parametrize("page", MONITORING_PAGES)
def test_every_monitoring_page_says_it_is_a_demo(demo: Any, page: str) -> None:
    demo.ensure()
    at = _app(page)
    _ok(at)
    banners = [w.value for w in at.warning if "Demo" in w.value]
    assert len(banners) == 1 and "generated" in banners[0]


@pytest.mark.parametrize("page", MONITORING_PAGES)
def test_malformed_configuration_is_one_sentence_on_every_monitoring_page(demo: Any, monkeypatch: Any,
                                                                          page: str) -> None:
    monkeypatch.setenv("CORE_DATABASE_URL", "not a url :: hunter2secret")
    at = _app(page)
    _ok(at)
    assert len(at.error) == 1 and "CORE_DATABASE_URL" in at.error[0].value
    assert "hunter2secret" not in rendered(at) and "Traceback" not in rendered(at)
    assert not at.dataframe


# ---------------------------------------------------------------------- the clean demo
@pytest.mark.parametrize(
    ("page", "text"),
    [
        ("pages/health.py", f"All good: none of the {len(CHECK_IDS)} checks has a finding."),
        ("pages/duplicates.py", f"All good: none of these {sum(AREA_PAGE[c.area] == 'duplicates' for c in CHECKS)} checks "
                                 "finds a duplicate or an orphan."),
        ("pages/tokens.py", "All good: no expired token is still active, none expires soon, none expired unused."),
        ("pages/constraints.py", "All good: every expected constraint is there and valid"),
        ("pages/review.py", "All good: no check has a finding in run #"),
    ],
)
def test_clean_demo_says_all_good(demo: Any, page: str, text: str) -> None:
    demo.ensure(clean=True)
    if page == "pages/review.py":
        stores = demo.stores()
        try:
            history.save_run(stores, run_checks(stores))
        finally:
            stores.dispose()
    at = _app(page)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success if s.value.startswith(text)], [s.value for s in at.success]
    if page == "pages/health.py":
        assert not _tables(at, "health_failing")
        badges = [m.value for m in at.markdown if "badge[" in m.value]
        assert len(badges) == 9 and all(b.startswith(":green-badge[") for b in badges)
        assert _metric(at, "Findings") == ["0"] * 6
    if page == "pages/duplicates.py":
        assert _counts(_frame(at, "dup_summary")) == dict.fromkeys(DUP_ORPHAN, 0)
    if page == "pages/review.py":
        assert set(_frame(at, "review_table")["after"]) == {0}
