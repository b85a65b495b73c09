"""The benchmark's measurements (issue 9), each against the stores of a bench build (lib.bench.data)
in NON-demo mode, each returning a JSON-able dict. It stays one module because it is also the
entry point of the child processes that do the timed work (`python -m lib.bench.measure WORKER`),
so each measurement sits beside the worker it runs in a child. The measurements:

- `measure_checks`: `python -m lib check --json` in a child process (wall time, peak RSS of that
  child from os.wait4), twice; every count compared with the build's exact expected counts.
- `measure_reconcile`: the core <-> Supabase identity reconciliation (lib.checks.sync.
  reconcile_identities) against reladiff diffing the same key columns, and against the floor of
  reading those key columns alone with COPY; each in a fresh child process; the mismatching UIDs
  of both tools compared.
- `measure_lookups`: lib.patient.lookup (what the Patient page and `python -m lib patient` call)
  for a few hundred sampled patients per identifier kind: p50, p95, max.
- `measure_pages`: every page under Streamlit's AppTest (scripts/bench_pages.py, so that lib/
  never imports streamlit): the first run and warm reruns.
- `machine`: what the figures were measured on.

The child processes are this module run as `python -m lib.bench.measure WORKER OUT [ARGS]`.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from lib.config import PROJECT_ROOT, STORE_SETTINGS, Settings

Progress = Callable[[str], None]

CHECK_RUNS = 2
LOOKUPS_PER_KIND = 200
LOOKUP_WARMUP = 10
PAGE_RERUNS = 5
# reladiff as its docs recommend for threaded diffing: a pool of connections per database and a
# thread pool at least twice that size.
RELADIFF_THREADS = max(2, 2 * (os.cpu_count() or 1))
RELADIFF_POOL = 2 * RELADIFF_THREADS
PAGES_SCRIPT = PROJECT_ROOT / "scripts" / "bench_pages.py"
# what the identity reconciliation returns (lib.checks.sync.reconcile_identities)
RECONCILE_KEYS = ("missing_in_supabase", "missing_in_core", "postgres_id_mismatch")


class Info(Protocol):
    """What the harness needs of lib.bench.data.BenchInfo."""

    core_url: str
    supabase_url: str
    expected: dict[str, int]

    def env(self) -> dict[str, str]: ...


def _nothing(_: str) -> None:
    return None


# ---------------------------------------------------------------------- child processes
@dataclass
class Child:
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


def child_env(info: Info) -> dict[str, str]:
    """This environment without any store setting, plus the bench stores' (non-demo mode); no
    secrets file; the data folder is the bench's own."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in STORE_SETTINGS and k.upper() != "OPS_DATABASE_URL"}
    env.update(info.env())
    data_dir = getattr(info, "data_dir", None)
    if data_dir:
        env.setdefault("HEALBRIDGE_DATA_DIR", str(data_dir))
        env["HEALBRIDGE_SECRETS_FILE"] = str(Path(data_dir) / "no-secrets.toml")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# Spawns the measured command and reports its wall time and peak RSS. It runs as a small
