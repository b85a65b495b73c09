"""Every check, defined once: one `CheckInfo` entry per check id carries all there is to know of it.

An entry says what the check is (id, severity, the store parts it reads, a title naming the problem,
its area), how it runs (`runs`: one SQL file, a snapshot function, or the catalog analysis), the fix
the pages link it to, its runbook section (docs/checks.md, a heading that is exactly the id), and how
the demo's generated weekly history moves it. lib.checks.registry turns the entries into the
runnable REGISTRY; nothing else lists check ids by hand.

A check runs in one of four ways: one SQL file (`sql`), a function over the run's cross-store
Snapshot (`snapshot`), the catalog analysis (`CONSTRAINTS`), or a function of lib.checks.pulse over
this run's counts and the saved check history (`history`: computed after every other check of the
run).

Also here, once, the small tables every module shares: the store of each part (STORE_OF_PART), the
report page of each area (AREA_PAGE) and the order of severities (SEVERITY_RANK).

This table is the contract the JSON of `python -m lib check`, the demo manifest and the tests use.
Adding a check: its entry here, its SQL file in sql/checks/ (or its function in lib.checks.sync),
and its plant in lib.demo.generate (and lib.bench.data); tests name what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------------------------- shared tables
# part (what a check reads) -> store (what is configured, pinged and filtered with --store)
STORE_OF_PART: dict[str, str] = {"core": "core", "supabase": "supabase", "firebase_auth": "firebase",
                                 "firestore": "firebase"}
# area -> the report page (url path stem under views/) that shows its checks in detail
AREA_PAGE: dict[str, str] = {"sync": "checks", "duplicates": "duplicates", "orphans": "duplicates",
                             "tokens": "tokens", "constraints": "constraints", "pulse": "checks",
                             "access": "checks"}
SEVERITY_RANK: dict[str, int] = {"error": 0, "warn": 1, "info": 2}
RUNBOOK = "docs/checks.md"
# how the demo's generated weekly history (lib.review) moves a check; "steady": as it is now;
# "spike": steady at a quarter of today's count on every day before today
HISTORIES = ("steady", "growing", "new", "shrinking", "resolved", "noisy", "spike")


# ---------------------------------------------------------------------------------- how a check runs
@dataclass(frozen=True)
class Sql:
    """One file of sql/ whose first column is the key, run on the store of the check's only part.
    `binds`: (bind name, the Settings field that gives its value)."""

    file: str
    binds: tuple[tuple[str, str], ...] = ()
    kind = "sql"


@dataclass(frozen=True)
class Snapshot:
    """A cross-store check: the function `fn` of lib.checks.sync over the run's Snapshot `parts`."""

    fn: str
    parts: tuple[str, ...]
    kind = "snapshot"


@dataclass(frozen=True)
class Constraints:
    """A catalog check (lib.checks.constraints), read from each PostgreSQL store once per run."""

    kind = "constraints"


@dataclass(frozen=True)
class History:
    """A check over this run's counts and the saved check history: the function `fn` of
    lib.checks.pulse, called after every other check of the run has its result."""

    fn: str
    kind = "history"


@dataclass(frozen=True)
class ForeignKeyRows:
    """The rows a foreign key added NOT VALID would reject, as a check names them: the check's keys
    are exactly the `key` column of the rows of `table` (schema public) whose `columns`, when set,
    have no row of `ref_table` with those `ref_columns`. `skips_nulls`: the check leaves out rows
    with a NULL column, as a foreign key does; a check that does not is the same rows only where the
    columns are NOT NULL. The Fixes page's status takes a held run's keys for that constraint's
    violating rows instead of asking the database again (lib.fixes.counting)."""

    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    key: str = "id"
    skips_nulls: bool = True


def sql(file: str, **binds: str) -> Sql:
    return Sql(file, tuple(binds.items()))


def snapshot(fn: str, *parts: str) -> Snapshot:
    return Snapshot(fn, parts)


def history(fn: str) -> History:
    return History(fn)


CONSTRAINTS = Constraints()


# ---------------------------------------------------------------------------------- the entry
@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: str  # error | warn | info
    stores: tuple[str, ...]  # the parts it reads: core, supabase, firebase_auth, firestore
    title: str  # names the problem, as an on-call engineer reads it
    area: str  # a key of AREA_PAGE
    runs: Sql | Snapshot | Constraints | History
    fix: str | None = None  # the fix (sql/fixes/<fix>.sql) the pages link it to; its header resolves it
    demo_history: str = "steady"  # one of HISTORIES
    unplanted: str | None = None  # why the demo and the bench data cannot plant a finding of it
    fk_rows: ForeignKeyRows | None = None  # sql: its keys are the rows this foreign key rejects

    @property
    def kind(self) -> str:
        return self.runs.kind

    @property
    def store_names(self) -> frozenset[str]:
        """The stores (core, supabase, firebase) it reads."""
        return frozenset(STORE_OF_PART[p] for p in self.stores)

    @property
    def runbook_anchor(self) -> str:
        """GitHub's anchor of a heading that is exactly the id: lower case, every character but
        letters, digits, `_`, `-` and spaces dropped, spaces as `-` (`dup.medications` -> `dupmedications`)."""
        return re.sub(r"[^\w\- ]", "", self.id.lower()).replace(" ", "-")

    @property
    def runbook_path(self) -> str:
        """The runbook section of this check, relative to the project root."""
        return f"{RUNBOOK}#{self.runbook_anchor}"


