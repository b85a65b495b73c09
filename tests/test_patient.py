"""The patient lookup (lib.patient) on the real demo stores (embedded PostgreSQL, Firebase emulators; no mocks).

Patients are picked from the stores and from the demo manifest's planted keys: a lookup by each
kind of identifier finds the right patient; each planted drift, missing store and orphan shows on
the patient it was planted on, with the keys the checks report (and nothing the checks do not
report); a phone in another format is not drift; bad input is a clear answer, never an error,
also for at least 1,000 generated inputs (hypothesis), and a known patient is found however typed.
The command is in test_cli_patient.py, the page in tests/pages/test_patient.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from sqlalchemy import text

from lib import normalize
from lib.checks.ids import BY_ID, CHECK_IDS
from lib.checks.registry import REGISTRY
from lib.config import load_settings
from lib.patient import (
    MAX_MATCHES,
    NOT_FOUND,
    PARTS,
    TOO_LONG,
    TOO_SHORT,
    Search,
    classify,
    jobs_figure,
    load,
    lookup,
    search,
)
from lib.patient.findings import DOCUMENT_CHECKS, JOB_CHECKS, sql_check_keys
from lib.stores import open_stores
from tests.strategies import SUPPRESS, _query
from tests.support import _down_env, _rows, _uid_of_key

# Checks whose every finding belongs to a patient the lookup can reach (by the UID in its key, or
# by a row hanging off the patient). Not per patient: conversations (a support-inbox psid), the
# catalog checks; appointments and session notes whose patient_id points nowhere belong to no one.
# every check about rows of patients (pulse.count_anomaly names checks, not patients)
PER_PATIENT = [c for c in CHECK_IDS if not c.startswith(("constraint.", "advisor."))
               and c not in ("dup.open_conversations", "pulse.count_anomaly")]


PARTLY = {"orphan.appointments_patient", "orphan.session_notes_patient"}


def _all_uids(stores: Any) -> list[str]:
    uids = {r["u"] for r in _rows(stores.core, "SELECT firebase_uid AS u FROM users WHERE firebase_uid IS NOT NULL")}
    uids |= {u["uid"] for u in stores.firebase.iter_users()}
    uids |= {r["u"] for r in _rows(stores.supabase, """
        SELECT raw_user_meta_data ->> 'firebase_uid' AS u FROM auth.users
        WHERE raw_user_meta_data ->> 'firebase_uid' IS NOT NULL
        UNION SELECT patient_id FROM public.documents
        UNION SELECT patient_firebase_uid FROM public.patient_doctor_connections""")}
    return sorted(uids)


def _one(stores: Any, query: str) -> Any:
    result = lookup(stores, query)
    assert result.search.message is None, (query, result.search.message)
    assert len(result.matches) == 1, (query, [m.uid for m in result.matches])
    return result.matches[0]


def _finding(view: Any, check: str) -> list[str]:
    return next((f.keys for f in view.findings if f.check == check), [])


@pytest.mark.parametrize(("raw", "kind", "value"), [
    ("AbCdEfGhIjKlMnOpQrStUvWxYz12", "uid", "AbCdEfGhIjKlMnOpQrStUvWxYz12"),
    ("  Ada.Okafor1@EXAMPLE.com ", "email", "ada.okafor1@example.com"),
    ("ada okafor1@example.com", "name", "ada okafor1@example.com"),  # never compacted into someone's email
    ("+1 (415) 867-2345", "phone", "+14158672345"),
    ("415.867.2345", "phone", "+14158672345"),
    ("(415) 867-2345", "phone", "+14158672345"),
    ("+14158672345", "phone", "+14158672345"),
    ("6F9619FF-8B86-D011-B42D-00CF4FC964FF", "id", "6f9619ff-8b86-d011-b42d-00cf4fc964ff"),
    ("  ada \t  OKAFOR ", "name", "ada okafor"),
    ("Müller", "name", "müller"),
    ("", "invalid", ""),
    ("x", "invalid", ""),
    ("x" * 10_000, "invalid", ""),
])
def test_classify(raw: str, kind: str, value: str) -> None:
    q = classify(raw, "US")
    assert (q.kind, q.value) == (kind, value)
    if kind == "invalid":
        assert q.message == (TOO_SHORT if len(raw.strip()) < 2 else TOO_LONG if len(raw) > 320 else NOT_FOUND)


def test_lookup_by_each_identifier_kind_finds_the_right_patient(stores: Any, normal: dict[str, Any]) -> None:
    uid, phone = normal["uid"], normal["phone"]
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    doc = _rows(stores.core, "SELECT id::text AS id FROM documents WHERE patient_id = CAST(:p AS uuid) LIMIT 1",
                p=normal["patient_id"])[0]["id"]
    queries = {
        "uid": uid,
        "email in another case, with spaces": f"  {normal['email'].upper()}  ",
        "phone in E.164": phone,
        "phone in national format": national,
        "phone with dots": f"{phone[2:5]}.{phone[5:8]}.{phone[8:]}",
        "core user id": normal["user_id"],
        "core patient id": normal["patient_id"].upper(),
        "Supabase auth user id": normal["supabase_id"],
        "a document id": doc,
    }
    for label, q in queries.items():
        view = _one(stores, q)
        assert view.uid == uid, label
        assert all(view.state(p) == "present" for p in PARTS), (label, {p: view.state(p) for p in PARTS})
        assert view.name == normal["full_name"]
        assert view.stores["core"]["id"] == normal["user_id"] and view.stores["core"]["patient_id"] == normal["patient_id"]
        assert view.stores["firebase_auth"]["uid"] == uid and view.stores["supabase"]["firebase_uid"] == uid
        assert view.documents and view.appointments and view.connections, label

    # every store that can look up by email or phone found the patient itself
    for q, how in ((f" {normal['email'].upper()}", "email"), (national, "phone")):
        (cand,) = search(stores, q).candidates
        assert set(cand.found) == {f"core user by {how}", f"Supabase auth user by {how}", f"Firebase Auth user by {how}",
                                   f"Firestore profile by {how}"}, (how, cand.found)

    # a name fragment, in another case and with extra white space, lists this patient among its candidates
    first, last = normal["full_name"].split(" ", 1)
    found = search(stores, f"  {first.upper()}   {last.lower()} ")
    assert uid in found.uids and found.message is None


def test_the_patients_data_across_the_sync_points(stores: Any, normal: dict[str, Any]) -> None:
    """Every row the stores hold for the patient is there, each with its sync state."""
    view = _one(stores, normal["uid"])
    pid, user_id, uid = normal["patient_id"], normal["user_id"], normal["uid"]
    core_docs = {r["id"] for r in _rows(stores.core, "SELECT id::text AS id FROM documents WHERE patient_id = CAST(:p AS uuid)", p=pid)}
    sb_docs = {r["id"] for r in _rows(stores.supabase, "SELECT id::text AS id FROM public.documents WHERE patient_id = :u", u=uid)}
    assert {d["id"] for d in view.documents} == core_docs | sb_docs
    for d in view.documents:
        assert (d["in_core"], d["in_supabase"]) == (d["id"] in core_docs, d["id"] in sb_docs)
        assert d["state"] == "in both" if d["in_core"] and d["in_supabase"] and d["file_in_storage"] else d["state"] != "in both"
    meds = {r["id"] for r in _rows(stores.core, "SELECT id::text AS id FROM medications WHERE patient_id = CAST(:p AS uuid)", p=pid)}
    assert {m["id"] for m in view.medications} == meds
    appts = {r["id"] for r in _rows(stores.core, "SELECT id::text AS id FROM appointments WHERE patient_id = CAST(:u AS uuid)", u=user_id)}
    assert {a["id"] for a in view.appointments} == appts and all(a["patient_ok"] for a in view.appointments)
    rx = {r["id"] for r in _rows(stores.core, "SELECT id::text AS id FROM prescriptions WHERE appointment_id = ANY(CAST(:a AS uuid[]))",
                                 a=sorted(appts))}
    assert {p["id"] for p in view.prescriptions} == rx
    assert all(p["reached_supabase"] and p["state"] == "in Supabase" for p in view.prescriptions)
    conns = _rows(stores.supabase, "SELECT id::text AS id, right(access_token, 4) AS tail FROM public.patient_doctor_connections "
                                   "WHERE patient_firebase_uid = :u", u=uid)
    assert {c["id"] for c in view.connections} == {c["id"] for c in conns}
    assert {c["token"] for c in view.connections} == {f"…{c['tail']}" for c in conns}  # never the whole token
    jobs = {r["id"] for r in _rows(stores.core, "SELECT id FROM sync_jobs WHERE patient_firebase_uid = :u", u=uid)}
    assert {j["id"] for j in view.sync_jobs} == jobs and view.sync_jobs
    notes = {r["id"] for r in _rows(stores.core, "SELECT id::text AS id FROM session_notes WHERE patient_id = CAST(:p AS uuid)", p=pid)}
    assert {n["id"] for n in view.session_notes} == notes
    assert view.findings == [] and view.drift == []
    fig = jobs_figure(view)
    assert fig is not None and sum(len(t.base) for t in fig.data) == len(jobs)


def test_every_per_patient_finding_shows_on_its_patient_and_nothing_else(demo: Any, stores: Any) -> None:
    """Load every UID any store knows: the union of the patients' findings is exactly what the demo
    planted for each per-patient check (no false positives anywhere), with the checks' own keys."""
    manifest = demo.ensure()
    uids = _all_uids(stores)
    views = load(stores, uids)
    assert [v.uid for v in views] == uids
    mine: dict[str, set[str]] = {c: set() for c in CHECK_IDS}
    for v in views:
        assert not v.down
        for f in v.findings:
            assert f.fix == BY_ID[f.check].fix and f.severity == BY_ID[f.check].severity
            mine[f.check].update(f.keys)
    for check in CHECK_IDS:
        planted = set(manifest["planted"][check]["keys"])
        if check in PARTLY:  # those pointing nowhere belong to no patient
            assert mine[check] and mine[check] < planted, check
        elif check in PER_PATIENT:
            assert mine[check] == planted, check
        else:
            assert not mine[check], check