# interpreter of its own (-I -S: no site packages) because Linux carries the parent's peak RSS
# over into a child through fork/vfork + exec: measured directly from this (large) process, every
# child would seem at least as large as the harness. The helper is ~10 MB, below any figure here.
_SPAWN = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
code = subprocess.call(json.loads(sys.argv[2]))
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], "w").write(json.dumps({"wall_s": wall, "peak_rss_kb": peak, "exit_code": code}))
"""


def run_child(argv: list[str], env: Mapping[str, str]) -> Child:
    """Run `argv` to its end (in the project folder, with `env`): its wall time, exit code, output,
    and its peak resident set (RUSAGE_CHILDREN of a fresh helper process that spawned it)."""
    with tempfile.TemporaryDirectory(prefix="hb-spawn-") as tmp:
        figures = Path(tmp) / "figures.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            subprocess.run([sys.executable, "-I", "-S", "-c", _SPAWN, str(figures), json.dumps(argv)],
                           env=dict(env), cwd=PROJECT_ROOT, stdout=out, stderr=err, check=False)
        stderr = err_path.read_text(errors="replace")
        if not figures.is_file():
            raise RuntimeError(f"could not run {argv[:3]}: {stderr.strip()[-300:]}")
        f = json.loads(figures.read_text())
        return Child(round(f["wall_s"], 3), round(f["peak_rss_kb"] / 1024, 1), int(f["exit_code"]),
                     out_path.read_text(errors="replace"), stderr)


def _worker(name: str, info: Info, args: dict[str, Any] | None = None) -> tuple[Child, dict[str, Any]]:
    """Run one of this module's workers in a fresh process; its result and the process figures."""
    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        out = Path(tmp) / "out.json"
        child = run_child([sys.executable, "-m", "lib.bench.measure", name, str(out), json.dumps(args or {})],
                          child_env(info))
        if child.exit_code != 0 or not out.is_file():
            tail = " ".join(child.stderr.strip().splitlines()[-3:])[-600:]
            raise RuntimeError(f"the {name} worker failed (exit {child.exit_code}): {tail}")
        return child, json.loads(out.read_text())


def libpq_url(url: str) -> str:
    """A SQLAlchemy psycopg URL as a libpq connection string."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# ---------------------------------------------------------------------- the check run
def measure_checks(info: Info, *, runs: int = CHECK_RUNS, progress: Progress = _nothing) -> dict[str, Any]:
    """`python -m lib check --json` `runs` times; wall, peak RSS, per-check count and duration, and
    every count against `info.expected` (mismatches are listed; `ok` is False then)."""
    out: dict[str, Any] = {"command": "python -m lib check --json", "runs": []}
    mismatches: dict[str, dict[str, Any]] = {}
    for i in range(runs):
        progress(f"check run {i + 1} of {runs}")
        child = run_child([sys.executable, "-m", "lib", "check", "--json"], child_env(info))
        run: dict[str, Any] = {"wall_s": child.wall_s, "peak_rss_mb": child.peak_rss_mb, "exit_code": child.exit_code}
        try:
            doc = json.loads(child.stdout)
        except json.JSONDecodeError:
            run["error"] = f"no JSON on standard output (exit {child.exit_code}): {child.stderr.strip()[-400:]}"
            out["runs"].append(run)
            mismatches["(run)"] = {"expected": "a JSON document", "got": run["error"]}
            continue
        run["stores"] = doc.get("stores", {})
        run["checks"] = {f["check"]: {"count": f["count"], "duration_ms": f.get("duration_ms"),
                                      **({"error": f["error"]} if f.get("error") else {})}
                         for f in doc.get("findings", [])}
        for cid in sorted(set(info.expected) | set(run["checks"])):
            want, got = info.expected.get(cid), run["checks"].get(cid, {}).get("count")
            if got != want:
                m = mismatches.setdefault(cid, {"expected": want, "got": [], "runs": []})
                m["got"].append(got)
                m["runs"].append(i + 1)
                if run["checks"].get(cid, {}).get("error"):
                    m["error"] = run["checks"][cid]["error"]
        out["runs"].append(run)
        progress(f"check run {i + 1}: {child.wall_s:.1f} s, peak {child.peak_rss_mb:,.0f} MB, exit {child.exit_code}")
    out["count_mismatches"] = mismatches
    out["ok"] = not mismatches
    return out


# ---------------------------------------------------------------------- the identity reconciliation
def prepare_reladiff(info: Info) -> None:
    """Create (or replace) the two views reladiff diffs, in schema `bench` of each bench store."""
    import psycopg

    from lib.sqlfiles import load

    for url, name in ((info.core_url, "bench/reladiff_core_view"), (info.supabase_url, "bench/reladiff_supabase_view")):
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(load(name).text.encode())


def reladiff_url(url: str) -> str:
    """A SQLAlchemy psycopg URL as reladiff wants it (psycopg2 driver, a Unix socket directory
    URL-encoded as the host)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    host = u.host or str(u.query.get("host") or "")
    user = quote(u.username or "postgres", safe="")
    auth = user + (f":{quote(u.password, safe='')}" if u.password else "")
    port = f":{u.port}" if u.port else ""
    return f"postgresql://{auth}@{quote(host, safe='')}{port}/{u.database}"


