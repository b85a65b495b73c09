"""`check --store NAME` (cli.md): keeps the checks that read only the named stores (repeat it to
combine); exit 2 only when a store a selected check needs is unreachable or the configuration is
wrong, never because the filter left other stores out. On the real demo stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lib.checks.ids import STORE_OF_PART
from lib.checks.registry import REGISTRY
from lib.services import EmbeddedServices, free_port

ROOT = Path(__file__).resolve().parent.parent


def _check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lib", "check", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def _reading_only(*names: str) -> list[str]:
    """The registry's checks whose stores are all among `names`, in registry order."""
    return [cid for cid, c in REGISTRY.items() if {STORE_OF_PART[p] for p in c.info.stores} <= set(names)]


def test_store_core_runs_only_core_checks_and_does_not_exit_2(demo: Any) -> None:
    demo.ensure()
    proc = _check("--store", "core", "--json")
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    got = [f["check"] for f in doc["findings"]]
    assert got == _reading_only("core") and got
    assert set(doc["stores"]) == {"core"} and doc["stores"]["core"]["ok"]
    for f in doc["findings"]:
        assert f["count"] == demo.manifest["planted"][f["check"]]["count"], f
        assert "error" not in f
    assert proc.stderr == ""
    # 1 exactly when a selected error check has findings
    planted_errors = any(f["count"] and f["severity"] == "error" for f in doc["findings"])
    assert proc.returncode == (1 if planted_errors else 0)


def test_combined_stores_add_their_cross_store_checks(demo: Any) -> None:
    demo.ensure()
    proc = _check("--store", "core", "--store", "supabase", "--json")
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    got = [f["check"] for f in doc["findings"]]
    assert got == _reading_only("core", "supabase")
    cross = set(got) - set(_reading_only("core")) - set(_reading_only("supabase"))
    assert cross and all({"core", "supabase"} <= set(REGISTRY[c].info.stores) for c in cross)
    assert "sync.patient_missing_in_supabase" in cross and "constraint.missing" in cross
    assert not {"firebase_auth", "firestore"} & {p for c in got for p in REGISTRY[c].info.stores}
    assert set(doc["stores"]) == {"core", "supabase"}
    assert all(f["count"] == demo.manifest["planted"][f["check"]]["count"] for f in doc["findings"])
    # firebase with core: the core↔Firebase checks, but none of Supabase
    doc = json.loads(_check("--store", "firebase", "--store", "core", "--json").stdout)
    got = [f["check"] for f in doc["findings"]]
    assert got == _reading_only("firebase", "core")
    assert "sync.profile_missing" in got and "sync.field_drift" not in got  # drift reads Supabase too


def test_only_the_other_stores_configured_is_not_an_outage(demo: Any) -> None:
    """Outside the demo with only core configured, `--store core` is a clean run (exit 0/1)."""
    demo.ensure()
    core = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]["core"]
    proc = _check("--store", "core", "--json", env={"CORE_DATABASE_URL": core})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert [f["check"] for f in json.loads(proc.stdout)["findings"]] == _reading_only("core")


def test_a_selected_checks_store_down_exits_2(demo: Any) -> None:
    demo.ensure()
    uris = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]
    down = f"postgresql://ops:pw@127.0.0.1:{free_port()}/core"
    proc = _check("--store", "core", "--json", env={"CORE_DATABASE_URL": down, "SUPABASE_DB_URL": uris["supabase"]})
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert not doc["stores"]["core"]["ok"] and set(doc["stores"]) == {"core"}
    assert all(f["count"] is None and "core" in f["error"] for f in doc["findings"])
    assert len(proc.stderr.strip().splitlines()) == 1 and "could not run" in proc.stderr
    # the same down core does not touch a Supabase-only run
    proc = _check("--store", "supabase", "--json", env={"CORE_DATABASE_URL": down, "SUPABASE_DB_URL": uris["supabase"]})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert [f["check"] for f in json.loads(proc.stdout)["findings"]] == _reading_only("supabase")


def test_a_filter_that_keeps_no_check_is_one_sentence(demo: Any) -> None:
    demo.ensure()
    proc = _check("--store", "firebase", "--json")  # every Firebase check also reads core or Supabase
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "--store" in proc.stderr and "Traceback" not in proc.stderr
    proc = _check("--store", "core", "--only", "token.expired_active")
    assert proc.returncode == 2 and "token.expired_active" in proc.stderr
