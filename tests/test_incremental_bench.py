"""The incremental benchmark's harness on a small bench data set (a configured deployment, not the
demo, with Firebase holding fewer patients than core): after its changes, the incremental run's
count and keys equal the full run's for every check, and it reports the rows it read per store."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.bench import data
from lib.bench.incremental import KINDS, measure_incremental
from lib.checks.incremental import INCREMENTAL_PARTS


@pytest.fixture(scope="module")
def bench() -> Iterator[data.BenchInfo]:
    path = Path(tempfile.mkdtemp(prefix="hbi", dir="/tmp"))  # short: the server's socket lives there
    try:
        yield data.build(3_000, seed=3, data_dir=path, firebase_users=2_000, progress=lambda _: None)
    finally:
        data.stop(path)
        shutil.rmtree(path, ignore_errors=True)


def test_on_the_bench_data_the_incremental_run_counts_what_the_full_run_counts(bench: data.BenchInfo) -> None:
    res = measure_incremental(bench)
    assert res["differ"] == {} and res["ok"], res["differ"]
    assert all(res["changes"][k] >= 1 for k in KINDS), res["changes"]
    parts = res["incremental"]["reads"]["parts"]
    assert all(parts[p]["mode"] == "incremental" for p in INCREMENTAL_PARTS), parts
    base = res["base"]["reads"]["parts"]
    assert all(parts[p]["rows_read"] < base[p]["rows_read"] for p in INCREMENTAL_PARTS)
    assert set(res["incremental"]["reads"]["rows_read"]) >= {"core", "supabase", "firebase_auth", "firestore"}
    # the data set no longer matches its build: the next build rebuilds it
    assert data.load_info(bench.data_dir).fingerprint != data.fingerprint()
