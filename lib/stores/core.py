"""The core PostgreSQL adapter (the backend's own database, migrated by Prisma)."""

from __future__ import annotations

from lib.stores.postgres import PgStore, RowCounts

# system.md's core tables, for the Stores page's row counts.
TABLES: list[tuple[str, str]] = [
    ("public", t)
    for t in (
        "users",
        "patients",
        "doctors",
        "appointments",
        "prescriptions",
        "documents",
        "medications",
        "session_notes",
        "sync_jobs",
        "conversations",
    )
]


class CoreStore(PgStore):
    name = "core"

    def row_counts(self, estimate_above: int | None = None) -> RowCounts:
        return self.table_counts(TABLES, estimate_above)
