"""`python -m lib fix list|plan|apply` on freshly generated demo stores: the JSON, the exit statuses, the
role and the confirmation a change needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lib import fixes
from tests.support import CHECKS_MD_FIXES

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, role: str | None = None) -> tuple[int, Any, str]:
    env = dict(os.environ)
    if role:
        env["HEALBRIDGE_ROLE"] = role
    p = subprocess.run([sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    doc = json.loads(p.stdout) if "--json" in args and p.stdout.strip() else p.stdout
    return p.returncode, doc, p.stderr


def test_command_line_fix_list_plan_apply(fresh: tuple[Any, dict[str, Any]]) -> None:
    _, manifest = fresh
    n = manifest["planted"]["token.expired_active"]["count"]
    code, doc, _ = _cli("fix", "list", "--json")
    assert code == 0
    listed = {f["fix"]: f for f in doc["fixes"]}
    assert set(listed) == CHECKS_MD_FIXES
    assert listed["token_constraints"]["blocked_by"] == {"dup.access_tokens": manifest["planted"]["dup.access_tokens"]["count"]}
    assert listed["deactivate_expired_tokens"]["needed"] is True
    assert listed["deactivate_expired_tokens"]["store"] == "supabase"

    code, doc, _ = _cli("fix", "plan", "token_constraints", "--json")
    assert code == 3 and doc["refused"].startswith("blocked: dup.access_tokens = ") and doc["applied"] is False

    code, doc, _ = _cli("fix", "plan", "deactivate_expired_tokens", "--json")
    assert code == 0
    assert {k: doc[k] for k in ("fix", "store", "action", "applied", "rows", "before", "after", "refused")} == {
        "fix": "deactivate_expired_tokens", "store": "supabase", "action": "plan", "applied": False, "rows": n,
        "before": {"token.expired_active": n}, "after": {"token.expired_active": 0}, "refused": None}
    assert doc["checksum"] == fixes.read_reviewed()["deactivate_expired_tokens"]

    code, doc, _ = _cli("fix", "apply", "deactivate_expired_tokens", "--reason", "x", "--yes", "--json", role="support")
    assert code == 3 and doc["refused"] == "role"
    code, _, err = _cli("fix", "apply", "deactivate_expired_tokens", "--reason", "x")
    assert code == 2 and err.strip() == "error: Applying changes a store: run `fix plan` first, then add --yes to confirm."
    code, doc, _ = _cli("fix", "apply", "deactivate_expired_tokens", "--reason", "seed 000", "--yes", "--json")
    assert code == 0 and doc["applied"] is True and doc["rows"] == n and doc["after"] == {"token.expired_active": 0}
    code, doc, _ = _cli("fix", "apply", "deactivate_expired_tokens", "--reason", "again", "--yes", "--json")
    assert code == 0 and doc["applied"] is False and doc["outcome"] == "nothing to do" and doc["rows"] == 0
    code, _, err = _cli("fix", "plan", "nope")
    assert code == 4 and err.startswith("error: There is no fix 'nope'") and "Traceback" not in err
    code, out, _ = _cli("fix", "plan", "dedupe_medications")
    assert code == 0 and "plan dedupe_medications on core: planned" in out
