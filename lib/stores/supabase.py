"""The Supabase adapter, through a direct PostgreSQL connection (SUPABASE_DB_URL)."""

from __future__ import annotations

import pandas as pd

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

    # What the cross-store checks read (the HTTP adapter offers the same three).
    def identities_frame(self) -> pd.DataFrame:
        """id, firebase_uid, postgres_id, email, phone, created_at, deleted ('t'/'f') of auth.users."""
        return self.frame("supabase/identities")

    def documents_frame(self) -> pd.DataFrame:
        """id, patient_id, status, type, file_url of public.documents."""
        return self.frame("supabase/documents")

    def connections_frame(self) -> pd.DataFrame:
        """id, patient_firebase_uid of public.patient_doctor_connections."""
        return self.frame("supabase/connection_patients")
