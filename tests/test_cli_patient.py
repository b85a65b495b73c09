"""`python -m lib patient` on the real demo stores: the JSON of cli.md, not found and bad input (exit 4,
one line), a readable table, and an answer while Firebase is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lib.patient import NOT_FOUND, TOO_SHORT, lookup
from tests.support import _down_env, _uid_of_key

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lib", "patient", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={**os.environ, **(env or {})})


def test_cli_patient_json_is_the_contract(demo: Any, stores: Any) -> None:
    planted = demo.ensure()["planted"]
    key = planted["sync.field_drift"]["keys"][0]
    uid = _uid_of_key(key)
    email = next(v for v in lookup(stores, uid).matches[0].stores.values() if v and v.get("email"))["email"]
    proc = _cli(f"  {email.upper()} ", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["query"] == f"  {email.upper()} "
    assert set(doc) >= {"query", "matches"}
    match = next(m for m in doc["matches"] if m["firebase_uid"] == uid)
    assert set(match) >= {"firebase_uid", "stores", "drift", "findings"}
    assert set(match["stores"]) == {"firebase_auth", "firestore", "core", "supabase"}
    assert all(isinstance(v, dict) for v in match["stores"].values())
    assert "sync.field_drift" in match["findings"]
    for d in match["drift"]:
        assert set(d) >= {"field", "stores", "values"} and len(d["stores"]) == len(d["values"]) == 2
    assert {f"{uid}|{d['field']}|{d['stores'][0]}={d['values'][0]}|{d['stores'][1]}={d['values'][1]}"
            for d in match["drift"] if d["check"]} == {k for k in planted["sync.field_drift"]["keys"] if k.startswith(uid)}

    # a store missing the patient is null
    missing = planted["sync.profile_missing"]["keys"][0]
    doc = json.loads(_cli(missing, "--json").stdout)
    assert doc["matches"][0]["stores"]["firestore"] is None and "sync.profile_missing" in doc["matches"][0]["findings"]

    # a name fragment that matches several patients gives several matches
    name = lookup(stores, uid).matches[0].name
    assert name
    doc = json.loads(_cli(name.split()[-1].lower(), "--json").stdout)
    assert len(doc["matches"]) > 1 and all(name.split()[-1].lower() in (m["name"] or "").lower() for m in doc["matches"])


def test_cli_patient_not_found_and_bad_input(demo: Any) -> None:
    demo.ensure()
    proc = _cli("nobody@nowhere.example")
    assert proc.returncode == 4 and proc.stdout == ""
    assert proc.stderr.strip() == f"error: {NOT_FOUND}."
    proc = _cli("'; DROP TABLE users; --", "--json")
    assert proc.returncode == 4 and json.loads(proc.stdout)["matches"] == [] and "Traceback" not in proc.stderr
    proc = _cli("x")
    assert proc.returncode == 4 and proc.stderr.strip() == f"error: {TOO_SHORT}."
    proc = _cli("x" * 10_000)
    assert proc.returncode == 4 and "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_cli_patient_found_prints_a_readable_table(demo: Any, normal: dict[str, Any]) -> None:
    proc = _cli(normal["phone"])
    assert proc.returncode == 0, proc.stderr
    assert f"Patient {normal['uid']}" in proc.stdout and normal["full_name"] in proc.stdout
    for label in ("Firebase Auth", "Firestore", "Core PostgreSQL", "Supabase"):
        assert label in proc.stdout


def test_cli_patient_with_firebase_down_still_answers(demo: Any, normal: dict[str, Any]) -> None:
    proc = _cli(normal["uid"], "--json", env=_down_env(demo))
    assert proc.returncode == 0, proc.stderr
    match = json.loads(proc.stdout)["matches"][0]
    assert match["stores"]["firebase_auth"] is None and "firebase_auth" in match["down"]
    assert match["stores"]["core"]["firebase_uid"] == normal["uid"]
