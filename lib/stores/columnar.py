"""Arrow shapes shared by the adapters for the check run's snapshot.

The cross-store checks hold millions of keys; as Arrow arrays they take a few bytes each (a uuid is
16 bytes) instead of a Python object each. The PostgreSQL adapters produce these shapes straight from
COPY; the HTTP adapter and Firebase build them from the rows they page through with these helpers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

ZERO_UUID = bytes(16)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    s = str(value)
    return s or None


def strings(df: pd.DataFrame, columns: Sequence[str]) -> pa.Table:
    """The columns of a frame as an Arrow table of strings (empty and NaN both null)."""
    return pa.table({c: pa.array([_text(v) for v in df[c]] if c in df.columns else [None] * len(df), pa.string())
                     for c in columns})


RECORDS_BATCH = 10_000  # rows turned into Arrow at a time: a listing never holds a Python list a column


def records(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> pa.Table:
    """Dict rows (e.g. Firebase users) as an Arrow table of strings, built RECORDS_BATCH rows at a time."""
    schema = pa.schema([(c, pa.string()) for c in columns])
    batches: list[pa.RecordBatch] = []
    cols: dict[str, list[str | None]] = {c: [] for c in columns}
    n = 0
    for r in rows:
        for c in columns:
            cols[c].append(_text(r.get(c)))
        n += 1
        if n == RECORDS_BATCH:
            batches.append(pa.record_batch([pa.array(v, pa.string()) for v in cols.values()], schema=schema))
            cols, n = {c: [] for c in columns}, 0
    if n or not batches:
        batches.append(pa.record_batch([pa.array(v, pa.string()) for v in cols.values()], schema=schema))
    return pa.Table.from_batches(batches, schema)


def uuids(values: Iterable[Any]) -> pa.FixedSizeBinaryArray:
    """Text uuids as 16-byte values (the bytes PostgreSQL's binary COPY gives)."""
    out = [uuid.UUID(str(v)).bytes for v in values]
    return pa.array(out, pa.binary(16))


def md5s(values: Iterable[Any]) -> pa.FixedSizeBinaryArray:
    """md5 of each text, as PostgreSQL's `md5(text)::uuid` (a missing text becomes the zero uuid)."""
    out = [hashlib.md5(t.encode()).digest() if (t := _text(v)) is not None else ZERO_UUID for v in values]
    return pa.array(out, pa.binary(16))


def uuid_text(values: Iterable[bytes]) -> list[str]:
    return [str(uuid.UUID(bytes=b)) for b in values]
