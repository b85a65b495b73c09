"""The cross-store checks, set-based and out of core: each store's keys are read once per run
(Firebase Auth listed once, 1,000 a page; Firestore streamed; PostgreSQL by COPY) and streamed into
the run's engine (lib.checks.engine: DuckDB with a memory limit and a spill folder), one table a
part; each check is one SQL file of sql/engine/ over those tables. Never a query per patient. It
stays one module: the part loaders, the batch layout they add (row order `rn`, normalised `email_n`
/ `phone_n`) and the checks that read that layout belong together.

Memory model (issue 16): no key column is held whole in Python or Arrow. PostgreSQL parts arrive as
record batches (COPY in 1 MB blocks of text, 2 MB of binary) and go straight into DuckDB, which keeps within CHECK_MEMORY_MB
and spills the rest; the Firebase listings (the emulator holds at most 100,000 patients in the
bench) are Arrow tables of a few bytes a value, kept for reuse. The two checks whose key set is the
documents table and whose other side is small (Supabase documents and connections whose patient is
no Firebase user) are pushed down to the database with the Firebase uids as an array parameter; so
are the two access checks, with the uids of the disabled Firebase Auth users (the listing's
`disabled` column).
Results keep the exact count (a window count over every key) and the first KEYS_LIMIT keys in order.
The patient page runs the same SQL on its few rows (an engine of its own, in memory).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib import normalize
from lib.checks.engine import Engine, Source, release, small_engine, spill_root
from lib.errors import StoreUnavailable, safe_message
from lib.stores import Stores, columnar

# store order used in drift keys and pairs
DRIFT_STORES = ("firebase_auth", "firestore", "core", "supabase")
KEYS_LIMIT = 50_000  # keys kept per finding (the count is always exact)
SMALL_ENGINE_MB = 64  # the patient page's engine: a few rows, in memory


@dataclass(frozen=True)
class Found:
    """A finding computed elsewhere (e.g. in the database): the exact count and the first keys."""

    count: int
    keys: list[str]


@dataclass(frozen=True)
class Loaded:
    """A part streamed into the run's engine: its table (named as the part) holds `rows` rows."""

    rows: int


class _Findings(dict[str, "Found"]):
    """Findings a part computed while loading (check id → Found)."""


Part: TypeAlias = "Loaded | Found | _Findings"
Loader: TypeAlias = Callable[[Stores, dict[str, Any]], "Source | Found | _Findings"]

# the identity parts: their columns (the patient page builds them from rows), all read as strings
IDENTITY_COLUMNS: dict[str, list[str]] = {
    "core_users": ["id", "firebase_uid", "email", "phone", "role", "is_patient"],
    "sb_users": ["id", "firebase_uid", "postgres_id", "email", "phone"],
    "fb_users": ["uid", "email", "phone", "role", "disabled"],
    "fs_profiles": ["uid", "email", "phone"],
}


# ---------------------------------------------------------------------- the batch layout
def identity_batch(region: str, batch: pa.RecordBatch, before: int) -> pa.RecordBatch:
    """An identity part's batch as the engine holds it: its columns, `rn` (the row's place in the
    part's order: oldest first), and email and phone normalised as lib.normalize does (`email_n`,
    `phone_n`; null where empty or missing)."""
    cols = {name: batch.column(name) for name in batch.schema.names}
    n = batch.num_rows
    for fld in ("email", "phone"):
        if fld not in cols:
            cols[fld] = pa.nulls(n, pa.string())
    cols["rn"] = row_numbers(before, n)
    cols["email_n"] = norm_email(cols["email"])
    cols["phone_n"] = norm_phone(cols["phone"], region)
    return pa.RecordBatch.from_pydict(cols)


def row_numbers(before: int, n: int) -> pa.Array:
    """`rn` of a batch of n rows after `before` rows: from numpy, not a Python range (1M row numbers
    in ~10 ms instead of ~170 ms, holding the GIL against the CSV reader)."""
    return pa.array(np.arange(before, before + n, dtype=np.int64))


def ordered_batch(batch: pa.RecordBatch, before: int) -> pa.RecordBatch:
    """A batch with `rn`, its rows' place in the part's order."""
    return batch.append_column("rn", row_numbers(before, batch.num_rows))