def reconcile_ours(stores: Any) -> dict[str, Any]:
    """lib.checks.sync.reconcile_identities, timed; the mismatching UIDs (the union of its lists)."""
    from lib.checks import sync

    fn = getattr(sync, "reconcile_identities", None)
    if fn is None:
        raise RuntimeError("lib.checks.sync has no reconcile_identities yet")
    t0 = time.perf_counter()
    found = fn(stores)
    seconds = time.perf_counter() - t0
    uids = sorted({u for k in RECONCILE_KEYS for u in found.get(k, [])})
    return {"seconds": round(seconds, 4), "counts": {k: len(found.get(k, [])) for k in RECONCILE_KEYS}, "uids": uids}


def reconcile_reladiff(core_url: str, supabase_url: str, *, threads: int = RELADIFF_THREADS,
                       pool: int = RELADIFF_POOL) -> dict[str, Any]:
    """reladiff's Python API, threaded: bench.core_identities vs bench.supabase_identities on key
    firebase_uid, comparing pid; from connecting to the last diff row."""
    import logging

    import reladiff

    logging.getLogger("reladiff").setLevel(logging.ERROR)
    logging.getLogger("sqeleton").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    core = reladiff.connect_to_table(reladiff_url(core_url), "bench.core_identities", "firebase_uid",
                                     thread_count=threads, extra_columns=("pid",))
    sb = reladiff.connect_to_table(reladiff_url(supabase_url), "bench.supabase_identities", "firebase_uid",
                                   thread_count=threads, extra_columns=("pid",))
    # skip_sort_results: we sort the uids ourselves, and its sort fails on a NULL pid (a postgres_id
    # that is no uuid) beside a uuid of the same uid
    with reladiff.diff_tables(core, sb, threaded=True, max_threadpool_size=pool, skip_sort_results=True) as diff:
        rows = list(diff)
    seconds = time.perf_counter() - t0
    for t in (core, sb):
        t.database.close()
    return {"seconds": round(seconds, 4), "rows": len(rows), "uids": sorted({str(r[1][0]) for r in rows}),
            "threads": threads, "pool": pool, "algorithm": "hashdiff"}


