"""The vetted fixes on the real demo stores (embedded PostgreSQL and the Firebase emulators, no mocks).

For every fix, in the sensible order of system.md on one fresh demo: a support role is refused, a
tampered file is refused, plan changes nothing (every table and the catalog, byte for byte), an error
injected at the end of the fix leaves the data as before, two applies at the same time run exactly
once, the apply brings its own verification to 0 and leaves every unrelated check's keys unchanged,
a second apply changes nothing and says so, and every attempt is in the audit log. A blocked fix
refuses and names the blocking check; deleted rows are in their archive table, unchanged. At the end
every constraint, duplicate, orphan and access finding of core and Supabase that has a fix is 0,
except the duplicate users. Plus: the reviewed checksums, the lock timeout, the advisory lock, verification and
confirmation failures, the audit log being unavailable. The command line is in
test_cli_fix.py, the Fixes page in tests/pages/test_fixes.py."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from lib import fixes, reports
from lib.checks.ids import BY_ID, CHECK_IDS, CHECKS
from lib.errors import NotFound, OpsError
from lib.roles import Actor
from lib.sqlfiles import SqlFile, parse_header
from tests.support import CHECKS_MD_FIXES, check_keys

ONCALL = Actor("pytest", "oncall")
SUPPORT = Actor("pytest", "support")


# The findings no fix of checks.md resolves: duplicate users need a person; the advisor lints,
# the cross-store orphans and the storage checks have no fix.
NEEDS_A_PERSON = {"dup.core_users_email", "dup.core_users_phone", "dup.supabase_users_firebase_uid"}


# What each fix that deletes rows archives: (store, table, the check whose keys are the rows).
ARCHIVES = {
    "archive_orphan_rows": [("core", "documents", "orphan.documents_patient"),
                            ("core", "session_notes", "orphan.session_notes_patient"),
                            ("core", "prescriptions", "orphan.prescriptions_appointment"),
                            ("core", "medications", "orphan.medications_document"),
                            ("core", "appointments", "orphan.appointments_patient")],
    "dedupe_medications": [("core", "medications", "dup.medications")],
    "remove_orphan_rag_chunks": [("supabase", "rag_chunks", "orphan.rag_chunks_document")],
}


ARCHIVE_COLUMNS = ("archived_at", "fix_id", "fix_run_id")
FIXED_AT_THE_END = {
    c.id for c in CHECKS
    if (c.id.startswith(("constraint.", "dup.")) or (c.id.startswith("orphan.") and c.stores in (("core",), ("supabase",))
                                                     and c.fix is not None))
} - NEEDS_A_PERSON | {"token.expired_active", "sync.jobs_failed", *(c.id for c in CHECKS if c.area == "access")}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _exec(url: str, statement: str | sql.Composed, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        cur = conn.execute(statement, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def fingerprint(stores: Any) -> dict[str, Any]:
    """Every table of the schemas that matter (content digest and row count) and the catalog
    (constraints with validity, indexes with validity), in core and Supabase."""
    out: dict[str, Any] = {}
    for name in ("core", "supabase"):
        with psycopg.connect(_dsn(stores.get(name)._url), autocommit=True) as conn:
            schemas = ["public", "auth", "storage", "ops_archive"]
            tables = conn.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = ANY(%s) ORDER BY 1, 2", (schemas,)).fetchall()
            for schema, table in tables:
                q = sql.SQL("SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')), count(*) "
                            "FROM {}.{} x").format(sql.Identifier(schema), sql.Identifier(table))
                out[f"{name}.{schema}.{table}"] = conn.execute(q).fetchone()
            out[f"{name}:constraints"] = conn.execute(
                "SELECT string_agg(format('%%s.%%s %%s %%s', n.nspname, con.conname, pg_get_constraintdef(con.oid), "
                "con.convalidated), E'\\n' ORDER BY n.nspname, con.conname, con.oid) "
                "FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace "
                "WHERE n.nspname = ANY(%s)", (schemas,)).fetchone()
            out[f"{name}:indexes"] = conn.execute(
                "SELECT string_agg(pg_get_indexdef(i.indexrelid) || ' ' || i.indisvalid, E'\\n' "
                "ORDER BY pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(%s)", (schemas,)).fetchone()
    return out


def copy_fix(tmp_path: Path, fix_id: str, *, extra: str = "", transform: Callable[[str], str] | None = None,
             review: bool = True) -> Path:
    """A folder holding one fix (changed as asked) and a REVIEWED file: with the copy's own checksum
    when `review` (a reviewed variant), else the project's (a tampered file)."""
    folder = tmp_path / f"fixes_{fix_id}_{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    content = (fixes.FIXES_DIR / f"{fix_id}.sql").read_text(encoding="utf-8")
    content = (transform(content) if transform else content) + extra
    path = folder / f"{fix_id}.sql"
    path.write_text(content, encoding="utf-8")
    checksum = SqlFile(fix_id, path, content, parse_header(content)).checksum
    reviewed = checksum if review else fixes.read_reviewed()[fix_id]
    (folder / fixes.REVIEWED_NAME).write_text(f"{fix_id} {reviewed}\n", encoding="utf-8")
    return folder