# ---------------------------------------------------------------------- the parts
def _core_users(s: Stores, _: dict[str, Any]) -> Source:
    assert s.core is not None
    return partial(s.core.arrow_stream, "snapshot/core_users")


def _core_prescriptions(s: Stores, _: dict[str, Any]) -> Source:
    assert s.core is not None
    return partial(s.core.fixed_stream, "snapshot/core_prescription_urls", {"id": "uuid", "url_md5": "uuid"})


def _sb_users(s: Stores, _: dict[str, Any]) -> Source:
    assert s.supabase is not None
    if hasattr(s.supabase, "arrow_stream"):  # SUPABASE_DB_URL: by COPY
        return partial(s.supabase.arrow_stream, "snapshot/supabase_live_users")
    return s.supabase.live_users()


def _sb_prescriptions(s: Stores, _: dict[str, Any]) -> Source:
    assert s.supabase is not None
    if hasattr(s.supabase, "fixed_stream"):
        return partial(s.supabase.fixed_stream, "snapshot/supabase_prescription_urls", {"url_md5": "uuid"})
    return s.supabase.prescription_url_md5s()


def _firebase_uids(deps: dict[str, Any]) -> list[str]:
    return [str(u) for u in deps["_engine"].arrow("engine/firebase_uids").column("uid").to_pylist()]


def _sb_conn_orphans(s: Stores, deps: dict[str, Any]) -> Found:
    assert s.supabase is not None
    return Found(*s.supabase.connections_unknown_patient(_firebase_uids(deps), int(deps.get("keys_limit", KEYS_LIMIT))))


def _doc_findings(s: Stores, deps: dict[str, Any]) -> _Findings:
    """Both document checks at once: the two id sets (16 bytes an id) are streamed into the engine,
    compared, and dropped before the identity parts are read."""
    limit = int(deps.get("keys_limit", KEYS_LIMIT))
    engine: Engine = deps["_engine"]
    assert s.core is not None and s.supabase is not None
    sb: Source = (partial(s.supabase.fixed_stream, "snapshot/supabase_document_ids", {"id": "uuid", "processed": "bool"})
                  if hasattr(s.supabase, "fixed_stream") else s.supabase.document_ids())
    try:  # a side that loaded is dropped even when the other failed
        with ThreadPoolExecutor(max_workers=2) as pool:
            loads = [pool.submit(engine.load, "core_document_ids",
                                 partial(s.core.fixed_stream, "snapshot/core_document_ids", {"id": "uuid"})),
                     pool.submit(engine.load, "sb_document_ids", sb)]
            for fut in loads:
                fut.result()
        return _Findings({
            "sync.document_missing_in_core": _uuid_found(engine, "engine/document_missing_in_core", limit),
            "sync.document_missing_in_supabase": _uuid_found(engine, "engine/document_missing_in_supabase", limit),
        })
    finally:
        engine.drop("core_document_ids")
        engine.drop("sb_document_ids")


def _sb_doc_orphans(s: Stores, deps: dict[str, Any]) -> Found:
    assert s.supabase is not None
    return Found(*s.supabase.documents_unknown_patient(_firebase_uids(deps), int(deps.get("keys_limit", KEYS_LIMIT))))


def _disabled_uids(deps: dict[str, Any]) -> list[str]:
    return [str(u) for u in deps["_engine"].arrow("engine/firebase_disabled_uids").column("uid").to_pylist()]


def _sb_disabled_live(s: Stores, deps: dict[str, Any]) -> Found:
    assert s.supabase is not None
    return Found(*s.supabase.live_users_of(_disabled_uids(deps), int(deps.get("keys_limit", KEYS_LIMIT))))


def _sb_disabled_connections(s: Stores, deps: dict[str, Any]) -> Found:
    assert s.supabase is not None
    return Found(*s.supabase.active_connections_of(_disabled_uids(deps), int(deps.get("keys_limit", KEYS_LIMIT))))


FB_USER_COLUMNS = tuple(IDENTITY_COLUMNS["fb_users"])  # the Auth listing's columns (incremental keeps the same)


def _fb_users(s: Stores, _: dict[str, Any]) -> Source:
    assert s.firebase is not None
    return s.firebase.users_table(FB_USER_COLUMNS)