def key_floor(core_url: str, supabase_url: str) -> dict[str, Any]:
    """COPY (the key columns) TO STDOUT from both stores in parallel threads: bytes counted,
    nothing parsed; from connecting to the last byte."""
    import psycopg

    from lib.sqlfiles import load

    sizes: dict[str, int] = {}
    errors: list[BaseException] = []

    def read(name: str, url: str, sql_name: str) -> None:
        try:
            n = 0
            with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
                stmt = load(sql_name).text.strip().rstrip(";")
                with cur.copy(f"COPY ({stmt}) TO STDOUT".encode()) as copy:
                    for chunk in copy:
                        n += len(chunk)
            sizes[name] = n
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=read, args=("core", core_url, "bench/reladiff_floor_core")),
               threading.Thread(target=read, args=("supabase", supabase_url, "bench/reladiff_floor_supabase"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return {"seconds": round(seconds, 4), "bytes": sizes}


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 4) if xs else float("nan")


def measure_reconcile(info: Info, *, repeats: int = 3, progress: Progress = _nothing) -> dict[str, Any]:
    """Ours, reladiff and the COPY floor, each in a fresh process, `repeats` times interleaved; in
    each process the operation (connect to answer) runs twice: `cold_s` is the first call, with the
    libraries' one-time set-up, `seconds` the second (the steady state; the ratios use it).
    `process_s` is the whole child, interpreter start and imports included; `peak_rss_mb` the
    child's peak resident set over both calls."""
    prepare_reladiff(info)
    tools: dict[str, dict[str, Any]] = {t: {"seconds": [], "cold_s": [], "process_s": [], "peak_rss_mb": []}
                                        for t in ("ours", "reladiff", "floor")}
    uids: dict[str, list[str]] = {}
    for i in range(repeats):
        for tool in ("ours", "reladiff", "floor"):
            child, res = _worker(f"reconcile_{tool}", info,
                                 {"core_url": info.core_url, "supabase_url": info.supabase_url})
            t = tools[tool]
            t["seconds"].append(res["seconds"])
            t["cold_s"].append(res["cold_s"])
            t["process_s"].append(child.wall_s)
            t["peak_rss_mb"].append(child.peak_rss_mb)
            for k in ("counts", "rows", "bytes", "threads", "pool", "algorithm"):
                if k in res:
                    t[k] = res[k]
            if "uids" in res:
                uids[tool] = res["uids"]
            progress(f"reconcile {tool} ({i + 1}/{repeats}): {res['seconds']:.3f} s (first call {res['cold_s']:.3f} s), "
                     f"peak {child.peak_rss_mb:,.0f} MB")
    for t in tools.values():
        t["median_s"] = _median(t["seconds"])
        t["cold_median_s"] = _median(t["cold_s"])
        t["max_peak_rss_mb"] = max(t["peak_rss_mb"])
    ours, theirs = set(uids.get("ours", [])), set(uids.get("reladiff", []))
    out: dict[str, Any] = {
        "tools": tools,
        "mismatching_uids": {"ours": len(ours), "reladiff": len(theirs)},
        "same_mismatches": ours == theirs,
        "only_ours": sorted(ours - theirs)[:20],
        "only_reladiff": sorted(theirs - ours)[:20],
        "reladiff_over_ours": round(tools["reladiff"]["median_s"] / tools["ours"]["median_s"], 2),
        "ours_over_floor": round(tools["ours"]["median_s"] / tools["floor"]["median_s"], 2),
        "repeats": repeats,
    }
    out["ok"] = out["same_mismatches"]
    return out


# ---------------------------------------------------------------------- patient lookups
KINDS = ("uid", "email", "email_other_case", "phone_e164", "phone_national", "core_user_id", "core_patient_id",
         "supabase_user_id", "document_id", "name")


def lookup_samples(stores: Any, n: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """Per identifier kind, up to `n` (query, expected UID) pairs from randomly chosen patients
    (a fixed order given by `seed`)."""
    import phonenumbers

    from lib import normalize

    region = stores.settings.phone_default_region
    patients = stores.core.rows("bench/harness_lookup_patients", {"seed": str(seed), "n": n})
    uids = [p["firebase_uid"] for p in patients]
    sb = {r["firebase_uid"]: r for r in stores.supabase.rows("bench/harness_lookup_supabase_ids", {"uids": uids})}
    rng = random.Random(seed)
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    for p in patients:
        uid = p["firebase_uid"]
        out["uid"].append((uid, uid))
        out["core_user_id"].append((p["user_id"], uid))
        out["core_patient_id"].append((p["patient_id"], uid))
        if p["email"]:
            out["email"].append((p["email"], uid))
            mixed = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in p["email"])
            out["email_other_case"].append((f"  {mixed} ", uid))
        e164 = normalize.phone(p["phone"], region)
        if e164 and e164.startswith("+"):
            out["phone_e164"].append((e164, uid))
            try:
                number = phonenumbers.parse(e164)
                out["phone_national"].append(
                    (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL), uid))
            except phonenumbers.NumberParseException:
                pass
        if p["full_name"]:
            out["name"].append((p["full_name"], uid))
        s = sb.get(uid) or {}
        if s.get("user_id"):
            out["supabase_user_id"].append((s["user_id"], uid))
        if s.get("document_id"):
            out["document_id"].append((s["document_id"], uid))
    return out


