"""Benchmark worker: every page of the dashboard under Streamlit's AppTest, signed in as an admin
(as tests/apptest_support.py does), against the stores the environment configures. First the server's cold start, once: Health with every cache
empty (no store opened, no run held: the page waits for the first run or shows the history's).
Then per page: its first run on that running server with the page's own caches empty (every
st.cache_data read and everything derived from a run forgotten; the stores stay open and the run
stays held, as for a person opening the page on a dashboard that is up), then N reruns with the
caches warm (median and max).

`python -m lib bench` runs it in a child process with the bench stores' environment (non-demo
mode); it lives here rather than in lib/ because lib/ never imports streamlit:

    .venv/bin/python scripts/bench_pages.py --out pages.json [--reruns 5] [--patient-query UID]

AppTest time is the script run on the server (queries, pandas, building the page); the browser's
drawing comes on top.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ADMIN = "bench@hospital.example"


def _texts(elements: Any) -> list[str]:
    return [str(getattr(e, "value", "") or "")[:200] for e in elements]


def measure(page: str, reruns: int, query: dict[str, str], timeout: float, cold: bool = False) -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from lib.web.cache import _run_memo

    st.cache_data.clear()
    _run_memo.clear()
    if cold:
        st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.switch_page(page)
    for k, v in query.items():
        at.query_params[k] = v
    # st.user after st.login: the subject and the issue time a session needs (lib.auth refuses one without them)
    at.user = {"is_logged_in": True, "email": ADMIN, "sub": f"sub-{ADMIN}", "iat": int(time.time())}
    at.secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32},
                  "roles": {"admin": [ADMIN]}}
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    out: dict[str, Any] = {"first_s": round(first, 3)}
    if at.exception:
        out["error"] = _texts(at.exception)[0] or "exception"
        return out
    warm = []
    for _ in range(reruns):
        t = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t)
    if warm:
        out |= {"warm_median_s": round(statistics.median(warm), 3), "warm_max_s": round(max(warm), 3),
                "reruns": reruns}
    errors = _texts(at.error)
    if at.exception:
        out["error"] = _texts(at.exception)[0] or "exception"
    if errors:  # a page may show an error box for a real finding; recorded, not fatal
        out["error_boxes"] = errors[:3]
    if any(e.startswith("Sign in") for e in errors) or not at.title:  # the sign-in page, not the page measured
        out["error"] = "the page was not shown: " + (errors[0] if errors else "no title")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="where to write the JSON result")
    p.add_argument("--reruns", type=int, default=5)
    p.add_argument("--patient-query", help="what the Patient page is opened with (?q=…)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds one run may take")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)

    pages = sorted(f"views/{f.name}" for f in (ROOT / "views").glob("*.py"))
    result: dict[str, Any] = {"pages": {}, "reruns": args.reruns, "patient_query": bool(args.patient_query)}
    cold = measure("views/health.py", 0, {}, args.timeout, cold=True)
    result["cold_server_s"] = cold["first_s"]
    from lib.checks import latest

    t = time.perf_counter()
    latest.wait_all(args.timeout)  # a running dashboard holds its first run: the pages are measured after it
    result["first_check_run_wait_s"] = round(time.perf_counter() - t, 3)
    print(f"cold server, Health: {cold['first_s']:.2f} s; its first check run ended "
          f"{result['first_check_run_wait_s']:.1f} s later", file=sys.stderr, flush=True)
    for page in pages:
        query = {"q": args.patient_query} if page == "views/patient.py" and args.patient_query else {}
        res = measure(page, args.reruns, query, args.timeout)
        result["pages"][page] = res
        warm = f"warm median {res['warm_median_s']:.3f} s, max {res['warm_max_s']:.3f} s" if "warm_max_s" in res else res.get("error")
        print(f"{page}: first {res['first_s']:.2f} s, {warm}", file=sys.stderr, flush=True)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
