"""Benchmark: many sessions on the Health page at once, through browsers or Streamlit's protocol.

Starts a demo of its own (its own data folder, `python -m lib demo --patients N`) and the dashboard
(`streamlit run app.py`) on a free port, then S sessions. Each session opens /health once, then for D
seconds goes to Stores and back to Health, pausing a think time between the two (`--think T`: uniform
in [T/2, 3T/2] seconds, as a person reads a page; 0 = back to back, a closed loop); each return to
Health is timed. First a single session does the same for 10 s (idle). Prints and writes the median,
p95 and max, the navigations per second, and the CPU seconds used in the measured window by the
dashboard's server (its process, its process group with the check worker), by the clients, and by the
whole machine (/proc/stat), read as the window opens and as it closes, while every session is open.

`--clients browser` (the default): Debian's Chromium through Playwright, one browser context a
session, clicking the sidebar's links; a return to Health is timed from the click to the page drawn
(the Health title, the area tiles' "Findings" metrics, no script running): the server's run of the
page and the browser's drawing, without reloading the app's bundle. On one machine the browsers'
drawing competes with the server for its cores.

`--clients ws`: no browser; each session speaks Streamlit's own protocol on a WebSocket of its own
(ws://…/_stcore/stream, subprotocol "streamlit", binary protobufs) as the frontend does: a BackMsg
`rerun_script` (ClientState: the page's `page_script_hash` from the server's `navigation` message,
or `page_name` "health" for the first run, empty widget states, the browser's context info, and the
hashes of the cached messages it holds, kept and expired as the frontend's message cache does); the
server answers with ForwardMsgs: `new_session` (the run's id), `delta`s (or `ref_hash` references to
cached ones), `script_finished`. A return to Health is timed from sending the rerun to that run's
`script_finished` (FINISHED_SUCCESSFULLY): the server as a user on another machine sees it, without
any drawing. A run counts only if it drew the Health page (a "Health" title and the "Failing checks"
subheader among its elements; "Stores" for Stores); an exception element, a compile error, a page
not found, an unknown cached reference or another status is an error, reported with the others.

    .venv/bin/python scripts/bench_sessions.py [--clients browser|ws] [--patients 5000]
        [--sessions 20] [--seconds 60] [--think 0,5] [--out FILE]

It lives beside `python -m lib bench` rather than in it because it drives a browser (or a protocol
client standing in for one).
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
from collections.abc import Awaitable, Callable
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


def _pauser(rng: random.Random, think: float) -> Callable[[], Awaitable[None]]:
    """A session's think time between clicks: uniform in [think/2, 3 think/2] seconds (0: none)."""
    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(rng.uniform(think / 2, think * 1.5))
    return pause


async def _cycles(end: float, pause: Callable[[], Awaitable[None]], stores: Callable[[], Awaitable[Any]],
                  health: Callable[[], Awaitable[Any]], times: list[float], errors: list[str],
                  recover: Callable[[], Awaitable[bool]] | None = None) -> None:
    """Until `end`: a think time, Stores, a think time, Health (timed from the click to the page
    drawn). An error is counted; then `recover`, if any, reconnects (False ends the session)."""
    while time.monotonic() < end:
        try:
            await pause()
            await stores()
            await pause()
            if time.monotonic() >= end:
                break
            t0 = time.perf_counter()
            await health()
            times.append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            if recover is not None and time.monotonic() < end and not await recover():
                break


