"""The recommended lookup indexes (lib.patient.indexes) on the real embedded PostgreSQL: the demo
has every one (pg_trgm's trigram indexes included); a database without them is told which it
lacks, what a lookup costs there and what to run, by lib and on the Stores page; and every lookup
statement can be served by an index (its plan with sequential scans disabled reads no table
sequentially). The timings are the benchmark's (lib.bench), not a test's."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql as psql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from lib.patient.indexes import RECOMMENDED, missing, missing_in
from lib.services import EmbeddedServices
from lib.sqlfiles import load
from lib.stores.postgres import PgStore
from tests.pages.support import _app

_dbs = itertools.count()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
ROWS = 1000
BARE_TABLES = ("public.users", "public.patients")  # a table the deployment lacks needs no index


@pytest.fixture
def bare(demo: Any) -> Iterator[str]:
    """A database of the embedded server with core's users and patients tables, 1,000 rows, analysed,
    and none of the recommended indexes."""
    demo.ensure()
    uri = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]["core"]
    name = f"bare_core_{next(_dbs)}"
    admin = make_url(uri).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))
        conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    url = make_url(uri).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY, email text, phone text)")
        conn.execute("CREATE TABLE patients (id int PRIMARY KEY, user_id int, full_name text)")
        conn.execute(f"INSERT INTO users SELECT i, 'u' || i || '@x.example', '+1415555' || lpad(i::text, 4, '0') "
                     f"FROM generate_series(1, {ROWS}) i")
        conn.execute(f"INSERT INTO patients SELECT i, i, 'Name ' || i FROM generate_series(1, {ROWS}) i")
        conn.execute("ANALYZE")
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))


def test_the_demo_has_every_recommended_lookup_index_but_the_one_it_plants(demo: Any, stores: Any) -> None:
    """pg_trgm's trigram indexes included; prescriptions.appointment_id is unindexed on purpose
    (the manifest's advisor.unindexed_foreign_key), and so named missing."""
    found = missing(stores)
    assert found["supabase"] == {"missing": [], "error": None}
    planted = demo.ensure()["planted"]["advisor.unindexed_foreign_key"]["keys"]
    assert "core.prescriptions.prescriptions_appointment_id_fkey" in planted
    assert [(m["table"], m["statement"]) for m in found["core"]["missing"]] == [
        ("public.prescriptions", "CREATE INDEX CONCURRENTLY ON public.prescriptions USING btree (appointment_id);")]


def test_a_database_without_them_is_told_which_it_lacks_and_what_that_costs(bare: str) -> None:
    store = PgStore(bare)
    try:
        lacking = missing_in(store, "core")
        assert [(m["table"], m["serves"]) for m in lacking] == [(ix.table, ix.serves) for ix in RECOMMENDED
                                                                 if ix.table in BARE_TABLES]
        assert all(m["rows"] == ROWS and f"all ≈{ROWS:,} rows of {m['table']}" in m["cost"] for m in lacking)
        trgm = next(m for m in lacking if "name" in m["serves"])
        assert trgm["needs"] and "pg_trgm" in trgm["needs"] and trgm["statement"].startswith("CREATE INDEX")
        # what the list says to run makes it go away; a B-tree that starts with the key serves as well
        with psycopg.connect(_libpq(bare), autocommit=True) as conn:
            conn.execute(lacking[0]["statement"])  # as shown: CREATE INDEX CONCURRENTLY
            conn.execute(r"CREATE INDEX ON users (right(regexp_replace(phone, '\D', '', 'g'), 7), id)")
        assert [m["serves"] for m in missing_in(store, "core")] == [trgm["serves"]]
    finally:
        store.dispose()


def test_the_stores_page_names_a_missing_lookup_index(bare: str, monkeypatch: Any, fresh_caches: None) -> None:
    monkeypatch.setenv("CORE_DATABASE_URL", bare)
    at = _app("views/stores.py")
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning if "recommended lookup index" in w.value]
    assert len(warnings) == len([ix for ix in RECOMMENDED if ix.table in BARE_TABLES])
    assert any("public.users" in w and "a lookup by email" in w and f"≈{ROWS:,} rows" in w for w in warnings)
    assert any("pg_trgm" in w for w in warnings)
    assert any(c.value.startswith("CREATE INDEX CONCURRENTLY ON public.users") for c in at.code)


LOOKUP_SQL = {
    "core": {"core/patient_by_email": {"emails": ["a@b.example"]}, "core/patient_by_phone": {"tails": ["5550142"]},
             "core/patient_by_name": {"pattern": "%okafo%", "limit": 51},
             "core/patient_by_id": {"id": "6f9619ff-8b86-d011-b42d-00cf4fc964ff"},
             "core/patient_identity": {"uids": ["x" * 28]}},
    "supabase": {"supabase/patient_by_email": {"emails": ["a@b.example"]},
                 "supabase/patient_by_phone": {"tails": ["5550142"]},
                 "supabase/patient_by_name": {"pattern": "%okafo%", "limit": 51},
                 "supabase/patient_by_id": {"id": "6f9619ff-8b86-d011-b42d-00cf4fc964ff"},
                 "supabase/patient_users": {"uids": ["x" * 28]}, "supabase/patient_refs": {"uids": ["x" * 28]}},
}
# what the patient view reads next (lib.patient.read), and the SQL checks it filters by the patient's keys
REFS = ["6f9619ff-8b86-d011-b42d-00cf4fc964ff"]
LOOKUP_SQL["core"] |= {"core/patient_documents": {"refs": REFS, "ids": REFS}, "core/patient_medications": {"refs": REFS},
                       "core/patient_appointments": {"refs": REFS}, "core/patient_session_notes": {"refs": REFS},
                       "core/patient_sync_jobs": {"uids": ["x" * 28], "limit": 10},
                       "checks/pulse_sync_lag": {"minutes": 10, "only_keys": ["1"]},
                       "checks/sync_jobs_failed": {"only_keys": ["1"]},
                       "checks/sync_jobs_stuck": {"minutes": 15, "only_keys": ["1"]}}
LOOKUP_SQL["supabase"] |= {"supabase/patient_documents": {"uids": ["x" * 28], "ids": REFS},
                           "supabase/patient_connections": {"uids": ["x" * 28], "hours": 72},
                           "supabase/patient_orphan_chunks": {"uids": ["x" * 28]},
                           "supabase/patient_orphan_files": {"uids": ["x" * 28]},
                           "checks/pulse_documents_unprocessed": {"minutes": 30, "only_keys": REFS}}


@pytest.mark.parametrize(("store", "name"), [(s, n) for s, names in LOOKUP_SQL.items() for n in names])
def test_every_lookup_statement_can_be_served_by_an_index(stores: Any, store: str, name: str) -> None:
    """On the demo's small tables the planner may rightly prefer a scan; with scans priced out it
    must still find an index for every table the statement reads."""
    with stores.get(store).read() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + load(name).text), LOOKUP_SQL[store][name]))
    assert "Seq Scan" not in plan, plan
