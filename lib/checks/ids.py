"""Every check id of checks.md with its severity, the stores it reads and the fix it links to.

This table is the contract the JSON of `python -m lib check`, the demo manifest and the tests use.
How each check runs lives in lib.checks.registry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: str  # error | warn | info
    stores: tuple[str, ...]  # core, supabase, firebase_auth, firestore
    title: str
    fix: str | None = None

    @property
    def area(self) -> str:
        prefix = self.id.split(".", 1)[0]
        return {"advisor": "constraints", "constraint": "constraints", "dup": "duplicates", "orphan": "orphans",
                "token": "tokens", "sync": "sync"}[prefix]


C, S, FA, FS = "core", "supabase", "firebase_auth", "firestore"

CHECKS: tuple[CheckInfo, ...] = (
    # sync
    CheckInfo("sync.firebase_user_missing_in_core", "error", (C, FA), "Firebase patients with no core user"),
    CheckInfo("sync.core_user_missing_in_firebase", "error", (C, FA), "Core users with no Firebase Auth user"),
    CheckInfo("sync.patient_missing_in_supabase", "error", (C, S), "Core patients with no live Supabase user"),
    CheckInfo("sync.supabase_user_unknown", "warn", (C, S), "Supabase users unknown to core or with the wrong postgres_id"),
    CheckInfo("sync.profile_missing", "warn", (C, FS), "Core patients with no Firestore profile"),
    CheckInfo("sync.field_drift", "warn", (C, S, FA, FS), "Email or phone differing between stores"),
    CheckInfo("sync.document_missing_in_core", "error", (C, S), "Processed Supabase documents missing in core"),
    CheckInfo("sync.document_missing_in_supabase", "warn", (C, S), "Core documents missing in Supabase"),
    CheckInfo("sync.prescription_missing_in_supabase", "error", (C, S), "Prescriptions that never reached Supabase"),
    CheckInfo("sync.jobs_failed", "error", (C,), "Failed sync jobs", "retry_failed_sync_jobs"),
    CheckInfo("sync.jobs_stuck", "warn", (C,), "Sync jobs pending or running for too long"),
    # duplicates
    CheckInfo("dup.core_users_email", "warn", (C,), "Core users sharing an email"),
    CheckInfo("dup.core_users_phone", "warn", (C,), "Core users sharing a phone number"),
    CheckInfo("dup.open_conversations", "error", (C,), "Duplicate open conversations (seed 002)", "close_duplicate_conversations"),
    CheckInfo("dup.active_connections", "warn", (S,), "Duplicate active patient-doctor connections (seed 000)", "deactivate_duplicate_connections"),
    CheckInfo("dup.access_tokens", "error", (S,), "Connections sharing an access token", "rotate_duplicate_tokens"),
    CheckInfo("dup.medications", "warn", (C,), "Medications synced twice (seed 003)", "dedupe_medications"),
    CheckInfo("dup.supabase_users_firebase_uid", "error", (S,), "Supabase users sharing a Firebase UID"),
    # orphans
    CheckInfo("orphan.documents_patient", "error", (C,), "Core documents of no patient (seed 004)", "archive_orphan_rows"),
    CheckInfo("orphan.session_notes_patient", "error", (C,), "Session notes of no patient (seed 004)", "archive_orphan_rows"),
    CheckInfo("orphan.appointments_patient", "error", (C,), "Appointments of no patient (seed 001)", "remap_appointment_patient_ids"),
    CheckInfo("orphan.prescriptions_appointment", "warn", (C,), "Prescriptions of no appointment", "archive_orphan_rows"),
    CheckInfo("orphan.medications_document", "warn", (C,), "Medications of no document", "archive_orphan_rows"),
    CheckInfo("orphan.rag_chunks_document", "warn", (S,), "RAG chunks of no document", "remove_orphan_rag_chunks"),
    CheckInfo("orphan.supabase_documents_patient", "error", (S, FA), "Supabase documents of no Firebase user"),
    CheckInfo("orphan.connections_patient", "warn", (S, FA), "Connections of no Firebase user"),
    CheckInfo("orphan.storage_objects", "info", (S,), "Stored files no document names"),
    CheckInfo("orphan.documents_file_missing", "error", (S,), "Documents whose file is missing from storage"),
    # tokens
    CheckInfo("token.expired_active", "error", (S,), "Expired tokens still active (seed 000)", "deactivate_expired_tokens"),
    CheckInfo("token.expiring_soon", "info", (S,), "Active tokens expiring soon"),
    CheckInfo("token.unused_expired", "info", (S,), "Expired tokens no doctor ever used"),
    # constraints
    CheckInfo("constraint.missing", "error", (C, S), "Expected constraints that are absent"),
    CheckInfo("constraint.unexpected", "error", (C, S), "Constraints the system must not have"),
    CheckInfo("constraint.mismatch", "error", (C, S), "Constraints defined otherwise than expected"),
    CheckInfo("constraint.not_valid", "warn", (C, S), "Constraints added NOT VALID and never validated", "validate_constraints"),
    CheckInfo("advisor.unindexed_foreign_key", "info", (C, S), "Foreign keys whose columns lead no index"),
    CheckInfo("advisor.no_primary_key", "warn", (C, S), "Tables without a primary key"),
    CheckInfo("advisor.duplicate_index", "info", (C, S), "Indexes with the same definition"),
)

CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
BY_ID: dict[str, CheckInfo] = {c.id: c for c in CHECKS}
SEVERITY_RANK = {"error": 0, "warn": 1, "info": 2}