# In the page, one promise per navigation: click the sidebar's link (if asked), then resolve once the
# page is drawn: its title, for Health the area tiles' "Findings" metrics, and no script running
# (Streamlit's status widget absent at two checks 50 ms apart). A timer, not Playwright's locators:
# they poll on every animation frame, and 20 pages polling for seconds at a time made the browsers
# draw frames for the rig rather than for the dashboard.
_NAVIGATE_JS = """([title, link, timeoutMs]) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  if (link) {
    const a = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
      .find(e => e.textContent.trim().toLowerCase().endsWith(title.toLowerCase()));  // after its icon's name
    if (!a) { reject(new Error(`no sidebar link to ${title}`)); return; }
    a.click();
  }
  const has = (sel, text) => [...document.querySelectorAll(sel)].some(e => e.textContent.includes(text));
  let quiet = 0;
  const tick = () => {
    if (performance.now() - t0 > timeoutMs) { reject(new Error(`${title} was not drawn in ${timeoutMs} ms`)); return; }
    const drawn = has('[data-testid="stMain"] h1', title)
      && (title !== "Health" || has('[data-testid="stMetricLabel"]', "Findings"))
      && !document.querySelector('[data-testid="stStatusWidget"]');
    quiet = drawn ? quiet + 1 : 0;
    if (quiet >= 2) resolve(performance.now() - t0); else setTimeout(tick, 50);
  };
  setTimeout(tick, 50);
})"""


async def _drawn(page: Any, title: str, timeout_s: float, click: bool = False) -> None:
    """Wait until `page` shows `title` drawn (after clicking its sidebar link, with `click`)."""
    await page.evaluate(_NAVIGATE_JS, [title, click, timeout_s * 1000])


