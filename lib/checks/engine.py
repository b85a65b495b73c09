"""The check run's out-of-core engine: DuckDB over the snapshot's Arrow streams (issue 16).

Each snapshot part (core users, document ids, a Firebase listing…) is streamed into a DuckDB table
of its own name, record batch by record batch, as it arrives from COPY or from a listing; nothing
holds a whole key column in Python or Arrow. The cross-store set operations are SQL files of
sql/engine/ run on those tables. DuckDB works within `memory_limit` (CHECK_MEMORY_MB) and spills
what does not fit (tables, hash tables, sorts) to a folder of its own under the data folder, so the
run's memory stays flat as the stores grow. Extensions are never installed or loaded: the data
comes in as Arrow, never through DuckDB's own scanners.

A part is a table (pa.Table, e.g. the Supabase HTTP adapter's), a RecordBatchReader, or a `Stream`
(a function opening one inside the store's transaction, e.g. PgStore.arrow_stream). `load` takes an
optional batch transform: lib.checks.sync adds the row order and the normalised columns there.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import pyarrow as pa

from lib.sqlfiles import load as load_sql


def _use_jemalloc() -> None:
    """Arrow's allocator for this process: jemalloc, which hands the batches a run has finished with
    back to the system sooner than mimalloc (pyarrow's default here): at 1M the check run's peak
    went from 615-626 MB to 545-559 MB, its time unchanged. An explicit ARROW_DEFAULT_MEMORY_POOL
    wins; a pyarrow built without jemalloc keeps its default."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except (NotImplementedError, pa.ArrowNotImplementedError):
        pass


_use_jemalloc()

_NAME = re.compile(r"[a-z][a-z_]*")  # engine table names: the parts' own
SPILL_FOLDER = "check-spill"  # under HEALBRIDGE_DATA_DIR: one folder a run, removed when it ends
Stream: TypeAlias = Callable[[], AbstractContextManager[pa.RecordBatchReader]]
Source: TypeAlias = "pa.Table | pa.RecordBatchReader | Stream"
Transform: TypeAlias = Callable[[pa.RecordBatch, int], pa.RecordBatch]  # (batch, rows before it) → batch


class Engine:
    """One DuckDB database (in memory, spilling to `spill_root`/<run folder>) for one run."""

    def __init__(self, memory_mb: int, spill_root: Path | None = None, *, threads: int | None = None) -> None:
        self.spill: Path | None = None
        self.memory_mb = int(memory_mb)
        config: dict[str, Any] = {
            "memory_limit": f"{int(memory_mb)}MB",
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "preserve_insertion_order": False,  # order is a column (rn) where it matters
        }
        self._held: Any = None  # the run folder's lock file, held while the engine lives
        if spill_root is not None:
            spill_root.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(spill_root)
            self.spill = Path(tempfile.mkdtemp(prefix="run-", dir=spill_root))
            self._held = _hold(self.spill)
            config["temp_directory"] = str(self.spill)
        else:
            config["temp_directory"] = ""  # small frames (the patient page): never spill
        if threads:
            config["threads"] = int(threads)
        try:
            self.con = duckdb.connect(":memory:", config=config)
            self.con.execute("SET enable_external_access = false")  # no file or network reads from SQL
        except BaseException:
            self._remove_spill()
            raise
        self._lock = threading.Lock()
        self.rows: dict[str, int] = {}
        self.pooled = False  # a small engine of the pool (small_engine): released, not closed

    # ------------------------------------------------------------------ tables
    def load(self, name: str, source: Source, transform: Transform | None = None) -> int:
        """Stream `source` into table `name` (replacing it); its number of rows. Safe from threads."""
        if isinstance(source, pa.Table):
            return self._ingest(name, source.to_reader(max_chunksize=1 << 16), transform)
        if isinstance(source, pa.RecordBatchReader):
            return self._ingest(name, source, transform)
        with source() as reader:
            return self._ingest(name, reader, transform)

    def _ingest(self, name: str, reader: pa.RecordBatchReader, transform: Transform | None) -> int:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not an engine table name: {name!r}")
        counted = [0]
        reader = _counted(reader, transform, counted)
        cur = self.con.cursor()  # a connection of its own: parts load in parallel
        try:
            cur.execute(f"DROP TABLE IF EXISTS {name}")  # a checked identifier of ours (_NAME)
            cur.from_arrow(reader).create(name)
        finally:
            cur.close()
        with self._lock:
            self.rows[name] = counted[0]
        return counted[0]

    def has(self, name: str) -> bool:
        return name in self.rows

    def drop(self, name: str) -> None:
        with self._lock:
            known = self.rows.pop(name, None) is not None
        if known:
            cur = self.con.cursor()  # a cursor a thread: parts drop tables from their own threads
            try:
                cur.execute(f"DROP TABLE IF EXISTS {name}")  # a checked identifier of ours (_NAME)
            finally:
                cur.close()

    # ------------------------------------------------------------------ queries (sql/engine/)
    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run one file of sql/engine/ that creates or replaces a helper table."""
        cur = self.con.cursor()
        try:
            cur.execute(load_sql(sql).text, params or {})
        finally:
            cur.close()

    def arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """The result of one file of sql/engine/ as an Arrow table (for small results only)."""
        cur = self.con.cursor()
        try:
            result = cur.sql(load_sql(sql).text, params=params or None).to_arrow_table()  # no DB-API copy
        finally:
            cur.close()
        return result

    def arrow_over(self, sql: str, streams: dict[str, pa.RecordBatchReader],
                   transform: Transform | None = None) -> pa.Table:
        """The result of one file of sql/engine/ over record-batch streams read as they arrive, no
        table in between (the reconciliation: each stream is read once, by the query itself, both at
        once). `streams`: the query's table name → its stream, each batch through `transform`."""
        cur = self.con.cursor()
        try:
            for name, reader in streams.items():
                if not _NAME.fullmatch(name):
                    raise ValueError(f"not an engine table name: {name!r}")
                cur.register(name, _counted(reader, transform, [0]))  # the rows are not kept
            result = cur.sql(load_sql(sql).text).to_arrow_table()
        finally:
            cur.close()
        return result

    def first(self, sql: str, limit: int, params: dict[str, Any] | None = None) -> tuple[int, list[Any]]:
        """A key query of sql/engine/ whose columns are (k, total): its exact count (the window
        count(*) over every key) and its first `limit` keys in order."""
        cur = self.con.cursor()
        try:
            rows = cur.execute(load_sql(sql).text, {**(params or {}), "limit": int(limit)}).fetchall()
            if not rows and limit <= 0:  # LIMIT 0 gives no row to carry the count
                rows = cur.execute(load_sql(sql).text, {**(params or {}), "limit": 1}).fetchall()
                return (int(rows[0][1]) if rows else 0), []
        finally:
            cur.close()
        return (int(rows[0][1]) if rows else 0), [r[0] for r in rows]

    def reset(self) -> None:
        """Drop every table (the parts' and the helper tables sql/engine/ creates): a new engine."""
        cur = self.con.cursor()
        try:
            names = [r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
            for name in names:
                if not _NAME.fullmatch(name):  # only ever our own names; anything else: not reusable
                    raise ValueError(f"not an engine table name: {name!r}")
                cur.execute(f"DROP TABLE IF EXISTS {name}")  # a checked identifier (_NAME)
        finally:
            cur.close()
        with self._lock:
            self.rows.clear()

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._remove_spill()

    def _remove_spill(self) -> None:
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)
        if self._held is not None:
            self._held.close()  # releases the lock
            self._held = None

    @contextmanager
    def closed_on_error(self) -> Iterator[Engine]:
        """This engine, closed (tables, spill folder) if the block raises; left open otherwise."""
        try:
            yield self
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _counted(reader: pa.RecordBatchReader, transform: Transform | None, counted: list[int]) -> pa.RecordBatchReader:
    """`reader`'s batches through `transform` (given the rows before each), counting the rows."""
    it = iter(reader)
    first = next(it, None)
    if first is None:
        empty = pa.RecordBatch.from_pylist([], schema=reader.schema)
        head = transform(empty, 0) if transform is not None else empty
        return pa.RecordBatchReader.from_batches(head.schema, iter([head]))
    head = transform(first, 0) if transform is not None else first

    def rest() -> Iterator[pa.RecordBatch]:
        yield head
        counted[0] = first.num_rows
        for b in it:
            yield transform(b, counted[0]) if transform is not None else b
            counted[0] += b.num_rows

    return pa.RecordBatchReader.from_batches(head.schema, rest())


_LOCK_FILE = ".in-use"
ABANDONED_UNLOCKED_S = 3600.0  # a run folder with no lock file yet is left alone this long


def _hold(folder: Path) -> Any:
    """An exclusive lock on `folder`'s lock file, held until the returned file is closed (the
    kernel lets go of it when the process dies)."""
    f = open(folder / _LOCK_FILE, "a+")  # held for the engine's life
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return f


def _remove_abandoned(root: Path) -> None:
    """Remove the run folders of engines that are gone (killed, out of memory) without closing:
    their spilled tables hold identities (emails, phones). A folder whose lock is held belongs to a
    live run, in this process or another, and is left alone."""
    for folder in root.glob("run-*"):
        try:
            f = open(folder / _LOCK_FILE)
        except FileNotFoundError:  # a folder a run is making, or one from before the lock files
            try:
                if time.time() - folder.stat().st_mtime > ABANDONED_UNLOCKED_S:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass
            continue
        except OSError:
            continue
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue  # a live run's
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            f.close()


def spill_root(data_dir: Path) -> Path:
    return Path(data_dir) / SPILL_FOLDER


# ---------------------------------------------------------------------- small engines, reused
# The patient page's findings run the checks' own engine SQL over a few rows. Opening a DuckDB
# database for them cost ~32 ms, twice a lookup (of ~230 ms at 1M), so small engines (in memory,
# one thread, never spilling) are kept in a pool of the process and emptied between uses.
SMALL_POOL_MAX = 4
_small_pool: list[Engine] = []
_small_lock = threading.Lock()


def small_engine(memory_mb: int) -> Engine:
    """An empty in-memory engine of one thread, from the pool when one is free; give it back with
    `release`, which empties it."""
    with _small_lock:
        for i, engine in enumerate(_small_pool):
            if engine.memory_mb == int(memory_mb):
                return _small_pool.pop(i)
    engine = Engine(memory_mb, None, threads=1)
    engine.pooled = True
    return engine


def release(engine: Engine) -> None:
    """A small engine back to the pool, emptied, if the pool has room; any other engine closed."""
    if engine.pooled:
        try:
            engine.reset()
        except (duckdb.Error, ValueError):
            engine.close()
            return
        with _small_lock:
            if len(_small_pool) < SMALL_POOL_MAX:
                _small_pool.append(engine)
                return
    engine.close()
