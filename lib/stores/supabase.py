"""The Supabase adapter, through a direct PostgreSQL connection (SUPABASE_DB_URL)."""

from __future__ import annotations

from lib.stores.postgres import PgStore

TABLES: list[tuple[str, str]] = [
    ("auth", "users"),
    ("public", "documents"),
    ("public", "rag_chunks"),
    ("public", "patient_doctor_connections"),
    ("storage", "objects"),
]


class SupabaseStore(PgStore):
    name = "supabase"

    def row_counts(self) -> dict[str, int | None]:
        return self.table_counts(TABLES)