def _cpu_s(pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds (user + system) used so far, by process: the server `pid`, its check worker (its
    children), its whole process group, the browsers this process started, this process (the
    Playwright client or the WebSocket clients), and everything else on the machine."""
    import psutil

    def used(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    def group(p: psutil.Process) -> int | None:
        try:
            return os.getpgid(p.pid)
        except OSError:
            return None

    me = psutil.Process()
    browsers = [c for c in me.children(recursive=True) if "chrom" in c.name().lower()]
    server = psutil.Process(pid)
    out = {"server": {pid: used(server)}, "check_worker": {c.pid: used(c) for c in server.children(recursive=True)},
           "browsers": {c.pid: used(c) for c in browsers}, "this_process": {me.pid: used(me)}}
    mine = {p for v in out.values() for p in v}
    everything = list(psutil.process_iter())
    # the server started a session of its own (start_new_session): its group is it and its workers
    out["server_group"] = {p.pid: used(p) for p in everything if group(p) == pid}
    mine |= set(out["server_group"])
    # the demo's stores, the Playwright driver, and whatever else runs here
    out["everything_else"] = {p.pid: used(p) for p in everything if p.pid not in mine}
    return out


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy since boot (/proc/stat: every state but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds between two _cpu_s readings, both taken while every session is open (a process gone by
    the second reading would not be counted: a closed browser context takes its renderer with it)."""
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
        if ready is not None:  # every session has opened the app: the measured window starts together
            ready.set()
        end = await until if isinstance(until, asyncio.Future) else until
        pause = _pauser(rng or random.Random(0), think)

        async def to(title: str) -> None:
            await _drawn(page, title, 120, click=True)

        await _cycles(end, pause, lambda: to("Stores"), lambda: to("Health"), times, errors)
    finally:
        await context.close()


class ProtocolError(Exception):
    """What a WebSocket session got was not the page it asked for, or the run did not end well."""


class _WsClient:
    """One session on Streamlit's WebSocket, as the frontend speaks it (streamlit/static's
    ConnectionManager and App, streamlit/web/server/starlette/starlette_websocket.py and
    runtime/app_session.py): binary frames, a BackMsg up, ForwardMsgs down."""

    def __init__(self, url: str) -> None:
        self.base = url
        self.ws: Any = None
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash (`new_session`, `navigation`)
        self.default = ""  # the default page's page_script_hash, as the navigation lists it
        # the frontend's ForwardMsgCache: hash -> (message, the run count when last used)
        self.cache: dict[str, tuple[Any, int]] = {}
        self.run_count = 0
        self.max_age = 2  # new_session.config.max_cached_message_age replaces it

    async def open(self, timeout_s: float) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin, Subprotocol

        ws_url = self.base.replace("http://", "ws://", 1) + "/_stcore/stream"
        # The frontend's subprotocols: "streamlit", then its XSRF token and a session to resume
        # (none here: the demo has no sign-in cookie to guard, so no token is needed).
        self.ws = await connect(ws_url, subprotocols=[Subprotocol("streamlit")], origin=Origin(self.base),
                                proxy=None, max_size=None, open_timeout=timeout_s, ping_interval=None,
                                user_agent_header="bench_sessions")
        if self.ws.subprotocol != "streamlit":
            raise ProtocolError(f"the server chose the subprotocol {self.ws.subprotocol!r}")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def _rerun(self, page_script_hash: str, page_name: str) -> bytes:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        path = page_name or next((k for k, v in self.pages.items() if v == page_script_hash), "")
        state = ClientState(
            query_string="", widget_states=WidgetStates(), page_script_hash=page_script_hash, page_name=page_name,
            cached_message_hashes=sorted(self.cache),
            context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US",
                                     url=f"{self.base}/{path}", is_embedded=False, color_scheme="light"))
        return bytes(BackMsg(rerun_script=state).SerializeToString())

    def _resolve(self, msg: Any) -> Any:
        """A `ref_hash` message replaced by the cached message it names, as the frontend does; a
        cacheable message kept."""
        if msg.WhichOneof("type") == "ref_hash":
            hit = self.cache.get(msg.ref_hash)
            if hit is None:
                raise ProtocolError(f"the server referred to a message this session never cached ({msg.ref_hash})")
            self.cache[msg.ref_hash] = (hit[0], self.run_count)
            return hit[0]
        if msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = (self.cache.get(msg.hash, (msg, 0))[0], self.run_count)
        return msg

    def _run_ended(self) -> None:
        """A full run finished: the frontend's incrementRunCount, the messages not used for more than
        max_cached_message_age runs expire."""
        self.run_count += 1
        for h in [h for h, (_, last) in self.cache.items() if self.run_count - last > self.max_age]:
            del self.cache[h]

    async def navigate(self, timeout_s: float, title: str, page_script_hash: str = "", page_name: str = "",
                       must_have: tuple[str, ...] = ()) -> tuple[int, int]:
        """Sends the rerun of a page and reads until its run's script_finished; returns the deltas
        of the run and how many of them came as references to cached messages. Raises ProtocolError
        unless the run finished successfully on the page asked for, drew the headings `title` and
        `must_have`, and showed no exception."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        await self.ws.send(self._rerun(page_script_hash, page_name))
        run_id: str | None = None
        deltas = refs = 0
        headings: set[str] = set()
        ran = ""  # the page the server ran (navigation.page_script_hash)
        async with asyncio.timeout(timeout_s):
            while True:
                frame = await self.ws.recv()
                if not isinstance(frame, bytes):
                    raise ProtocolError("the server sent a text frame")
                msg = ForwardMsg()
                msg.ParseFromString(frame)
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    if run_id is None:  # this request's run (runs are not queued: one request at a time)
                        run_id = msg.metadata.run.script_run_id
                    ns = msg.new_session
                    if ns.config.max_cached_message_age:
                        self.max_age = ns.config.max_cached_message_age
                    for pg in ns.app_pages:
                        self._page(pg)
                    continue
                if run_id is None:
                    continue  # the tail of an earlier run
                if kind == "navigation":
                    ran = msg.navigation.page_script_hash
                    for pg in msg.navigation.app_pages:
                        self._page(pg)
                elif kind in ("delta", "ref_hash"):
                    deltas += 1
                    refs += kind == "ref_hash"
                    delta = self._resolve(msg).delta
                    if delta.WhichOneof("type") == "new_element":
                        el = delta.new_element
                        which = el.WhichOneof("type")
                        if which == "heading":
                            headings.add(el.heading.body)
                        elif which == "exception" and not el.exception.is_warning:  # a warning is drawn, not raised
                            raise ProtocolError(f"exception on the page: {el.exception.type}: "
                                                f"{el.exception.message[:200]}")
                elif kind == "page_not_found":
                    raise ProtocolError(f"page not found: {msg.page_not_found.page_name!r}")
                elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
                    raise ProtocolError(f"compile error: {msg.session_event.script_compilation_exception.message[:200]}")
                elif kind == "script_finished" and msg.metadata.run.script_run_id == run_id:
                    if msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                        continue  # not this run's end
                    status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                    if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        raise ProtocolError(f"the run ended {status}")
                    self._run_ended()
                    if page_script_hash and ran != page_script_hash:
                        raise ProtocolError(f"asked for page {page_script_hash}, the server ran {ran or 'no page'}")
                    missing = [h for h in (title, *must_have) if h not in headings]
                    if missing:
                        raise ProtocolError(f"the run drew no {missing} (headings: {sorted(headings)[:8]})")
                    return deltas, refs

    def _page(self, pg: Any) -> None:
        if pg.page_script_hash and pg.is_default:  # through the router the default page is listed at "" and
            self.default = pg.page_script_hash     # again at its url_path under a hash of its own: the sidebar sends this one
        if pg.page_script_hash and pg.url_pathname:
            self.pages[pg.url_pathname] = pg.page_script_hash

    def hash_of(self, url_path: str, default: bool = False) -> str:
        """The page_script_hash of the page at /url_path (of the default page, with `default`), as the
        sidebar's link sends it."""
        h = self.default if default and self.default else self.pages.get(url_path)
        if h is None:
            raise ProtocolError(f"no page {url_path!r} in the navigation ({sorted(self.pages)})")
        return h


