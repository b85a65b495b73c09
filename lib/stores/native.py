"""Arrow straight from PostgreSQL through ADBC (issue 16): the reconciliation's key reads.

`PgStore.arrow_stream` reads COPY's CSV text through psycopg, a Python call per block and Arrow's
CSV parser after it; at 1M users the two key columns of core and Supabase took ~2.1 s that way (more
than the whole COPY floor), most of it the client's CPU. The ADBC PostgreSQL driver (Apache Arrow's
own, libpq underneath) reads COPY's binary format in C++ straight into Arrow record batches: the
same two reads took 0.9-1.1 s here with 0.6 s of CPU. It serves text columns only (cast in the SQL:
`id::text`), and gives them the shape arrow_stream gives: Arrow strings, NULL and '' both null, so
that a part read either way compares the same.

The read is what PgStore.read promises: one READ ONLY transaction with the check run's statement
timeout, the application name `healbridge-ops`, the connect timeout; errors become StoreUnavailable
with a message free of the URL (describe_db_error). ADBC binds no named parameters, so a native read
takes none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import make_url

from lib.errors import StoreUnavailable
from lib.stores.dberrors import describe_db_error


def libpq_uri(url: str, *, application_name: str, connect_timeout_s: int) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as the libpq URI ADBC takes, with the application
    name and the connect timeout as query options (an option the URL already has wins)."""
    u = make_url(url).set(drivername="postgresql")
    query: dict[str, Any] = {"application_name": application_name, "connect_timeout": str(int(connect_timeout_s))}
    query.update(u.query)
    base = u.set(query={}).render_as_string(hide_password=False)
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query, doseq=True)}"


def _text_columns(schema: pa.Schema, store: str) -> pa.Schema:
    for f in schema:
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_null(f.type)
                or pa.types.is_string_view(f.type)):
            raise ValueError(f"{store}: a native read takes text columns only; {f.name!r} is {f.type} (cast it in the SQL)")
    return pa.schema([(f.name, pa.string()) for f in schema])


_NULL = pa.scalar(None, pa.string())


def _as_strings(reader: pa.RecordBatchReader, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        cols = []
        for col in batch.columns:
            if col.type != pa.string():
                col = col.cast(pa.string())
            cols.append(pc.if_else(pc.equal(col, ""), _NULL, col))  # '' is null, as arrow_stream's CSV
        yield pa.RecordBatch.from_arrays(cols, schema=schema)


@contextmanager
def stream(url: str, statement: str, *, store: str, timeout_ms: int, timeout_setting: str,
           application_name: str, connect_timeout_s: int) -> Iterator[pa.RecordBatchReader]:
    """`statement` (a SELECT of text columns, no parameters) in a READ ONLY transaction with a
    statement timeout of `timeout_ms`, as a stream of Arrow record batches of strings. Read it inside
    the `with`."""
    errors: tuple[type[BaseException], ...] = (adbc.Error, adbc_driver_manager.Error, OSError)
    try:
        conn = adbc.connect(libpq_uri(url, application_name=application_name, connect_timeout_s=connect_timeout_s),
                            autocommit=True)
    except errors as exc:
        raise StoreUnavailable(describe_db_error(store, exc)) from exc
    try:
        cur = conn.cursor()
        try:
            cur.execute("BEGIN READ ONLY")
            cur.execute(f"SELECT set_config('statement_timeout', '{int(timeout_ms)}', true)")  # an int of ours
            cur.fetchall()
            cur.execute(statement)
            raw = cur.fetch_record_batch()
            schema = _text_columns(raw.schema, store)
            try:
                yield pa.RecordBatchReader.from_batches(schema, _as_strings(raw, schema))
            finally:
                raw.close()
        except errors as exc:  # OSError: what the stream raises while it is read ("[libpq] …")
            raise StoreUnavailable(describe_db_error(store, exc, (timeout_setting, timeout_ms))) from exc
        finally:
            try:
                cur.execute("ROLLBACK")
            except errors:
                pass  # the connection is closed next: the server ends the transaction
            cur.close()
    finally:
        conn.close()
