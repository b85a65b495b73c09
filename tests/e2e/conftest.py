"""Browser fixtures: the real app (`streamlit run app.py`) on its own demo stores, driven by
Debian's Chromium through Playwright.

- `e2e`: one server for the session. Its own data folder (HEALBRIDGE_DATA_DIR) and demo
  (`python -m lib demo --patients 300 --seed 11`), a free port, waited for properly (the health
  endpoint, then the router's grouped navigation in a browser), torn down at the end (the server's
  process group killed, `python -m lib demo --stop` for that data folder, the folder removed).
- `browser`: one Chromium for the session; `page`: a fresh tab (a fresh Streamlit session) per test.
- `E2E.open(page, path)` opens a page and waits until its script has finished running.

Every test here is skipped, with the reason, when /usr/bin/chromium is absent (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.config import STORE_SETTINGS
from lib.services import free_port

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"  # refreshed only with HEALBRIDGE_UPDATE_SCREENSHOTS=1
VIEWPORT = {"width": 1400, "height": 900}
PATIENTS, SEED = 300, 11
START_TIMEOUT = 240  # s: the first demo start fills every store
RUN_TIMEOUT = 120  # s: one page run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent: the browser tests need Debian's chromium (apt-get install chromium)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)



def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Wait until `url` answers 200 while `proc` lives; fail with the end of its log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args!r} exited {proc.returncode}: {log.read_text(errors='replace')[-2000:]}"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")

class E2E:
    """The running app and its data folder."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # ------------------------------------------------------------------ the command line, same data folder
    def cli(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "lib", *args], cwd=ROOT, env=self.env, capture_output=True,
                             text=True, timeout=START_TIMEOUT)
        assert out.returncode in ok, f"python -m lib {' '.join(args)} exited {out.returncode}: {out.stderr[-2000:]}"
        return out

    def check_json(self) -> dict[str, Any]:
        """`python -m lib check --json` for this data folder (exit 1: error findings)."""
        return json.loads(self.cli("check", "--json", ok=(0, 1)).stdout)

    def counts(self) -> dict[str, int | None]:
        return {f["check"]: f["count"] for f in self.check_json()["findings"]}

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "manifest.json").read_text())

    def core_url(self) -> str:
        return str(json.loads((self.data_dir / "demo.json").read_text())["postgres"]["uris"]["core"])

    def reset(self) -> None:
        """Refill the demo (after a test applied a fix) so later tests see the planted defects."""
        self.cli("demo", "--patients", str(PATIENTS), "--seed", str(SEED), "--reset")

    # ------------------------------------------------------------------ the server
    def start(self) -> None:
        self._log = log = open(self.data_dir / "streamlit.log", "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"{self.url}/_stcore/health", self.proc, self.data_dir / "streamlit.log", START_TIMEOUT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()

    def log(self) -> str:
        path = self.data_dir / "streamlit.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ------------------------------------------------------------------ pages
    def open(self, page: Any, path: str = "") -> Any:
        """Go to a page (a new Streamlit session) and wait until the router and the page have run."""
        page.goto(f"{self.url}/{path}")
        wait_ready(page)
        return page


def wait_ready(page: Any, timeout: float = RUN_TIMEOUT) -> None:
    """Wait for the app's own "ready": the grouped navigation (the router ran: before it, Streamlit may
    show its plain file list), a page title, and Streamlit's status widget (shown while a script runs)
    gone for a while."""
    page.locator('[data-testid="stNavSectionHeader"]', has_text="Monitor").wait_for(timeout=timeout * 1000)
    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=timeout * 1000)
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 4:
        assert time.monotonic() < deadline, f"the page was still running after {timeout:.0f} s"
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        quiet = 0 if running else quiet + 1
        page.wait_for_timeout(250)


def screenshot(page: Any, name: str) -> Path:
    """Save the viewport under test-artifacts/screenshots/ (and docs/screenshots/ when asked)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("HEALBRIDGE_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / path.name)
    return path


@pytest.fixture(scope="session")
def e2e() -> Iterator[E2E]:
    data_dir = Path(tempfile.mkdtemp(prefix="hbe", dir="/tmp"))  # short: the server's Unix socket lives there
    env = {k: v for k, v in os.environ.items() if k not in (*STORE_SETTINGS, "OPS_DATABASE_URL")}
    env.update(HEALBRIDGE_DATA_DIR=str(data_dir), HEALBRIDGE_SECRETS_FILE="/nonexistent/secrets.toml",
               PYTHONUNBUFFERED="1")
    app = E2E(data_dir, free_port(), env)
    try:
        app.cli("demo", "--patients", str(PATIENTS), "--seed", str(SEED))
        app.start()
        yield app
    finally:
        app.stop()
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                       timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)


def launch_chromium(pw: Any) -> Any:
    """Debian's Chromium as this machine runs it (no sandbox as root, no GPU, no calls home)."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"])


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """One Playwright for the whole session: its sync API runs an event loop, and a second one
    started while the first lives is refused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(e2e: E2E, playwright_driver: Any) -> Iterator[Any]:
    chromium = launch_chromium(playwright_driver)
    try:
        # the first request to a fresh server may show the plain file list: run the router once
        warm = chromium.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        e2e.open(warm, "")
        warm.close()
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(RUN_TIMEOUT * 1000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