HEALTH_MUST_HAVE = ("Failing checks",)


async def _ws_session(url: str, until: float | asyncio.Future[float], times: list[float], errors: list[str],
                      ready: asyncio.Event | None = None, think: float = 0.0, rng: random.Random | None = None,
                      deltas: list[tuple[int, int]] | None = None, first_timeout_s: float = 300) -> None:
    """One WebSocket session: the same schedule as `_session` (opens /health once, then Stores and
    back to Health until `until`), each return to Health timed from sending the rerun to its run's
    script_finished. After an error the session starts again on a new connection (a reload)."""
    client = _WsClient(url)

    async def start() -> None:
        nonlocal client
        await client.close()
        client = _WsClient(url)  # a new connection: no cache, a new session on the server
        await client.open(first_timeout_s)
        await client.navigate(first_timeout_s, "Health", page_name="health", must_have=HEALTH_MUST_HAVE)

    try:
        try:
            await start()
        except Exception as exc:  # noqa: BLE001 - counted; the window must still open for the others
            errors.append(f"open: {type(exc).__name__}: {str(exc)[:200]}")
            if ready is not None:
                ready.set()
            return
        if ready is not None:
            ready.set()
        end = await until if isinstance(until, asyncio.Future) else until
        pause = _pauser(rng or random.Random(0), think)

        async def health() -> None:
            n = await client.navigate(120, "Health", client.hash_of("health", default=True), must_have=HEALTH_MUST_HAVE)
            if deltas is not None:
                deltas.append(n)

        async def reconnect() -> bool:  # as a reload
            try:
                await start()
                return True
            except Exception as again:  # noqa: BLE001 - counted; the session ends
                errors.append(f"reconnect: {type(again).__name__}: {str(again)[:200]}")
                return False

        await _cycles(end, pause, lambda: client.navigate(120, "Stores", client.hash_of("stores")), health,
                      times, errors, reconnect)
    finally:
        await client.close()


