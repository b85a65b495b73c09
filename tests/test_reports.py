"""The monitoring pages' plain-Python helpers (lib.reports): links, statuses, areas, the failing table."""

from __future__ import annotations

from datetime import UTC, datetime

from lib import reports
from tests.support import _run


def test_links_and_statuses_of_the_monitoring_pages() -> None:
    assert reports.fix_link("validate_constraints") == "fixes?fix=validate_constraints"
    assert reports.fix_link(None) is None
    assert reports.patient_link("dup.core_users_email", "0b1c") == "patient?q=0b1c"
    assert reports.patient_link("sync.field_drift", "uid9|email|core=a@x|supabase=b@x") == "patient?q=uid9"
    assert reports.patient_link("orphan.storage_objects", "uid7/file 1.pdf") == "patient?q=uid7"
    assert reports.patient_link("sync.profile_missing", "a+b@c") == "patient?q=a%2Bb%40c"
    assert reports.patient_link("constraint.missing", "core.documents.fk_documents_patient") is None
    assert reports.constraint_fix("constraint.not_valid", "core.medications.medications_patient_id_fkey") == \
        "validate_constraints"
    assert reports.constraint_fix("constraint.unexpected", "core.conversations.conversations_pageConnectionId_psid_key") \
        == "open_conversation_index"
    assert reports.constraint_fix("advisor.duplicate_index", "core.sync_jobs.x") is None
    assert reports.report_link("orphan.storage_objects") == "duplicates"

    run = _run(datetime.now(UTC), {"dup.medications": 2, "token.expiring_soon": 1, "sync.jobs_failed": None})
    assert reports.status_of(r for r in run.results if r.id == "token.expiring_soon") == "info"
    assert reports.status_of(r for r in run.results if r.id.startswith("sync.")) == "unknown"
    assert reports.overall_status(run) == "warn"
    areas = {a.area: a for a in reports.areas(run, {"dup.medications": 5})}
    assert (areas["duplicates"].findings, areas["duplicates"].change, areas["duplicates"].status) == (2, -3, "warn")
    assert areas["sync"].unknown == 1 and areas["constraints"].status == "ok"
    failing = reports.failing_frame(run, {"dup.medications": 5})
    assert list(failing["check"]) == ["dup.medications", "token.expiring_soon", "sync.jobs_failed"]
    assert failing["change"].iloc[0] == -3 and failing["fix"].iloc[0] == "fixes?fix=dedupe_medications"