def test_planted_drift_shows_on_the_patient(demo: Any, stores: Any) -> None:
    keys = demo.ensure()["planted"]["sync.field_drift"]["keys"]
    by_uid: dict[str, set[str]] = {}
    for k in keys:
        by_uid.setdefault(_uid_of_key(k), set()).add(k)
    assert len(by_uid) >= 3
    for uid, expected in by_uid.items():
        view = _one(stores, uid)
        assert set(_finding(view, "sync.field_drift")) == expected
        drift = {(d["field"], *d["stores"]) for d in view.drift if d["check"] == "sync.field_drift"}
        assert drift == {(k.split("|")[1], k.split("|")[2].split("=")[0], k.split("|")[3].split("=")[0]) for k in expected}
        # the highlighted cells are the store that changed: the one in every drift pair
        field = next(iter(expected)).split("|")[1]
        row = next(r for r in view.comparison if r["field"] == field)
        pairs = [set(d["stores"]) for d in view.drift if d["field"] == field]
        assert set(row["odd"]) == set.intersection(*pairs)


@pytest.mark.parametrize(("check", "part"), [
    ("sync.profile_missing", "firestore"),
    ("sync.core_user_missing_in_firebase", "firebase_auth"),
    ("sync.firebase_user_missing_in_core", "core"),
    ("sync.patient_missing_in_supabase", "supabase"),
])
def test_a_store_missing_the_patient_shows_as_missing(demo: Any, stores: Any, check: str, part: str) -> None:
    for uid in demo.ensure()["planted"][check]["keys"]:
        view = _one(stores, uid)
        assert view.state(part) == "missing" and view.stores[part] is None
        assert check in view.finding_ids and _finding(view, check) == [uid]
        if check == "sync.patient_missing_in_supabase":  # no Supabase user, or only a deleted one
            assert all(u["state"] == "deleted" for u in view.supabase_users)


