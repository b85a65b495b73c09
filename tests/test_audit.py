"""The access audit log (lib.audit) on the real ops database (embedded PostgreSQL): append-only (UPDATE,
DELETE and TRUNCATE refused by its triggers), every fix plan and apply recorded next to the runner's
own fix_audit, the runner refusing support, unmask audited and refused without a reason, the log
admin's alone, and the CSV export checking the role, masking and audited."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lib import audit, fixes, roles
from lib.roles import Actor, Forbidden

ADMIN = Actor("ada@hospital.example", "admin")


def test_audit_log_refuses_update_delete_and_truncate(stores: Any) -> None:
    event = audit.record(stores, Actor("sam", "support"), "lookup", target="u1", detail={"kind": "uid"})
    eng = stores.ops.engine()
    for sql in ("UPDATE audit_log SET who = 'someone else' WHERE id = :id", "DELETE FROM audit_log WHERE id = :id",
                "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError) as err, eng.begin() as conn:
            conn.execute(text(sql), {"id": event})
        assert "append-only" in str(err.value.orig), sql
    with eng.connect() as conn:
        row = conn.execute(text("SELECT who, action, target FROM audit_log WHERE id = :id"), {"id": event}).one()
    assert tuple(row) == ("sam", "lookup", "u1")


def test_fix_plan_and_apply_are_in_the_audit_log_and_the_runner_refuses_support(stores: Any) -> None:
    fid = "deactivate_expired_tokens"
    last = int(audit.log(stores, ADMIN, limit=1)["id"].max() or 0)
    planned = fixes.plan(stores, fid, Actor("sam", "support"))
    refused = fixes.apply(stores, fid, Actor("sam", "support"), "trying", expect_rows=planned.rows)
    assert not planned.refused and refused.refused == "role" and not refused.applied
    events = audit.log(stores, ADMIN, action="fix.", limit=50)
    events = events[events["id"] > last].sort_values("id")
    # each attempt: its start (written before anything ran), then its end
    assert list(events["action"]) == ["fix.plan", "fix.plan", "fix.apply", "fix.apply"]
    assert list(events["target"]) == [fid] * 4 and set(events["role"]) == {"support"}
    assert [json.loads(d)["outcome"] for d in events["detail"]] == ["started", "planned", "started", "refused: role"]
    assert [json.loads(d)["fix_audit_id"] for d in events["detail"]] == [planned.audit_id] * 2 + [refused.audit_id] * 2
    assert list(events["reason"].iloc[2:]) == ["trying", "trying"]


def test_unmask_is_audited_and_needs_a_reason_and_the_log_is_admins(stores: Any) -> None:
    support = Actor("sam", "support")
    before = len(audit.log(stores, ADMIN, action="unmask", limit=10_000))
    for reason in ("", "   ", "x"):
        with pytest.raises(audit.AuditError):
            audit.unmask(stores, support, "uid-1", reason)
    assert len(audit.log(stores, ADMIN, action="unmask", limit=10_000)) == before
    audit.unmask(stores, support, "uid-1", "ticket HB-77")
    log = audit.log(stores, ADMIN, action="unmask", limit=10_000)
    assert len(log) == before + 1
    assert (log.iloc[0]["who"], log.iloc[0]["role"], log.iloc[0]["target"], log.iloc[0]["reason"]) == (
        "sam", "support", "uid-1", "ticket HB-77")
    for role in ("support", "oncall"):
        with pytest.raises(Forbidden, match=f"The role {role} may not read the audit log"):
            audit.log(stores, Actor("x", role))
    with pytest.raises(audit.AuditError):
        audit.log(stores, ADMIN, action="drop table")


def test_csv_export_checks_the_role_masks_and_is_audited(stores: Any) -> None:
    df = pd.DataFrame({"firebase_uid": ["u1"], "email": ["jane.doe@example.com"], "phone": ["+14158672345"]})
    admin = Actor("ada", "admin")
    before = len(audit.log(stores, admin, action="export", limit=10_000))
    body = audit.export_csv(stores, Actor("sam", "support"), df, "x.csv").decode()
    assert "jane.doe@example.com" not in body and "j•••@example.com" in body and "•••• 2345" in body
    assert "jane.doe@example.com" in audit.export_csv(stores, Actor("olga", "oncall"), df, "x.csv").decode()
    assert "jane.doe@example.com" in audit.export_csv(stores, Actor("sam", "support"), df, "x.csv", uid="u1",
                                                      unmasked="u1").decode()
    with pytest.raises(roles.Forbidden):
        audit.export_csv(stores, Actor("mallory", "guest"), df, "x.csv")
    exports = audit.log(stores, admin, action="export", limit=10_000)
    assert len(exports) == before + 3
    assert re.search(r'"masked": true', exports.iloc[2]["detail"]) and exports.iloc[2]["who"] == "sam"
    assert io.StringIO(body).read().count("\n") == 2