def _fs_profiles(s: Stores, _: dict[str, Any]) -> Source:
    assert s.firebase is not None
    return s.firebase.profiles_table(["email", "phone"])


@dataclass(frozen=True)
class PartSpec:
    store: str  # the store part it reads: core | supabase | firebase_auth | firestore
    loader: Loader
    after: tuple[str, ...] = ()  # parts it needs first
    wait: tuple[str, ...] = ()  # parts it starts after (when they are wanted), whatever their outcome
    also: tuple[str, ...] = ()  # other store parts it reads
    batches: str = ""  # how its batches enter the engine: "identity" (identity_batch), "ordered", or as read


PARTS: dict[str, PartSpec] = {
    "doc_findings": PartSpec("core", _doc_findings, also=("supabase",)),
    "core_users": PartSpec("core", _core_users, wait=("doc_findings",), batches="identity"),
    "core_prescriptions": PartSpec("core", _core_prescriptions),
    "sb_users": PartSpec("supabase", _sb_users, wait=("doc_findings",), batches="identity"),
    "sb_prescriptions": PartSpec("supabase", _sb_prescriptions),
    "sb_conn_orphans": PartSpec("supabase", _sb_conn_orphans, after=("fb_users",)),
    "sb_doc_orphans": PartSpec("supabase", _sb_doc_orphans, after=("fb_users",)),
    "sb_disabled_live": PartSpec("supabase", _sb_disabled_live, after=("fb_users",)),
    "sb_disabled_connections": PartSpec("supabase", _sb_disabled_connections, after=("fb_users",)),
    "fb_users": PartSpec("firebase_auth", _fb_users, batches="identity"),
    "fs_profiles": PartSpec("firestore", _fs_profiles, batches="identity"),
}


FIREBASE_PARTS = ("firebase_auth", "firestore")
_listed: dict[tuple[str, ...], tuple[float, Any]] = {}  # Firebase parts last listed in this process
_listed_lock = threading.Lock()


_forgotten = [0]  # how many times the listings were forgotten in this process


def forget_firebase_listings() -> None:
    """Drop the reusable Firebase listings (the data under them was replaced, e.g. the demo refilled)."""
    with _listed_lock:
        _listed.clear()
        _forgotten[0] += 1


def listings_epoch() -> int:
    """Changes each time forget_firebase_listings() runs: a process that runs the checks for this one
    (lib.checks.worker) forgets its own listings when it sees a new epoch."""
    return _forgotten[0]


def _listing_key(stores: Stores, part: str) -> tuple[str, ...]:
    s = stores.settings
    return (part, str(s.firebase_project_id), str(s.firebase_auth_emulator_host), str(s.firestore_emulator_host),
            str(s.google_application_credentials), str(stores.demo))


def run_engine(stores: Stores) -> Engine:
    """An engine for one run: CHECK_MEMORY_MB, spilling under the data folder."""
    s = stores.settings
    return Engine(s.check_memory_mb, spill_root(s.healbridge_data_dir))


def _batches(spec: PartSpec, region: str) -> Callable[[pa.RecordBatch, int], pa.RecordBatch] | None:
    if spec.batches == "identity":
        return partial(identity_batch, region)
    return ordered_batch if spec.batches == "ordered" else None


