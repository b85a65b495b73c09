"""The Supabase HTTP adapter (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY, no SUPABASE_DB_URL) against an
HTTP-level fake of GoTrue and PostgREST (tests/fake_supabase.py) serving the demo's REAL Supabase
database: what it reads must equal what the direct adapter reads from the same rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from lib.checks.registry import REGISTRY
from lib.checks.runner import run_checks
from lib.config import load_settings
from lib.errors import StoreUnavailable
from lib.stores import Stores, open_stores
from lib.stores.supabase import SupabaseStore
from lib.stores.supabase_http import NEEDS_SQL, VERSION, SupabaseHttpStore
from tests.fake_supabase import FakeSupabase


def _jwt(role: str, secret: str = "fake-jwt-secret-with-at-least-32-bytes!") -> str:
    """A syntactically valid HS256 Supabase key (what a real service-role key looks like)."""
    return jwt.encode({"iss": "supabase", "ref": "fakeproject", "role": role, "iat": 1700000000, "exp": 2000000000},
                      secret, algorithm="HS256")


KEY = _jwt("service_role")
WRONG_KEY = _jwt("service_role", secret="another-secret-another-secret-another!")

# What the cross-store checks read from Supabase (the snapshot), and the table each one pages through.
READS = {"live_users": "auth.users", "document_ids": "documents", "prescription_url_md5s": "documents",
         "documents_unknown_patient": "documents", "connections_unknown_patient": "patient_doctor_connections"}
SNAPSHOT_SUPABASE_CHECKS = [
    "sync.patient_missing_in_supabase",
    "sync.supabase_user_unknown",
    "sync.field_drift",
    "sync.document_missing_in_core",
    "sync.document_missing_in_supabase",
    "sync.prescription_missing_in_supabase",
    "orphan.supabase_documents_patient",
    "orphan.connections_patient",
    "identity.disabled_live_in_supabase",
    "token.active_for_disabled_patient",
]
SUPABASE_SQL_CHECKS = sorted(c.id for c in REGISTRY.values() if c.kind == "sql" and c.store == "supabase")
CONSTRAINT_CHECKS = sorted(c.id for c in REGISTRY.values() if c.kind == "constraints")


@pytest.fixture
def fake(stores: Any) -> Iterator[FakeSupabase]:
    with FakeSupabase(stores.supabase._url, KEY) as f:
        yield f


@pytest.fixture
def http(fake: FakeSupabase) -> Iterator[SupabaseHttpStore]:
    store = SupabaseHttpStore(fake.url, KEY, timeout=20)
    yield store
    store.dispose()


def _uids(stores: Any) -> list[str]:
    return [u for u in stores.firebase.users_table(("uid",)).column("uid").to_pylist() if u]


def _read(store: Any, name: str, uids: list[str]) -> Any:
    """One snapshot read of `store`, comparable across adapters (rows in the adapter's order)."""
    if name.endswith("_unknown_patient"):
        total, keys = getattr(store, name)(uids, 1_000_000)
        return total, sorted(keys)
    table = getattr(store, name)()
    rows = table.to_pylist()
    return table.column_names, rows if name == "live_users" else sorted(rows, key=repr)


def _one_sentence(text: str) -> None:
    assert text.startswith("supabase: ")
    assert "\n" not in text and len(text) < 300


# ---------------------------------------------------------------------- (a) the snapshot reads
@pytest.mark.parametrize("name", READS)
def test_snapshot_reads_equal_the_direct_adapters(stores: Any, fake: FakeSupabase, http: SupabaseHttpStore,
                                                  name: str) -> None:
    uids = _uids(stores)
    direct = _read(stores.supabase, name, uids)
    via_http = _read(http, name, uids)
    assert direct[1], f"the demo has rows for {name}"
    assert via_http == direct
    if name == "live_users":  # every value a string or None, as the direct adapter's COPY gives them
        assert all(isinstance(v, str) or v is None for row in via_http[1] for v in row.values())
    # paged, 1,000 a request: a handful of requests, never one a row
    rows = stores.supabase.row_counts()[READS[name]]
    assert len(fake.requests) <= rows // 1000 + 2


def test_live_users_carry_the_metadata_and_leave_the_deleted_out(stores: Any, http: SupabaseHttpStore) -> None:
    live = http.live_users().to_pylist()
    assert sum(1 for u in live if u["firebase_uid"]) > 0 and sum(1 for u in live if u["postgres_id"]) > 0
    everyone = stores.supabase.row_counts()["auth.users"]
    assert 0 < len(live) < everyone  # the demo has deleted users: they are not live
    # oldest first, as the direct adapter orders them (created_at, then id)
    assert [u["id"] for u in live] == [u["id"] for u in stores.supabase.live_users().to_pylist()]


def test_paging_reads_everything_when_the_server_caps_rows_below_the_page(stores: Any) -> None:
    """Pages of 37 asked, the server gives at most 25 rows: the offset follows what came back."""
    with FakeSupabase(stores.supabase._url, KEY, max_rows=25) as fake:
        store = SupabaseHttpStore(fake.url, KEY, page_size=37)
        try:
            for name in ("live_users", "document_ids"):  # one listing of the users, one of the documents
                assert _read(store, name, []) == _read(stores.supabase, name, []), name
        finally:
            store.dispose()
        counts = stores.supabase.row_counts()
        n_docs, n_users = counts["documents"], counts["auth.users"]
        assert n_docs and n_users
        assert fake.count("/rest/v1/documents") == -(-n_docs // 25) + 1  # the pages and the empty one
        assert fake.count("/auth/v1/admin/users") == -(-n_users // 37) + 1


# ---------------------------------------------------------------------- (b) row counts
def test_row_counts_agree(stores: Any, fake: FakeSupabase, http: SupabaseHttpStore) -> None:
    direct = stores.supabase.row_counts()
    via_http = http.row_counts()
    assert set(via_http) == set(direct)
    for table in ("auth.users", "documents", "rag_chunks", "patient_doctor_connections"):
        assert via_http[table] == direct[table], table
    assert via_http["storage.objects"] is None  # not a table of the HTTP API
    assert fake.count("/rest/v1/", "HEAD") == 3  # one count request a table


def test_user_count_without_the_total_header_pages_the_listing(stores: Any) -> None:
    with FakeSupabase(stores.supabase._url, KEY, total_count_header=False) as fake:
        store = SupabaseHttpStore(fake.url, KEY)
        try:
            assert store.row_counts()["auth.users"] == stores.supabase.row_counts()["auth.users"]
        finally:
            store.dispose()


# ---------------------------------------------------------------------- (c) ping and errors
def test_ping(http: SupabaseHttpStore) -> None:
    p = http.ping()
    assert p["ok"] is True and p["error"] is None and p["version"] == VERSION
    assert isinstance(p["latency_ms"], float)


def test_wrong_key_is_one_sentence_without_the_key(fake: FakeSupabase) -> None:
    store = SupabaseHttpStore(fake.url, WRONG_KEY)
    try:
        p = store.ping()
        assert p["ok"] is False and p["latency_ms"] is None
        _one_sentence(p["error"])
        assert "key" in p["error"] and WRONG_KEY not in p["error"] and KEY not in p["error"]
        for call in (store.live_users, store.document_ids, store.row_counts):
            with pytest.raises(StoreUnavailable) as info:
                call()
            _one_sentence(str(info.value))
            assert WRONG_KEY not in str(info.value)
    finally:
        store.dispose()


def test_a_key_the_http_layer_rejects_is_not_echoed(fake: FakeSupabase) -> None:
    bad = KEY + "\nX-Leak: yes"
    store = SupabaseHttpStore(fake.url, bad)
    try:
        p = store.ping()
        assert p["ok"] is False
        _one_sentence(p["error"])
        assert bad not in p["error"] and KEY not in p["error"]
    finally:
        store.dispose()


def test_a_stopped_api_fails_fast(stores: Any) -> None:
    fake = FakeSupabase(stores.supabase._url, KEY).start()
    store = SupabaseHttpStore(fake.url, KEY, timeout=20)
    try:
        assert store.ping()["ok"] is True
        fake.stop()
        t0 = time.perf_counter()
        p = store.ping()
        assert p["ok"] is False and time.perf_counter() - t0 < 3
        _one_sentence(p["error"])
        assert "cannot reach" in p["error"] and KEY not in p["error"]
        t0 = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="cannot reach"):
            store.document_ids()  # PostgREST's retries are off: one clear answer, at once
        assert time.perf_counter() - t0 < 3
    finally:
        store.dispose()
        fake.stop()


def test_sql_reads_say_they_need_sql(http: SupabaseHttpStore) -> None:
    for call in (lambda: http.keys("checks/token_expired_active"), lambda: http.rows("supabase/patient_documents"),
                 lambda: http.frame("supabase/patient_documents"), lambda: http.scalar("SELECT 1"), http.read):
        with pytest.raises(StoreUnavailable) as info:
            call()
        assert str(info.value) == NEEDS_SQL


# ---------------------------------------------------------------------- (d) the checks
def test_checks_through_http_match_the_direct_adapter(stores: Any, http: SupabaseHttpStore) -> None:
    only = SNAPSHOT_SUPABASE_CHECKS + SUPABASE_SQL_CHECKS + CONSTRAINT_CHECKS
    over_http = Stores(settings=stores.settings, demo=False, core=stores.core, supabase=http,
                       firebase=stores.firebase, ops_url=stores.ops_url)
    direct = run_checks(stores, only=only).by_id()
    via_http = run_checks(over_http, only=only).by_id()

    assert via_http and over_http.ping(("supabase",))["supabase"]["ok"]
    for cid in SNAPSHOT_SUPABASE_CHECKS:
        assert direct[cid].error is None, (cid, direct[cid].error)
        assert via_http[cid].error is None, (cid, via_http[cid].error)
        assert via_http[cid].keys == direct[cid].keys, cid
    assert any(direct[cid].count for cid in SNAPSHOT_SUPABASE_CHECKS)  # the demo plants findings there
    assert {"token.expired_active", "dup.access_tokens"} <= set(SUPABASE_SQL_CHECKS)
    for cid in SUPABASE_SQL_CHECKS:
        assert direct[cid].count is not None, cid
        assert via_http[cid].count is None and via_http[cid].error == NEEDS_SQL, cid
    assert "constraint.missing" in CONSTRAINT_CHECKS
    for cid in CONSTRAINT_CHECKS:
        assert via_http[cid].count is None and NEEDS_SQL in (via_http[cid].error or ""), cid
    for r in via_http.values():
        assert KEY not in (r.error or "")


# ---------------------------------------------------------------------- (e) configuration
def test_open_stores_builds_the_http_adapter(monkeypatch: pytest.MonkeyPatch, stores: Any, fake: FakeSupabase) -> None:
    monkeypatch.setenv("SUPABASE_URL", fake.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", KEY)
    settings = load_settings()
    assert not settings.demo and settings.supabase_configured
    opened = open_stores(settings)
    try:
        assert isinstance(opened.supabase, SupabaseHttpStore)
        assert opened.core is None and opened.firebase is None
        pings = opened.ping(("supabase",))
        assert pings["supabase"]["ok"] is True and pings["supabase"]["version"] == VERSION
        assert KEY not in repr(opened.supabase)
    finally:
        opened.dispose()

    # a direct URL wins over the HTTP API
    monkeypatch.setenv("SUPABASE_DB_URL", stores.supabase._url)
    opened = open_stores(load_settings())
    try:
        assert isinstance(opened.supabase, SupabaseStore)
    finally:
        opened.dispose()
