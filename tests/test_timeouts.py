"""A statement timeout names the setting that applied and its value: STATEMENT_TIMEOUT_MS for the
interactive reads, CHECK_STATEMENT_TIMEOUT_MS for the check run's whole-table reads. On the real
embedded PostgreSQL: slow reads (pg_sleep) through the adapter, and a check run whose tables are
locked by another transaction."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from lib.errors import StoreUnavailable
from lib.services import EmbeddedServices
from lib.sqlfiles import adhoc
from lib.stores.core import CoreStore

ROOT = Path(__file__).resolve().parent.parent
INTERACTIVE = re.compile(r"(?<!CHECK_)\bSTATEMENT_TIMEOUT_MS\b")
CHECK = re.compile(r"\bCHECK_STATEMENT_TIMEOUT_MS\b")


def _core_url(demo: Any) -> str:
    return str(EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]["core"])


@pytest.fixture
def core(demo: Any) -> Any:
    demo.ensure()
    store = CoreStore(_core_url(demo), statement_timeout_ms=150, check_statement_timeout_ms=400)
    yield store
    store.dispose()


SLOW = "SELECT pg_sleep(3)::text AS key"


@pytest.mark.parametrize("read", ["scalar", "rows", "frame"])
def test_an_interactive_read_names_statement_timeout_ms(core: Any, read: str) -> None:
    with pytest.raises(StoreUnavailable) as err:
        getattr(core, read)(adhoc(SLOW))
    message = str(err.value)
    assert INTERACTIVE.search(message) and not CHECK.search(message), message
    assert "150" in message and "\n" not in message, message


@pytest.mark.parametrize("read", ["keys", "rows_bulk", "arrow", "native"])
def test_a_check_read_names_check_statement_timeout_ms(core: Any, read: str) -> None:
    with pytest.raises(StoreUnavailable) as err:
        if read == "rows_bulk":
            core.rows(adhoc(SLOW), bulk=True)
        elif read == "native":
            with core.native_stream(adhoc(SLOW)) as reader:
                reader.read_all()
        else:
            getattr(core, read)(adhoc(SLOW))
    message = str(err.value)
    assert CHECK.search(message) and not INTERACTIVE.search(message), message
    assert "400" in message and "\n" not in message, message


def test_a_check_run_past_its_timeout_says_which_setting_to_raise(demo: Any) -> None:
    """Another transaction holds the tables a SQL check and a snapshot check read: the check run's
    reads wait past CHECK_STATEMENT_TIMEOUT_MS, and each finding's error says so, with the value."""
    demo.ensure()
    dsn = make_url(_core_url(demo)).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as holder:
        holder.execute("LOCK TABLE sync_jobs, users IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.run(
            [sys.executable, "-m", "lib", "check", "--json", "--store", "core",
             "--only", "sync.jobs_failed", "--only", "dup.core_users_phone"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "CHECK_STATEMENT_TIMEOUT_MS": "700", "STATEMENT_TIMEOUT_MS": "300"})
        holder.rollback()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    by = {f["check"]: f for f in json.loads(proc.stdout)["findings"]}
    for cid in ("sync.jobs_failed", "dup.core_users_phone"):
        assert by[cid]["count"] is None
        assert CHECK.search(by[cid]["error"]) and "700" in by[cid]["error"], by[cid]
        assert not INTERACTIVE.search(by[cid]["error"]), by[cid]
    assert CHECK.search(proc.stderr) and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