def test_supabase_users_extra_and_deleted_are_flagged(demo: Any, stores: Any) -> None:
    for sid in demo.ensure()["planted"]["dup.supabase_users_firebase_uid"]["keys"]:
        view = _one(stores, sid)  # by the duplicate's own Supabase id
        states = {u["id"]: u["state"] for u in view.supabase_users}
        assert states[sid] == "extra live user (duplicate)"
        assert list(states.values()).count("the patient's (oldest live)") == 1
        assert view.stores["supabase"]["id"] != sid and view.stores["supabase"]["other_users"] == len(states) - 1
        assert _finding(view, "dup.supabase_users_firebase_uid") == [sid]


def test_orphans_show_on_their_patient(demo: Any, stores: Any) -> None:
    planted = demo.ensure()["planted"]
    # core documents of no patient (seed 004): found by the document's id, flagged in the documents
    for doc_id in planted["orphan.documents_patient"]["keys"]:
        view = _one(stores, doc_id)
        doc = next(d for d in view.documents if d["id"] == doc_id)
        assert doc["core_patient_ok"] is False and "core row points at no patient" in doc["state"]
        assert doc_id in _finding(view, "orphan.documents_patient")
        assert BY_ID["orphan.documents_patient"].fix == "archive_orphan_rows"
    # appointments carrying the patients.id (seed 001) show on the patient; those pointing nowhere do not
    found = 0
    for appt in planted["orphan.appointments_patient"]["keys"]:
        result = lookup(stores, appt)
        if result.matches:
            a = next(a for m in result.matches for a in m.appointments if a["id"] == appt)
            assert a["carries"] == "patients.id" and a["patient_ok"] is False
            found += 1
        else:
            assert result.search.message == NOT_FOUND
    assert found == 2 * max(1, demo.manifest["patients"] // 500)
    # Supabase documents of a Firebase user that does not exist: only Supabase knows the UID
    for doc_id in planted["orphan.supabase_documents_patient"]["keys"]:
        view = _one(stores, doc_id)
        assert [view.state(p) for p in PARTS] == ["missing", "missing", "missing", "missing"]
        assert [d["id"] for d in view.documents] == [doc_id] and view.documents[0]["in_supabase"]
        assert _finding(view, "orphan.supabase_documents_patient") == [doc_id]
    # a document whose file is missing from storage
    for doc_id in planted["orphan.documents_file_missing"]["keys"]:
        view = _one(stores, doc_id)
        doc = next(d for d in view.documents if d["id"] == doc_id)
        assert doc["file_in_storage"] is False and "file missing in storage" in doc["state"]


def test_duplicate_medications_and_token_states_are_flagged(demo: Any, stores: Any) -> None:
    planted = demo.ensure()["planted"]
    dup_meds = set(planted["dup.medications"]["keys"])
    meds = _rows(stores.core, """SELECT u.firebase_uid AS uid FROM medications m JOIN patients p ON p.id = m.patient_id
                                 JOIN users u ON u.id = p.user_id WHERE m.id = ANY(CAST(:ids AS uuid[]))""", ids=sorted(dup_meds))
    for uid in {r["uid"] for r in meds}:
        view = _one(stores, uid)
        flagged = {m["id"] for m in view.medications if m["duplicate"]}
        assert flagged and flagged <= dup_meds and flagged == set(_finding(view, "dup.medications"))
    for check, state in (("token.expired_active", "expired but active"), ("token.expiring_soon", "expiring soon")):
        for cid in planted[check]["keys"]:
            view = _one(stores, cid)  # by the connection's id
            c = next(c for c in view.connections if c["id"] == cid)
            assert c["state"] == state and cid in _finding(view, check)


def test_a_phone_in_another_format_is_not_drift(demo: Any, stores: Any) -> None:
    """The planted "must not count" patients: core holds the phone as (415) 200-1234, Supabase as
    +1 415-200-1234 and the email in upper case with spaces; Firestore holds no phone."""
    demo.ensure()
    rows = _rows(stores.core, "SELECT firebase_uid AS uid, phone FROM users WHERE phone LIKE '(%'")
    assert rows
    for r in rows:
        e164 = normalize.phone(r["phone"], "US")
        result = lookup(stores, e164)  # looked up in E.164, found through the other formats too
        assert [m.uid for m in result.matches] == [r["uid"]]
        assert {"core user by phone", "Supabase auth user by phone"} <= set(result.search.candidates[0].found)
        view = result.matches[0]
        assert view.stores["core"]["phone"] == r["phone"] and view.stores["supabase"]["phone"] != e164
        assert view.drift == [] and "sync.field_drift" not in view.finding_ids
        row = {c["field"]: c for c in view.comparison}
        assert row["phone"]["differs"] == [] and row["email"]["differs"] == []
        assert view.stores["supabase"]["email"] != view.stores["core"]["email"]  # raw values differ, rules agree
        assert _one(stores, r["phone"]).uid == r["uid"]


def test_a_name_fragment_lists_the_candidates(stores: Any) -> None:
    core = _rows(stores.core, "SELECT u.firebase_uid AS uid, p.full_name FROM patients p JOIN users u ON u.id = p.user_id")
    sb = _rows(stores.supabase, "SELECT raw_user_meta_data ->> 'firebase_uid' AS uid, raw_user_meta_data ->> 'name' AS full_name "
                                "FROM auth.users WHERE raw_user_meta_data ->> 'firebase_uid' IS NOT NULL")
    last = sorted({r["full_name"].split()[-1] for r in core})[0]
    fragment = f"  {last[:-1].upper()} "
    expected = {r["uid"] for r in core + sb if r["full_name"] and fragment.strip().lower() in normalize.name(r["full_name"])}
    assert 1 < len(expected) <= MAX_MATCHES
    found = search(stores, fragment)
    assert found.query.kind == "name" and set(found.uids) == expected and not found.truncated
    assert all(c.name and fragment.strip().lower() in c.name.lower() for c in found.candidates)
    full = lookup(stores, fragment)
    assert [m.uid for m in full.matches] == found.uids  # several patients: several matches
    # the most common two letters: the list holds at most MAX_MATCHES and says when there are more
    assert search(stores, "a").message == TOO_SHORT
    names = {r["uid"]: normalize.name(r["full_name"]) for r in core + sb if r["full_name"]}
    bigrams = {n[i:i + 2] for n in names.values() for i in range(len(n) - 1) if n[i:i + 2].isalpha()}
    common = max(sorted(bigrams), key=lambda b: sum(b in n for n in names.values()))
    matching = {u for u, n in names.items() if common in n}
    wide = search(stores, common.upper())
    assert len(wide.candidates) == min(len(matching), MAX_MATCHES) and set(wide.uids) <= matching
    assert wide.truncated == (len(matching) > MAX_MATCHES) and len(matching) > MAX_MATCHES


WEIRD = [
    "", " ", "a", "\t\n", "''", '"', "' OR '1'='1", "'; DROP TABLE users; --", "\"; DELETE FROM patients; --",
    "robert'); DROP TABLE students;--@example.com", "%%", "__", "\\\\", "a%b_c\\", "\x00\x00abc", "李小龙", "Ωμέγα Ψ",
    "محمد", "😀😀", "x" * 10_000, "9" * 40, "+++++++", "00000000-0000-0000-0000-000000000000", "@@", "a@", "+1",
    "12345678901234567890", "Robert'); --",
]


@pytest.mark.parametrize("raw", WEIRD, ids=lambda s: repr(s[:20]))
def test_bad_input_is_a_clear_answer_never_an_error(stores: Any, raw: str) -> None:
    result = lookup(stores, raw)
    assert result.matches == [] and not result.search.down
    assert result.search.message in (NOT_FOUND, TOO_SHORT, TOO_LONG)
    doc = result.to_json()
    assert doc["matches"] == [] and doc["message"] in (NOT_FOUND, TOO_SHORT, TOO_LONG)
    json.dumps(doc)


def test_the_stores_are_untouched_by_bad_input(stores: Any) -> None:
    before = stores.core.row_counts() | stores.supabase.row_counts()
    for raw in WEIRD:
        lookup(stores, raw)
    assert stores.core.row_counts() | stores.supabase.row_counts() == before


def test_unknown_identifiers_are_not_found(stores: Any) -> None:
    for raw in ("nobody@nowhere.example", "+1 212 555 0199", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "Nonexistent Person",
                "11111111-2222-4333-8444-555555555555"):
        assert search(stores, raw).message == NOT_FOUND, raw


def test_a_store_that_is_down_shows_as_down_while_the_others_answer(demo: Any, normal: dict[str, Any],
                                                                    monkeypatch: Any) -> None:
    for k, v in _down_env(demo).items():
        monkeypatch.setenv(k, v)
    stores = open_stores(load_settings())
    try:
        result = lookup(stores, normal["email"])
        assert set(result.search.down) == {"firebase_auth", "firestore"}
        view = result.matches[0]
        assert view.uid == normal["uid"]
        assert [view.state(p) for p in PARTS] == ["down", "down", "present", "present"]
        assert "cannot connect" in view.down["firebase_auth"]
        assert "sync.core_user_missing_in_firebase" not in view.finding_ids  # unknown, not missing
        assert view.documents and view.connections
        miss = lookup(stores, "nobody@nowhere.example")
        assert miss.matches == [] and miss.search.message.startswith(NOT_FOUND)
        assert "Firebase Auth" in miss.search.message and "down" in miss.search.message
    finally:
        stores.dispose()


@pytest.fixture(scope="module")
def known(demo: Any) -> dict[str, Any]:
    """The demo's stores and some of its patients as core holds them (uid, email, phone, ids)."""
    demo.ensure()
    stores = demo.stores()
    with stores.core.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(
            "SELECT u.firebase_uid, u.email, u.phone, u.id::text AS user_id, p.id::text AS patient_id "
            "FROM users u JOIN patients p ON p.user_id = u.id "
            "WHERE u.role = 'PATIENT' AND u.firebase_uid IS NOT NULL AND u.email ~ '^[^@\\s]+@[^@\\s]+$' "
            "AND u.phone ~ '^\\+1[0-9]{10}$' ORDER BY u.firebase_uid LIMIT 60"))]
    assert len(rows) >= 20
    yield {"stores": stores, "patients": rows}
    stores.dispose()