def audit_outcomes(stores: Any, fix_id: str) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in fixes.audit_log(stores, fix=fix_id, limit=1000)}


def plant_duplicate_connections(stores: Any) -> list[str]:
    """dup.active_connections, which the demo cannot plant while the pair UNIQUE exists: once
    token_constraints dropped it, copy a few active, unexpired connections (older, new token)."""
    url = stores.supabase._url
    rows = _exec(url, "SELECT patient_firebase_uid, doctor_firebase_uid, token_expires_at, created_at "
                      "FROM public.patient_doctor_connections WHERE is_active AND doctor_firebase_uid IS NOT NULL "
                      "AND token_expires_at > now() + interval '3 days' ORDER BY id LIMIT 2")
    assert len(rows) == 2
    planted = []
    for i, (patient, doctor, expires, created) in enumerate(rows):
        for j in range(i + 1):  # a group of 2 and a group of 3
            cid = str(uuid.uuid4())
            _exec(url, "INSERT INTO public.patient_doctor_connections (id, patient_firebase_uid, doctor_firebase_uid, "
                       "access_token, token_expires_at, is_active, created_at, used_at) "
                       "VALUES (%s, %s, %s, %s, %s, true, %s, %s)",
                  (cid, patient, doctor, uuid.uuid4().hex + uuid.uuid4().hex, expires,
                   created - timedelta(days=j + 1), created - timedelta(days=j + 1)))
            planted.append(cid)
    return planted


def archived(stores: Any, store: str, table: str) -> dict[str, dict[str, Any]]:
    rows = _exec(stores.get(store)._url, sql.SQL("SELECT id::text, to_jsonb(a) FROM ops_archive.{} a").format(
        sql.Identifier(table)))
    return {r[0]: r[1] for r in rows}