# the lookup's SQL (lib.patient.resolve) and the parameters it gets, from one sampled patient
def _plan_params(p: dict[str, Any], region: str) -> dict[str, dict[str, Any]]:
    from lib import normalize
    from lib.patient import classify

    email = (p["email"] or "").strip().lower()
    tail = re.sub(r"\D", "", p["phone"] or "")[-7:]
    pattern = classify(p["full_name"] or "xx", region).pattern
    refs = [p["user_id"], p["patient_id"]]
    return {"core/patient_identity": {"uids": [p["firebase_uid"]]}, "core/patient_by_email": {"emails": [email]},
            "core/patient_by_phone": {"tails": [tail]}, "core/patient_by_id": {"id": p["patient_id"]},
            "core/patient_by_name": {"pattern": pattern, "limit": 51},
            "supabase/patient_users": {"uids": [p["firebase_uid"]]}, "supabase/patient_refs": {"uids": [p["firebase_uid"]]},
            "supabase/patient_by_email": {"emails": [normalize.email(email) or email]},
            "supabase/patient_by_phone": {"tails": [tail]}, "supabase/patient_by_id": {"id": p["user_id"]},
            "supabase/patient_by_name": {"pattern": pattern, "limit": 51},
            # what lib.patient.load reads next, for every kind (the patient view)
            "core/patient_documents": {"refs": refs, "ids": []}, "core/patient_medications": {"refs": refs},
            "core/patient_appointments": {"refs": refs}, "core/patient_session_notes": {"refs": refs},
            "core/patient_sync_jobs": {"uids": [p["firebase_uid"]], "limit": 2000},
            "core/patient_prescriptions": {"appointment_ids": [], "ids": []},
            "supabase/patient_documents": {"uids": [p["firebase_uid"]], "ids": []},
            "supabase/patient_connections": {"uids": [p["firebase_uid"]], "hours": 72},
            "supabase/patient_orphan_chunks": {"uids": [p["firebase_uid"]]},
            "supabase/patient_orphan_files": {"uids": [p["firebase_uid"]]}}


def lookup_plans(stores: Any, seed: int) -> dict[str, list[str]]:
    """The tables each lookup statement read by a sequential scan, with the rows it read, as the
    planner chose on this data set (EXPLAIN ANALYZE, for one sampled patient; a scan in the plan
    that never ran is not one): all empty when every lookup is served by an index."""
    from sqlalchemy import text

    from lib.sqlfiles import load

    (p,) = stores.core.rows("bench/harness_lookup_patients", {"seed": str(seed), "n": 1})
    out: dict[str, list[str]] = {}
    for name, params in _plan_params(p, stores.settings.phone_default_region).items():
        with stores.get(name.split("/", 1)[0]).read() as conn:
            plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON, VERBOSE) " + load(name).text), params).scalar()
        nodes, seq = [plan[0]["Plan"]], []
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", []))
            if node["Node Type"] == "Seq Scan" and node.get("Actual Loops"):  # a scan that ran
                read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
                seq.append(f"{node.get('Schema', 'public')}.{node['Relation Name']} ({read:,.0f} rows)")
        out[name] = sorted(seq)
    return out


def _pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


