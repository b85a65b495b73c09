"""The check run's out-of-core engine (lib.checks.engine, issue 16) on the real demo stores: with a
memory limit below what the parts take, DuckDB spills them to the run's folder and every
cross-store count and key list is still exactly what the demo planted; the spill folder is gone
when the run ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from lib.checks.engine import Engine, spill_root
from lib.checks.registry import REGISTRY
from lib.checks.runner import run_checks
from lib.checks.sync import PARTS, Snapshot, finish

SNAPSHOT_CHECKS = [cid for cid, c in REGISTRY.items() if c.kind == "snapshot"]


def _spilled(engine: Engine) -> int:
    """Bytes of the engine's tables DuckDB holds in its spill folder (evicted from memory)."""
    row = engine.con.execute("SELECT coalesce(sum(temporary_storage_bytes), 0) FROM duckdb_memory()").fetchone()
    return int(row[0]) if row else 0


def test_spilled_parts_give_the_planted_counts(demo: Any, tmp_path: Path) -> None:
    """The parts are loaded, then the memory limit drops below what their tables take: DuckDB writes
    them to the run's spill folder, and the checks read them back from there (at 32 MB, the least
    the drift query needs) with every count and key exactly what the demo planted."""
    manifest = demo.ensure(1200, 5)
    stores = demo.stores()
    engine = Engine(64, tmp_path, threads=1)
    try:
        snap = Snapshot.load(stores, list(PARTS), {}, [], engine=engine)
        assert snap.errors == {}
        engine.con.execute("SET memory_limit = '1MB'")  # evict every table block it can
        spilled = _spilled(engine)
        engine.con.execute("SET memory_limit = '32MB'")
        region = stores.settings.phone_default_region
        got = {cid: finish(REGISTRY[cid].fn(snap.frames, region)) for cid in SNAPSHOT_CHECKS}  # type: ignore[misc]
    finally:
        engine.close()
        stores.dispose()
    assert spilled > 0, "DuckDB kept every table in memory: the spill path was not taken"
    for cid in SNAPSHOT_CHECKS:
        planted = manifest["planted"][cid]
        assert (got[cid].count, got[cid].keys) == (planted["count"], planted["keys"]), cid
    assert not any(tmp_path.iterdir()), "the run's spill folder outlived its engine"


def test_a_run_leaves_no_spill_folder(demo: Any) -> None:
    demo.ensure()
    stores = demo.stores()
    try:
        run = run_checks(stores, only=SNAPSHOT_CHECKS)
    finally:
        stores.dispose()
    assert all(r.error is None for r in run.results)
    root = spill_root(stores.settings.healbridge_data_dir)
    assert root.is_dir() and not any(root.iterdir())


def test_a_killed_runs_spill_folder_is_removed_by_the_next_run_and_a_live_one_is_kept(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    root = tmp_path / "check-spill"
    # a run killed mid-way: its process is gone (SIGKILL), its folder (and its spilled tables) stay
    code = ("import os, signal, sys; from pathlib import Path; from lib.checks.engine import Engine; "
            "e = Engine(64, Path(sys.argv[1])); (e.spill / 'spilled.tmp').write_text('x'); "
            "print(e.spill, flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    killed = Path(proc.stdout.strip())
    assert proc.returncode == -9 and (killed / "spilled.tmp").is_file(), proc.stderr
    old_unlocked = root / "run-old"  # a folder from before lock files, untouched for two hours
    old_unlocked.mkdir()
    os.utime(old_unlocked, (time.time() - 7200, time.time() - 7200))
    making = root / "run-new"  # a run that has just made its folder and not yet locked it
    making.mkdir()
    live = Engine(64, root)
    try:
        assert live.spill is not None and live.spill.is_dir()
        assert not killed.exists() and not old_unlocked.exists() and making.is_dir()
        other = Engine(64, root)  # a second live run (this process) keeps the first one's folder
        try:
            assert live.spill.is_dir() and other.spill is not None and other.spill.is_dir()
        finally:
            other.close()
        assert other.spill is not None and not other.spill.exists()
    finally:
        live.close()
    assert not live.spill.exists()


def test_the_drift_built_in_several_passes_gives_the_planted_drift(demo: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """At millions of users the drift is built a slice of the uids at a time (one pass failed with
    DuckDB out of memory at 3M and 128 MB); sliced in five here, the count and keys are the plants'."""
    from lib.checks import sync

    manifest = demo.ensure(1200, 5)
    stores = demo.stores()
    engine = Engine(64, tmp_path, threads=1)
    try:
        snap = Snapshot.load(stores, ["fb_users", "fs_profiles", "core_users", "sb_users"], {}, [], engine=engine)
        assert snap.errors == {}
        rows = sum(engine.rows[t] for t in ("fb_users", "fs_profiles", "core_users", "sb_users"))
        monkeypatch.setattr(sync, "DRIFT_ROWS_PER_MB", max(1, rows // (5 * 64)))
        passes = sync.drift_passes(engine)
        got = finish(REGISTRY["sync.field_drift"].fn(snap.frames, stores.settings.phone_default_region))  # type: ignore[misc]
    finally:
        engine.close()
        stores.dispose()
    assert passes >= 5
    planted = manifest["planted"]["sync.field_drift"]
    assert (got.count, got.keys) == (planted["count"], planted["keys"])


def test_a_small_engine_comes_back_from_the_pool_empty(demo: Any) -> None:
    """The patient view's small engines are reused, not reopened: after a lookup the pool holds
    them with none of its tables (parts or the drift's helper tables), and the next lookup, on
    those same engines, finds the same drift and findings."""
    from lib.checks import engine as eng
    from lib.patient import load

    manifest = demo.ensure()
    uids = sorted({k.split("|")[0] for k in manifest["planted"]["sync.field_drift"]["keys"]})[:20]
    stores = demo.stores()
    try:
        first = load(stores, uids)
        pooled = list(eng._small_pool)
        assert pooled and all(e.pooled for e in pooled)
        for e in pooled:
            assert e.con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,) and e.rows == {}
        second = load(stores, uids)
        assert set(map(id, eng._small_pool)) <= set(map(id, pooled))  # the same engines, none opened
    finally:
        stores.dispose()
    assert any(v.drift for v in first)
    assert [(v.drift, v.finding_ids) for v in second] == [(v.drift, v.finding_ids) for v in first]


def test_the_pool_keeps_a_few_small_engines_and_closes_the_rest() -> None:
    from lib.checks import engine as eng

    taken = [eng.small_engine(16) for _ in range(eng.SMALL_POOL_MAX + 2)]
    for e in taken:
        eng.release(e)
    kept = [e for e in taken if e in eng._small_pool]
    assert len(kept) <= eng.SMALL_POOL_MAX and len(eng._small_pool) <= eng.SMALL_POOL_MAX
    closed = [e for e in taken if e not in eng._small_pool]
    assert len(closed) >= 2
    for e in closed:
        with pytest.raises(duckdb.Error):
            e.con.execute("SELECT 1")
    run = Engine(16, None, threads=1)  # a run's engine is never pooled
    eng.release(run)
    assert run not in eng._small_pool