@dataclass
class Snapshot:
    """Each store's keys, read once per run (in parallel; a part that needs another waits for it)
    into the run's engine (`frames["_engine"]`); `frames[part]` says what each part holds."""

    frames: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    reused: dict[str, float] = field(default_factory=dict)  # Firebase part → age (s) of the listing reused

    @property
    def engine(self) -> Engine | None:
        eng = self.frames.get("_engine")
        return eng if isinstance(eng, Engine) else None

    def drop(self, part: str) -> None:
        """Let go of a part no check left needs (its engine table too)."""
        self.frames.pop(part, None)
        if self.engine is not None:
            self.engine.drop(part)

    def close(self) -> None:
        """Close the run's engine (its spill folder is removed)."""
        close_engine(self.frames)

    @classmethod
    def load(cls, stores: Stores, parts: Iterable[str], down: dict[str, str], secrets: list[str],
             *, reuse_firebase_s: float = 0.0, keys_limit: int = KEYS_LIMIT, engine: Engine | None = None) -> Snapshot:
        """`reuse_firebase_s` > 0: a Firebase listing this process made at most that long ago is
        reused instead of listing again (Auth lists 1,000 users a page: minutes at millions).
        `engine`: the engine to load into (default: a new one, run_engine; close it with close())."""
        snap = cls()
        engine = engine or run_engine(stores)
        snap.frames["_engine"] = engine
        snap.frames["_keys_limit"] = keys_limit
        region = stores.settings.phone_default_region
        wanted = set(parts)
        for p in list(wanted):
            wanted.update(PARTS[p].after)

        def one(part: str) -> tuple[Part | None, str | None, float]:
            spec = PARTS[part]
            for store in (spec.store, *spec.also):
                if store in down:
                    return None, down[store], 0.0
            key = _listing_key(stores, part)
            t0 = time.perf_counter()
            try:
                got: Any = None
                if spec.store in FIREBASE_PARTS and reuse_firebase_s > 0:
                    with _listed_lock:
                        hit = _listed.get(key)
                    if hit is not None and time.monotonic() - hit[0] <= reuse_firebase_s:
                        snap.reused[part] = time.monotonic() - hit[0]
                        got = hit[1]
                if got is None:
                    got = spec.loader(stores, {"keys_limit": keys_limit, "_engine": engine,
                                               **{d: snap.frames[d] for d in spec.after}})
                    if spec.store in FIREBASE_PARTS:
                        with _listed_lock:
                            _listed[key] = (time.monotonic(), got)
                if not isinstance(got, Found | _Findings):
                    got = Loaded(engine.load(part, got, _batches(spec, region)))
                pa.default_memory_pool().release_unused()
                return got, None, (0.0 if part in snap.reused else time.perf_counter() - t0)
            except StoreUnavailable as exc:
                return None, str(exc), time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 - a broken part must not sink the run
                return None, f"{spec.store}: {safe_message(exc, secrets)}", time.perf_counter() - t0

        def gated(p: str) -> tuple[str, ...]:
            return PARTS[p].after + tuple(w for w in PARTS[p].wait if w in wanted)

        waiting = {p for p in wanted if gated(p)}
        with ThreadPoolExecutor(max_workers=max(1, min(6, len(wanted)))) as pool:
            futs: dict[Future[tuple[Part | None, str | None, float]], str] = {
                pool.submit(one, p): p for p in sorted(wanted - waiting)
            }
            while futs:
                done, _ = wait(futs, return_when=FIRST_COMPLETED)
                for fut in done:
                    part = futs.pop(fut)
                    frame, err, secs = fut.result()
                    snap.seconds[part] = secs
                    if frame is not None:
                        snap.frames[part] = frame
                    else:
                        snap.errors[part] = err or f"{part}: not available"
                for part in sorted(waiting):
                    if not all(d in snap.frames or d in snap.errors for d in gated(part)):
                        continue
                    waiting.discard(part)
                    failed = [snap.errors[d] for d in PARTS[part].after if d in snap.errors]
                    if failed:
                        snap.errors[part] = failed[0]
                    else:
                        futs[pool.submit(one, part)] = part
        return snap


# ---------------------------------------------------------------------- results
Keys: TypeAlias = "pa.Array | pa.ChunkedArray | list[str] | Found"


def finish(raw: Keys, limit: int = KEYS_LIMIT) -> Found:
    """A check's keys as (exact count, first `limit` keys in order, as text)."""
    if isinstance(raw, Found):
        return Found(raw.count, raw.keys[:limit])
    if isinstance(raw, list):
        return Found(len(raw), sorted(raw)[:limit])
    arr = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    first = arr.take(pc.sort_indices(arr)).slice(0, limit) if len(arr) else arr
    if pa.types.is_fixed_size_binary(arr.type):
        return Found(len(arr), columnar.uuid_text(first.to_pylist()))
    return Found(len(arr), [str(v) for v in first.to_pylist()])


def _limit(f: dict[str, Any]) -> int:
    return int(f.get("_keys_limit", KEYS_LIMIT))


def _uuid_found(engine: Engine, sql: str, limit: int) -> Found:
    count, keys = engine.first(sql, limit)
    return Found(count, columnar.uuid_text(keys))


