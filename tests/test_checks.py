"""The check engine on the real demo stores: every check finds exactly what the demo planted, at
two sizes; nothing on clean data; the edge cases the spec says must not count do not; a store that
goes down mid-session leaves the others reporting."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lib.checks.ids import AREA_PAGE, CHECK_IDS, CHECKS, HISTORIES, SEVERITY_RANK, STORE_OF_PART
from lib.checks.registry import REGISTRY
from lib.checks.runner import exit_status, run_checks
from lib.sqlfiles import adhoc
from tests.support import _write

ROOT = Path(__file__).resolve().parent.parent


def test_registry_covers_every_check_id() -> None:
    assert set(REGISTRY) == set(CHECK_IDS)
    assert len(CHECK_IDS) == len(set(CHECK_IDS)) == len(CHECKS)


def test_every_check_entry_carries_all_it_needs() -> None:
    """One entry per check says everything: what it is, how it runs, where its runbook section is."""
    for c in CHECKS:
        assert c.severity in SEVERITY_RANK, c.id
        assert c.area in AREA_PAGE, f"{c.id}: area {c.area!r} has no report page in AREA_PAGE"
        assert set(c.stores) <= set(STORE_OF_PART), c.id
        assert c.demo_history in HISTORIES, c.id
        assert c.title and not re.search(r"\bseed\b", c.title, re.I), f"{c.id}: the title names a seed: {c.title!r}"
        # GitHub's anchor of a heading that is exactly the id
        assert c.runbook_anchor == c.id.replace(".", "") and c.runbook_path == f"docs/checks.md#{c.runbook_anchor}"
        r = REGISTRY[c.id]
        assert (r.id, r.info, r.kind) == (c.id, c, c.kind)
        if r.kind == "sql":
            assert r.sql is not None and (ROOT / "sql" / f"{r.sql}.sql").is_file(), f"{c.id}: no file sql/{r.sql}.sql"
            assert {r.store} == set(c.store_names), c.id
        elif r.kind == "snapshot":
            assert callable(r.fn) and r.parts, c.id


# Each shared table lives once, in lib.checks.ids; lib/web.py and lib/patient.py are being split into
# packages by others and still hold copies (they import these names when they move).
SHARED_TABLES = {"STORE_OF_PART": STORE_OF_PART, "AREA_PAGE": AREA_PAGE, "SEVERITY_RANK": SEVERITY_RANK}
COPIES_PENDING = {"lib/web.py", "lib/patient.py"}


def test_the_shared_tables_have_one_copy() -> None:
    copies = []
    for path in sorted((ROOT / "lib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "lib/checks/ids.py" or rel in COPIES_PENDING:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                try:
                    value = ast.literal_eval(node)
                except ValueError:
                    continue
                copies += [f"{rel}:{node.lineno} copies {name}" for name, table in SHARED_TABLES.items()
                           if value == table]
    assert copies == [], "import these from lib.checks.ids instead: " + "; ".join(copies)


@pytest.mark.parametrize(("n", "seed"), [(300, 11), (1200, 5)])
def test_every_check_finds_exactly_the_planted_defects(demo: Any, n: int, seed: int) -> None:
    manifest = demo.ensure(n, seed)
    assert set(manifest["planted"]) == set(CHECK_IDS)
    stores = demo.stores()
    try:
        run = run_checks(stores)
    finally:
        stores.dispose()
    by_id = run.by_id()
    assert [r.id for r in run.results] == list(CHECK_IDS)
    for cid in CHECK_IDS:
        planted = manifest["planted"][cid]
        r = by_id[cid]
        assert r.error is None, (cid, r.error)
        assert r.count == planted["count"], (cid, r.count, planted["count"])
        assert r.keys == planted["keys"], cid  # the full key lists, not only the sample
        assert r.sample == planted["keys"][:20]
    # every check but one is planted at least once (the pair UNIQUE forbids the last; system.md)
    assert [c for c in CHECK_IDS if manifest["planted"][c]["count"] == 0] == ["dup.active_connections"]
    assert exit_status(run) == 1


def test_counts_stay_exact_when_keys_are_capped(demo: Any) -> None:
    """A finding keeps its first `keys_limit` keys in order (50,000 by default); its count stays the
    whole count, for the SQL checks, the snapshot checks and the one pushed down to the database."""
    manifest = demo.ensure(300, 11)
    stores = demo.stores()
    try:
        run = run_checks(stores, keys_limit=3)
    finally:
        stores.dispose()
    for r in run.results:
        planted = manifest["planted"][r.id]
        assert (r.count, r.keys) == (planted["count"], planted["keys"][:3]), r.id
    capped = {r.id for r in run.results if (r.count or 0) > 3}
    assert {"sync.field_drift", "constraint.missing"} <= capped


def test_firebase_listing_reused_within_max_age(demo: Any) -> None:
    """The dashboard's periodic re-run reuses a recent Firebase listing (same results, no listing);
    a run that asks for none lists again."""
    demo.ensure(300, 11)
    stores = demo.stores()
    fb_checks = ["sync.firebase_user_missing_in_core", "sync.profile_missing", "sync.field_drift",
                 "orphan.connections_patient", "orphan.supabase_documents_patient"]
    try:
        listed = run_checks(stores, only=fb_checks)
        reused = run_checks(stores, only=fb_checks, firebase_max_age_s=300)
        again = run_checks(stores, only=fb_checks, firebase_max_age_s=0)
    finally:
        stores.dispose()
    assert listed.firebase_reused_s is None and again.firebase_reused_s is None
    assert reused.firebase_reused_s is not None and 0 <= reused.firebase_reused_s < 300
    assert [(r.count, r.keys) for r in reused.results] == [(r.count, r.keys) for r in listed.results]
    assert [(r.count, r.keys) for r in again.results] == [(r.count, r.keys) for r in listed.results]


def test_clean_demo_counts_zero(demo: Any) -> None:
    manifest = demo.ensure(300, 11, clean=True)
    assert all(v["count"] == 0 for v in manifest["planted"].values())
    stores = demo.stores()
    try:
        run = run_checks(stores)
    finally:
        stores.dispose()
    assert all(r.error is None for r in run.results)
    assert {r.id: r.count for r in run.results if r.count} == {}
    assert exit_status(run) == 0


def test_dup_active_connections_once_the_pair_unique_is_dropped(demo: Any, stores: Any) -> None:
    """The fix sequence drops the pair UNIQUE; then duplicate active connections can exist and are found."""
    url = stores.supabase._url
    demo.dirty = True
    now = datetime.now(UTC)
    _write(url, "ALTER TABLE patient_doctor_connections "
                "DROP CONSTRAINT patient_doctor_connections_patient_firebase_uid_doctor_fire_key")
    ids = [str(uuid.uuid4()) for _ in range(4)]
    rows = [
        # three active, unexpired rows for one pair: the two older are surplus
        (ids[0], "pat-A", "doc-A", True, now + timedelta(days=9), now - timedelta(days=3)),
        (ids[1], "pat-A", "doc-A", True, now + timedelta(days=9), now - timedelta(days=2)),
        (ids[2], "pat-A", "doc-A", True, now + timedelta(days=9), now - timedelta(days=1)),
        # inactive, or expired, or without a doctor: must not count
        (ids[3], "pat-A", "doc-A", False, now + timedelta(days=9), now),
        (str(uuid.uuid4()), "pat-A", "doc-A", True, now - timedelta(days=1), now),
        (str(uuid.uuid4()), "pat-B", None, True, now + timedelta(days=9), now),
        (str(uuid.uuid4()), "pat-B", None, True, now + timedelta(days=9), now),
    ]
    for i, (cid, p, d, active, exp, created) in enumerate(rows):
        _write(url, "INSERT INTO patient_doctor_connections (id, patient_firebase_uid, doctor_firebase_uid, "
                    "access_token, token_expires_at, is_active, created_at) VALUES (:i, :p, :d, :t, :e, :a, :c)",
               {"i": cid, "p": p, "d": d, "t": f"tok-{i}-{uuid.uuid4()}", "e": exp, "a": active, "c": created})
    run = run_checks(stores, only=["dup.active_connections"])
    assert run.results[0].keys == sorted(ids[:2])


def test_edge_cases_do_not_count(demo: Any, stores: Any) -> None:
    """Each kind of near-miss next to one that counts, written straight into the stores."""
    demo.dirty = True
    core, sb = stores.core._url, stores.supabase._url
    before = run_checks(stores).by_id()
    now = datetime.now(UTC)
    # a pending job updated a minute ago is not stuck; one updated an hour ago is
    _write(core, "INSERT INTO sync_jobs (kind, status, created_at, updated_at) VALUES "
                 "('user', 'pending', now(), now() - interval '1 minute'), "
                 "('user', 'running', now(), now() - interval '1 hour')")
    # CLOSED duplicates of a conversation never count; a second OPEN does
    for cid, status, minutes in (("edge1", "CLOSED", 1), ("edge2", "CLOSED", 2), ("edge3", "OPEN", 3),
                                 ("edge4", "OPEN", 4)):
        _write(core, 'INSERT INTO conversations (id, "pageConnectionId", psid, status, "lastMessageAt", "createdAt") '
                     "VALUES (:i, 'page_edge', 'psid-edge', :s, now() - make_interval(mins => :m), now())",
               {"i": cid, "s": status, "m": minutes})
    # inactive expired tokens are not expired_active; an unused expired one is unused_expired
    _write(sb, "INSERT INTO patient_doctor_connections (id, patient_firebase_uid, doctor_firebase_uid, access_token, "
               "token_expires_at, is_active, created_at) VALUES "
               "(:a, 'pat-edge', 'doc-edge', 'edge-tok-1', :past, false, :past), "
               "(:b, 'pat-edge', NULL, 'edge-tok-2', :past, false, :past)",
           {"a": str(uuid.uuid4()), "b": (unused := str(uuid.uuid4())), "past": now - timedelta(days=2)})
    after = run_checks(stores).by_id()

    def delta(cid: str) -> set[str]:
        return set(after[cid].keys) - set(before[cid].keys)

    assert len(delta("sync.jobs_stuck")) == 1
    assert delta("dup.open_conversations") == {"edge4"}  # the older of the two OPEN; CLOSED never count
    assert delta("token.expired_active") == set()
    assert delta("token.unused_expired") == {unused}
    # orphan.connections_patient counts both rows: pat-edge is no Firebase user
    assert len(delta("orphan.connections_patient")) == 2


def test_demo_edge_plants_are_not_counted(demo: Any, stores: Any) -> None:
    """The demo plants near-misses beside each defect; check a few of them are really there and
    really uncounted: phones in other formats, an email in another case, a deleted Supabase user,
    a Firebase doctor with no core user."""
    demo.ensure()
    run = run_checks(stores).by_id()
    drift_uids = {k.split("|")[0] for k in run["sync.field_drift"].keys}
    core_phones = stores.core.rows("snapshot/core_users")
    formatted = [r for r in core_phones if r["phone"] and not r["phone"].startswith("+1") and "(" in r["phone"]]
    assert formatted, "the demo plants phones written in another format"
    assert not {r["firebase_uid"] for r in formatted} & drift_uids
    sb_upper = [r for r in stores.supabase.live_users().to_pylist() if r["email"] and r["email"] != r["email"].strip()]
    assert sb_upper and not {r["firebase_uid"] for r in sb_upper} & drift_uids
    fb = stores.firebase.users_table(("uid", "role")).to_pylist()
    doctors_without_core = {u["uid"] for u in fb if u["role"] == "doctor"} - {r["firebase_uid"] for r in core_phones}
    assert doctors_without_core
    assert not doctors_without_core & set(run["sync.firebase_user_missing_in_core"].keys)
    deleted = stores.supabase.rows(adhoc("SELECT id::text AS id FROM auth.users WHERE deleted_at IS NOT NULL"))
    assert deleted and not {r["id"] for r in deleted} & set(run["sync.supabase_user_unknown"].keys)


def test_check_command_json_and_history(demo: Any, stores: Any) -> None:
    demo.ensure()
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr  # the demo has error findings
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"generated_at", "stores", "findings"}
    assert datetime.strptime(doc["generated_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert set(doc["stores"]) == {"core", "supabase", "firebase"}
    assert all(s["ok"] and s["latency_ms"] >= 0 for s in doc["stores"].values())
    assert [f["check"] for f in doc["findings"]] == list(CHECK_IDS)
    for f in doc["findings"]:
        assert set(f) >= {"check", "severity", "count", "sample", "fix"}
        assert f["count"] == demo.manifest["planted"][f["check"]]["count"]
        assert len(f["sample"]) == min(20, f["count"])
    # the run is in the history, passes included
    from lib import history

    saved = {r["check_id"]: r for r in history.results(stores, doc["run_id"])}
    assert set(saved) == set(CHECK_IDS)
    assert saved["dup.active_connections"]["count"] == 0
    assert saved["sync.field_drift"]["sample"] == next(
        f["sample"] for f in doc["findings"] if f["check"] == "sync.field_drift")


def test_only_and_store_options(demo: Any) -> None:
    demo.ensure()
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json", "--only", "sync.jobs_failed",
                           "--only", "token.expiring_soon"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    doc = json.loads(proc.stdout)
    assert [f["check"] for f in doc["findings"]] == ["sync.jobs_failed", "token.expiring_soon"]
    assert proc.returncode == 1
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json", "--only", "token.expiring_soon"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0  # an info finding does not fail the run
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json", "--store", "firebase", "--store", "core"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    doc = json.loads(proc.stdout)  # the checks that read only Firebase and core (cli.md)
    assert doc["findings"] and any(
        {"firebase_auth", "firestore"} & set(REGISTRY[f["check"]].info.stores) for f in doc["findings"])
    assert all(set(REGISTRY[f["check"]].info.stores) <= {"core", "firebase_auth", "firestore"} for f in doc["findings"])
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--only", "no.such_check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Unknown check id 'no.such_check'" in proc.stderr


def test_store_down_mid_session_others_still_report(demo: Any) -> None:
    from lib.services import EmbeddedServices

    demo.ensure()
    services = EmbeddedServices(demo.settings)
    services.stop_part("firestore")
    try:
        proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json"], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 2
        doc = json.loads(proc.stdout)
        assert doc["stores"]["firebase"]["ok"] is False
        assert "firestore" in doc["stores"]["firebase"]["error"]
        assert doc["stores"]["core"]["ok"] and doc["stores"]["supabase"]["ok"]
        by = {f["check"]: f for f in doc["findings"]}
        for cid in ("sync.profile_missing", "sync.field_drift"):
            assert by[cid]["count"] is None and "firestore" in by[cid]["error"]
        # checks of the other stores (and of Firebase Auth) still ran and are right
        for cid in ("sync.firebase_user_missing_in_core", "orphan.documents_patient", "token.expired_active",
                    "constraint.missing"):
            assert by[cid]["count"] == demo.manifest["planted"][cid]["count"]
        status = subprocess.run([sys.executable, "-m", "lib", "status"], cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
        assert status.returncode == 2 and "NO" in status.stdout
    finally:
        services.start()
        demo.dirty = True  # the restarted emulator is empty
    proc = subprocess.run([sys.executable, "-m", "lib", "status", "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout


def test_configured_stores_outside_the_demo(demo: Any, stores: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only CORE_DATABASE_URL set (the demo's core database, reached as a configured store): core's
    checks run; those needing an unconfigured store report no count and say why."""
    demo.ensure()
    monkeypatch.setenv("CORE_DATABASE_URL", stores.core._url)
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["stores"]["core"]["ok"] and not doc["stores"]["supabase"]["ok"]
    by = {f["check"]: f for f in doc["findings"]}
    assert by["orphan.documents_patient"]["count"] == demo.manifest["planted"]["orphan.documents_patient"]["count"]
    assert by["token.expired_active"]["count"] is None
    assert by["token.expired_active"]["error"] == "supabase: not configured"
    assert by["sync.core_user_missing_in_firebase"]["count"] is None
    proc = subprocess.run([sys.executable, "-m", "lib", "check", "--json", "--store", "core", "--only",
                           "dup.core_users_email"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
