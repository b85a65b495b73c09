"""Benchmark: many browser sessions on the Health page at once.

Starts a demo of its own (its own data folder, `python -m lib demo --patients N`), the dashboard
(`streamlit run app.py`) on a free port, and Debian's Chromium through Playwright with S sessions
(one browser context each). Each session opens /health once, then for D seconds goes to Stores and
back to Health through the sidebar, pausing a think time between clicks (`--think T`: uniform in
[T/2, 3T/2] seconds, as a person reads a page; 0 = clicks back to back, a closed loop); each return
to Health is timed from the click to the page drawn (the Health title, the area tiles' "Findings"
metrics, no script running): the server's run of the page and the browser's drawing, without
reloading the app's bundle. First a single session does the same for 10 s (idle). Prints and writes
the median, p95 and max, the navigations per second, and the CPU seconds the dashboard's server and
the browsers used in the measured window (all on this machine: the browsers' drawing competes with
the server for its cores).

    .venv/bin/python scripts/bench_sessions.py [--patients 5000] [--sessions 20] [--seconds 60]
        [--think 0,5] [--out FILE]

It lives beside `python -m lib bench` rather than in it because it drives a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
sys.path.insert(0, str(ROOT))


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


async def _drawn(page: Any, title: str, timeout_s: float) -> None:
    await page.locator('[data-testid="stMain"] h1', has_text=title).first.wait_for(timeout=timeout_s * 1000)
    if title == "Health":
        await page.locator('[data-testid="stMetricLabel"]', has_text="Findings").first.wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while quiet < 2:  # Streamlit's status widget shows while a script runs
        if time.monotonic() > deadline:
            raise TimeoutError("the page was still running")
        quiet = 0 if await page.locator('[data-testid="stStatusWidget"]').count() > 0 else quiet + 1
        await asyncio.sleep(0.05)


def _cpu_s(pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds (user + system) used so far, by process: the server `pid`, and the browsers this
    process started."""
    import psutil

    def used(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    browsers = [c for c in psutil.Process().children(recursive=True) if "chrom" in c.name().lower()]
    server = psutil.Process(pid)
    mine = {pid, *(c.pid for c in browsers)}
    out = {"server": {pid: used(server)}, "browsers": {c.pid: used(c) for c in browsers},
           "check_worker": {c.pid: used(c) for c in server.children(recursive=True)}}
    mine |= set(out["check_worker"])
    others: dict[int, float] = {}  # the demo's stores, the Playwright driver, and whatever else runs here
    for p in psutil.process_iter():
        if p.pid not in mine:
            others[p.pid] = used(p)
    out["everything_else"] = others
    return out


def _cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds between two _cpu_s readings (a process gone by the second reading is not counted)."""
    return {k: round(sum(v - before[k].get(p, 0.0) for p, v in after[k].items()), 1) for k in after}


async def _session(browser: Any, url: str, until: float | asyncio.Future[float], times: list[float],
                   errors: list[str], ready: asyncio.Event | None = None, think: float = 0.0,
                   rng: random.Random | None = None) -> None:
    """One browser session: opens /health once (the app's bundle, the websocket), then goes to
    Stores and back to Health through the sidebar until `until`; each return to Health is timed
    from the click to the page drawn (the script's run on the server and the drawing)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/health", timeout=300_000)
        await _drawn(page, "Health", 300)
        nav = page.locator('[data-testid="stSidebarNav"]')
        if ready is not None:  # every session has opened the app: the measured window starts together
            ready.set()
        end = await until if isinstance(until, asyncio.Future) else until
        rng = rng or random.Random(0)

        async def pause() -> None:
            if think > 0:
                await asyncio.sleep(rng.uniform(think / 2, think * 1.5))

        while time.monotonic() < end:
            try:
                await pause()
                await nav.get_by_role("link", name="Stores").click()
                await _drawn(page, "Stores", 120)
                await pause()
                if time.monotonic() >= end:
                    break
                t0 = time.perf_counter()
                await nav.get_by_role("link", name="Health").click()
                await _drawn(page, "Health", 120)
                times.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        await context.close()


async def _drive(url: str, sessions: int, seconds: float, thinks: list[float], server_pid: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"])
        try:
            warm = await browser.new_page()  # the first run of the server: the check run, the caches
            await warm.goto(f"{url}/health", timeout=600_000)
            await _drawn(warm, "Health", 600)
            await warm.close()
            idle: list[float] = []
            await _session(browser, url, time.monotonic() + 10, idle, [])
            loaded: dict[str, Any] = {}
            for think in thinks:
                times: list[float] = []
                errors: list[str] = []
                until: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                events = [asyncio.Event() for _ in range(sessions)]
                window: dict[str, Any] = {}

                async def start(events: list[asyncio.Event] = events, until: asyncio.Future[float] = until,
                                window: dict[str, Any] = window) -> None:
                    for e in events:  # the window opens once every session has drawn Health once
                        await e.wait()
                    window |= {"cpu": _cpu_s(server_pid), "load": os.getloadavg()[0]}
                    until.set_result(time.monotonic() + seconds)

                await asyncio.gather(start(), *(_session(browser, url, until, times, errors, e, think, random.Random(i))
                                                for i, e in enumerate(events)))
                cpu = _cpu_s(server_pid)
                loaded[f"think_{think:g}s"] = {
                    "think_s": think, **_stats(times), "navigations_per_s": round(len(times) / seconds, 2),
                    "cpu_s": _cpu_used(window["cpu"], cpu),
                    "load_average_1m": [window["load"], os.getloadavg()[0]],
                    "errors": len(errors), "first_errors": errors[:5]}
                print(json.dumps({f"think_{think:g}s": loaded[f"think_{think:g}s"]}), file=sys.stderr, flush=True)
        finally:
            await browser.close()
    return {"idle": idle, "loaded": loaded}


def _stats(xs: list[float]) -> dict[str, Any]:
    if not xs:
        return {"n": 0}
    xs = sorted(xs)
    return {"n": len(xs), "median_s": round(statistics.median(xs), 3),
            "p95_s": round(xs[min(len(xs) - 1, int(0.95 * len(xs)))], 3), "max_s": round(xs[-1], 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", default="0,5", help="think times to measure in turn, seconds, comma-separated")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from lib.config import STORE_SETTINGS
    from lib.services import free_port

    data_dir = Path(tempfile.mkdtemp(prefix="hbl", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if k not in (*STORE_SETTINGS, "OPS_DATABASE_URL")}
    env.update(HEALBRIDGE_DATA_DIR=str(data_dir), HEALBRIDGE_SECRETS_FILE="/nonexistent/secrets.toml")
    port = free_port()
    server = None
    try:
        subprocess.run([sys.executable, "-m", "lib", "demo", "--patients", str(args.patients), "--seed", "7"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=1800)
        log = open(data_dir / "streamlit.log", "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", 240)
        thinks = [float(t) for t in str(args.think).split(",") if t.strip()]
        got = asyncio.run(_drive(f"http://127.0.0.1:{port}", args.sessions, args.seconds, thinks, server.pid))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                       timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
    result = {"patients": args.patients, "sessions": args.sessions, "seconds": args.seconds,
              "cpus": os.cpu_count(), "load_average": os.getloadavg(), "idle": _stats(got["idle"]),
              "loaded": got["loaded"]}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
