"""`python -m lib patient`: no audit, no patient. When the lookup cannot be written to the audit log
(the ops database is unreachable), nothing of the patient is printed and the command exits 2 with
one sentence, as the Patient page refuses. On the real demo stores; the ops database is made
unreachable for real (OPS_DATABASE_URL at a closed port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lib.services import free_port
from lib.sqlfiles import adhoc

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lib", "patient", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={**os.environ, **(env or {})})


@pytest.fixture
def patient(stores: Any) -> dict[str, str]:
    row = stores.core.rows(adhoc("""
        SELECT u.firebase_uid AS uid, u.email, u.phone, p.full_name FROM users u JOIN patients p ON p.user_id = u.id
        WHERE u.role = 'PATIENT' AND u.email LIKE '%@%' AND u.phone IS NOT NULL AND u.firebase_uid IS NOT NULL
        ORDER BY u.firebase_uid LIMIT 1"""))[0]
    return {k: str(v) for k, v in row.items()}


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_patient_is_not_shown_when_the_audit_log_cannot_be_written(patient: dict[str, str], as_json: bool) -> None:
    flags = ["--json"] if as_json else []
    shown = _cli(patient["email"], *flags)  # the control: with the audit log, the patient is shown
    assert shown.returncode == 0, shown.stderr
    assert patient["email"] in shown.stdout.lower() or patient["uid"] in shown.stdout

    dead = {"OPS_DATABASE_URL": f"postgresql://ops:Secr3tPw@127.0.0.1:{free_port()}/ops"}
    proc = _cli(patient["email"], *flags, env=dead)
    assert proc.returncode == 2
    assert proc.stdout == ""  # nothing of the patient, not even an empty JSON document
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "audit log" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    for phi in (patient["email"], patient["phone"], patient["full_name"], patient["uid"]):
        assert phi.lower() not in (proc.stdout + proc.stderr).lower(), phi
    assert "Secr3tPw" not in proc.stderr  # nor the URL's password


def test_not_found_is_refused_too_when_the_audit_log_cannot_be_written() -> None:
    dead = {"OPS_DATABASE_URL": f"postgresql://ops:Secr3tPw@127.0.0.1:{free_port()}/ops"}
    proc = _cli("nobody@nowhere.example", "--json", env=dead)
    assert proc.returncode == 2 and proc.stdout == "" and "audit log" in proc.stderr