C, S, FA, FS = "core", "supabase", "firebase_auth", "firestore"
SYNC, DUP, ORPHAN, TOKEN, CONSTRAINT, PULSE = "sync", "duplicates", "orphans", "tokens", "constraints", "pulse"
ACCESS = "access"
PAIR_UNIQUE = "the demo schema keeps the pair UNIQUE that prevents duplicate active connections"

CHECKS: tuple[CheckInfo, ...] = (
    # sync
    CheckInfo("sync.firebase_user_missing_in_core", "error", (C, FA), "Firebase patients with no core user", SYNC,
              snapshot("firebase_user_missing_in_core", "fb_users", "core_users")),
    CheckInfo("sync.core_user_missing_in_firebase", "error", (C, FA), "Core users with no Firebase Auth user", SYNC,
              snapshot("core_user_missing_in_firebase", "core_users", "fb_users")),
    CheckInfo("sync.patient_missing_in_supabase", "error", (C, S), "Core patients with no live Supabase user", SYNC,
              snapshot("patient_missing_in_supabase", "core_users", "sb_users")),
    CheckInfo("sync.supabase_user_unknown", "warn", (C, S),
              "Supabase users unknown to core or with the wrong postgres_id", SYNC,
              snapshot("supabase_user_unknown", "core_users", "sb_users")),
    CheckInfo("sync.profile_missing", "warn", (C, FS), "Core patients with no Firestore profile", SYNC,
              snapshot("profile_missing", "core_users", "fs_profiles")),
    CheckInfo("sync.field_drift", "warn", (C, S, FA, FS), "Email or phone differing between stores", SYNC,
              snapshot("field_drift", "core_users", "sb_users", "fb_users", "fs_profiles"), demo_history="growing"),
    CheckInfo("sync.document_missing_in_core", "error", (C, S), "Processed Supabase documents missing in core", SYNC,
              snapshot("document_missing_in_core", "doc_findings")),
    CheckInfo("sync.document_missing_in_supabase", "warn", (C, S), "Core documents missing in Supabase", SYNC,
              snapshot("document_missing_in_supabase", "doc_findings")),
    CheckInfo("sync.prescription_missing_in_supabase", "error", (C, S), "Prescriptions that never reached Supabase",
              SYNC, snapshot("prescription_missing_in_supabase", "core_prescriptions", "sb_prescriptions")),
    CheckInfo("sync.jobs_failed", "error", (C,), "Failed sync jobs", SYNC, sql("checks/sync_jobs_failed"),
              fix="retry_failed_sync_jobs", demo_history="growing"),
    CheckInfo("sync.jobs_stuck", "warn", (C,), "Sync jobs pending or running for too long", SYNC,
              sql("checks/sync_jobs_stuck", minutes="sync_jobs_stuck_minutes"), demo_history="new"),
    # duplicates
    CheckInfo("dup.core_users_email", "warn", (C,), "Core users sharing an email", DUP,
              sql("checks/dup_core_users_email")),
    CheckInfo("dup.core_users_phone", "warn", (C,), "Core users sharing a phone number", DUP,
              snapshot("core_users_phone", "core_users")),
    CheckInfo("dup.open_conversations", "error", (C,), "Duplicate open conversations", DUP,
              sql("checks/dup_open_conversations"), fix="close_duplicate_conversations", demo_history="shrinking"),
    CheckInfo("dup.active_connections", "warn", (S,), "Duplicate active patient-doctor connections", DUP,
              sql("checks/dup_active_connections"), fix="deactivate_duplicate_connections",
              demo_history="resolved", unplanted=PAIR_UNIQUE),
    CheckInfo("dup.access_tokens", "error", (S,), "Connections sharing an access token", DUP,
              sql("checks/dup_access_tokens"), fix="rotate_duplicate_tokens"),
    CheckInfo("dup.medications", "warn", (C,), "Medications synced twice", DUP, sql("checks/dup_medications"),
              fix="dedupe_medications", demo_history="shrinking"),
    CheckInfo("dup.supabase_users_firebase_uid", "error", (S,), "Supabase users sharing a Firebase UID", DUP,
              sql("checks/dup_supabase_users_firebase_uid")),
    # orphans
    CheckInfo("orphan.documents_patient", "error", (C,), "Core documents of no patient", ORPHAN,
              sql("checks/orphan_documents_patient"), fix="archive_orphan_rows"),
    CheckInfo("orphan.session_notes_patient", "error", (C,), "Session notes of no patient", ORPHAN,
              sql("checks/orphan_session_notes_patient"), fix="archive_orphan_rows"),
    CheckInfo("orphan.appointments_patient", "error", (C,), "Appointments of no patient", ORPHAN,
              sql("checks/orphan_appointments_patient"), fix="remap_appointment_patient_ids",
              demo_history="shrinking"),
    CheckInfo("orphan.prescriptions_appointment", "warn", (C,), "Prescriptions of no appointment", ORPHAN,
              sql("checks/orphan_prescriptions_appointment"), fix="archive_orphan_rows",
              fk_rows=ForeignKeyRows("prescriptions", ("appointment_id",), "appointments", ("id",), skips_nulls=False)),
    CheckInfo("orphan.medications_document", "warn", (C,), "Medications of no document", ORPHAN,
              sql("checks/orphan_medications_document"), fix="archive_orphan_rows",
              fk_rows=ForeignKeyRows("medications", ("document_id",), "documents", ("id",))),
    CheckInfo("orphan.rag_chunks_document", "warn", (S,), "RAG chunks of no document", ORPHAN,
              sql("checks/orphan_rag_chunks_document"), fix="remove_orphan_rag_chunks", demo_history="growing"),
    CheckInfo("orphan.supabase_documents_patient", "error", (S, FA), "Supabase documents of no Firebase user", ORPHAN,
              snapshot("supabase_documents_patient", "sb_doc_orphans")),
    CheckInfo("orphan.connections_patient", "warn", (S, FA), "Connections of no Firebase user", ORPHAN,
              snapshot("connections_patient", "sb_conn_orphans")),
    CheckInfo("orphan.storage_objects", "info", (S,), "Stored files no document names", ORPHAN,
              sql("checks/orphan_storage_objects")),
    CheckInfo("orphan.documents_file_missing", "error", (S,), "Documents whose file is missing from storage", ORPHAN,
              sql("checks/orphan_documents_file_missing"), demo_history="new"),
    # tokens
    CheckInfo("token.expired_active", "error", (S,), "Expired tokens still active", TOKEN,
              sql("checks/token_expired_active"), fix="deactivate_expired_tokens", demo_history="growing"),
    CheckInfo("token.expiring_soon", "info", (S,), "Active tokens expiring soon", TOKEN,
              sql("checks/token_expiring_soon", hours="token_expiring_hours"), demo_history="noisy"),
    CheckInfo("token.unused_expired", "info", (S,), "Expired tokens no doctor ever used", TOKEN,
              sql("checks/token_unused_expired")),
    # access: an account switched off in Firebase Auth, still reachable in Supabase
    CheckInfo("identity.disabled_live_in_supabase", "error", (S, FA),
              "Patients disabled in Firebase still live in Supabase", ACCESS,
              snapshot("disabled_live_in_supabase", "sb_disabled_live"), fix="ban_disabled_patients_in_supabase"),
    CheckInfo("token.active_for_disabled_patient", "error", (S, FA),
              "Active doctor connections of patients disabled in Firebase", ACCESS,
              snapshot("active_for_disabled_patient", "sb_disabled_connections"),
              fix="revoke_disabled_patients_connections"),
    # constraints
    CheckInfo("constraint.missing", "error", (C, S), "Expected constraints that are absent", CONSTRAINT,
              CONSTRAINTS),
    CheckInfo("constraint.unexpected", "error", (C, S), "Constraints the system must not have", CONSTRAINT,
              CONSTRAINTS),
    CheckInfo("constraint.mismatch", "error", (C, S), "Constraints defined otherwise than expected", CONSTRAINT,
              CONSTRAINTS),
    CheckInfo("constraint.not_valid", "warn", (C, S), "Constraints added NOT VALID and never validated", CONSTRAINT,
              CONSTRAINTS, fix="validate_constraints"),
    CheckInfo("advisor.unindexed_foreign_key", "info", (C, S), "Foreign keys whose columns lead no index",
              CONSTRAINT, CONSTRAINTS),
    CheckInfo("advisor.no_primary_key", "warn", (C, S), "Tables without a primary key", CONSTRAINT, CONSTRAINTS),
    CheckInfo("advisor.duplicate_index", "info", (C, S), "Indexes with the same definition", CONSTRAINT, CONSTRAINTS),
    # the sync pipeline's pulse
    CheckInfo("pulse.sync_lag", "warn", (C,), "Sync jobs that succeeded late", PULSE,
              sql("checks/pulse_sync_lag", minutes="pulse_sync_lag_minutes")),
    CheckInfo("pulse.documents_unprocessed", "error", (S,), "Documents the OCR step never finished", PULSE,
              sql("checks/pulse_documents_unprocessed", minutes="pulse_documents_unprocessed_minutes"),
              demo_history="spike"),
    # it judges the counts of the checks of every store (it reads the ops database's history itself)
    CheckInfo("pulse.count_anomaly", "warn", (C, S, FA, FS), "Checks far above their own recent history", PULSE,
              history("count_anomaly")),
)

CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
BY_ID: dict[str, CheckInfo] = {c.id: c for c in CHECKS}
