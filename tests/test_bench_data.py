"""The benchmark's data set (lib.bench.data), built small in the real embedded stores: the checks,
run against those stores as a configured (not demo) deployment, count exactly what the builder says
it planted, for every check id, with Firebase holding fewer patients than core."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lib.bench import data
from lib.checks.ids import CHECK_IDS, CHECKS
from lib.config import load_settings
from lib.errors import OpsError

PATIENTS = 3_000
IN_FIREBASE = 2_000  # fewer than the patients: the 1m set's "Firebase holds the first 100k" path
SEED = 5
TIME_CHECKS = ["sync.jobs_stuck", "token.expired_active", "token.expiring_soon", "token.unused_expired"]


@pytest.fixture(scope="module")
def bench() -> Iterator[data.BenchInfo]:
    path = Path(tempfile.mkdtemp(prefix="hbb", dir="/tmp"))  # short: the server's socket lives there
    try:
        yield data.build(PATIENTS, seed=SEED, data_dir=path, firebase_users=IN_FIREBASE, progress=lambda _: None)
    finally:
        data.stop(path)
        shutil.rmtree(path, ignore_errors=True)


def run(info: data.BenchInfo, only: list[str] | None = None) -> dict[str, Any]:
    from lib.checks.runner import run_checks
    from lib.stores import open_stores

    settings = load_settings(**{k.lower(): v for k, v in info.env().items()})
    assert not settings.demo
    stores = open_stores(settings)
    try:
        return {r.id: r for r in run_checks(stores, only).results}
    finally:
        stores.dispose()


def test_every_check_counts_exactly_what_was_planted(bench: data.BenchInfo) -> None:
    results = run(bench)
    assert sorted(results) == sorted(CHECK_IDS) == sorted(bench.expected)
    assert {cid: r.error for cid, r in results.items() if r.error} == {}
    assert {cid: r.count for cid, r in results.items()} == bench.expected
    # the planted rows are the ones found, not just as many
    missing = {cid: sorted(set(keys) - set(results[cid].keys)) for cid, keys in bench.samples.items()}
    assert {cid: keys for cid, keys in missing.items() if keys} == {}


def test_the_data_set_has_the_shape_asked_for(bench: data.BenchInfo) -> None:
    n, fb = PATIENTS, IN_FIREBASE
    assert (bench.patients, bench.firebase_users, bench.seed) == (n, fb, SEED)
    per_class = data.in_class(n, 1)  # patients carrying each plant
    assert bench.rows["core.patients"] == n and bench.doctors == 5
    # five documents a patient; core lacks document 1 of three classes and 5 of one, Supabase one
    # class's document 1 and 5, and holds one class's ghost uploads
    assert bench.rows["core.documents"] == 5 * n - 4 * per_class
    assert bench.rows["supabase.documents"] == 5 * n - per_class
    assert n - fb < bench.rows["firestore.patients"] < fb
    # every check that rows can trip is planted; the pair UNIQUE of the demo schema forbids one
    assert [cid for cid, k in bench.expected.items() if k == 0] == ["dup.active_connections"]
    # the patients Firebase does not hold are counted where the checks compare with Firebase
    assert bench.expected["sync.core_user_missing_in_firebase"] > n - fb
    assert bench.expected["orphan.supabase_documents_patient"] > 5 * (n - fb)
    env = bench.env()
    assert set(env) == {"CORE_DATABASE_URL", "SUPABASE_DB_URL", "OPS_DATABASE_URL", "FIREBASE_PROJECT_ID",
                        "FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"}
    assert data.load_info(bench.data_dir).expected == bench.expected


def test_a_data_set_built_days_ago_is_reused_and_counts_as_expected_again(bench: data.BenchInfo) -> None:
    # as if built four days ago: the fresh pending jobs are stuck, the tokens due soon have expired
    data.reanchor(bench, datetime.fromisoformat(bench.anchor) - timedelta(days=4))
    old = {cid: r.count for cid, r in run(bench, TIME_CHECKS).items()}
    per_class = data.in_class(PATIENTS, 1)
    assert old["sync.jobs_stuck"] == bench.expected["sync.jobs_stuck"] + per_class
    assert old["token.expiring_soon"] == 0
    assert old["token.expired_active"] == bench.expected["token.expired_active"] + 2 * per_class

    again = data.build(PATIENTS, seed=SEED, data_dir=bench.data_dir, firebase_users=IN_FIREBASE,
                       progress=lambda _: None)
    assert again.reused and again.expected == bench.expected
    assert {cid: r.count for cid, r in run(again).items()} == bench.expected


def test_every_check_has_a_plant_in_the_bench_data() -> None:
    """Adding a check means adding its plant in lib/bench/data.py (PLANTS and what a patient of the
    class adds: ALWAYS, or the schema's constraint findings): name the check that has none."""
    expected = data.expected_counts(PATIENTS, IN_FIREBASE)
    assert list(expected) == list(CHECK_IDS)
    for c in CHECKS:
        if c.unplanted:
            assert expected[c.id] == 0, f"{c.id} is planted although its entry says: {c.unplanted}"
        else:
            assert expected[c.id] > 0, f"{c.id} has no plant in lib/bench/data.py: add one to PLANTS and ALWAYS"


def test_bad_sizes_are_refused_with_a_sentence() -> None:
    for bad in ("huge", "12abc", 10, 6_000_000):
        with pytest.raises(OpsError, match=r"^(Unknown size|The number of patients)[^\n]*\.$"):
            data.parse_size(bad)
    assert data.parse_size("1m") == ("1m", 1_000_000)
    assert data.parse_size(100_000) == ("100k", 100_000)
