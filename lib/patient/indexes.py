"""The recommended lookup indexes: what the patient lookup needs in core and Supabase to never scan.

Every identifier the lookup takes is served by an index: UIDs and ids by the schema's own keys
(UNIQUE firebase_uid, the primary keys, the index on auth.users' metadata firebase_uid); email,
phone and name fragments by expressions no schema indexes by itself, and the patient view by a
few columns the schemas leave unindexed, hence RECOMMENDED. The
dashboard never creates them (it only reads); the demo and the benchmark's data set have them
(sql/demo/lookup_indexes_core.sql, lookup_indexes_supabase.sql). `missing` tells, for a
deployment, which of them it lacks and what a lookup costs there without them (the Stores page
shows it). An index counts as present when some valid, non-partial index of the table has the
same method and starts with the same key (as PostgreSQL prints it: pg_get_indexdef).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lib.errors import StoreUnavailable, safe_message
from lib.sqlfiles import load
from lib.stores import Stores
from lib.stores.postgres import PgStore


@dataclass(frozen=True)
class LookupIndex:
    store: str  # core | supabase
    table: str  # schema.table
    key: str  # "method (key)" as pg_get_indexdef prints it
    serves: str  # the lookup it serves, as the start of a sentence
    extension: str | None = None  # an extension the index needs

    @property
    def statement(self) -> str:
        """What a DBA runs to create it (CONCURRENTLY: no lock on a live table)."""
        method, _, key = self.key.partition(" ")
        return f"CREATE INDEX CONCURRENTLY ON {self.table} USING {method} {key};"


_PHONE_TAIL = "btree (\"right\"(regexp_replace(phone, '\\D'::text, ''::text, 'g'::text), 7))"
RECOMMENDED: tuple[LookupIndex, ...] = (
    LookupIndex("core", "public.users", "btree (lower(btrim(email)))", "a lookup by email"),
    LookupIndex("core", "public.users", _PHONE_TAIL, "a lookup by phone"),
    LookupIndex("core", "public.patients",
                "gin (lower(regexp_replace(full_name, '\\s+'::text, ' '::text, 'g'::text)) gin_trgm_ops)",
                "a lookup by name fragment", "pg_trgm"),
    # the patient view's prescriptions of the patient's appointments (sql/core/patient_prescriptions.sql);
    # the demo lacks it on purpose (advisor.unindexed_foreign_key plants it)
    LookupIndex("core", "public.prescriptions", "btree (appointment_id)", "the patient view's prescriptions"),
    # the patient view's findings of the SQL checks it filters by the patient's keys (lib.patient.findings):
    # the check's own statement, which these serve (the full check run too)
    LookupIndex("core", "public.sync_jobs", "btree (status, updated_at)", "the patient view's pulse.sync_lag"),
    LookupIndex("supabase", "auth.users", "btree (lower(btrim(email)))", "a lookup by email"),
    LookupIndex("supabase", "auth.users", _PHONE_TAIL, "a lookup by phone"),
    LookupIndex("supabase", "auth.users",
                "gin (lower(regexp_replace((raw_user_meta_data ->> 'name'::text), '\\s+'::text, ' '::text, "
                "'g'::text)) gin_trgm_ops)", "a lookup by name fragment", "pg_trgm"),
    LookupIndex("supabase", "storage.objects", "btree (split_part(name, '/'::text, 1))",
                "the patient view's orphan files"),
    LookupIndex("supabase", "public.rag_chunks", "btree (patient_id)", "the patient view's orphan chunks"),
    LookupIndex("supabase", "public.documents", "btree (status, created_at)",
                "pulse.documents_unprocessed (the check run; the patient view reads its documents by id)"),
    # an object under the patient's folder that none of their documents names: does any document name it
    LookupIndex("supabase", "public.documents",
                "btree (((regexp_match(file_url, '/storage/v1/object/(public/)?documents/([^?#]+)'::text))[2]))",
                "the patient view's orphan files, for a patient with one"),
)

_DEF = re.compile(r"^CREATE (?:UNIQUE )?INDEX \S+ ON (?:ONLY )?(\S+) USING (.*)$")


def _covers(existing: str, wanted: str) -> bool:
    """Whether an index of key `existing` ("method (k1, k2…)") serves what `wanted` asks: the same
    method and key, or (B-tree) a key that starts with it."""
    if existing == wanted:
        return True
    method, _, key = wanted.partition(" ")
    return method == "btree" and existing.startswith(f"{method} {key[:-1]}, ")


def _present(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """table -> the keys of its valid, non-partial indexes."""
    out: dict[str, list[str]] = {}
    for r in rows:
        m = _DEF.match(r["definition"] or "")
        if m and r["is_valid"] and not r["partial"]:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def missing_in(store: PgStore, name: str) -> list[dict[str, Any]]:
    """The recommended lookup indexes `store` (core or supabase) lacks, each with what it costs:
    {table, serves, statement, rows (the planner's estimate, None if unknown), cost, needs}."""
    wanted = [ix for ix in RECOMMENDED if ix.store == name]
    schemas = sorted({ix.table.split(".", 1)[0] for ix in wanted})
    have = _present(store.rows(load("catalog/indexes"), {"schemas": schemas}))
    lacking = [ix for ix in wanted if not any(_covers(k, ix.key) for k in have.get(ix.table, []))]
    if not lacking:
        return []
    tables = sorted({ix.table for ix in lacking})
    estimates = {r["table_name"]: r["estimate"] for r in store.rows(load("stores/table_estimates"), {"tables": tables})}
    exts = sorted({ix.extension for ix in lacking if ix.extension})
    available = {r["name"]: r["installed"] for r in store.rows(load("stores/extensions"), {"names": exts})} if exts else {}
    out = []
    for ix in lacking:
        if ix.table not in estimates:  # no such table here: nothing to serve
            continue
        rows = estimates.get(ix.table)
        rows = rows if rows is not None and rows >= 0 else None
        size = f"all ≈{rows:,} rows" if rows is not None else "every row"
        needs = None
        if ix.extension and not available.get(ix.extension):
            needs = (f"the {ix.extension} extension (CREATE EXTENSION {ix.extension};)" if ix.extension in available
                     else f"the {ix.extension} extension, which this server does not offer")
        out.append({"table": ix.table, "serves": ix.serves, "statement": ix.statement, "rows": rows,
                    "cost": f"without it, {ix.serves} reads {size} of {ix.table} (a sequential scan) instead of "
                            "an index probe",
                    "needs": needs})
    return out


def missing(stores: Stores, names: tuple[str, ...] = ("core", "supabase")) -> dict[str, dict[str, Any]]:
    """{store: {missing: [...] (see missing_in), error}} for the SQL stores among `names` that are
    configured; a store that cannot answer gets its one-sentence error and no list."""
    out: dict[str, dict[str, Any]] = {}
    secrets = stores.settings.secret_values()
    for name in names:
        store = stores.get(name)
        if not isinstance(store, PgStore):  # not configured, or Supabase over HTTP (no catalog to read)
            continue
        try:
            out[name] = {"missing": missing_in(store, name), "error": None}
        except StoreUnavailable as exc:
            out[name] = {"missing": None, "error": safe_message(exc, secrets)}
        except Exception as exc:  # noqa: BLE001 - one store failing leaves the others shown
            out[name] = {"missing": None, "error": f"{name}: {safe_message(exc, secrets)}"}
    return out
