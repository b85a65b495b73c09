"""The Constraints page on the real demo stores: the live catalog with its drift and fixes, a store not
configured, and Supabase reached by its HTTP API (which also renders the Tokens page: both pages say
what needs SQL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apptest_support import rendered
from tests.pages.support import CONSTRAINT_IDS, TIMEOUT, _app, _counts, _frame, _ok, _planted, _uris

pytestmark = pytest.mark.usefixtures("fresh_caches")


def test_constraints_page_shows_live_constraints_with_drift_and_fixes(demo: Any) -> None:
    manifest = demo.ensure()
    at = _app("views/constraints.py")
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
    at = _app("views/constraints.py")
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
        at = _app("views/constraints.py")
        _ok(at)
        assert [i.value for i in at.info if "HTTP API" in i.value] == [
            "Supabase is reached through its HTTP API, which offers no catalog: set SUPABASE_DB_URL to see its "
            "constraints and indexes."]
        assert not _frame(at, "con_constraints_core").empty
        assert key not in rendered(at)
        at = _app("views/tokens.py")
        _ok(at)
        assert [e.value for e in at.error] == ["supabase: this needs SQL; set SUPABASE_DB_URL (the HTTP API has no "
                                               "SQL or catalog)"]
        assert key not in rendered(at)