def _found(f: dict[str, Any], region: str, sql: str) -> Found:
    count, keys = _engine_of(f, region).first(sql, _limit(f))
    return Found(count, [str(k) for k in keys])


# ---------------------------------------------------------------------- normalisation, vectorised
_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"


def _normalised(a: pa.Array | pa.ChunkedArray, fast: pa.Array, fast_values: pa.Array,
                slow: Callable[[str], str | None]) -> pa.Array:
    """`fast_values` where `fast` holds, lib.normalize's own function (in Python) elsewhere; '' → null."""
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    mask = pc.fill_null(pc.and_(pc.invert(fast), pc.is_valid(a)), False)
    out = fast_values.combine_chunks() if isinstance(fast_values, pa.ChunkedArray) else fast_values
    if pc.any(mask).as_py():
        repl = pa.array([slow(v) for v in a.filter(mask).to_pylist()], pa.string())
        out = pc.replace_with_mask(out, mask, repl)
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


def norm_email(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    """normalize.email for every value: printable ASCII is trimmed and lower-cased in Arrow (what
    str.strip().casefold() does to it); anything else goes through normalize.email itself."""
    a = a.cast(pa.string())
    fast = pc.match_substring_regex(a, _PRINTABLE_ASCII)
    return _normalised(a, fast, pc.ascii_lower(pc.utf8_trim(a, " ")), normalize.email)


def norm_phone(a: pa.Array | pa.ChunkedArray, region: str) -> pa.Array:
    """normalize.phone for every value: a value already in E.164 is itself (as normalize.phone
    says); only the others are parsed with phonenumbers."""
    a = a.cast(pa.string())
    fast = pc.match_substring_regex(a, r"^\+[1-9][0-9]{6,14}$")
    return _normalised(a, fast, a, lambda v: normalize.phone(v, region))


# ---------------------------------------------------------------------- the checks
def _table(x: Any, columns: list[str]) -> pa.Table:
    """A part given as a pandas frame (the patient page builds small ones) as an Arrow table."""
    return columnar.strings(x, columns) if isinstance(x, pd.DataFrame) else x


def close_engine(f: dict[str, Any]) -> None:
    """Close the engine `f` holds (the run's, or the one _engine_of made for its frames), if any."""
    eng = f.pop("_engine", None)
    if isinstance(eng, Engine):
        release(eng)  # a small engine goes back to the pool; the run's is closed


def _engine_of(f: dict[str, Any], region: str) -> Engine:
    """The run's engine; for frames of Arrow tables (the patient page's few rows), an engine of
    their own in memory, holding them as the run's engine holds its parts."""
    engine = f.get("_engine")
    if isinstance(engine, Engine):
        return engine
    engine = small_engine(SMALL_ENGINE_MB)
    for part, cols in IDENTITY_COLUMNS.items():
        if part in f:
            engine.load(part, _table(f[part], cols), partial(identity_batch, region))
    f["_engine"] = engine
    return engine


def firebase_user_missing_in_core(f: dict[str, Any], region: str) -> Keys:
    return _found(f, region, "engine/firebase_user_missing_in_core")


def core_user_missing_in_firebase(f: dict[str, Any], region: str) -> Keys:
    return _found(f, region, "engine/core_user_missing_in_firebase")


def patient_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    return _found(f, region, "engine/patient_missing_in_supabase")


def profile_missing(f: dict[str, Any], region: str) -> Keys:
    return _found(f, region, "engine/profile_missing")


def supabase_user_unknown(f: dict[str, Any], region: str) -> Keys:
    return _found(f, region, "engine/supabase_user_unknown")


def _drift(f: dict[str, Any], region: str, uids: Iterable[str] | None) -> Engine:
    """Table drift of the engine: patients' (or `uids`') differing normalised values, store pair by pair."""
    engine = _engine_of(f, region)
    if uids is None:
        engine.execute("engine/drift_wanted_patients")
    else:
        engine.load("drift_uids", pa.table({"uid": pa.array(sorted(set(uids)), pa.string())}))
        engine.execute("engine/drift_wanted_uids")
    engine.execute("engine/drift_create")
    parts = drift_passes(engine)
    for part in range(parts):  # a slice of the uids at a time: the aggregates stay within the memory
        engine.execute("engine/drift_firsts", {"parts": parts, "part": part})
        engine.execute("engine/drift")
    return engine


DRIFT_ROWS_PER_MB = 16_000  # identity rows a pass of the drift may aggregate per MB of CHECK_MEMORY_MB


def drift_passes(engine: Engine) -> int:
    """How many slices of the uids the drift is built in: its four identity tables' rows over what
    the engine's memory holds in one pass (at 128 MB: ≈ 2M rows; 3M patients failed in one pass)."""
    rows = sum(engine.rows.get(t, 0) for t in ("fb_users", "fs_profiles", "core_users", "sb_users"))
    return max(1, -(-rows // max(1, engine.memory_mb * DRIFT_ROWS_PER_MB)))


def drift_rows(f: dict[str, Any], region: str, uids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """One row per (uid, field, pair of stores) whose non-empty values differ after normalisation:
    each store's first row per uid (for Supabase the oldest live user), kept if wanted (patients,
    or `uids`). For the patient page's few uids: every row comes back."""
    t = _drift(f, region, uids).arrow("engine/drift_rows")
    return [{"uid": r["uid"], "field": r["field"], "stores": [r["store_a"], r["store_b"]],
             "values": [r["value_a"], r["value_b"]]} for r in t.to_pylist()]


def drift_key(row: dict[str, Any]) -> str:
    (a, b), (va, vb) = row["stores"], row["values"]
    return f"{row['uid']}|{row['field']}|{a}={va}|{b}={vb}"


def field_drift(f: dict[str, Any], region: str) -> Keys:
    """drift_key of every drift row of the patients (the key is built in the engine, as drift_key)."""
    _drift(f, region, None)
    return _found(f, region, "engine/drift_keys")


def document_missing_in_core(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["doc_findings"]["sync.document_missing_in_core"]
    return found


def document_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["doc_findings"]["sync.document_missing_in_supabase"]
    return found


def prescription_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    return _uuid_found(_engine_of(f, region), "engine/prescription_missing_in_supabase", _limit(f))


def supabase_documents_patient(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["sb_doc_orphans"]
    return found


def connections_patient(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["sb_conn_orphans"]
    return found


def disabled_live_in_supabase(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["sb_disabled_live"]
    return found


def active_for_disabled_patient(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["sb_disabled_connections"]
    return found


def core_users_phone(f: dict[str, Any], region: str) -> Keys:
    return _found(f, region, "engine/core_users_phone")


RECONCILE_KINDS = ("missing_in_supabase", "missing_in_core", "postgres_id_mismatch")


def reconcile_identities(stores: Stores) -> dict[str, list[str]]:
    """Core ↔ Supabase identity reconciliation (the benchmark's unit): every core user against the
    live Supabase auth users by Firebase uid. Lists the uids missing on either side and those whose
    Supabase metadata postgres_id (oldest live user of the uid) is not the core users.id. It streams
    only the key columns of both stores (ADBC's binary COPY, lib/stores/native.py) into one engine
    query that reads both streams as they arrive, no table in between."""
    if stores.core is None or stores.supabase is None:
        raise StoreUnavailable("the reconciliation needs the core and Supabase databases")
    if not hasattr(stores.supabase, "native_stream"):
        raise StoreUnavailable("supabase: the reconciliation needs SUPABASE_DB_URL")
    with ExitStack() as held:
        core = held.enter_context(stores.core.native_stream("snapshot/core_user_keys"))
        supabase = held.enter_context(stores.supabase.native_stream("snapshot/supabase_user_keys"))  # type: ignore[union-attr]
        engine = held.enter_context(run_engine(stores))
        found = engine.arrow_over("engine/reconcile", {"rc_core": core, "rc_supabase": supabase}, ordered_batch)
    out: dict[str, list[str]] = {k: [] for k in RECONCILE_KINDS}
    for kind, uid in zip(found.column("kind").to_pylist(), found.column("uid").to_pylist(), strict=True):
        out[kind].append(uid)
    return {k: sorted(v) for k, v in out.items()}


# A cross-store check: the Snapshot frames and the default phone region in, its keys out. The check
# entries of lib.checks.ids name these functions (and the parts they read) by name.
SnapshotFn = Callable[[dict[str, Any], str], Keys]
