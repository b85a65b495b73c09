"""Refilling the demo (real stores): `--reset` and the emulator-died path rebuild the demo's stores but
never the ops database's audit tables (audit_log, fix_audit, acknowledgements, real check runs); only
the generated history is replaced. `demo` without `--reset` on a filled demo says what it kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from lib import audit, fixes
from lib.roles import Actor

ROOT = Path(__file__).resolve().parent.parent
ADMIN = Actor("ada@hospital.example", "admin")


def _ops_state(stores: Any, event: int, attempt: int) -> dict[str, Any]:
    with stores.ops.engine().connect() as conn:
        return {
            "event": conn.execute(text("SELECT who, action, target FROM audit_log WHERE id = :id"),
                                  {"id": event}).one_or_none(),
            "attempt": conn.execute(text("SELECT count(*) FROM fix_audit WHERE id = :id"),
                                    {"id": attempt}).scalar(),
            "generated": conn.execute(text("SELECT count(*) FROM check_runs WHERE generated")).scalar(),
        }


def test_refilling_the_demo_keeps_the_audit_tables(demo: Any) -> None:
    from lib.demo import run_demo
    from lib.services import EmbeddedServices

    demo.ensure()
    n, seed, clean = demo.loaded
    stores = demo.stores()
    try:
        tag = uuid.uuid4().hex[:8]
        event = audit.record(stores, Actor(f"kept-{tag}", "support"), "lookup", target="u1", detail={"kind": "uid"})
        planned = fixes.plan(stores, "deactivate_expired_tokens", Actor(f"kept-{tag}", "support"))
        assert planned.audit_id is not None
        before = _ops_state(stores, event, planned.audit_id)
        assert before["event"] is not None and before["attempt"] == 1 and before["generated"] == 16
    finally:
        stores.dispose()

    # demo --reset
    run_demo(demo.settings, patients=n, seed=seed, clean=clean, reset=True)
    stores = demo.stores()
    try:
        assert _ops_state(stores, event, planned.audit_id) == before
    finally:
        stores.dispose()

    # an emulator died: `demo` starts it and refills every store
    EmbeddedServices(demo.settings).stop_part("auth")
    assert not EmbeddedServices(demo.settings).running()["auth"]
    run_demo(demo.settings)
    assert EmbeddedServices(demo.settings).running()["auth"]
    stores = demo.stores()
    try:
        assert _ops_state(stores, event, planned.audit_id) == before
        # the audit still reads it
        log = audit.log(stores, ADMIN, who=f"kept-{tag}", limit=100)
        assert event in set(log["id"])
    finally:
        stores.dispose()


def test_demo_without_reset_says_what_it_kept(demo: Any) -> None:
    demo.ensure()
    n, seed, _ = demo.loaded
    want_n, want_seed = (100 if n != 100 else 150), seed + 1
    p = subprocess.run([sys.executable, "-m", "lib", "demo", "--patients", str(want_n), "--seed", str(want_seed)],
                       cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"Kept the demo already filled: {n:,} patients, seed {seed}" in out, out
    assert f"python -m lib demo --patients {want_n} --seed {want_seed} --reset" in out, out
    p = subprocess.run([sys.executable, "-m", "lib", "demo", "--patients", str(want_n), "--seed", str(want_seed),
                        "--json"], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["kept"] is True and (doc["patients"], doc["seed"]) == (n, seed)
    assert f"--patients {want_n} --seed {want_seed} --reset" in doc["note"]
