"""Benchmark: how long each monitoring page takes to rerun under Streamlit's AppTest once its data
is cached, on the default demo (2,000 patients, seed 7), and how long the first (cold) run takes.

    .venv/bin/python scripts/bench_pages.py [--patients 2000] [--reruns 10] [--data-dir DIR]

Without --data-dir it starts a demo of its own in a temporary folder and stops it at the end.
AppTest time is the script run on the server (queries, pandas, building the page); the browser's
drawing comes on top.
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
PAGES = ["pages/health.py", "pages/duplicates.py", "pages/tokens.py", "pages/constraints.py", "pages/review.py"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--patients", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reruns", type=int, default=10)
    p.add_argument("--data-dir", type=Path)
    args = p.parse_args()
    own = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="hbb", dir="/tmp"))
    os.environ["HEALBRIDGE_DATA_DIR"] = str(data_dir)
    sys.path.insert(0, str(ROOT))
    warnings.simplefilter("ignore")
    import logging

    logging.disable(logging.WARNING)

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from lib.config import load_settings
    from lib.demo import read_manifest, run_demo
    from lib.demo.services import DemoServices

    settings = load_settings()
    man = read_manifest(settings)
    try:
        t0 = time.perf_counter()
        if man is None or man["patients"] != args.patients or man["seed"] != args.seed or man["clean"]:
            run_demo(settings, patients=args.patients, seed=args.seed, reset=True)
        else:
            run_demo(settings)
        print(f"demo ready in {time.perf_counter() - t0:.1f} s ({args.patients:,} patients, seed {args.seed})")
        print(f"{'page':24} {'cold s':>8} {'warm median s':>14} {'warm max s':>11}")
        for page in PAGES:
            st.cache_data.clear()
            st.cache_resource.clear()
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            at.switch_page(page)
            t = time.perf_counter()
            at.run()
            cold = time.perf_counter() - t
            if at.exception:
                print(f"{page}: exception {at.exception[0].value}")
                return 1
            warm = []
            for _ in range(args.reruns):
                t = time.perf_counter()
                at.run()
                warm.append(time.perf_counter() - t)
            print(f"{page:24} {cold:8.2f} {statistics.median(warm):14.3f} {max(warm):11.3f}")
    finally:
        if own:
            DemoServices(settings).stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