def _check_answer(s: Search) -> None:
    assert isinstance(s, Search)
    # every store answered: no input makes a store fail (a SQL error would show here as "down")
    assert s.down == {}, (s.query, s.down)
    assert len(s.candidates) <= MAX_MATCHES
    assert all(isinstance(c.uid, str) and c.uid for c in s.candidates)
    if s.candidates:
        assert s.message is None
    else:
        assert isinstance(s.message, str) and s.message and "\n" not in s.message


@settings(max_examples=1000, deadline=None, suppress_health_check=SUPPRESS)
@given(q=_query())
def test_patient_search_answers_any_input(known: dict[str, Any], q: str) -> None:
    _check_answer(search(known["stores"], q))


def _phone_forms(e164: str) -> list[str]:
    d = e164[2:]
    return [e164, f"+1 ({d[:3]}) {d[3:6]}-{d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}", f"({d[:3]}) {d[3:6]} {d[6:]}",
            f"{d[:3]}.{d[3:6]}.{d[6:]}", f"  +1{d}  "]


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(data=hs.data())
def test_known_patient_is_found_however_typed(known: dict[str, Any], data: Any) -> None:
    p = data.draw(hs.sampled_from(known["patients"]))
    how = data.draw(hs.sampled_from(["email", "phone", "uid", "user_id", "patient_id"]))
    if how == "email":
        e = p["email"]
        q = data.draw(hs.sampled_from([e, e.upper(), e.swapcase(), f"  {e}\t", e.title()]))
    elif how == "phone":
        q = data.draw(hs.sampled_from(_phone_forms(p["phone"])))
    elif how == "uid":
        q = data.draw(hs.sampled_from([p["firebase_uid"], f" {p['firebase_uid']} "]))
    else:
        q = data.draw(hs.sampled_from([p[how], p[how].upper(), p[how].replace("-", "")]))
    s = search(known["stores"], q)
    _check_answer(s)
    assert p["firebase_uid"] in s.uids, (how, q, s.message)


