"""Benchmark: the fix runner on a demo of a given size. For each fix in the sensible order: the plan
(the statements run and rolled back, with the counts before and after inside the transaction), the
apply, and the second apply (nothing to do), in milliseconds, with the rows touched; and
`fixes.status` (every fix: needed, blocked by), which the Fixes page and `fix list` call.

    .venv/bin/python scripts/bench_fixes.py [--patients 20000] [--seed 7] [--plans 3] [--data-dir DIR]

Without --data-dir it starts a demo of its own in a temporary folder and stops it at the end. The
demo is regenerated first (the benchmark applies every fix to it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patients", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--plans", type=int, default=3, help="plans per fix (the median is shown)")
    p.add_argument("--data-dir", type=Path)
    args = p.parse_args()
    own = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="hbf", dir="/tmp"))
    os.environ["HEALBRIDGE_DATA_DIR"] = str(data_dir)
    for name in ("CORE_DATABASE_URL", "SUPABASE_DB_URL", "SUPABASE_URL", "FIREBASE_PROJECT_ID"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    warnings.simplefilter("ignore")

    from lib import fixes
    from lib.config import load_settings
    from lib.demo import run_demo
    from lib.roles import Actor
    from lib.services import EmbeddedServices
    from lib.stores import open_stores

    settings = load_settings()
    actor = Actor("bench", "oncall")
    try:
        t0 = time.perf_counter()
        run_demo(settings, patients=args.patients, seed=args.seed, reset=True)
        print(f"demo ready in {time.perf_counter() - t0:.1f} s ({args.patients:,} patients, seed {args.seed})")
        stores = open_stores(settings)
        try:
            t = time.perf_counter()
            fixes.status(stores)
            print(f"fixes.status (16 fixes, both stores): {(time.perf_counter() - t) * 1000:,.0f} ms")
            print(f"{'fix':34} {'rows':>7} {'plan ms':>8} {'apply ms':>9} {'again ms':>9}  outcome")
            for fid in fixes.SEQUENCE:
                plans = []
                for _ in range(args.plans):
                    r = fixes.plan(stores, fid, actor)
                    plans.append(r.duration_ms)
                a = fixes.apply(stores, fid, actor, "benchmark")
                b = fixes.apply(stores, fid, actor, "benchmark, again")
                print(f"{fid:34} {a.rows:7,} {statistics.median(plans):8,.0f} {a.duration_ms:9,.0f} "
                      f"{b.duration_ms:9,.0f}  {a.outcome} / {b.outcome}")
            t = time.perf_counter()
            left = [s.fix.id for s in fixes.status(stores) if s.needed]
            print(f"fixes.status afterwards: {(time.perf_counter() - t) * 1000:,.0f} ms; still needed: {left or 'none'}")
        finally:
            stores.dispose()
    finally:
        if own:
            EmbeddedServices(settings).stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
