"""One registry of checks: for every id of lib.checks.ids, how it runs.

- `sql`: a single-store check, one file in sql/checks/ whose first column is the key;
- `snapshot`: a cross-store check computed from the run's Snapshot (lib.checks.sync);
- `constraints`: the catalog checks, read from each PostgreSQL store once per run
  (lib.checks.constraints) against the expected-constraints data file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.checks.ids import CHECKS, CheckInfo
from lib.checks.sync import SNAPSHOT_CHECKS, SnapshotFn
from lib.config import Settings


@dataclass(frozen=True)
class Check:
    info: CheckInfo
    kind: str  # sql | snapshot | constraints
    store: str | None = None  # sql: the store it runs on
    sql: str | None = None  # sql: file name under sql/
    params: Callable[[Settings], dict[str, Any]] | None = None
    parts: tuple[str, ...] = ()  # snapshot: the parts it reads
    fn: SnapshotFn | None = None

    @property
    def id(self) -> str:
        return self.info.id


SQL_CHECKS: dict[str, tuple[str, str, Callable[[Settings], dict[str, Any]] | None]] = {
    "sync.jobs_failed": ("core", "checks/sync_jobs_failed", None),
    "sync.jobs_stuck": ("core", "checks/sync_jobs_stuck", lambda s: {"minutes": s.sync_jobs_stuck_minutes}),
    "dup.core_users_email": ("core", "checks/dup_core_users_email", None),
    "dup.open_conversations": ("core", "checks/dup_open_conversations", None),
    "dup.medications": ("core", "checks/dup_medications", None),
    "orphan.documents_patient": ("core", "checks/orphan_documents_patient", None),
    "orphan.session_notes_patient": ("core", "checks/orphan_session_notes_patient", None),
    "orphan.appointments_patient": ("core", "checks/orphan_appointments_patient", None),
    "orphan.prescriptions_appointment": ("core", "checks/orphan_prescriptions_appointment", None),
    "orphan.medications_document": ("core", "checks/orphan_medications_document", None),
    "dup.active_connections": ("supabase", "checks/dup_active_connections", None),
    "dup.access_tokens": ("supabase", "checks/dup_access_tokens", None),
    "dup.supabase_users_firebase_uid": ("supabase", "checks/dup_supabase_users_firebase_uid", None),
    "orphan.rag_chunks_document": ("supabase", "checks/orphan_rag_chunks_document", None),
    "orphan.storage_objects": ("supabase", "checks/orphan_storage_objects", None),
    "orphan.documents_file_missing": ("supabase", "checks/orphan_documents_file_missing", None),
    "token.expired_active": ("supabase", "checks/token_expired_active", None),
    "token.expiring_soon": ("supabase", "checks/token_expiring_soon", lambda s: {"hours": s.token_expiring_hours}),
    "token.unused_expired": ("supabase", "checks/token_unused_expired", None),
}

CONSTRAINT_CHECKS = frozenset(c.id for c in CHECKS if c.id.startswith(("constraint.", "advisor.")))


def _build() -> dict[str, Check]:
    out: dict[str, Check] = {}
    for info in CHECKS:
        if info.id in SQL_CHECKS:
            store, sql, params = SQL_CHECKS[info.id]
            out[info.id] = Check(info, "sql", store=store, sql=sql, params=params)
        elif info.id in SNAPSHOT_CHECKS:
            parts, fn = SNAPSHOT_CHECKS[info.id]
            out[info.id] = Check(info, "snapshot", parts=parts, fn=fn)
        elif info.id in CONSTRAINT_CHECKS:
            out[info.id] = Check(info, "constraints")
        else:  # pragma: no cover - guarded by a test
            raise RuntimeError(f"check {info.id} has no implementation")
    return out


REGISTRY: dict[str, Check] = _build()
