"""Each store adapter against the real demo stores: reads are read-only with a statement timeout and
an application name, Firebase is listed in pages and looked up in batches, a dead store answers
with a clear sentence, and initialising twice is safe."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lib.config import load_settings
from lib.errors import StoreUnavailable
from lib.sqlfiles import adhoc
from lib.stores import Stores
from lib.stores.core import CoreStore
from lib.stores.firebase import PROFILE_FIELDS, FirebaseStore


def test_postgres_ping_and_row_counts(stores: Any, demo: Any) -> None:
    for store in (stores.core, stores.supabase):
        p = store.ping()
        assert p["ok"] and p["version"].startswith("PostgreSQL ") and p["latency_ms"] >= 0
    counts = stores.core.row_counts()
    assert set(counts) == {"users", "patients", "doctors", "appointments", "prescriptions", "documents",
                           "medications", "session_notes", "sync_jobs", "conversations"}
    assert counts["patients"] == stores.core.scalar(adhoc("SELECT count(*) FROM patients"))
    sb = stores.supabase.row_counts()
    assert set(sb) == {"auth.users", "documents", "rag_chunks", "patient_doctor_connections", "storage.objects"}
    assert all(isinstance(v, int) and v > 0 for v in sb.values())


def test_big_tables_take_the_planners_estimate_and_say_so(stores: Any) -> None:
    """With estimate_above, a table the planner puts at that many rows or more gets its estimate and
    is named in `estimated`; the others are counted exactly, as without it."""
    exact = stores.core.row_counts()
    planned = {r["t"]: int(r["n"]) for r in stores.core.rows(adhoc(
        "SELECT c.relname AS t, c.reltuples::bigint AS n FROM pg_class c "
        "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r'"))}
    cut = sorted(exact.values())[len(exact) // 2]  # about half the tables above it
    got = stores.core.row_counts(cut)
    big = {t for t in exact if planned.get(t, -1) >= cut}
    assert got.estimated == big and big and big != set(exact)
    assert {t: got[t] for t in big} == {t: planned[t] for t in big}
    assert {t: got[t] for t in exact if t not in big} == {t: exact[t] for t in exact if t not in big}
    assert stores.core.row_counts().estimated == set()


def test_a_check_run_holds_the_size_of_its_firebase_listings(stores: Any) -> None:
    """The run's `listed` (what the Stores page shows instead of listing Auth again) is the size of
    each Firebase part; FirebaseStore.row_counts takes it as given and counts the rest."""
    from lib.checks.runner import run_checks

    run = run_checks(stores)
    users, profiles = stores.firebase.count_users(), stores.firebase.count_profiles()
    assert {p: v["rows"] for p, v in run.listed.items()} == {"fb_users": users, "fs_profiles": profiles}
    assert all(run.started_at.isoformat(timespec="seconds") == v["at"] for v in run.listed.values())
    assert stores.firebase.row_counts({"auth users": 7}) == {"auth users": 7, "patients (Firestore)": profiles}


def test_reads_are_read_only_with_timeout_and_app_name(stores: Any) -> None:
    with pytest.raises(StoreUnavailable, match="read-only transaction"):
        stores.core.rows(adhoc("UPDATE users SET verified = verified RETURNING id"))
    with stores.core.read() as conn:
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        assert conn.exec_driver_sql("SHOW application_name").scalar() == "healbridge-ops"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
    with pytest.raises(StoreUnavailable, match="statement timeout"):
        with stores.core.read(timeout_ms=200) as conn:
            conn.exec_driver_sql("SELECT pg_sleep(2)")


def test_native_reads_are_read_only_text_with_timeout_and_app_name(stores: Any) -> None:
    probe = adhoc("SELECT current_setting('transaction_read_only') AS ro, current_setting('application_name') AS app, "
                  "current_setting('statement_timeout') AS t, '' AS empty, NULL::text AS missing, 'é,\"x' AS x")
    with stores.core.native_stream(probe) as reader:
        got = reader.read_all()
    assert got.schema.names == ["ro", "app", "t", "empty", "missing", "x"]
    assert all(str(f.type) == "string" for f in got.schema)
    # as arrow_stream gives them: '' and NULL both null, text as it is
    assert got.to_pylist() == [{"ro": "on", "app": "healbridge-ops", "t": "5min", "empty": None, "missing": None,
                                "x": 'é,"x'}]
    with stores.core.arrow_stream(probe) as reader:
        assert reader.read_all().to_pylist() == got.to_pylist()
    with pytest.raises(StoreUnavailable, match="read-only transaction"):
        with stores.core.native_stream(adhoc("UPDATE users SET verified = verified RETURNING id::text")) as reader:
            reader.read_all()
    with pytest.raises(ValueError, match="text columns only"):
        with stores.core.native_stream(adhoc("SELECT count(*) AS n FROM users")) as reader:
            reader.read_all()
    keys = adhoc("SELECT firebase_uid, id::text AS id FROM users WHERE firebase_uid IS NOT NULL ORDER BY id")
    with stores.core.native_stream(keys) as a, stores.core.arrow_stream(keys) as b:
        assert a.read_all().to_pylist() == b.read_all().to_pylist()


def test_frame_streams_with_bound_parameters(stores: Any) -> None:
    frame = stores.core.frame(adhoc("SELECT id::text AS id, role FROM users WHERE role = :r AND email LIKE :p"),
                              {"r": "DOCTOR", "p": "dr.%'; DROP TABLE users; --%"})
    assert frame.empty  # the quote is data, not SQL
    doctors = stores.core.frame(adhoc("SELECT id::text AS id FROM users WHERE role = :r"), {"r": "DOCTOR"})
    assert len(doctors) == stores.core.scalar(adhoc("SELECT count(*) FROM users WHERE role = 'DOCTOR'"))
    assert stores.core.scalar(adhoc("SELECT count(*) FROM users")) > 0  # still there


def test_unreachable_postgres_is_one_clear_sentence() -> None:
    dead = CoreStore("postgresql+psycopg://ops:s3cretpw@127.0.0.1:1/core", connect_timeout_s=2)
    t0 = time.monotonic()
    p = dead.ping()
    assert not p["ok"] and time.monotonic() - t0 < 10
    assert p["error"] == "core: cannot connect to the database (is it running and reachable?)"
    with pytest.raises(StoreUnavailable) as err:
        dead.rows("snapshot/core_users")
    assert "s3cretpw" not in str(err.value)
    with pytest.raises(StoreUnavailable) as err:
        with dead.native_stream("snapshot/core_user_keys") as reader:
            reader.read_all()
    assert str(err.value) == "core: cannot connect to the database (is it running and reachable?)"
    dead.dispose()


def test_firebase_lists_in_pages_and_looks_up_in_batches(stores: Any, demo: Any) -> None:
    fb = stores.firebase
    everyone = list(fb.iter_users())
    paged = list(fb.iter_users(page_size=37))
    assert len(paged) == len(everyone) > 100
    assert sorted(u["uid"] for u in paged) == sorted(u["uid"] for u in everyone)
    uids = [u["uid"] for u in everyone[:250]] + ["no-such-uid"]
    found = fb.get_users(uids)  # three batches of at most 100
    assert sorted(u["uid"] for u in found) == sorted(uids[:250])
    roles = {u["role"] for u in everyone}
    assert {"patient", "doctor", None} <= roles
    profiles = fb.profiles_table(PROFILE_FIELDS)
    assert profiles.num_rows == fb.count_profiles() > 0
    assert set(profiles.column_names) >= {"uid", "email", "phone", "postgres_user_id"}


def test_firebase_initialises_twice_and_keeps_env_clean(stores: Any) -> None:
    import os

    fb = stores.firebase
    again = FirebaseStore(fb.project_id, auth_emulator_host=fb.auth_emulator_host,
                          firestore_emulator_host=fb.firestore_emulator_host)
    assert again.app is fb.app
    assert again.ping()["ok"]
    # the emulator hosts never leak into the environment (they would read as "configured")
    assert "FIREBASE_AUTH_EMULATOR_HOST" not in os.environ and "FIRESTORE_EMULATOR_HOST" not in os.environ
    assert load_settings().demo


def test_unreachable_firebase_is_reported_per_part() -> None:
    fb = FirebaseStore("demo-healbridge", auth_emulator_host="127.0.0.1:1", firestore_emulator_host="127.0.0.1:2",
                       timeout_s=3)
    t0 = time.monotonic()
    p = fb.ping()
    assert time.monotonic() - t0 < 20
    assert not p["ok"]
    assert p["parts"]["auth"]["error"] == "firebase auth: cannot connect (is it running and reachable?)"
    assert p["parts"]["firestore"]["error"] == "firebase firestore: cannot connect (is it running and reachable?)"
    with pytest.raises(StoreUnavailable, match="firebase auth"):
        fb.users_table()


def test_not_configured_store_says_so(stores: Any) -> None:
    partial = Stores(settings=stores.settings, demo=False, core=stores.core, supabase=None, firebase=None, ops_url=None)
    result = partial.ping()
    assert result["core"]["ok"] and result["core"]["configured"]
    assert result["supabase"] == {"ok": False, "configured": False, "latency_ms": None, "version": None,
                                  "error": "supabase: not configured"}
