"""The dashboard's own database (the ops database) as a store adapter, beside core, Supabase and
Firebase: the check history, the access audit log, the fix audit, the acknowledgements and the
signed-out sessions.

Its URL: OPS_DATABASE_URL (or, in the demo, the `ops` database of the demo's PostgreSQL, given by
lib.stores.open_stores); unset, the `ops` database of the embedded PostgreSQL of the data folder,
started when the ops database is first used (lib.services). One engine per URL for the process;
the schema (sql/ops/schema.sql) is created once per process and URL, thread-safe.

Every statement it runs is a file of sql/ops/, named without its folder: `rows` reads (a READ ONLY
transaction with the statement timeout; `scalar` its first value), `execute` runs one statement in a transaction of its own,
`transaction` / `connect` give a connection for several statements in one transaction (or a session
lock), on which `run` executes a named statement.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, text

from lib.config import Settings
from lib.sqlfiles import load
from lib.stores.postgres import make_engine

FOLDER = "ops"

_engines: dict[str, Engine] = {}
_ready: set[str] = set()
_lock = threading.Lock()

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def _text(name: str) -> Any:
    return text(load(f"{FOLDER}/{name}").text)


def run(conn: Connection, name: str, params: Params | None = None) -> CursorResult[Any]:
    """Execute sql/ops/<name>.sql on an open connection of the ops database (the caller's
    transaction); a list of parameter sets runs it once per set."""
    if isinstance(params, Sequence):
        return conn.execute(_text(name), [dict(p) for p in params])
    return conn.execute(_text(name), dict(params or {}))


def engine_for(url: str) -> Engine:
    """The process's one engine for the ops database at `url`; its schema is created on first use."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url, pool_size=2)
        eng = _engines[url]
        if url not in _ready:
            with eng.begin() as conn:
                conn.exec_driver_sql(load(f"{FOLDER}/schema").text)
            _ready.add(url)
    return eng


class OpsStore:
    """The ops database of one configuration (`url` None: the embedded PostgreSQL's `ops`)."""

    name = "ops"

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.settings = settings
        self._url = url
        self._url_lock = threading.Lock()

    @property
    def configured_url(self) -> str | None:
        """The URL given (OPS_DATABASE_URL, the demo's), or None when it is the embedded one."""
        return self._url

    @property
    def url(self) -> str:
        """The URL: the one given, else the embedded PostgreSQL's `ops` database (started now if
        it is not running)."""
        with self._url_lock:
            if self._url is None:
                from lib.services import EmbeddedServices

                self._url = EmbeddedServices(self.settings).ops_uri()
            return self._url

    def engine(self) -> Engine:
        return engine_for(self.url)

    def create_schema(self) -> None:
        """Create the ops tables that are absent (idempotent; engine() does it once per process)."""
        with self.engine().begin() as conn:
            conn.exec_driver_sql(load(f"{FOLDER}/schema").text)

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of sql/ops/<name>.sql, read in a READ ONLY transaction with the statement timeout."""
        with self.engine().connect() as conn:
            conn.exec_driver_sql("BEGIN READ ONLY")
            conn.exec_driver_sql("SELECT set_config('statement_timeout', %(t)s, true)",
                                 {"t": str(self.settings.statement_timeout_ms)})
            try:
                return [dict(r._mapping) for r in run(conn, name, params)]
            finally:
                conn.rollback()

    def scalar(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row `rows` reads (None: no row)."""
        rows = self.rows(name, params)
        return next(iter(rows[0].values())) if rows else None

    def execute(self, name: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run sql/ops/<name>.sql in a transaction of its own (committed); the rows it returns, if any."""
        with self.engine().begin() as conn:
            result = run(conn, name, params)
            return [dict(r._mapping) for r in result] if result.returns_rows else []

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in one transaction: committed when the block ends, rolled back on an error."""
        with self.engine().begin() as conn:
            yield conn

    def connect(self) -> Connection:
        """A connection the caller holds and closes (a fix attempt keeps its session lock on it)."""
        return self.engine().connect()

    def dispose(self) -> None:
        """Close the pooled connections of this URL's engine (it is built again when next used)."""
        url = self._url
        if url is None:
            return
        with _lock:
            eng = _engines.get(url)
        if eng is not None:
            eng.dispose()


__all__ = ["OpsStore", "engine_for", "run"]