def live_rows(stores: Any, store: str, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = _exec(stores.get(store)._url, sql.SQL("SELECT id::text, to_jsonb(t) FROM public.{} t "
                                                 "WHERE id::text = ANY(%s)").format(sql.Identifier(table)), (ids,))
    return {r[0]: r[1] for r in rows}


def test_the_check_fix_links_agree() -> None:
    """The link is written twice on purpose, each side checked against the other: a check entry's
    `fix=` (the one fix the pages offer for the whole check) must be a fix whose `resolves:` names the
    check, and a check a fix resolves has such an entry, unless its findings get a fix per key (the
    constraint checks: the fix whose `verify:` names that table, lib.fixes.constraint_fixes)."""
    found = {f.id: f for f in fixes.list_fixes()}
    for c in CHECKS:
        if c.fix:
            assert c.fix in found and c.id in found[c.fix].resolves, \
                f"{c.id} links {c.fix}, whose `resolves:` does not name it"
    for f in found.values():
        for cid in f.resolves:
            if not cid.startswith("constraint."):
                assert BY_ID[cid].fix and cid in found[BY_ID[cid].fix].resolves, \
                    f"{f.id} resolves {cid}, whose entry links no fix that resolves it"
    by_table = fixes.constraint_fixes()
    for (store, table), fix_id in by_table.items():
        assert store in found[fix_id].stores and "constraint." in " ".join(found[fix_id].resolves), (store, table)
        assert reports.constraint_fix("constraint.missing", f"{store}.{table}.x") == fix_id
    assert reports.constraint_fix("constraint.missing", "core.no_such_table.x") is None


def test_every_fix_of_checks_md_is_a_file_with_its_metadata() -> None:
    found = {f.id: f for f in fixes.list_fixes()}
    assert set(found) == CHECKS_MD_FIXES
    assert [f for f in fixes.SEQUENCE if f in found] == list(fixes.SEQUENCE)
    for f in found.values():
        assert f.title and f.what and f.risk and f.stores
        assert f.resolves, f.id
        assert f.verify or f.posts or any(s.kind == "each" for s in f.sections), f.id
    # the links of the check registry name real fixes
    assert {c.fix for c in CHECKS if c.fix} <= set(found)
    # checks.md's "runs only when" column
    assert found["token_constraints"].blocked_by == ("dup.access_tokens",)
    assert found["active_connection_index"].blocked_by == ("dup.active_connections",)
    assert found["appointments_patient_fk"].blocked_by == ("orphan.appointments_patient",)
    assert set(found["patient_foreign_keys"].blocked_by) == {"orphan.documents_patient", "orphan.session_notes_patient"}
    assert found["open_conversation_index"].blocked_by == ("dup.open_conversations",)
    assert found["rag_chunks_fk"].blocked_by == ("orphan.rag_chunks_document",)
    assert found["validate_constraints"].stores == ("core", "supabase")
    # foreign keys are added NOT VALID, then validated, with the runner's lock_timeout
    for fid in ("appointments_patient_fk", "patient_foreign_keys", "rag_chunks_fk"):
        steps = [s.sql.upper() for s in found[fid].sections]
        adds = [i for i, s in enumerate(steps) if "FOREIGN KEY" in s]
        assert adds and all("NOT VALID" in steps[i] and "VALIDATE CONSTRAINT" in steps[i + 1] for i in adds), fid


def test_reviewed_checksums_match_the_files() -> None:
    problems = fixes.checksum_problems()
    assert not problems, (
        "A fix file differs from its reviewed version. Fixes run against patient data: get the change "
        "reviewed, then update sql/fixes/REVIEWED as follows.\n" + "\n".join(problems))


def test_a_malformed_or_unknown_fix_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no fix 'nope'"):
        fixes.load_fix("nope")
    folder = copy_fix(tmp_path, "deactivate_expired_tokens",
                      transform=lambda s: s.replace("-- blocked_by: none", "-- blocked_by: dup.nonsense"))
    with pytest.raises(OpsError, match=r"deactivate_expired_tokens.sql: `blocked_by:` names an unknown check"):
        fixes.load_fix("deactivate_expired_tokens", folder)


def test_every_fix_in_order_on_the_demo(fresh: tuple[Any, dict[str, Any]], tmp_path: Path) -> None:
    stores, manifest = fresh
    planted = manifest["planted"]
    start = check_keys(stores)

    # -- blocked fixes refuse and name the blocking check, with its count; nothing changes
    fp = fingerprint(stores)
    for fid, blocker in (("token_constraints", "dup.access_tokens"), ("open_conversation_index", "dup.open_conversations"),
                         ("appointments_patient_fk", "orphan.appointments_patient"),
                         ("patient_foreign_keys", "orphan.documents_patient"),
                         ("rag_chunks_fk", "orphan.rag_chunks_document")):
        for attempt in (fixes.plan(stores, fid, ONCALL), fixes.apply(stores, fid, ONCALL, "test")):
            assert attempt.refused == f"blocked: {blocker} = {planted[blocker]['count']}", attempt.outcome
            assert attempt.applied is False and attempt.rows == 0
    v = fixes.plan(stores, "validate_constraints", ONCALL)
    assert v.refused is not None and v.refused.startswith("blocked: core.appointments.appointments_patient_id_fkey = ")
    by_key = {x.key: x for x in v.violations}
    assert by_key["core.medications.medications_document_id_fkey"].sample == planted["orphan.medications_document"]["keys"]
    assert by_key["core.prescriptions.prescriptions_appointment_id_fkey"].sample == \
        planted["orphan.prescriptions_appointment"]["keys"]
    assert fingerprint(stores) == fp

    applied: dict[str, fixes.FixResult] = {}
    for fid in fixes.SEQUENCE:
        fix = fixes.load_fix(fid)
        if fid == "deactivate_duplicate_connections":
            dups = plant_duplicate_connections(stores)
            blocked = fixes.apply(stores, "active_connection_index", ONCALL, "test")
            assert blocked.refused == f"blocked: dup.active_connections = {len(dups)}"
        before_keys = check_keys(stores)
        fp = fingerprint(stores)
        audit_before = set(audit_outcomes(stores, fid))
        originals = {(store, table, cid): live_rows(stores, store, table, before_keys[cid])
                     for store, table, cid in ARCHIVES.get(fid, [])}
        attempts: list[fixes.FixResult] = []

        # support may plan, not apply; a tampered file is refused; neither touches a thing
        attempts.append(fixes.apply(stores, fid, SUPPORT, "test"))
        assert attempts[-1].refused == "role" and not attempts[-1].applied
        tampered = copy_fix(tmp_path, fid, extra="\n-- one more line nobody reviewed\n", review=False)
        attempts.append(fixes.plan(stores, fid, ONCALL, directory=tampered))
        attempts.append(fixes.apply(stores, fid, ONCALL, "test", directory=tampered))
        assert [a.refused for a in attempts[-2:]] == ["checksum", "checksum"]

        # the plan changes nothing, and says what the apply would do
        planned = fixes.plan(stores, fid, SUPPORT)
        attempts.append(planned)
        assert planned.outcome == "planned", (fid, planned.outcome)
        assert planned.applied is False
        assert all(v["after"] == 0 for v in planned.verify.values()), (fid, planned.verify)
        assert any(v["before"] for v in planned.verify.values()), (fid, planned.verify)
        assert fingerprint(stores) == fp, f"the plan of {fid} changed the stores"

        # an error injected after the fix's own statements: everything rolls back
        broken = copy_fix(tmp_path, fid, extra="\n-- step: injected failure\nSELECT 1 / 0\n")
        failed = fixes.apply(stores, fid, ONCALL, "test", directory=broken)
        attempts.append(failed)
        assert failed.error and "DivisionByZero" in failed.error and not failed.applied, (fid, failed.outcome)
        assert failed.outcome.startswith("failed: ")
        assert fingerprint(stores) == fp, f"a failing apply of {fid} left changes behind"

        # two applies at the same time: exactly one runs
        barrier = threading.Barrier(2)
        results: list[fixes.FixResult] = []

        def one(results: list[fixes.FixResult] = results, barrier: threading.Barrier = barrier,
                fid: str = fid, rows: int = planned.rows) -> None:
            barrier.wait()
            results.append(fixes.apply(stores, fid, ONCALL, "seed clean-up", expect_rows=rows))

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        attempts += results
        done = [r for r in results if r.applied]
        assert len(done) == 1, (fid, [r.outcome for r in results])
        other = next(r for r in results if not r.applied)
        assert other.outcome in ("refused: locked", "nothing to do"), (fid, other.outcome)
        result = applied[fid] = done[0]
        assert result.outcome == "applied" and result.rows == planned.rows
        assert result.checksum == fix.checksum == fixes.read_reviewed()[fid]

        # its verification holds; every check it does not name is unchanged, key for key
        after_keys = check_keys(stores)
        names = {*fix.resolves, *fix.affects, *(t.check for t in fix.verify)}
        for cid in CHECK_IDS:
            if cid not in names:
                assert after_keys[cid] == before_keys[cid], f"{fid} changed {cid}"
            else:
                terms = [t for t in fix.verify if t.check == cid]
                if terms and all(t.pattern for t in terms):  # only the keys it targets may change
                    assert [k for k in after_keys[cid] if not any(t.count([k]) for t in terms)] == \
                        [k for k in before_keys[cid] if not any(t.count([k]) for t in terms)], (fid, cid)
                    assert sum(t.count(after_keys[cid]) for t in terms) == 0, (fid, cid)
                elif terms:
                    assert after_keys[cid] == [], (fid, cid)
        assert next(s for s in fixes.status(stores) if s.fix.id == fid).needed is False

        # a second apply changes nothing and says so
        fp_after = fingerprint(stores)
        again = fixes.apply(stores, fid, ONCALL, "again")
        attempts.append(again)
        assert again.outcome == "nothing to do" and again.applied is False and again.rows == 0
        assert again.exit_code() == 0
        assert fingerprint(stores) == fp_after

        # every attempt is in the audit log, with its outcome, rows, checksum and reason
        log = audit_outcomes(stores, fid)
        assert set(log) - audit_before == {a.audit_id for a in attempts}
        for a in attempts:
            rec = log[a.audit_id]
            assert (rec["action"], rec["outcome"], rec["rows"], rec["who"], rec["role"]) == \
                (a.action, a.outcome, a.rows, a.actor.who, a.actor.role), (fid, rec)
            assert rec["checksum"] == a.checksum and rec["duration_ms"] is not None
        assert log[result.audit_id]["reason"] == "seed clean-up"

        if fid == "remap_appointment_patient_ids":
            remapped = {row["key"] for s in result.steps for row in s.sample}
            assert remapped and remapped < set(planted["orphan.appointments_patient"]["keys"])
            assert after_keys["orphan.appointments_patient"] == sorted(
                set(planted["orphan.appointments_patient"]["keys"]) - remapped)
        if fid == "archive_orphan_rows":  # the medications of archived documents went with them
            docs = set(archived(stores, "core", "documents"))
            assert docs and not _exec(stores.core._url, "SELECT 1 FROM public.medications "
                                                        "WHERE document_id::text = ANY(%s)", (sorted(docs),))
        for (store, table, cid), rows in originals.items():  # deleted rows are archived, column for column
            arch = archived(stores, store, table)
            assert rows and set(rows) == set(before_keys[cid]) and set(rows) <= set(arch), (fid, table)
            assert not live_rows(stores, store, table, sorted(rows)), (fid, table)
            for key, row in rows.items():
                assert {k: v for k, v in arch[key].items() if k not in ARCHIVE_COLUMNS} == row, (fid, table, key)
                assert (arch[key]["fix_id"], arch[key]["fix_run_id"]) == (fid, result.audit_id)

    # the end state (system.md): every constraint, duplicate and orphan finding with a fix is 0,
    # except the duplicate users; what no fix touches is as it was
    end = check_keys(stores)
    assert {cid: len(end[cid]) for cid in FIXED_AT_THE_END if end[cid]} == {}
    for cid in NEEDS_A_PERSON:
        assert end[cid] == planted[cid]["keys"] != []
    for cid in ("advisor.no_primary_key", "advisor.duplicate_index", "advisor.unindexed_foreign_key",
                "orphan.storage_objects", "orphan.documents_file_missing", "orphan.supabase_documents_patient"):
        assert end[cid] == start[cid], cid
    assert [s.fix.id for s in fixes.status(stores) if s.needed] == []
    assert all(f in applied for f in fixes.SEQUENCE)


def test_lock_timeout_rolls_everything_back(fresh: tuple[Any, dict[str, Any]]) -> None:
    stores, manifest = fresh
    fp = fingerprint(stores)
    with psycopg.connect(_dsn(stores.supabase._url)) as holder:
        holder.execute("LOCK TABLE public.patient_doctor_connections IN ACCESS EXCLUSIVE MODE")
        r = fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "test", lock_timeout_ms=300)
        holder.rollback()
    assert r.outcome.startswith("failed: ") and "lock timeout" in (r.error or ""), r.outcome
    assert r.exit_code() == 1 and not r.applied
    assert fingerprint(stores) == fp
    ok = fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "test")
    assert ok.applied and ok.rows == manifest["planted"]["token.expired_active"]["count"]


