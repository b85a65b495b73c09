"""The watcher's benchmark (issue 15, "Measure"; `python -m lib bench --only watch`), against a bench
build (lib.bench.data) in non-demo mode, each part on an ops database of its own on the bench's
PostgreSQL server (created fresh, dropped at the end), so the bench's own history stays as it is:

- `overhead`: lib.watch.run_once, the full check run, `intervals` times in a fresh child process
  (after one untimed warm-up interval that opens every planted check), with its phases timed
  (run_once's `timings`): the check run; saving the run + deciding + writing the outbox (one
  transaction); delivering through apprise to a local HTTP receiver (a json:// channel). Between
  intervals the data changes with real SQL (sql/bench/watch_flip.sql: one sync job failed, then
  one stuck, in turn) and the watch config's thresholds make each change a "worse" alert, so
  every measured interval decides, queues and delivers a message. The overhead = all but the
  check run.
- `memory`: the long-running watcher itself (`python -m lib watch`, APScheduler, the lease,
  housekeeping) as a child process whose WATCH_CONFIG runs a cheap subset of checks every
  second (the rest once a day, so once at start); after each interval its resident set
  (/proc/<pid>/status VmRSS) is read and the data flipped. Flat: the mean of the last 10
  intervals within 5 % of the mean of intervals 11-20.
- `year`: a simulated year of 5-minute runs (105,120 runs × every check's result of one real run
  of `overhead`) written into an ops database of its own with their timestamps, then the
  watcher's pruning (lib.watch.prune: every run 30 days, one a day for a year), then VACUUM and
  VACUUM FULL: pg_database_size and row counts at each step.

The child process of `overhead` is this module run as `python -m lib.bench.watch overhead OUT ARGS`.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Protocol

from lib.bench.measure import Info, child_env, libpq_url, run_child
from lib.config import PROJECT_ROOT

Progress = Callable[[str], None]


class WatchInfo(Info, Protocol):
    """What the watcher's benchmark needs of lib.bench.data.BenchInfo."""

    ops_url: str

INTERVALS = 10  # measured intervals of the overhead part (after one warm-up)
MEMORY_INTERVALS = 100
MEMORY_CADENCE = "1s"
# the cheap checks the memory part's watcher runs every interval: the two the data flips, one on Supabase
MEMORY_CHECKS = ("sync.jobs_failed", "sync.jobs_stuck", "token.expired_active")
FLIPPED = ("sync.jobs_failed", "sync.jobs_stuck")
FAILED_JOB, STUCK_JOB = 1, 2  # old succeeded sync jobs of every bench build (lib.bench.data: ids 1..n)
YEAR_DAYS = 365
EVERY_S = 300  # 5-minute runs
CHUNK_RUNS = 8640  # 30 days of runs a statement
WATCH_DB, MEMORY_DB, YEAR_DB = "bench_watch", "bench_watch_memory", "bench_year"
OVERHEAD_TARGET_MS = 100.0
FLAT_WITHIN = 0.05


def _nothing(_: str) -> None:
    return None


# ---------------------------------------------------------------------- a local receiver
class Receiver:
    """An HTTP server on loopback taking apprise's json:// posts: counts them, keeps their titles."""

    def __init__(self) -> None:
        self.titles: list[str] = []
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    recv.titles.append(str(json.loads(body or b"{}").get("title", "")))
                except ValueError:
                    recv.titles.append("")
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---------------------------------------------------------------------- databases of its own
def database_url(ops_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(ops_url).set(database=name).render_as_string(hide_password=False)


def recreate_database(ops_url: str, name: str, *, drop_only: bool = False) -> str:
    """Drop database `name` on the server of `ops_url` and (unless `drop_only`) create it empty."""
    import psycopg
    from psycopg import sql as psql

    with psycopg.connect(libpq_url(ops_url), autocommit=True) as conn:
        conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))
        if not drop_only:
            conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    return database_url(ops_url, name)


def flip(core_url: str, phase: int) -> None:
    """The data change between intervals (sql/bench/watch_flip.sql): 0 one more failed sync job,
    1 one more stuck sync job, 2 neither."""
    from lib.bench.data import _run

    _run(core_url, "bench/watch_flip", {"failed_job": FAILED_JOB, "stuck_job": STUCK_JOB, "phase": phase})


