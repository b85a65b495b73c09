"""Shared fixtures: one set of real demo stores (embedded PostgreSQL, Firebase Auth emulator,
Firestore emulator) for the whole session, in a data folder of its own, stopped at the end.

Tests that need a particular data set ask `demo_data(n, seed, clean)`; it rebuilds the stores only
when what is loaded differs (or a test marked them dirty after writing to them). Tests that write ask
`fresh` (freshly generated stores, marked dirty afterwards); `normal` is a plain patient of the demo.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.config import STORE_SETTINGS, Settings, load_settings

DEFAULT_N = 300
DEFAULT_SEED = 11

# The tests never see a developer's own configuration.
for _name in (*STORE_SETTINGS, "OPS_DATABASE_URL"):
    os.environ.pop(_name, None)
os.environ["HEALBRIDGE_SECRETS_FILE"] = "/nonexistent/secrets.toml"


class DemoHandle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loaded: tuple[int, int, bool] | None = None
        self.manifest: dict[str, Any] = {}
        self.dirty = False

    def ensure(self, n: int = DEFAULT_N, seed: int = DEFAULT_SEED, clean: bool = False) -> dict[str, Any]:
        from lib.demo import run_demo

        want = (n, seed, clean)
        if self.loaded != want or self.dirty:
            self.manifest = run_demo(self.settings, patients=n, seed=seed, clean=clean, reset=True)
            self.loaded, self.dirty = want, False
        return self.manifest

    def stores(self) -> Any:
        from lib.stores import open_stores

        return open_stores(self.settings)


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    # short path: the embedded server's Unix socket lives there
    path = Path(tempfile.mkdtemp(prefix="hbt", dir="/tmp"))
    os.environ["HEALBRIDGE_DATA_DIR"] = str(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def demo(data_dir: Path) -> Iterator[DemoHandle]:
    from lib.services import EmbeddedServices

    settings = load_settings()
    assert settings.demo and settings.healbridge_data_dir == data_dir
    handle = DemoHandle(settings)
    try:
        handle.ensure()
        yield handle
    finally:
        EmbeddedServices(settings).stop()


@pytest.fixture
def demo_data(demo: DemoHandle) -> Callable[..., dict[str, Any]]:
    return demo.ensure


@pytest.fixture
def stores(demo: DemoHandle) -> Iterator[Any]:
    demo.ensure()
    s = demo.stores()
    yield s
    s.dispose()


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """cache_resource and cache_data outlive an AppTest run within the process: start each test clean."""
    import streamlit as st

    from lib.checks import latest
    from lib.checks.sync import forget_firebase_listings

    def clean() -> None:
        latest.wait_all()  # a background run of the previous test ends before its stores are released
        latest.forget_all()
        st.cache_data.clear()
        st.cache_resource.clear()
        forget_firebase_listings()

    clean()
    yield
    clean()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What the download buttons would send, by file name (recorded as Streamlit stores it)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self: Any, path_or_data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        if filename and isinstance(path_or_data, bytes | str):
            files[filename] = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
        return original(self, path_or_data, mimetype, kind, filename)

    def deferred(self: Any, data_callable: Any, mimetype: Any, coordinates: Any, file_name: str | None = None,
                 **kw: Any) -> str:
        if file_name:  # a download built on click (st.download_button(data=callable)): built here as on a click
            data = data_callable()
            files[file_name] = data if isinstance(data, bytes) else str(data).encode()
        return original_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    from streamlit.runtime.media_file_manager import MediaFileManager

    original_deferred = MediaFileManager.add_deferred
    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", deferred)
    return files


@pytest.fixture
def fresh(demo: Any) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Freshly generated demo stores (the default size); marked dirty afterwards: the tests write."""
    demo.dirty = True
    manifest = demo.ensure()
    stores = demo.stores()
    try:
        yield stores, manifest
    finally:
        stores.dispose()
        demo.dirty = True


@pytest.fixture
def normal(demo: Any, stores: Any) -> dict[str, Any]:
    """A patient consistent in every store, with an email and a phone that no other user shares,
    and with at least one document, appointment and connection."""
    from tests.support import _rows, _uid_of_key

    demo.ensure()
    planted = {_uid_of_key(k) for v in demo.manifest["planted"].values() for k in v["keys"]}
    rows = _rows(stores.core, """
        SELECT u.id::text AS user_id, p.id::text AS patient_id, u.firebase_uid AS uid, u.email, u.phone, p.full_name
        FROM users u JOIN patients p ON p.user_id = u.id
        WHERE u.role = 'PATIENT' AND u.email LIKE '%@example.com' AND u.phone LIKE '+1%'
          AND (SELECT count(*) FROM users o WHERE lower(btrim(o.email)) = lower(btrim(u.email))) = 1
          AND EXISTS (SELECT 1 FROM documents d WHERE d.patient_id = p.id)
          AND EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = u.id)
        ORDER BY u.firebase_uid""")
    fb = {u["uid"] for u in stores.firebase.iter_users()}
    sb_conn = {r["u"] for r in _rows(stores.supabase, "SELECT patient_firebase_uid AS u FROM public.patient_doctor_connections")}
    for r in rows:
        if r["uid"] not in planted and r["uid"] in fb and r["uid"] in sb_conn:
            sb = _rows(stores.supabase, "SELECT id::text AS id FROM auth.users WHERE raw_user_meta_data ->> 'firebase_uid' = :u",
                       u=r["uid"])
            if len(sb) == 1:
                return r | {"supabase_id": sb[0]["id"]}
    raise AssertionError("the demo has no plain patient")


_dbs = itertools.count()


@pytest.fixture
def ops(demo: Any) -> Iterator[Any]:
    """The demo stores with an ops database of their own, empty (created on the embedded server)."""
    import dataclasses

    import psycopg
    from psycopg import sql as psql
    from sqlalchemy.engine import make_url

    from lib.services import EmbeddedServices

    demo.ensure()
    uri = EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]["ops"]
    name = f"ops_own_{next(_dbs)}"
    admin = make_url(uri).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))
        conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    stores = demo.stores()
    mine = dataclasses.replace(stores, ops_url=make_url(uri).set(database=name).render_as_string(hide_password=False))
    try:
        yield mine
    finally:
        stores.dispose()
        mine.ops.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))