async def _drive(url: str, sessions: int, seconds: float, thinks: list[float], server_pid: int,
                 clients: str = "browser") -> dict[str, Any]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        browser: Any = None
        if clients == "browser":
            from playwright.async_api import async_playwright

            pw = await stack.enter_async_context(async_playwright())
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"])
            stack.push_async_callback(browser.close)

        def session(until: float | asyncio.Future[float], times: list[float], errors: list[str],
                    ready: asyncio.Event | None = None, think: float = 0.0, rng: random.Random | None = None,
                    deltas: list[tuple[int, int]] | None = None) -> Any:
            if browser is not None:
                return _session(browser, url, until, times, errors, ready, think, rng)
            return _ws_session(url, until, times, errors, ready, think, rng, deltas)

        # the first run of the server: the check run, the caches
        if browser is not None:
            warm = await browser.new_page()
            await warm.goto(f"{url}/health", timeout=600_000)
            await _drawn(warm, "Health", 600)
            await warm.close()
        else:
            first = _WsClient(url)
            await first.open(600)
            try:
                await first.navigate(600, "Health", page_name="health", must_have=HEALTH_MUST_HAVE)
            finally:
                await first.close()
        idle: list[float] = []
        idle_errors: list[str] = []
        await session(time.monotonic() + 10, idle, idle_errors)
        if idle_errors:
            print(json.dumps({"idle_errors": idle_errors[:5]}), file=sys.stderr, flush=True)
        loaded: dict[str, Any] = {}
        for think in thinks:
            times: list[float] = []
            errors: list[str] = []
            deltas: list[tuple[int, int]] = []
            until: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            events = [asyncio.Event() for _ in range(sessions)]
            window: dict[str, Any] = {}

            async def start(events: list[asyncio.Event] = events, until: asyncio.Future[float] = until,
                            window: dict[str, Any] = window) -> None:
                for e in events:  # the window opens once every session has drawn Health once
                    await e.wait()
                window |= {"cpu": _cpu_s(server_pid), "busy": _machine_busy_s(), "load": os.getloadavg()[0]}
                until.set_result(time.monotonic() + seconds)
                await asyncio.sleep(seconds)  # read again as the window closes, before the sessions close theirs
                window |= {"cpu_end": _cpu_s(server_pid), "busy_end": _machine_busy_s()}

            await asyncio.gather(start(), *(session(until, times, errors, e, think, random.Random(i), deltas)
                                            for i, e in enumerate(events)))
            key = f"think_{think:g}s"
            loaded[key] = {
                "think_s": think, **_stats(times), "navigations_per_s": round(len(times) / seconds, 2),
                "cpu_s": _cpu_used(window["cpu"], window["cpu_end"]) | {
                    "machine": round(window["busy_end"] - window["busy"], 1), "machine_capacity": (os.cpu_count() or 1) * seconds},
                "load_average_1m": [window["load"], os.getloadavg()[0]],
                "errors": len(errors), "first_errors": errors[:5]}
            if clients == "ws" and deltas:  # what a Health run sent: its deltas, and those sent as cached refs
                loaded[key]["health_run_deltas"] = {
                    "median": statistics.median(d for d, _ in deltas), "max": max(d for d, _ in deltas),
                    "cached_refs_median": statistics.median(r for _, r in deltas)}
            print(json.dumps({key: loaded[key]}), file=sys.stderr, flush=True)
    return {"idle": idle, "idle_errors": len(idle_errors), "loaded": loaded}


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
    ap.add_argument("--clients", choices=("browser", "ws"), default="browser",
                    help="browser: Chromium through Playwright (the server and the drawing); ws: Streamlit's "
                         "WebSocket protocol without a browser (the server alone)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.clients == "browser" and not Path(CHROMIUM).exists():
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
        got = asyncio.run(_drive(f"http://127.0.0.1:{port}", args.sessions, args.seconds, thinks, server.pid,
                                 args.clients))
    except BaseException:
        log_file = data_dir / "streamlit.log"
        if log_file.exists():  # the server's last words, before its folder goes
            print(log_file.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                       timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
    result = {"clients": args.clients, "patients": args.patients, "sessions": args.sessions, "seconds": args.seconds,
              "cpus": os.cpu_count(), "load_average": os.getloadavg(), "idle": _stats(got["idle"]),
              "idle_errors": got["idle_errors"], "loaded": got["loaded"]}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
