"""The command line obeys the roles too: with HEALBRIDGE_ROLE=support the patient and check output
shows PHI masked (oncall sees it whole), and every lookup is in the audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lib import audit
from lib.roles import Actor

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, role: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEALBRIDGE_ROLE": role}
    return subprocess.run([sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _drift_patient(demo: Any) -> tuple[str, str, str]:
    """A planted drift patient with a core email: (uid, email, phone held by Firebase Auth)."""
    for key in demo.manifest["planted"]["sync.field_drift"]["keys"]:
        uid, field, a, _b = key.split("|")
        if field == "email" and a.startswith("firebase_auth="):
            return uid, a.split("=", 1)[1], ""
    raise AssertionError("the demo plants email drift")


def test_patient_output_is_masked_for_support(demo: Any, stores: Any) -> None:
    demo.ensure()
    uid, email, _ = _drift_patient(demo)
    user = stores.firebase.find_user("uid", uid)
    assert user is not None and user["email"] == email
    before = len(audit.log(stores, Actor("test", "admin"), action="lookup"))

    support = _cli("patient", uid, "--json", role="support")
    assert support.returncode == 0, support.stderr
    assert email not in support.stdout
    assert user["phone"] is None or user["phone"] not in support.stdout
    doc = json.loads(support.stdout)
    shown = doc["matches"][0]["stores"]["firebase_auth"]["email"]
    assert "•" in shown and shown.endswith("@" + email.split("@")[1])
    table = _cli("patient", uid, role="support")
    assert table.returncode == 0 and email not in table.stdout

    oncall = _cli("patient", uid, "--json", role="oncall")
    assert oncall.returncode == 0 and email in oncall.stdout

    after = audit.log(stores, Actor("test", "admin"), action="lookup")
    assert len(after) >= before + 3
    newest = json.loads(after.iloc[0]["detail"])
    assert newest["kind"] == "uid" and newest["uids"] == [uid]
    assert uid in str(after.iloc[0]["target"])


def test_check_samples_are_masked_for_support(demo: Any) -> None:
    demo.ensure()
    emails = [k.split("|")[2].split("=", 1)[1] for k in demo.manifest["planted"]["sync.field_drift"]["keys"]
              if k.split("|")[1] == "email"]
    support = _cli("check", "--json", "--only", "sync.field_drift", role="support")
    assert support.returncode == 0, support.stderr
    assert not [e for e in emails if e in support.stdout]
    sample = json.loads(support.stdout)["findings"][0]["sample"]
    assert sample and all("•" in k for k in sample)
    oncall = _cli("check", "--json", "--only", "sync.field_drift", role="oncall")
    assert any(e in oncall.stdout for e in emails)


def test_unknown_role_is_one_sentence() -> None:
    proc = _cli("patient", "someone", role="janitor")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: HEALBRIDGE_ROLE must be one of support, oncall, admin."
