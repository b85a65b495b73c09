"""The demo: its manifest agrees with the data (counted here with queries of our own, written
differently from the checks'), builds are deterministic, and it leaves no stray process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lib.checks.ids import CHECK_IDS, CHECKS
from lib.demo.generate import build
from lib.sqlfiles import adhoc
from lib.stores.postgres import make_engine

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

# Our own counting queries (GROUP BY / LEFT JOIN forms, not the checks' window functions and
# NOT EXISTS) for the planted row defects of the two PostgreSQL stores. Each returns the keys.
CORE_QUERIES = {
    "orphan.documents_patient": "SELECT d.id::text FROM documents d LEFT JOIN patients p ON p.id = d.patient_id "
                                "WHERE p.id IS NULL",
    "orphan.session_notes_patient": "SELECT n.id::text FROM session_notes n LEFT JOIN patients p "
                                    "ON p.id = n.patient_id WHERE p.id IS NULL",
    "orphan.appointments_patient": "SELECT a.id::text FROM appointments a WHERE a.patient_id NOT IN "
                                   "(SELECT user_id FROM patients)",
    "orphan.prescriptions_appointment": "SELECT r.id::text FROM prescriptions r LEFT JOIN appointments a "
                                        "ON a.id = r.appointment_id WHERE a.id IS NULL",
    "orphan.medications_document": "SELECT m.id::text FROM medications m LEFT JOIN documents d "
                                   "ON d.id = m.document_id WHERE m.document_id IS NOT NULL AND d.id IS NULL",
    "sync.jobs_failed": "SELECT id::text FROM sync_jobs WHERE status = 'failed'",
    "pulse.sync_lag": "SELECT id::text FROM sync_jobs WHERE status = 'succeeded' "
                      "AND updated_at > now() - interval '1 hour' AND updated_at > created_at + interval '10 minutes'",
    "dup.medications": "SELECT m.id::text FROM medications m WHERE m.document_id IS NOT NULL AND EXISTS ("
                       "SELECT 1 FROM medications o WHERE o.document_id = m.document_id "
                       "AND lower(o.name) = lower(m.name) AND o.strength IS NOT DISTINCT FROM m.strength "
                       "AND (o.created_at, o.id) < (m.created_at, m.id))",
    "dup.open_conversations": "SELECT c.id FROM conversations c WHERE c.status IN ('OPEN','SNOOZED') AND EXISTS ("
                              "SELECT 1 FROM conversations o WHERE o.status IN ('OPEN','SNOOZED') "
                              "AND o.psid = c.psid AND o.id <> c.id "
                              "AND (o.\"pageConnectionId\" = c.\"pageConnectionId\" "
                              "OR o.\"instagramConnectionId\" = c.\"instagramConnectionId\" "
                              "OR o.\"telegramConnectionId\" = c.\"telegramConnectionId\" "
                              "OR o.\"widgetConfigId\" = c.\"widgetConfigId\") "
                              "AND o.\"lastMessageAt\" > c.\"lastMessageAt\")",
}
SUPABASE_QUERIES = {
    "orphan.rag_chunks_document": "SELECT c.id::text FROM rag_chunks c LEFT JOIN documents d "
                                  "ON d.id = c.document_id WHERE d.id IS NULL",
    "token.expired_active": "SELECT id::text FROM patient_doctor_connections WHERE is_active "
                            "AND token_expires_at < now()",
    "token.unused_expired": "SELECT id::text FROM patient_doctor_connections WHERE doctor_firebase_uid IS NULL "
                            "AND token_expires_at < now()",
    "dup.access_tokens": "SELECT c.id::text FROM patient_doctor_connections c WHERE EXISTS (SELECT 1 FROM "
                         "patient_doctor_connections o WHERE o.access_token = c.access_token "
                         "AND (o.created_at, o.id) < (c.created_at, c.id))",
    "pulse.documents_unprocessed": "SELECT id::text FROM documents WHERE status <> 'processed' "
                                   "AND status <> 'failed' AND created_at + interval '30 minutes' < now()",
    "orphan.storage_objects": "SELECT name FROM storage.objects WHERE bucket_id = 'documents' AND name NOT IN ("
                              "SELECT split_part(split_part(file_url, '/documents/', 2), '?', 1) FROM documents "
                              "WHERE file_url IS NOT NULL)",
}


def _keys(url: str, sql: str) -> list[str]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return sorted(r[0] for r in conn.execute(text(sql)))
    finally:
        eng.dispose()


def test_manifest_agrees_with_the_data(demo: Any, stores: Any) -> None:
    man = demo.ensure()
    assert set(man["planted"]) == set(CHECK_IDS)
    for cid, sql in CORE_QUERIES.items():
        assert _keys(stores.core._url, sql) == man["planted"][cid]["keys"], cid
    for cid, sql in SUPABASE_QUERIES.items():
        assert _keys(stores.supabase._url, sql) == man["planted"][cid]["keys"], cid
    # cross-store plants, looked up key by key in the other store
    missing = man["planted"]["sync.firebase_user_missing_in_core"]["keys"]
    assert len(stores.firebase.get_users(missing)) == len(missing)
    in_core = _keys(stores.core._url, "SELECT firebase_uid FROM users WHERE firebase_uid IS NOT NULL")
    assert not set(missing) & set(in_core)
    gone = man["planted"]["sync.core_user_missing_in_firebase"]["keys"]
    assert set(gone) <= set(in_core) and stores.firebase.get_users(gone) == []
    no_profile = man["planted"]["sync.profile_missing"]["keys"]
    assert stores.firebase.get_profiles(no_profile) == {}
    assert stores.core.scalar(adhoc("SELECT count(*) FROM users u JOIN patients p ON p.user_id = u.id "
                              "WHERE u.firebase_uid = ANY(:u)"), {"u": no_profile}) == len(no_profile)
    # every planted drift key names the values the stores really hold, and they really differ
    keys = [k.split("|") for k in man["planted"]["sync.field_drift"]["keys"]]
    uids = sorted({k[0] for k in keys})
    held: dict[str, dict[tuple[str, str], Any]] = {u: {} for u in uids}
    for u in stores.firebase.get_users(uids):
        held[u["uid"]].update({("firebase_auth", "email"): u["email"], ("firebase_auth", "phone"): u["phone"]})
    for uid, doc in stores.firebase.get_profiles(uids).items():
        held[uid].update({("firestore", "email"): doc.get("email"), ("firestore", "phone"): doc.get("phone")})
    for r in stores.core.rows(adhoc("SELECT firebase_uid, email, phone FROM users WHERE firebase_uid = ANY(:u)"), {"u": uids}):
        held[r["firebase_uid"]].update({("core", "email"): r["email"], ("core", "phone"): r["phone"]})
    for r in stores.supabase.rows(adhoc("SELECT DISTINCT ON (raw_user_meta_data->>'firebase_uid') "
                                  "raw_user_meta_data->>'firebase_uid' AS uid, email, phone FROM auth.users "
                                  "WHERE deleted_at IS NULL AND raw_user_meta_data->>'firebase_uid' = ANY(:u) "
                                  "ORDER BY raw_user_meta_data->>'firebase_uid', created_at"), {"u": uids}):
        held[r["uid"]].update({("supabase", "email"): r["email"], ("supabase", "phone"): r["phone"]})
    for uid, field, a, b in keys:
        (sa, va), (sb, vb) = a.split("=", 1), b.split("=", 1)
        assert held[uid][(sa, field)] == va and held[uid][(sb, field)] == vb, (uid, field, sa, sb)
        assert va.strip().lower() != vb.strip().lower()
    # the schema plants are really in the catalog
    assert stores.core.scalar(adhoc("SELECT NOT convalidated FROM pg_constraint "
                                    "WHERE conname = 'appointments_patient_id_fkey'")) is True
    assert stores.supabase.scalar(adhoc("SELECT count(*) FROM pg_constraint "
                                        "WHERE conname = 'patient_doctor_connections_access_token_key'")) == 0


def test_every_check_has_a_plant_in_the_demo_generator() -> None:
    """Adding a check means adding its plant in lib/demo/generate.py: name the check that has none."""
    planted = build(300, 11, anchor=ANCHOR).manifest()["planted"]
    assert set(planted) == set(CHECK_IDS)
    for c in CHECKS:
        if c.unplanted:
            assert planted[c.id]["count"] == 0, f"{c.id} is planted although its entry says: {c.unplanted}"
        else:
            assert planted[c.id]["count"] > 0, f"{c.id} has no plant in lib/demo/generate.py: add one"


def test_generator_is_deterministic() -> None:
    a = build(400, 3, anchor=ANCHOR)
    b = build(400, 3, anchor=ANCHOR)
    assert a.core == b.core and a.supabase == b.supabase
    assert a.firebase_users == b.firebase_users and a.firestore == b.firestore
    assert a.manifest() == b.manifest()
    c = build(400, 4, anchor=ANCHOR)
    assert c.core["users"] != a.core["users"]


def _dump(stores: Any) -> str:
    h = hashlib.sha256()
    for store, tables in ((stores.core, ["users", "patients", "appointments", "documents", "medications",
                                         "prescriptions", "session_notes", "sync_jobs", "conversations"]),
                          (stores.supabase, ["auth.users", "documents", "rag_chunks", "patient_doctor_connections",
                                             "storage.objects"])):
        for t in tables:
            frame = store.frame(adhoc(f"SELECT * FROM {t} ORDER BY 1"))
            h.update(frame.to_csv(index=False).encode())
    users = sorted(stores.firebase.iter_users(), key=lambda u: u["uid"])
    h.update(json.dumps(users, sort_keys=True).encode())
    profiles = sorted(stores.firebase.iter_profiles(), key=lambda p: p["uid"])
    h.update(json.dumps(profiles, sort_keys=True, default=str).encode())
    return h.hexdigest()


def test_two_builds_with_same_n_and_seed_are_identical(demo: Any) -> None:
    from lib.demo import run_demo

    digests = []
    for _ in range(2):
        run_demo(demo.settings, patients=150, seed=21, reset=True, anchor=ANCHOR)
        stores = demo.stores()
        try:
            digests.append(_dump(stores))
        finally:
            stores.dispose()
    demo.dirty = True
    assert digests[0] == digests[1]


def _processes_under(path: Path) -> list[str]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(") ", 1)[1][0]
        except OSError:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        if (str(path) in cmd or cwd.startswith(str(path))) and state != "Z":
            out.append(f"{entry.name}: {cmd[:120]}")
    return out


@pytest.mark.timeout(600)
def test_start_and_stop_leave_no_stray_process() -> None:
    """A demo of its own in another data folder: started by the command, stopped by `demo --stop`."""
    folder = Path(tempfile.mkdtemp(prefix="hbs", dir="/tmp"))
    env = {**os.environ, "HEALBRIDGE_DATA_DIR": str(folder)}
    try:
        proc = subprocess.run([sys.executable, "-m", "lib", "demo", "--patients", "100", "--json"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=400)
        assert proc.returncode == 0, proc.stderr
        state = json.loads((folder / "demo.json").read_text())
        pids = [state["auth"]["pid"], state["firestore"]["pid"]]
        assert _processes_under(folder), "the demo's processes run with the data folder in their command line"
        proc = subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        time.sleep(0.5)
        assert _processes_under(folder) == []
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or "Z" in (Path(f"/proc/{pid}/stat").read_text().split()[2])
        proc = subprocess.run([sys.executable, "-m", "lib", "status"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 2 and "python -m lib demo" in proc.stderr
    finally:
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                       timeout=120)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
