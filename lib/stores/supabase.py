"""The Supabase adapter, through a direct PostgreSQL connection (SUPABASE_DB_URL)."""

from __future__ import annotations

import pyarrow as pa

from lib.stores.postgres import PgStore, RowCounts

TABLES: list[tuple[str, str]] = [
    ("auth", "users"),
    ("public", "documents"),
    ("public", "rag_chunks"),
    ("public", "patient_doctor_connections"),
    ("storage", "objects"),
]


class SupabaseStore(PgStore):
    name = "supabase"

    def row_counts(self, estimate_above: int | None = None) -> RowCounts:
        return self.table_counts(TABLES, estimate_above)

    # The check run's snapshot (lib.checks.sync): compact Arrow, by COPY; the HTTP adapter offers the same.
    def live_users(self) -> pa.Table:
        """id, firebase_uid, postgres_id, email, phone of live auth users, oldest first."""
        return self.arrow("snapshot/supabase_live_users")

    def document_ids(self) -> pa.Table:
        """id (16-byte uuid) and processed (bool) of every document."""
        return self.fixed("snapshot/supabase_document_ids", {"id": "uuid", "processed": "bool"})

    def prescription_url_md5s(self) -> pa.Table:
        """url_md5: md5 of every prescription document's file_url (16 bytes)."""
        return self.fixed("snapshot/supabase_prescription_urls", {"url_md5": "uuid"})

    def documents_unknown_patient(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        """How many documents have a patient_id that is none of `uids`, and the first `limit` ids."""
        rows = self.rows("snapshot/supabase_documents_unknown_patient", {"uids": uids, "limit": limit}, bulk=True)
        return (int(rows[0]["total"]) if rows else 0), [r["key"] for r in rows]

    def connections_unknown_patient(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        """How many connections have a patient_firebase_uid that is none of `uids`, and the first ids."""
        rows = self.rows("snapshot/supabase_connections_unknown_patient", {"uids": uids, "limit": limit}, bulk=True)
        return (int(rows[0]["total"]) if rows else 0), [r["key"] for r in rows]

    def live_users_of(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        """How many of `uids` a live (not deleted, not banned now) auth user carries, and the first ones."""
        rows = self.rows("snapshot/supabase_disabled_live_users", {"uids": uids, "limit": limit}, bulk=True)
        return (int(rows[0]["total"]) if rows else 0), [r["key"] for r in rows]

    def active_connections_of(self, uids: list[str], limit: int) -> tuple[int, list[str]]:
        """How many active, unexpired connections have a patient among `uids`, and the first ids."""
        rows = self.rows("snapshot/supabase_disabled_active_connections", {"uids": uids, "limit": limit}, bulk=True)
        return (int(rows[0]["total"]) if rows else 0), [r["key"] for r in rows]