def measure_lookups(stores: Any, *, n: int = LOOKUPS_PER_KIND, seed: int = 1, warmup: int = LOOKUP_WARMUP,
                    progress: Progress = _nothing) -> dict[str, Any]:
    """lib.patient.lookup for each kind's samples (after `warmup` untimed lookups of that kind):
    p50, p95, max, mean in ms, and how many did not find their patient."""
    from lib.patient import classify, lookup

    samples = lookup_samples(stores, n, seed)
    kinds: dict[str, Any] = {}
    for kind, pairs in samples.items():
        if not pairs:
            kinds[kind] = {"n": 0}
            continue
        for q, _ in pairs[:warmup]:
            lookup(stores, q)
        ms: list[float] = []
        missed: list[str] = []
        down = 0  # lookups where a part did not answer (a timeout shows here)
        matches: list[int] = []
        classified: set[str] = set()
        for q, uid in pairs:
            t0 = time.perf_counter()
            res = lookup(stores, q)
            ms.append((time.perf_counter() - t0) * 1000)
            found = [m.uid for m in res.matches]
            down += bool(res.search.down or any(m.down for m in res.matches))
            matches.append(len(found))
            classified.add(classify(q).kind)
            if uid not in found:
                missed.append(uid)
        kinds[kind] = {"n": len(ms), "classified_as": sorted(classified),
                       "p50_ms": round(_pct(ms, 50), 1), "p95_ms": round(_pct(ms, 95), 1),
                       "max_ms": round(max(ms), 1), "mean_ms": round(statistics.fmean(ms), 1),
                       "mean_matches": round(statistics.fmean(matches), 2), "not_found": len(missed), "part_down": down,
                       "not_found_sample": missed[:5]}
        progress(f"lookup {kind}: n {len(ms)}, p50 {kinds[kind]['p50_ms']} ms, p95 {kinds[kind]['p95_ms']} ms")
    timed = [k for k in kinds.values() if k.get("n")]
    plans = lookup_plans(stores, seed)
    progress(f"lookup plans: sequential scans {sum(map(len, plans.values()))} ({plans})")
    return {"kinds": kinds, "per_kind": n, "seed": seed, "warmup": warmup, "sequential_scans": plans,
            "worst_p95_ms": max((k["p95_ms"] for k in timed), default=None),
            "function": "lib.patient.lookup"}


# ---------------------------------------------------------------------- pages
def sample_uid(info: Info, seed: int) -> str | None:
    """One sampled patient's Firebase UID (what the Patient page is opened with)."""
    from lib.stores.core import CoreStore

    core = CoreStore(info.core_url)
    try:
        rows = core.rows("bench/harness_lookup_patients", {"seed": str(seed), "n": 1})
    finally:
        core.dispose()
    return str(rows[0]["firebase_uid"]) if rows else None


def measure_pages(info: Info, *, reruns: int = PAGE_RERUNS, patient_query: str | None = None,
                  progress: Progress = _nothing) -> dict[str, Any]:
    """Every page under AppTest in one child process (scripts/bench_pages.py) with the bench
    stores' environment, signed in as an admin."""
    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        out = Path(tmp) / "pages.json"
        argv = [sys.executable, str(PAGES_SCRIPT), "--out", str(out), "--reruns", str(reruns)]
        if patient_query:
            argv += ["--patient-query", patient_query]
        progress(f"pages: AppTest, {reruns} warm reruns each")
        child = run_child(argv, child_env(info))
        if child.exit_code != 0 or not out.is_file():
            tail = " ".join(child.stderr.strip().splitlines()[-3:])[-600:]
            raise RuntimeError(f"the pages benchmark failed (exit {child.exit_code}): {tail}")
        doc = json.loads(out.read_text())
    doc["process_s"] = child.wall_s
    doc["peak_rss_mb"] = child.peak_rss_mb
    pages = doc.get("pages", {})
    doc["worst_warm_max_s"] = max((p["warm_max_s"] for p in pages.values() if "warm_max_s" in p), default=None)
    doc["worst_first_s"] = max((p["first_s"] for p in pages.values() if "first_s" in p), default=None)
    doc["ok"] = all("error" not in p for p in pages.values())
    return doc


# ---------------------------------------------------------------------- the machine
def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cmd(argv: list[str]) -> str | None:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (r.stdout or r.stderr).strip()
    return text.splitlines()[0].strip() if text else None


