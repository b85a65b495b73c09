"""Two processes starting the demo of one data folder at once (the dashboard and `python -m lib demo`,
two terminals): one starts and fills it, the other waits and finds it ready; one emulator of each
kind runs. The start lock is an flock of the data folder, released by the kernel if its holder dies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lib.config import STORE_SETTINGS
from tests.e2e.test_demo_start import _emulators

ROOT = Path(__file__).resolve().parent.parent


def test_two_processes_starting_one_demo_start_one_set_of_services() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hbl", dir="/tmp")).resolve()
    env = {k: v for k, v in os.environ.items() if k not in (*STORE_SETTINGS, "OPS_DATABASE_URL")}
    env.update(HEALBRIDGE_DATA_DIR=str(data_dir), HEALBRIDGE_SECRETS_FILE="/nonexistent/secrets.toml")
    cmd = [sys.executable, "-m", "lib", "demo", "--patients", "100", "--seed", "3", "--json"]
    try:
        procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]
        assert _emulators(data_dir) == {"auth": 1, "firestore": 1}
        assert sorted('"kept": true' in o[0] for o in outs) == [False, True]  # one filled it, the other found it
    finally:
        subprocess.run([sys.executable, "-m", "lib", "demo", "--stop"], cwd=ROOT, env=env, capture_output=True,
                       timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