@contextmanager
def _ops(url: str, *, autocommit: bool = False, schema: bool = True) -> Iterator[Any]:
    """A connection of its own to an ops database (the schema created first unless not `schema`)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from lib.sqlfiles import load

    eng = create_engine(url, poolclass=NullPool, **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))
    try:
        if schema:
            with eng.begin() as conn:
                conn.exec_driver_sql(load("ops/schema").text)  # the ops schema, as lib.stores.ops creates it
        with eng.connect() as conn:
            yield conn
            if not autocommit:
                conn.commit()
    finally:
        eng.dispose()


def _config_file(folder: Path, info: WatchInfo, cadence: dict[str, str] | None = None) -> Path:
    """A WATCH_CONFIG: the flipped checks' thresholds one above the build's counts (each flip
    crosses one: a "worse" alert), and `cadence`."""
    lines = []
    if cadence:
        lines.append("[cadence]")
        lines += [f'"{k}" = "{v}"' for k, v in cadence.items()]
    lines.append("[thresholds]")
    lines += [f'"{c}" = {int(info.expected[c]) + 1}' for c in FLIPPED]
    path = folder / "watch.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _env(info: WatchInfo, ops_url: str, receiver: Receiver, config: Path) -> dict[str, str]:
    env = child_env(info)
    env.update({"OPS_DATABASE_URL": ops_url, "ALERT_URLS": receiver.url, "WATCH_CONFIG": str(config)})
    for k in ("ALERT_URLS_ERROR", "ALERT_URLS_WARN", "ALERT_URLS_INFO", "ALERT_URLS_DIGEST"):
        env.pop(k, None)
    return env


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


# ---------------------------------------------------------------------- 1. the overhead per interval
def measure_overhead(info: WatchInfo, *, intervals: int = INTERVALS, progress: Progress = _nothing) -> dict[str, Any]:
    """run_once `intervals` times (after a warm-up) in a child process, phases timed."""
    url = recreate_database(info.ops_url, WATCH_DB)
    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory(prefix="hb-watch-") as tmp:
            cfg = _config_file(Path(tmp), info)
            out = Path(tmp) / "out.json"
            progress(f"watch overhead: 1 warm-up + {intervals} intervals of run_once (full check run)")
            child = run_child([sys.executable, "-m", "lib.bench.watch", "overhead", str(out),
                               json.dumps({"intervals": intervals, "core_url": info.core_url})],
                              _env(info, url, receiver, cfg))
            if child.exit_code != 0 or not out.is_file():
                tail = " ".join(child.stderr.strip().splitlines()[-3:])[-600:]
                raise RuntimeError(f"the watch overhead worker failed (exit {child.exit_code}): {tail}")
            res: dict[str, Any] = json.loads(out.read_text())
    finally:
        receiver.stop()
    measured = res["intervals"][1:]
    over = [i["overhead_ms"] for i in measured]
    res.update({
        "received": len(receiver.titles),
        "overhead_median_ms": round(statistics.median(over), 1), "overhead_p95_ms": round(_pct(over, 95), 1),
        "overhead_max_ms": round(max(over), 1),
        "checks_median_s": round(statistics.median(i["checks_s"] for i in measured), 3),
        "transaction_median_ms": round(statistics.median(i["transaction_ms"] for i in measured), 1),
        "deliver_median_ms": round(statistics.median(i["deliver_ms"] for i in measured), 1),
        "alerts_in_every_interval": all(i["changes"] and i["delivered_ok"] >= 1 for i in measured),
        "process_s": child.wall_s, "peak_rss_mb": child.peak_rss_mb,
    })
    res["met"] = res["overhead_p95_ms"] < OVERHEAD_TARGET_MS
    for i, iv in enumerate(measured, 1):
        progress(f"watch interval {i}: checks {iv['checks_s']:.2f} s, overhead {iv['overhead_ms']:.1f} ms "
                 f"({', '.join(c['check'] + ' ' + c['change'] for c in iv['changes'])})")
    return res


def _overhead_worker(args: dict[str, Any]) -> dict[str, Any]:
    from lib.config import load_settings
    from lib.stores import open_stores
    from lib.watch import run_once

    stores = open_stores(load_settings())
    rows = []
    try:
        for i in range(int(args["intervals"]) + 1):
            flip(args["core_url"], 2 if i == 0 else (i - 1) % 2)
            t: dict[str, float] = {}
            t0 = time.perf_counter()
            doc, _ = run_once(stores, timings=t)
            total = time.perf_counter() - t0
            rows.append({
                "interval": i, "warm_up": i == 0, "run_id": doc["run_id"], "total_s": round(total, 4),
                "checks_s": round(t["checks_s"], 4), "transaction_ms": round(t["transaction_s"] * 1000, 2),
                "deliver_ms": round(t["deliver_s"] * 1000, 2),
                "overhead_ms": round((total - t["checks_s"]) * 1000, 2),
                "changes": [{"check": c["check"], "change": c["change"]} for c in doc["changes"]] if i else
                           [{"check": f"{len(doc['changes'])} checks", "change": "opened"}],
                "delivered_ok": sum(1 for d in doc["deliveries"] if d["ok"]),
                "delivery_errors": [d["error"] for d in doc["deliveries"] if not d["ok"]],
            })
    finally:
        flip(args["core_url"], 2)
        stores.dispose()
    return {"intervals": rows, "function": "lib.watch.run_once", "channel": "json://127.0.0.1 (local receiver)"}


# ---------------------------------------------------------------------- 2. memory of the long-running watcher
def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def measure_memory(info: WatchInfo, *, intervals: int = MEMORY_INTERVALS, cadence: str = MEMORY_CADENCE,
                   progress: Progress = _nothing, timeout_s: float | None = None) -> dict[str, Any]:
    """`python -m lib watch` (the real service) with MEMORY_CHECKS every `cadence`, the rest once a
    day (so once at start); its RSS after each of `intervals` intervals; the data flipped between."""
    from lib.stores.ops import run as ops_run

    url = recreate_database(info.ops_url, MEMORY_DB)
    receiver = Receiver()
    samples: list[float] = []
    runs_seen: list[int] = []
    startup: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hb-watch-") as tmp:
        cfg = _config_file(Path(tmp), info, {"default": "1d", **{c: cadence for c in MEMORY_CHECKS}})
        env = _env(info, url, receiver, cfg)
        log = (Path(tmp) / "watch.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "lib", "watch"], env=env, cwd=PROJECT_ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
        t_start = time.perf_counter()
        deadline = t_start + (timeout_s or 600 + 10 * intervals)
        after, phase, early = 0, 0, 0
        try:
            progress(f"watch memory: `python -m lib watch`, {', '.join(MEMORY_CHECKS)} every {cadence}, "
                     f"{intervals} intervals")
            while len(samples) < intervals:
                if proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError("the watcher stopped or took too long "
                                       f"({len(samples)} of {intervals} intervals seen)")
                time.sleep(0.05)
                try:
                    with _ops(url, schema=False) as conn:
                        new = [dict(r._mapping) for r in ops_run(conn, "bench_watch_runs_after", {"after_id": after})]
                except Exception:  # noqa: BLE001 - the watcher creates the schema; not there yet
                    continue
                if not new:
                    continue
                after = int(new[-1]["id"])
                subset = [r for r in new if int(r["checks"]) == len(MEMORY_CHECKS)]
                if len(subset) < len(new) and not startup:  # the once-a-day group (the rest) runs at start
                    startup = {"rest_run_done_s": round(time.perf_counter() - t_start, 1),
                               "rss_mb": _rss_mb(proc.pid), "subset_runs_before": early}
                if not startup:
                    early += len(subset)
                    continue
                if not subset:
                    continue
                rss = _rss_mb(proc.pid)
                if rss is not None:
                    samples.append(rss)
                    runs_seen.append(len(subset))
                flip(info.core_url, phase)
                phase = 1 - phase
                if len(samples) % 20 == 0:
                    progress(f"watch memory: interval {len(samples)}, RSS {rss} MB")
            wall = time.perf_counter() - t_start
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            flip(info.core_url, 2)
            receiver.stop()
    first = samples[10:20] if len(samples) >= 30 else samples[: max(1, len(samples) // 2)]
    last = samples[-10:] if len(samples) >= 30 else samples[len(samples) // 2:]
    m1, m2 = statistics.fmean(first), statistics.fmean(last)
    growth = (m2 - m1) / m1
    return {
        "command": "python -m lib watch", "checks": list(MEMORY_CHECKS), "cadence": cadence, "intervals": len(samples),
        "rss_mb": samples, "startup": startup, "window_first": "intervals 11-20" if len(samples) >= 30 else "first half",
        "mean_first_mb": round(m1, 1), "mean_last_mb": round(m2, 1), "growth": round(growth, 4),
        "min_mb": min(samples), "max_mb": max(samples), "received": len(receiver.titles), "wall_s": round(wall, 1),
        "coalesced_runs": sum(runs_seen) - len(runs_seen), "met": abs(growth) <= FLAT_WITHIN,
    }


# ---------------------------------------------------------------------- 3. the ops database after a year
def _size(url: str) -> dict[str, Any]:
    from lib.stores.ops import run as ops_run

    with _ops(url) as conn:
        r = dict(ops_run(conn, "bench_year_size").mappings().one())
    return {k: int(v) for k, v in r.items()}


def measure_year(info: WatchInfo, *, days: int = YEAR_DAYS, progress: Progress = _nothing) -> dict[str, Any]:
    """A simulated year of 5-minute runs (the results of the overhead part's last full run) in an ops
    database of its own; its size before and after lib.watch.prune, VACUUM and VACUUM FULL."""
    from pydantic import SecretStr

    from lib.config import Settings
    from lib.stores import Stores
    from lib.stores.ops import run as ops_run
    from lib.watch import prune

    src = database_url(info.ops_url, WATCH_DB)
    with _ops(src) as conn:
        tpl = [dict(r._mapping) for r in ops_run(conn, "bench_watch_template_run")]
    if not tpl:
        raise RuntimeError("no watcher run to repeat: measure the overhead part first")
    url = recreate_database(info.ops_url, YEAR_DB)
    stores: Stores | None = None
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        total = days * 86_400 // EVERY_S
        params = {"every_s": EVERY_S, "stores": tpl[0]["stores"], "checks": [r["check_id"] for r in tpl],
                  "severities": [r["severity"] for r in tpl], "counts": [r["count"] for r in tpl],
                  "samples": [r["sample"] for r in tpl], "durations": [r["duration_ms"] for r in tpl],
                  "errors": [r["error"] for r in tpl]}
        empty = _size(url)
        t0 = time.perf_counter()
        written = 0
        while written < total:  # oldest chunk first, so ids grow with time
            n = min(CHUNK_RUNS, total - written)
            until = now - timedelta(seconds=EVERY_S * (total - written - n))
            with _ops(url) as conn:
                ops_run(conn, "bench_year_runs", {**params, "runs": n, "until": until})
            written += n
            progress(f"watch year: {written:,} of {total:,} runs written")
        write_s = time.perf_counter() - t0
        with _ops(url, autocommit=True) as conn:
            ops_run(conn, "bench_year_vacuum")  # statistics for the pruning, as autovacuum would have them
        before = _size(url)
        progress(f"watch year: {before['database_bytes'] / 1e6:,.0f} MB unpruned; pruning")
        settings = Settings(ops_database_url=SecretStr(url), statement_timeout_ms=3_600_000)
        stores = Stores(settings=settings, demo=False, core=None, supabase=None, firebase=None, ops_url=url)
        t0 = time.perf_counter()
        removed = prune(stores, now)
        prune_s = time.perf_counter() - t0
        pruned = _size(url)
        with _ops(url, autocommit=True) as conn:
            ops_run(conn, "bench_year_vacuum")
        vacuumed = _size(url)
        with _ops(url, autocommit=True) as conn:
            ops_run(conn, "bench_year_vacuum_full")
        full = _size(url)
        progress(f"watch year: pruned {removed:,} runs in {prune_s:.1f} s; {full['database_bytes'] / 1e6:,.0f} MB "
                 "after VACUUM FULL")
    finally:
        if stores is not None:
            stores.ops.dispose()
        recreate_database(info.ops_url, YEAR_DB, drop_only=True)
    return {"days": days, "every_s": EVERY_S, "runs_written": total, "checks_per_run": len(tpl),
            "write_s": round(write_s, 1), "prune_s": round(prune_s, 1), "runs_removed": removed,
            "keep_all_days": settings.watch_keep_all_days, "keep_daily_days": settings.watch_keep_daily_days,
            "empty": empty, "unpruned": before, "pruned": pruned, "vacuumed": vacuumed, "vacuum_full": full}


# ---------------------------------------------------------------------- the part
def measure_watch(info: WatchInfo, *, intervals: int = INTERVALS, memory_intervals: int = MEMORY_INTERVALS,
                  cadence: str = MEMORY_CADENCE, year_days: int = YEAR_DAYS,
                  progress: Progress = _nothing) -> dict[str, Any]:
    """The three measurements (each a section; one failing leaves the others)."""
    from lib.errors import safe_message

    out: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("overhead", lambda: measure_overhead(info, intervals=intervals, progress=progress)),
        ("memory", lambda: measure_memory(info, intervals=memory_intervals, cadence=cadence, progress=progress)),
        ("year", lambda: measure_year(info, days=year_days, progress=progress)),
    ]
    try:
        for name, step in steps:
            load = round(os.getloadavg()[0], 2)
            try:
                out[name] = step()
            except Exception as exc:  # noqa: BLE001 - one measurement failing must not lose the others
                out[name] = {"error": safe_message(exc)}
            out[name]["load_before"], out[name]["load_after"] = load, round(os.getloadavg()[0], 2)
    finally:
        for db in (WATCH_DB, MEMORY_DB):
            recreate_database(info.ops_url, db, drop_only=True)
    out["ok"] = all("error" not in out[n] for n, _ in steps) and bool(out["overhead"].get("alerts_in_every_interval"))
    return out


def main(argv: list[str]) -> int:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    name, out = argv[0], Path(argv[1])
    args = json.loads(argv[2]) if len(argv) > 2 else {}
    if name != "overhead":
        raise SystemExit(f"unknown worker {name!r}")
    out.write_text(json.dumps(_overhead_worker(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
