"""What the core and Supabase adapters share: a SQLAlchemy 2 engine over psycopg 3.

Every read runs in a READ ONLY transaction with a statement timeout and the application name
`healbridge-ops`; the engine pre-pings so that a database that went away and came back is
reconnected. Errors reach callers as StoreUnavailable with a message free of the URL.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql as psql
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lib.errors import StoreUnavailable
from lib.sqlfiles import SqlFile, load
from lib.stores import native
from lib.stores.dberrors import CHECK_TIMEOUT, INTERACTIVE_TIMEOUT, describe_db_error

APPLICATION_NAME = "healbridge-ops"


def make_engine(url: str, *, connect_timeout_s: int = 5, pool_size: int = 4) -> Engine:
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=4,
        pool_recycle=1800,
        connect_args={"connect_timeout": connect_timeout_s, "application_name": APPLICATION_NAME},
    )


def _wrappable(sql: SqlFile | str) -> str:
    """A SELECT's text without its trailing semicolon, to be wrapped (COPY (…) TO STDOUT)."""
    return (sql.text if isinstance(sql, SqlFile) else load(sql).text).strip().rstrip(";")


class PgStore:
    """A PostgreSQL store reached through SQLAlchemy (core, Supabase's database, ops)."""

    name = "postgres"

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, connect_timeout_s: int = 5,
                 check_statement_timeout_ms: int = 300_000) -> None:
        self._url = url
        self.statement_timeout_ms = statement_timeout_ms
        # the check run's bulk reads (keys, arrow, fixed, bulk_rows) get this longer budget
        self.check_statement_timeout_ms = max(check_statement_timeout_ms, statement_timeout_ms)
        self.connect_timeout_s = connect_timeout_s
        self.engine: Engine = make_engine(url, connect_timeout_s=connect_timeout_s)

    @property
    def database(self) -> str:
        return make_url(self._url).database or ""

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ reads
    @contextmanager
    def read(self, timeout_ms: int | None = None, *, setting: str | None = None) -> Iterator[Connection]:
        """A read-only transaction with a statement timeout; errors become StoreUnavailable. The
        timeout is STATEMENT_TIMEOUT_MS's unless `timeout_ms` is given (`setting`: where that comes
        from, named if the timeout stops a query)."""
        if timeout_ms is None:
            timeout_ms, setting = self.statement_timeout_ms, INTERACTIVE_TIMEOUT
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN READ ONLY")
                conn.exec_driver_sql(
                    "SELECT set_config('statement_timeout', %(t)s, true)",
                    {"t": str(timeout_ms)},
                )
                try:
                    yield conn
                finally:
                    conn.rollback()
        except (SQLAlchemyError, DBAPIError, psycopg.Error) as exc:  # psycopg: the raw COPY reads
            raise StoreUnavailable(describe_db_error(self.name, exc, (setting, timeout_ms))) from exc
        except OSError as exc:
            raise StoreUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc

    def check_read(self) -> AbstractContextManager[Connection]:
        """`read` with the check run's budget, CHECK_STATEMENT_TIMEOUT_MS."""
        return self.read(self.check_statement_timeout_ms, setting=CHECK_TIMEOUT)

    def rows(self, sql: SqlFile | str, params: Mapping[str, Any] | None = None, *,
             bulk: bool = False) -> list[dict[str, Any]]:
        """Rows of a SELECT; `bulk` (the check run's set-based reads) gets the check timeout."""
        stmt = sql.text if isinstance(sql, SqlFile) else load(sql).text
        with self.check_read() if bulk else self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(text(stmt), dict(params or {}))]

    def frame(self, sql: SqlFile | str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a SELECT and return a DataFrame, streamed with COPY (fast at millions of rows)."""
        stmt = sql.text if isinstance(sql, SqlFile) else load(sql).text
        stmt = stmt.strip().rstrip(";")
        with self.read() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, psycopg.Connection)
            cur = raw.cursor()
            if params:
                # COPY takes no bound parameters: psycopg quotes them into the text client-side.
                stmt = psycopg.ClientCursor(raw).mogrify(_to_psycopg_params(stmt), dict(params))
            bound = f"COPY ({stmt}) TO STDOUT WITH (FORMAT csv, HEADER true)"
            buf = io.BytesIO()
            with cur.copy(bound) as copy:
                for chunk in copy:
                    buf.write(chunk)
            buf.seek(0)
            if buf.getbuffer().nbytes == 0:
                return pd.DataFrame()
            return pd.read_csv(buf, dtype=str, keep_default_na=False, na_values=[""])

    @contextmanager
    def _copy(self, sql: SqlFile | str, params: Mapping[str, Any] | None, options: str) -> Iterator[Iterator[bytes]]:
        """COPY (SELECT …) TO STDOUT in a read-only transaction: its data as it arrives."""
        stmt = _wrappable(sql)
        with self.check_read() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, psycopg.Connection)
            if params:  # COPY takes no bound parameters: psycopg quotes them into the text client-side.
                stmt = psycopg.ClientCursor(raw).mogrify(_to_psycopg_params(stmt), dict(params))
            with raw.cursor().copy(f"COPY ({stmt}) TO STDOUT WITH ({options})") as copy:
                yield _blocks(copy)

    def arrow(self, sql: SqlFile | str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A SELECT as an Arrow table of strings (NULL and '' both null): `arrow_stream`, read whole."""
        with self.arrow_stream(sql, params) as stream:
            return stream.read_all()

    @contextmanager
    def arrow_stream(self, sql: SqlFile | str, params: Mapping[str, Any] | None = None) -> Iterator[pa.RecordBatchReader]:
        """A SELECT as a stream of Arrow record batches of strings (NULL and '' both null), from COPY
        into Arrow's CSV reader block by block: compact (no Python object per value), and the text is
        never held whole. Read it inside the `with` (the COPY's transaction)."""
        with self._copy(sql, params, "FORMAT csv, HEADER true") as chunks:
            reader = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
            header = reader.peek(1 << 16).split(b"\n", 1)[0].decode()
            if not header:
                yield pa.RecordBatchReader.from_batches(pa.schema([]), iter(()))
                return
            stream = pacsv.open_csv(
                reader,
                read_options=pacsv.ReadOptions(block_size=1 << 20),  # measured: 8 MB blocks read ahead ~100 MB
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in header.split(",")}, strings_can_be_null=True,
                    quoted_strings_can_be_null=True, null_values=[""],
                ),
            )
            yield pa.RecordBatchReader.from_batches(stream.schema, stream)

    def native_stream(self, sql: SqlFile | str) -> AbstractContextManager[pa.RecordBatchReader]:
        """A SELECT of text columns (no parameters) as Arrow record batches of strings, as
        `arrow_stream` gives them, read through ADBC's binary COPY (lib/stores/native.py: about half
        the client's CPU at 1M keys). Same transaction rules: READ ONLY, the check run's timeout."""
        stmt = _wrappable(sql)
        return native.stream(self._url, stmt, store=self.name, timeout_ms=self.check_statement_timeout_ms,
                             timeout_setting=CHECK_TIMEOUT, application_name=APPLICATION_NAME,
                             connect_timeout_s=self.connect_timeout_s)

    def fixed(self, sql: SqlFile | str, columns: Mapping[str, str], params: Mapping[str, Any] | None = None) -> pa.Table:
        """`fixed_stream`, read whole: 5 M uuids are 80 MB, not 5 M Python strings."""
        with self.fixed_stream(sql, columns, params) as stream:
            return stream.read_all()

    @contextmanager
    def fixed_stream(self, sql: SqlFile | str, columns: Mapping[str, str],
                     params: Mapping[str, Any] | None = None) -> Iterator[pa.RecordBatchReader]:
        """A SELECT of fixed-width, never-NULL columns ("uuid" → 16-byte binary, "bool") read with
        COPY's binary format straight into Arrow record batches, one per FIXED_BLOCK of COPY data.
        Read it inside the `with` (the COPY's transaction)."""
        width = {"uuid": 16, "bool": 1}
        fields: list[tuple[str, str]] = [("n", ">i2")]
        for i, kind in enumerate(columns.values()):
            fields += [(f"l{i}", ">i4"), (f"f{i}", f"V{width[kind]}")]
        dtype = np.dtype(fields)
        schema = pa.schema([(name, pa.binary(16) if kind == "uuid" else pa.bool_()) for name, kind in columns.items()])

        def batch(pending: bytearray, final: bool) -> pa.RecordBatch | None:
            usable = len(pending) - (2 if final else 0)  # the trailer: int16 -1
            n = usable // dtype.itemsize
            if n <= 0:
                return None
            rows = np.frombuffer(bytes(pending[: n * dtype.itemsize]), dtype=dtype)
            del pending[: n * dtype.itemsize]
            out: list[pa.Array] = []
            for i, (name, kind) in enumerate(columns.items()):
                if (rows[f"l{i}"] != width[kind]).any():
                    raise ValueError(f"column {name} holds NULLs or is not a {kind}")
                col = np.ascontiguousarray(rows[f"f{i}"]).view(np.uint8)
                out.append(pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, pa.py_buffer(col)])
                           if kind == "uuid" else pa.array(col != 0))
            return pa.RecordBatch.from_arrays(out, schema=schema)

        def batches(chunks: Iterator[bytes]) -> Iterator[pa.RecordBatch]:
            pending = bytearray()
            header_done = False
            for chunk in chunks:
                pending += chunk
                if not header_done and len(pending) >= 19:
                    # 11-byte signature, int32 flags, int32 extension length (+ extension)
                    skip = 19 + int.from_bytes(pending[15:19], "big")
                    if len(pending) < skip:
                        continue
                    del pending[:skip]
                    header_done = True
                if header_done and len(pending) >= FIXED_BLOCK and (b := batch(pending, final=False)) is not None:
                    yield b
            if (b := batch(pending, final=True)) is not None:
                yield b

        with self._copy(sql, params, "FORMAT binary") as chunks:
            yield pa.RecordBatchReader.from_batches(schema, batches(chunks))

    def keys(self, sql: SqlFile | str, params: Mapping[str, Any] | None = None) -> list[str]:
        """Run a check query whose first column is the key; return the keys, sorted."""
        stmt = sql.text if isinstance(sql, SqlFile) else load(sql).text
        with self.check_read() as conn:
            return sorted(str(r[0]) for r in conn.execute(text(stmt), dict(params or {})))

    def scalar(self, sql: SqlFile | str, params: Mapping[str, Any] | None = None) -> Any:
        stmt = sql.text if isinstance(sql, SqlFile) else load(sql).text
        with self.read() as conn:
            return conn.execute(text(stmt), dict(params or {})).scalar()

    def ping(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            with self.read(timeout_ms=5000) as conn:
                version = conn.execute(text("SELECT current_setting('server_version')")).scalar()
        except StoreUnavailable as exc:
            return {"ok": False, "latency_ms": None, "version": None, "error": str(exc)}
        return {
            "ok": True,
            "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
            "version": f"PostgreSQL {version}",
            "error": None,
        }

    def table_counts(self, tables: list[tuple[str, str]], estimate_above: int | None = None) -> RowCounts:
        """Row counts of (schema, table) pairs; a table that is absent counts None. Exact, except
        with `estimate_above`: a table the planner puts at that many rows or more (pg_class.reltuples,
        as of its last ANALYZE) gets that estimate instead of a count(*) that reads it all; those
        tables are in the result's `estimated`."""
        out = RowCounts()
        with self.read() as conn:
            present = {
                (r[0], r[1])
                for r in conn.execute(
                    text(load("stores/tables_present").text),
                    {"schemas": sorted({s for s, _ in tables})},
                )
            }
            guess: dict[str, int] = {}
            if estimate_above is not None:
                guess = {str(r[0]): int(r[1]) for r in conn.execute(
                    text(load("stores/table_estimates").text), {"tables": [f"{s}.{t}" for s, t in tables]})}
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cur = raw.cursor()
            for schema, table in tables:
                label = table if schema == "public" else f"{schema}.{table}"
                if (schema, table) not in present:
                    out[label] = None
                    continue
                planned = guess.get(f"{schema}.{table}", -1)
                if estimate_above is not None and planned >= estimate_above:
                    out[label] = planned
                    out.estimated.add(label)
                    continue
                cur.execute(psql.SQL("SELECT count(*) FROM {}.{}").format(psql.Identifier(schema), psql.Identifier(table)))
                row = cur.fetchone()
                out[label] = int(row[0]) if row else 0
        return out


class RowCounts(dict[str, int | None]):
    """A store's row counts by table (None: absent or down); `estimated` names those that are the
    store's estimate rather than a count."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.estimated: set[str] = set()


def bulk_load(
    url: str,
    tables: Mapping[str, tuple[list[str], list[tuple[Any, ...]]]],
    *,
    before: str | None = None,
    after: str | None = None,
    identity_tables: tuple[str, ...] = (),
) -> None:
    """Write path for the demo and the benchmark only: one transaction running `before`, a COPY
    per table ("schema.table" or "table"), `after`, and the identity sequences moved past the
    loaded ids; then ANALYZE. Checks never write."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            if before:
                cur.execute(before.encode())
            for qualified, (columns, rows) in tables.items():
                ident = psql.Identifier(*qualified.split("."))
                cols = psql.SQL(", ").join(psql.Identifier(c) for c in columns)
                with cur.copy(psql.SQL("COPY {} ({}) FROM STDIN").format(ident, cols)) as copy:
                    for row in rows:
                        copy.write_row(row)
            if after:
                cur.execute(after.encode())
            for qualified in identity_tables:
                ident = psql.Identifier(*qualified.split("."))
                cur.execute(
                    psql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(max(id), 1)) FROM {}").format(
                        ident
                    ),
                    (qualified,),
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


FIXED_BLOCK = 2 << 20  # a binary COPY's record batch: small, so that a stream holds little at a time
COPY_BLOCK = 1 << 20  # COPY delivers a message a row: they are gathered into blocks of 1 MB


def _blocks(copy: Iterable[Any]) -> Iterator[bytes]:
    """COPY's data in blocks of about COPY_BLOCK bytes (libpq hands over one row at a time: a
    Python step a row for whoever reads on would cost more than the COPY itself)."""
    buf = bytearray()
    for chunk in copy:
        buf += chunk
        if len(buf) >= COPY_BLOCK:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)


class _ChunkReader(io.RawIOBase):
    """A readable stream over COPY's chunks (Arrow's CSV reader pulls blocks from it)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            if not self._left:
                self._left = memoryview(next(self._chunks, b""))
                if not self._left:
                    break
            k = min(len(view) - n, len(self._left))
            view[n : n + k] = self._left[:k]
            self._left = self._left[k:]
            n += k
        return n


def _to_psycopg_params(stmt: str) -> str:
    """`:name` (SQLAlchemy style) → `%(name)s` (psycopg style), leaving `::casts` alone."""
    stmt = stmt.replace("%", "%%")
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", stmt)