def test_firestore_profiles_are_read_by_document_id_not_by_field(stores: Any, normal: dict[str, Any]) -> None:
    """Firestore is read by document id, the UIDs the indexed stores found, and the profile's fields
    are compared normalised: a profile holding the patient's email in another case and the phone
    in national format is still found by email and by phone (a field query matches exact strings
    only), and another profile holding the same email, which no indexed store knows, is not asked
    for (a field query would list it). An identifier only the profile holds is found all the same,
    by the field-query fallback that runs when every other store found nothing."""
    db = stores.firebase.db
    ref = db.collection("patients").document(normal["uid"])
    before = ref.get().to_dict()
    phone = normal["phone"]
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    stray = db.collection("patients").document("zzStrayProfileWithoutAnyUser01")
    only_firestore = "+1 212 555 0142"
    assert search(stores, only_firestore).message == NOT_FOUND
    try:
        ref.set({**before, "email": f"  {normal['email'].upper()} ", "phone": national})
        stray.set({"full_name": "Stray Profile", "email": normal["email"].strip().lower(), "phone": phone})
        for q, how in ((normal["email"], "email"), (phone, "phone"), (national, "phone")):
            found = search(stores, q)
            assert found.uids == [normal["uid"]], (q, found.uids)
            assert f"Firestore profile by {how}" in found.candidates[0].found, (q, found.candidates[0].found)
        ref.set({**before, "phone": normalize.phone(only_firestore)})
        found = search(stores, only_firestore)
        assert found.uids == [normal["uid"]] and found.candidates[0].found == ["Firestore profile by phone"]
    finally:
        ref.set(before)
        stray.delete()