def test_a_running_fix_holds_its_advisory_lock(fresh: tuple[Any, dict[str, Any]], tmp_path: Path) -> None:
    stores, _ = fresh
    # another session holding the fix's lock: plan and apply are refused "locked"
    with psycopg.connect(_dsn(stores.supabase._url)) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                       (fixes.LOCK_NAMESPACE, "deactivate_expired_tokens"))
        assert fixes.plan(stores, "deactivate_expired_tokens", ONCALL).refused == "locked"
        assert fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "test").refused == "locked"
        holder.rollback()
    # two slow applies (a reviewed variant that waits one second first) overlap: one runs, one is locked
    slow = copy_fix(tmp_path, "deactivate_expired_tokens",
                    transform=lambda s: s.replace("-- step: deactivate", "-- step: wait\nSELECT pg_sleep(1)\n\n"
                                                                         "-- step: deactivate", 1))
    fixes.audit_log(stores, limit=1)  # the ops database's schema exists before the threads start
    barrier = threading.Barrier(2)
    out: list[fixes.FixResult] = []

    def one() -> None:
        barrier.wait()
        out.append(fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "race", directory=slow))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.outcome for r in out) == ["applied", "refused: locked"]


def test_failed_verification_and_a_different_row_count_roll_back(fresh: tuple[Any, dict[str, Any]],
                                                                  tmp_path: Path) -> None:
    stores, manifest = fresh
    fp = fingerprint(stores)
    n = manifest["planted"]["token.expired_active"]["count"]
    # a reviewed variant that deactivates only one of the expired tokens: the check stays above 0
    partial = copy_fix(tmp_path, "deactivate_expired_tokens",
                       transform=lambda s: s.replace("WHERE is_active AND token_expires_at < now()",
                                                     "WHERE id = (SELECT id FROM public.patient_doctor_connections "
                                                     "WHERE is_active AND token_expires_at < now() ORDER BY id LIMIT 1)"))
    r = fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "test", directory=partial)
    assert r.error == f"verification failed, everything rolled back: token.expired_active = {n - 1}"
    assert r.rows == 1 and not r.applied
    assert fingerprint(stores) == fp
    # the person confirmed another row count than the fix touches now
    r = fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "test", expect_rows=n + 1)
    assert r.error and f"touches {n} rows, not the {n + 1} confirmed" in r.error and not r.applied
    assert fingerprint(stores) == fp
    # a reason is required
    r = fixes.apply(stores, "deactivate_expired_tokens", ONCALL, "   ")
    assert r.error == "A reason is required to apply a fix." and not r.applied
    assert fingerprint(stores) == fp


