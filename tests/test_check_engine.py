"""The check run's out-of-core engine (lib.checks.engine, issue 16) on the real demo stores: with a
memory limit below what the parts take, DuckDB spills them to the run's folder and every
cross-store count and key list is still exactly what the demo planted; the spill folder is gone
when the run ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