KEYED_CHECKS = sorted(cid for cid, c in REGISTRY.items() if c.keyed)


def test_the_keyed_sql_checks_are_the_ones_the_patient_view_filters() -> None:
    """Each SQL check the patient view filters by a patient's keys reads only those rows itself
    (`:only_keys`, by its table's key), so a lookup never evaluates the check over the whole table."""
    assert set(KEYED_CHECKS) == set(JOB_CHECKS) | set(DOCUMENT_CHECKS)


@pytest.mark.parametrize("check_id", KEYED_CHECKS)
def test_a_keyed_check_asked_for_some_keys_reports_exactly_those_the_full_check_reports(
        demo: Any, stores: Any, check_id: str) -> None:
    """The file with :only_keys NULL (every run) gives the planted keys; asked for half of them and
    for rows it does not report, it gives exactly that half."""
    planted = demo.ensure()["planted"][check_id]["keys"]
    check = REGISTRY[check_id]
    store = stores.get(check.store)
    assert check.params is not None
    full = store.keys(check.sql, check.params(stores.settings))
    assert full == sorted(planted)
    table = "sync_jobs" if check_id in JOB_CHECKS else "public.documents"
    with store.read() as conn:
        others = [str(r[0]) for r in conn.execute(text(f"SELECT id FROM {table} ORDER BY id LIMIT 20"))]
        wanted = full[: max(1, len(full) // 2)]
        asked = wanted + [k for k in others if k not in full][:10]
        assert sql_check_keys(conn, stores.settings, check_id, asked) == set(wanted)
        assert sql_check_keys(conn, stores.settings, check_id, []) == set()