def test_no_audit_log_no_fix(fresh: tuple[Any, dict[str, Any]]) -> None:
    stores, _ = fresh
    fp = fingerprint(stores)
    broken = replace(stores, ops_url="postgresql+psycopg://nobody@127.0.0.1:9/ops")
    with pytest.raises(OpsError, match="The audit log cannot be written, so nothing was run"):
        fixes.apply(broken, "deactivate_expired_tokens", ONCALL, "test")
    assert fingerprint(stores) == fp


def test_retry_failed_sync_jobs_for_one_kind(fresh: tuple[Any, dict[str, Any]]) -> None:
    stores, manifest = fresh
    failed = _exec(stores.core._url, "SELECT id::text, kind FROM public.sync_jobs WHERE status = 'failed' ORDER BY id")
    kind = failed[0][1]
    mine = sorted(i for i, k in failed if k == kind)
    r = fixes.apply(stores, "retry_failed_sync_jobs", ONCALL, "OCR is back", params={"kind": kind})
    assert r.applied and r.rows == len(mine)
    left = check_keys(stores)["sync.jobs_failed"]
    assert left == sorted(set(manifest["planted"]["sync.jobs_failed"]["keys"]) - set(mine))
    assert _exec(stores.core._url, "SELECT DISTINCT status, attempts FROM public.sync_jobs WHERE id::text = ANY(%s)",
                 (mine,)) == [("pending", 0)]
    bad = fixes.plan(stores, "retry_failed_sync_jobs", ONCALL, params={"kind": "nonsense"})
    assert bad.error == "kind must be one of user, profile, document, prescription."
    bad = fixes.plan(stores, "retry_failed_sync_jobs", ONCALL, params={"colour": "red"})
    assert bad.error is not None and "takes no option 'colour'" in bad.error


