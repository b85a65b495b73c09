"""The demo's first start belongs to the server, not to the tab that asked for it: several tabs open
on a fresh data folder, the first one closed and another reloaded while "Starting the demo stores…"
shows, all reach their page with one set of services (one Auth emulator, one Firestore emulator)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lib.config import STORE_SETTINGS
from lib.services import free_port
from tests.e2e.conftest import E2E, ROOT, START_TIMEOUT, VIEWPORT, launch_chromium, wait_ready


def _emulators(data_dir: Path) -> dict[str, int]:
    """How many emulator processes run in `data_dir` (their working folder)."""
    out = {"auth": 0, "firestore": 0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != data_dir:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "emulators:start" in cmd and "node" in cmd.split(" ", 1)[0]:
            out["auth"] += 1
        elif "CloudFirestore" in cmd and cmd.startswith("java"):
            out["firestore"] += 1
    return out


def test_tabs_opened_closed_and_reloaded_during_the_first_start_all_reach_their_page(playwright_driver: Any) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hbs", dir="/tmp")).resolve()
    env = {k: v for k, v in os.environ.items() if k not in (*STORE_SETTINGS, "OPS_DATABASE_URL")}
    env.update(HEALBRIDGE_DATA_DIR=str(data_dir), HEALBRIDGE_SECRETS_FILE="/nonexistent/secrets.toml",
               PYTHONUNBUFFERED="1")
    app = E2E(data_dir, free_port(), env)
    chromium = None
    try:
        app.start()  # nothing runs in the data folder: the first page starts the demo
        chromium = launch_chromium(playwright_driver)
        first_ctx = chromium.new_context(viewport=VIEWPORT)
        first = first_ctx.new_page()
        t0 = time.monotonic()
        first.goto(f"{app.url}/")
        first.get_by_text("Starting the demo stores").first.wait_for(timeout=120_000)

        tabs = []
        for path in ("", "stores", "patient"):  # more tabs, in other sessions, while the start runs
            ctx = chromium.new_context(viewport=VIEWPORT)
            tab = ctx.new_page()
            tab.goto(f"{app.url}/{path}")
            tabs.append((path, tab))
        first_ctx.close()  # the tab that started it all leaves mid-start
        tabs[0][1].reload()  # and another one reloads

        want = {"": "Health", "stores": "Stores", "patient": "Patient"}
        for path, tab in tabs:
            wait_ready(tab, timeout=START_TIMEOUT)
            title = tab.locator('[data-testid="stMain"] h1').first.inner_text().strip()
            assert title == want[path], (path, title, tab.locator("body").inner_text()[:1500])
            assert "Another session" not in tab.locator("body").inner_text()
        elapsed = time.monotonic() - t0
        assert _emulators(data_dir) == {"auth": 1, "firestore": 1}, _emulators(data_dir)
        # a new tab after the start finds the demo ready at once
        late = chromium.new_context(viewport=VIEWPORT).new_page()
        late.goto(f"{app.url}/")
        wait_ready(late, timeout=START_TIMEOUT)
        assert late.locator('[data-testid="stMain"] h1').first.inner_text().strip() == "Health"
        print(f"demo first start with 4 tabs (1 closed, 1 reloaded): {elapsed:.1f} s")
    finally:
        if chromium is not None:
            chromium.close()
        app.stop()
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                       timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