def machine(info: Info | None = None) -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, PostgreSQL, firebase-tools, Firestore emulator, Java, date."""
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    osr = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', _read("/etc/os-release"), re.M)
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "os": f"{osr.group(1) if osr else platform.system()} (kernel {platform.release()})",
        "python": platform.python_version(),
    }
    try:
        pkg = json.loads((PROJECT_ROOT / "node_modules" / "firebase-tools" / "package.json").read_text())
        out["firebase_tools"] = pkg.get("version")
    except (OSError, ValueError):
        out["firebase_tools"] = None
    out["auth_emulator"] = f"firebase-tools {out['firebase_tools']}" if out["firebase_tools"] else None
    out["firestore_emulator"] = _cmd(["dpkg-query", "-W", "-f", "${Version}", "google-cloud-cli-firestore-emulator"])
    out["java"] = _cmd(["java", "-version"])
    out["node"] = _cmd(["node", "--version"])
    try:
        import reladiff

        out["reladiff"] = reladiff.__version__
    except ImportError:
        out["reladiff"] = None
    out["git_commit"] = _cmd(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"])
    if info is not None:
        try:
            import psycopg

            with psycopg.connect(libpq_url(info.core_url)) as conn:
                row = conn.execute("SELECT current_setting('server_version'), datcollate FROM pg_database "
                                   "WHERE datname = current_database()").fetchone()
            if row:
                out["postgresql"], out["pg_collation"] = row[0], row[1]
        except Exception as exc:  # noqa: BLE001 - the machine description is best effort
            out["postgresql"] = f"unknown ({type(exc).__name__})"
    return out


def describe_info(info: Any) -> dict[str, Any]:
    """The build's description for the result file: sizes, seed, phase times, row counts (no URLs,
    hosts, folders or the expected counts, which are recorded with the check run)."""
    raw = asdict(info) if is_dataclass(info) and not isinstance(info, type) else dict(vars(info))
    skip = re.compile(r"url|host|data_dir|expected|project", re.I)
    return {k: v for k, v in raw.items() if not skip.search(k)}


# ---------------------------------------------------------------------- the workers
def settings_from_env() -> Settings:
    from lib.config import load_settings

    return load_settings()


def _stores() -> Any:
    from lib.stores import open_stores

    return open_stores(settings_from_env())


def _twice(op: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The operation in this fresh process twice: the first call pays the libraries' one-time set-up
    (imports done lazily, the first connection of a driver, SQLAlchemy's dialect), the second is the
    steady state of a long-lived process. Each call connects from scratch."""
    cold = op()
    warm = op()
    return warm | {"cold_s": cold["seconds"]}


def _reconcile_ours_once() -> dict[str, Any]:
    stores = _stores()
    try:
        return reconcile_ours(stores)
    finally:
        stores.dispose()


def _work(name: str, args: dict[str, Any]) -> dict[str, Any]:
    if name == "reconcile_ours":
        return _twice(_reconcile_ours_once)
    if name == "reconcile_reladiff":
        return _twice(lambda: reconcile_reladiff(args["core_url"], args["supabase_url"]))
    if name == "reconcile_floor":
        return _twice(lambda: key_floor(args["core_url"], args["supabase_url"]))
    if name == "lookups":
        stores = _stores()
        try:
            return measure_lookups(stores, n=int(args.get("n", LOOKUPS_PER_KIND)), seed=int(args.get("seed", 1)),
                                   progress=lambda m: print(m, file=sys.stderr, flush=True))
        finally:
            stores.dispose()
    raise SystemExit(f"unknown worker {name!r}")


def measure_lookups_child(info: Info, *, n: int = LOOKUPS_PER_KIND, seed: int = 1,
                          progress: Progress = _nothing) -> dict[str, Any]:
    """measure_lookups in a fresh process with the bench stores' environment."""
    progress(f"lookups: {n} per identifier kind")
    child, res = _worker("lookups", info, {"n": n, "seed": seed})
    res["process_s"] = child.wall_s
    res["peak_rss_mb"] = child.peak_rss_mb
    for kind, k in res["kinds"].items():
        if k.get("n"):
            progress(f"lookup {kind}: p50 {k['p50_ms']} ms, p95 {k['p95_ms']} ms, max {k['max_ms']} ms")
    return res


def main(argv: list[str]) -> int:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    name, out = argv[0], Path(argv[1])
    args = json.loads(argv[2]) if len(argv) > 2 else {}
    result = _work(name, args)
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