def test_validate_constraints_names_each_violated_check_and_key(fresh: tuple[Any, dict[str, Any]]) -> None:
    """A NOT VALID CHECK (here on Supabase) is listed with its violating rows as well as the keys."""
    stores, manifest = fresh
    url = stores.supabase._url
    doc = _exec(url, "SELECT id::text FROM public.documents ORDER BY id LIMIT 1")[0][0]
    _exec(url, "UPDATE public.documents SET status = 'lost' WHERE id = %s", (doc,))
    _exec(url, "ALTER TABLE public.documents ADD CONSTRAINT documents_status_check "
               "CHECK (status IN ('uploaded', 'processing', 'processed', 'failed')) NOT VALID")
    # a table without a single-column primary key: its rows are named by their ctid
    _exec(url, "CREATE TABLE public.document_tags (document_id uuid NOT NULL, tag text NOT NULL)")
    _exec(url, "INSERT INTO public.document_tags VALUES (%s, 'ok'), (%s, '')", (doc, doc))
    _exec(url, "ALTER TABLE public.document_tags ADD CONSTRAINT document_tags_tag_check "
               "CHECK (tag <> '') NOT VALID")
    fp = fingerprint(stores)
    r = fixes.plan(stores, "validate_constraints", ONCALL)
    found = {v.key: v for v in r.violations}
    assert found["supabase.document_tags.document_tags_tag_check"].sample == ["(0,2)"]
    assert found["supabase.documents.documents_status_check"].sample == [doc]
    assert found["supabase.documents.documents_status_check"].count == 1
    assert found["core.medications.medications_document_id_fkey"].sample == \
        manifest["planted"]["orphan.medications_document"]["keys"]
    assert "core.medications.medications_patient_id_fkey" not in found  # no row violates it
    assert r.refused is not None and r.refused.startswith("blocked: core.")
    status = next(s for s in fixes.status(stores) if s.fix.id == "validate_constraints")
    assert status.blocked["supabase.documents.documents_status_check"] == 1
    assert fingerprint(stores) == fp


