"""The benchmark harness (lib.bench.measure, lib.bench.report, lib.bench.cli) on a small bench
build of its own (lib.bench.data, 3,000 patients, 2,000 of them in Firebase) in real stores:

- the check run measured through `python -m lib check --json` counts what the build expects;
- reladiff and the identity reconciliation find the same mismatching UIDs, and after the test
  plants mismatches of each kind (plus near-misses that must not count) both find exactly those
  on top of what they found before;
- the patient lookup measurement finds each sampled patient by every identifier kind;
- the report renders every table from a result, and regenerating BENCHMARKS.md keeps the prose.

No timing is asserted: speed is what `python -m lib bench` measures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lib.bench import measure, report
from lib.config import PROJECT_ROOT, Settings

PATIENTS = 3000
IN_FIREBASE = 2000
SEED = 5


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    from lib.bench import data

    path = Path(tempfile.mkdtemp(prefix="hbh", dir="/tmp"))  # short: the server's Unix socket lives there
    try:
        yield data.build(PATIENTS, seed=SEED, data_dir=path, firebase_users=IN_FIREBASE, progress=lambda _: None)
    finally:
        data.stop(path)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def bench_stores(bench: Any) -> Iterator[Any]:
    from lib.stores import open_stores

    settings = Settings(**{k.lower(): v for k, v in bench.env().items()})
    assert not settings.demo
    stores = open_stores(settings)
    yield stores
    stores.dispose()


def _exec(url: str, sql: str, params: dict[str, Any]) -> None:
    with psycopg.connect(measure.libpq_url(url), autocommit=True) as conn:
        conn.execute(sql, params)


def _one(url: str, sql: str, params: dict[str, Any] | None = None) -> Any:
    with psycopg.connect(measure.libpq_url(url)) as conn:
        row = conn.execute(sql, params or {}).fetchone()
        assert row is not None
        return row[0]


def test_check_run_counts_what_the_build_expects(bench: Any) -> None:
    res = measure.measure_checks(bench, runs=1)
    run = res["runs"][0]
    assert res["ok"], res["count_mismatches"]
    assert run["exit_code"] == 1  # the planted error findings
    assert run["peak_rss_mb"] > 10 and run["wall_s"] > 0
    assert {cid: c["count"] for cid, c in run["checks"].items()} == bench.expected


def test_reladiff_and_the_reconciliation_find_the_same_planted_mismatches(bench: Any, bench_stores: Any) -> None:
    from lib.checks.sync import reconcile_identities

    before = measure.measure_reconcile(bench, repeats=1)
    assert before["same_mismatches"], (before["only_ours"], before["only_reladiff"])
    lists = reconcile_identities(bench_stores)
    base = {k: set(v) for k, v in lists.items()}
    # what the build planted and says each check must count is among what both tools find
    assert len(base["missing_in_supabase"]) >= bench.expected["sync.patient_missing_in_supabase"] > 0
    assert set(bench.samples["sync.patient_missing_in_supabase"]) <= base["missing_in_supabase"]
    assert base["missing_in_core"] and base["postgres_id_mismatch"]
    assert before["mismatching_uids"]["reladiff"] == len(set().union(*base.values()))

    # plant one mismatch of each kind, and near-misses that must not count
    tag = uuid.uuid4().hex[:10]
    only_core, only_sb, deleted_sb = f"zzCoreOnly{tag}", f"zzSbOnly{tag}", f"zzSbDeleted{tag}"
    _exec(bench.core_url, "INSERT INTO users (id, firebase_uid, email, role, verified, created_at, updated_at) "
                          "VALUES (gen_random_uuid(), %(uid)s, %(uid)s || '@bench.example', 'PATIENT', true, now(), now())",
          {"uid": only_core})
    sb_user = ("INSERT INTO auth.users (id, email, raw_user_meta_data, created_at, deleted_at) VALUES "
               "(gen_random_uuid(), %(uid)s || '@bench.example', jsonb_build_object('firebase_uid', %(uid)s::text, "
               "'postgres_id', %(pid)s::text), %(at)s::timestamptz, %(deleted)s::timestamptz)")
    _exec(bench.supabase_url, sb_user, {"uid": only_sb, "pid": str(uuid.uuid4()), "at": "2020-01-01", "deleted": None})
    _exec(bench.supabase_url, sb_user, {"uid": deleted_sb, "pid": str(uuid.uuid4()), "at": "2020-01-01",
                                        "deleted": "2021-01-01"})
    clean = sorted(set(_all_core_uids(bench)) - set().union(*base.values()))
    wrong_pid, newer_dup = clean[0], clean[1]
    _exec(bench.supabase_url, "UPDATE auth.users SET raw_user_meta_data = raw_user_meta_data || "
                              "jsonb_build_object('postgres_id', gen_random_uuid()::text) "
                              "WHERE raw_user_meta_data ->> 'firebase_uid' = %(uid)s", {"uid": wrong_pid})
    # postgres_id compares as a uuid (as PostgreSQL and reladiff compare it): text that is no uuid
    # differs, the same uuid in upper case does not
    not_uuid, upper_case = clean[2], clean[3]
    _exec(bench.supabase_url, "UPDATE auth.users SET raw_user_meta_data = raw_user_meta_data || "
                              "jsonb_build_object('postgres_id', 'not-a-uuid') "
                              "WHERE raw_user_meta_data ->> 'firebase_uid' = %(uid)s", {"uid": not_uuid})
    _exec(bench.supabase_url, "UPDATE auth.users SET raw_user_meta_data = raw_user_meta_data || "
                              "jsonb_build_object('postgres_id', upper(raw_user_meta_data ->> 'postgres_id')) "
                              "WHERE raw_user_meta_data ->> 'firebase_uid' = %(uid)s", {"uid": upper_case})
    # a newer live user of a well-synced uid with a wrong postgres_id: the oldest one counts, so no mismatch
    _exec(bench.supabase_url, sb_user, {"uid": newer_dup, "pid": str(uuid.uuid4()), "at": "2100-01-01", "deleted": None})

    after_lists = {k: set(v) for k, v in reconcile_identities(bench_stores).items()}
    assert after_lists["missing_in_supabase"] - base["missing_in_supabase"] == {only_core}
    assert after_lists["missing_in_core"] - base["missing_in_core"] == {only_sb}
    assert after_lists["postgres_id_mismatch"] - base["postgres_id_mismatch"] == {wrong_pid, not_uuid}
    assert all(base[k] <= after_lists[k] for k in base)
    after = measure.measure_reconcile(bench, repeats=1)
    assert after["same_mismatches"], (after["only_ours"], after["only_reladiff"])
    planted = {only_core, only_sb, wrong_pid, not_uuid}
    assert after["mismatching_uids"]["reladiff"] == before["mismatching_uids"]["reladiff"] + len(planted)
    tools = after["tools"]
    assert tools["floor"]["bytes"]["core"] > 0 and tools["floor"]["bytes"]["supabase"] > 0
    assert tools["reladiff"]["rows"] >= len(planted)
    assert after["reladiff_over_ours"] > 0 and after["ours_over_floor"] > 0


def _all_core_uids(bench: Any) -> list[str]:
    with psycopg.connect(measure.libpq_url(bench.core_url)) as conn:
        return [r[0] for r in conn.execute("SELECT firebase_uid FROM users WHERE role = 'PATIENT' "
                                           "AND firebase_uid IS NOT NULL ORDER BY firebase_uid")]


def test_lookups_find_each_sampled_patient_by_every_kind(bench_stores: Any) -> None:
    res = measure.measure_lookups(bench_stores, n=4, seed=2, warmup=1)
    kinds = res["kinds"]
    assert set(kinds) == set(measure.KINDS)
    for kind, k in kinds.items():
        assert k["n"] > 0, kind
        assert k["not_found"] == 0, (kind, k["not_found_sample"])
        assert k["p50_ms"] <= k["p95_ms"] <= k["max_ms"]
    assert kinds["uid"]["classified_as"] == ["uid"] and kinds["phone_national"]["classified_as"] == ["phone"]
    assert kinds["email_other_case"]["classified_as"] == ["email"]
    assert kinds["supabase_user_id"]["classified_as"] == ["id"] and kinds["name"]["classified_as"] == ["name"]
    # every statement of the lookup and of the patient view explained as it ran (the tables it scanned)
    scans = res["sequential_scans"]
    assert {"core/patient_by_email", "core/patient_by_name", "supabase/patient_by_phone", "core/patient_documents"} <= set(scans)
    assert all(isinstance(t, list) for t in scans.values())


# ---------------------------------------------------------------------- the report (no stores)
def _result(size: str, patients: int, *, slow: bool = False) -> dict[str, Any]:
    k = 40.0 if slow else 1.0
    return {
        "size": size, "patients": patients, "seed": 1, "command": f"python -m lib bench --size {size} --seed 1",
        "generated_at": f"2026-01-0{1 if slow else 2}T00:00:00Z",
        "machine": {"date": "2026-01-01 00:00 UTC", "cpu": "Test CPU", "cores": 2, "ram_gb": 24.0, "os": "Debian",
                    "python": "3.11", "postgresql": "18.4", "pg_collation": "C.UTF-8", "git_commit": "abc1234",
                    "firebase_tools": "15", "auth_emulator": "firebase-tools 15", "firestore_emulator": "1",
                    "java": "17", "node": "20", "reladiff": "0.6.0"},
        "build": {"wall_s": 10.0 * k, "build_seconds": {"core": 1.0}, "firebase_users": min(patients, 100_000)},
        "checks": {"runs": [{"wall_s": 2.0 * k, "peak_rss_mb": 300.0 * k, "exit_code": 1,
                             "checks": {"sync.field_drift": {"count": 3, "duration_ms": 900.0}}},
                            {"wall_s": 1.5 * k, "peak_rss_mb": 290.0, "exit_code": 1,
                             "checks": {"sync.field_drift": {"count": 3, "duration_ms": 800.0}}}],
                   "count_mismatches": {"dup.medications": {"expected": 3, "got": [4, None], "runs": [1, 2],
                                                            "error": "supabase: timeout"}} if slow else {},
                   "ok": not slow},
        "reconcile": {"tools": {"ours": {"median_s": 0.1 * k, "process_s": [1.0], "max_peak_rss_mb": 200.0},
                                "reladiff": {"median_s": 0.5, "process_s": [1.5], "max_peak_rss_mb": 60.0,
                                             "threads": 4, "pool": 8, "algorithm": "hashdiff", "rows": 12},
                                "floor": {"median_s": 0.08, "process_s": [0.9], "max_peak_rss_mb": 50.0,
                                          "bytes": {"core": 2_000_000, "supabase": 2_100_000}}},
                      "mismatching_uids": {"ours": 12, "reladiff": 12}, "same_mismatches": True,
                      "reladiff_over_ours": round(0.5 / (0.1 * k), 2), "ours_over_floor": round(0.1 * k / 0.08, 2),
                      "repeats": 3, "ok": True},
        "lookup": {"kinds": {"uid": {"n": 200, "classified_as": ["uid"], "p50_ms": 20.0, "p95_ms": 30.0 * k,
                                     "max_ms": 40.0 * k, "not_found": 0},
                             "name": {"n": 0}},
                   "per_kind": 200, "seed": 1, "warmup": 10, "worst_p95_ms": 30.0 * k,
                   "function": "lib.patient.lookup"},
        "pages": {"pages": {"views/health.py": {"first_s": 2.0, "warm_median_s": 0.05 * k, "warm_max_s": 0.06 * k},
                            "views/tokens.py": {"first_s": 1.0, "error": "KeyError: boom"}},
                  "reruns": 5, "worst_warm_max_s": 0.06 * k, "ok": False},
        "problems": ["1 check count(s) differ"] if slow else [],
    }


def test_report_renders_every_table_with_targets_and_growth() -> None:
    text = report.render([_result("1m", 1_000_000, slow=True), _result("quick", 10_000)])
    # sizes ordered small to large in the growth table
    growth = text.split("### Growth", 1)[1].split("###", 1)[0]
    assert growth.index("quick: 10,000 patients") < growth.index("1m: 1,000,000 patients")
    assert "| check run, first, s | 2.00 | 80.00 |" in growth
    targets = text.split("### Targets", 1)[1].split("###", 1)[0]
    assert "| full check run, wall (slower of the two runs) | < 60 s | 2.00 s: met | 80.00 s: **missed** |" in targets
    assert "reconciliation: reladiff's time / ours | ≥ 3× | 5.00×: met | 0.12×: **missed** |" in targets
    for heading in ("#### Full check run", "#### Identity reconciliation", "#### Patient lookup", "#### Pages"):
        assert text.count(heading) == 2, heading
    assert "| dup.medications | 3 | 4, — | 1, 2 | supabase: timeout |" in text  # a count mismatch is shown loudly
    assert "**error**: KeyError: boom" in text
    assert "Test CPU (2 cores)" in text and "`python -m lib bench --size 1m --seed 1`" in text
    assert "Both tools found the same mismatching UIDs." in text
    assert "| uid | 200 | uid | 20.0 | 30.0 | 40.0 | 0 | met |" in text


def test_results_and_markdown_round_trip(tmp_path: Path) -> None:
    results = tmp_path / "results"
    report.write_result(_result("quick", 10_000), results)
    report.write_result(_result("100k", 100_000), results)
    report.write_result(_result("quick", 10_000, slow=True), results)  # overwrites its size
    found = report.load_results(results)
    assert [r["size"] for r in found] == ["quick", "100k"] and found[0]["problems"]
    md = tmp_path / "BENCHMARKS.md"
    md.write_text(f"# Benchmarks\n\nHand-written prose.\n\n{report.BEGIN}\nold figures\n{report.END}\n\n## After\nMore prose.\n")
    report.regenerate(results, md)
    text = md.read_text()
    assert text.startswith("# Benchmarks\n\nHand-written prose.\n") and text.endswith("## After\nMore prose.\n")
    assert "old figures" not in text and "| figure | quick: 10,000 patients | 100k: 100,000 patients |" in text
    report.regenerate(results, md)  # idempotent
    assert md.read_text() == text


def test_bench_command_rejects_bad_arguments_in_one_line() -> None:
    r = subprocess.run([sys.executable, "-m", "lib", "bench", "--only", "checks,speed"], cwd=PROJECT_ROOT,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--only takes a comma-separated list of checks" in r.stderr
    r = subprocess.run([sys.executable, "-m", "lib", "bench", "--size", "2m"], cwd=PROJECT_ROOT,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "invalid choice" in r.stderr and "Traceback" not in r.stderr


def test_reladiff_url_encodes_the_socket_directory() -> None:
    url = measure.reladiff_url("postgresql+psycopg://postgres:@/core?host=/tmp/hb x/pg")
    assert url == "postgresql://postgres@%2Ftmp%2Fhb%20x%2Fpg/core"
    assert measure.reladiff_url("postgresql+psycopg://u:p%40ss@db.example:6543/supa") == \
        "postgresql://u:p%40ss@db.example:6543/supa"
    assert json.loads(json.dumps(measure.machine()))["cores"] >= 1