def test_the_status_takes_a_complete_run_and_says_what_counting_says(stores: Any, demo: Any) -> None:
    """With the dashboard's latest run, the status takes its SQL checks' keys (and the Firebase fixes'
    resolves counts) instead of counting again, and says the same; a run holding samples only (as
    loaded from the history) is counted afresh."""
    from lib.checks.registry import REGISTRY
    from lib.checks.runner import run_checks

    planted = demo.ensure()["planted"]
    run = run_checks(stores)
    counted = {s.fix.id: s for s in fixes.status(stores)}
    held = {s.fix.id: s for s in fixes.status(stores, run=run)}
    assert held.keys() == counted.keys()
    for fid, s in counted.items():
        h = held[fid]
        assert (h.needed, h.blocked, h.error) == (s.needed, s.blocked, s.error), fid
        assert h.counts.items() >= s.counts.items(), fid
    for fid, cid in (("revoke_disabled_patients_connections", "token.active_for_disabled_patient"),
                     ("ban_disabled_patients_in_supabase", "identity.disabled_live_in_supabase")):
        assert held[fid].counts == {cid: planted[cid]["count"]} and held[fid].needed is True

    # the run's keys are what the status reads: a run that found token.expired_active clean says so
    assert REGISTRY["token.expired_active"].kind == "sql" and planted["token.expired_active"]["count"] > 1
    clean = replace(run, results=[replace(r, count=0, keys=[]) if r.id == "token.expired_active" else r
                                  for r in run.results])
    said = next(s for s in fixes.status(stores, run=clean) if s.fix.id == "deactivate_expired_tokens")
    assert said.counts == {"token.expired_active": 0} and said.needed is False
    assert counted["deactivate_expired_tokens"].counts == {"token.expired_active": planted["token.expired_active"]["count"]}

    # samples only (fewer keys than the count): not taken, so counted as without a run
    sampled = replace(run, results=[replace(r, keys=r.keys[:r.count // 2]) if r.count else r for r in run.results])
    again = {s.fix.id: s for s in fixes.status(stores, run=sampled)}
    assert {f: (s.needed, s.counts, s.blocked) for f, s in again.items()} == \
        {f: (s.needed, s.counts, s.blocked) for f, s in counted.items()}

    # with a run, rows violating a constraint are counted up to the cap: beyond it, "more than"
    exact = counted["validate_constraints"].blocked
    assert exact and max(exact.values()) > 1, "the demo plants no constraint with several violating rows"
    # (a foreign key whose violating rows a held check names is counted from the run: exact)
    from_run = {"core.medications.medications_document_id_fkey", "core.prescriptions.prescriptions_appointment_id_fkey"}
    assert from_run <= exact.keys()
    capped = next(s for s in fixes.status(stores, run=run, cap=1) if s.fix.id == "validate_constraints")
    assert capped.at_least == {k for k, v in exact.items() if v > 1} - from_run
    assert capped.blocked == {k: (v if k in from_run else min(v, 2)) for k, v in exact.items()}
    assert {capped.blocked_text()[k] for k in capped.at_least} == {"> 1"}
    assert capped.to_json()["blocked_at_least"] == sorted(capped.at_least)
    assert not held["validate_constraints"].at_least and "blocked_at_least" not in counted["validate_constraints"].to_json()


def test_an_orphan_check_of_a_held_run_stands_for_its_foreign_keys_violations(stores: Any, demo: Any) -> None:
    """CheckInfo.fk_rows: on the demo, each declared check's keys are exactly the rows its NOT VALID
    foreign key's own violation query finds (in the same order); the status with a held run takes
    them from the run (a run saying other keys changes what it says), and without a run or for
    another shape the database is asked."""
    from lib.checks.registry import REGISTRY
    from lib.checks.runner import run_checks
    from lib.fixes.counting import VIOLATIONS_WRAP, _listed, _Probe, _raw
    from lib.fixes.files import list_fixes

    demo.ensure()
    run = run_checks(stores)
    declared = {c.id for c in REGISTRY.values() if c.info.fk_rows is not None}
    assert declared == {"orphan.medications_document", "orphan.prescriptions_appointment"}
    fix = next(f for f in list_fixes() if f.id == "validate_constraints")
    from lib.checks.constraints import load_expected
    from lib.fixes.overview import known_keys

    params = {"run_id": None, "schemas": load_expected().schemas("core")}
    with stores.core.read() as conn:
        held = _Probe("core", conn, stores, known_keys(run))
        bare = _Probe("core", conn, stores)
        stood_for = set()
        for row in _listed(fix, held, params):
            asked = [str(r[1]) for r in _raw(conn, VIOLATIONS_WRAP.format(sql=row["violations_sql"], n=10**9)).fetchall()]
            assert bare.known_violations(row) is None  # no run: always asked
            same = held.known_violations(row)
            if same is not None:
                stood_for.add(row["key"])
                assert same == asked and same, row["key"]
        assert stood_for == {"core.medications.medications_document_id_fkey",
                             "core.prescriptions.prescriptions_appointment_id_fkey"}
        # another shape is not stood for: the same listing row with another referenced column
        row = next(r for r in _listed(fix, held, params) if r["key"] == "core.medications.medications_document_id_fkey")
        assert held.known_violations({**row, "ref_columns": ["patient_id"]}) is None
        assert held.known_violations({**row, "key_column": None}) is None

    # the status reads the run: a run whose orphan check found one row says one
    one = replace(run, results=[replace(r, count=1, keys=r.keys[:1]) if r.id == "orphan.medications_document" else r
                                for r in run.results])
    said = next(s for s in fixes.status(stores, run=one) if s.fix.id == "validate_constraints")
    assert said.blocked["core.medications.medications_document_id_fkey"] == 1
