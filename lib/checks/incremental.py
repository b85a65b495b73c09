"""Incremental check runs (issue 16, `check --incremental`, the watcher): the cross-store identity
parts are kept between runs and brought up to date from what changed, so a run's cost follows the
change, not the size of the stores, and its counts stay those of a full run.

The kept copy (one Arrow file per part, under HEALBRIDGE_DATA_DIR/incremental/<stores>/, mode 0600,
beside the embedded databases that hold the same data) is what the last run read of
`core_users`, `sb_users`, `fs_profiles` and `fb_users`, with the watermark of each read (the store's
clock when the read began). A run then reads, per part:

- core users: the rows whose users.created_at / updated_at, or whose patients row's created_at /
  updated_at, is at or after the watermark minus INCREMENTAL_MARGIN_S; Supabase auth users: those
  whose created_at / updated_at / deleted_at is; Firestore profiles: those whose `updated_at`
  (ISO-8601 text) is. Each changed row replaces the kept row of its id.
- deletions: one count per store (core users and those with a patients row; live Supabase users;
  Firestore's count aggregation). The merged copy holds every current row, so it holds more rows
  than the count exactly when rows went away: then the ids alone are read (PostgreSQL) and the
  vanished rows dropped; Firestore, which has no cheap id listing, is listed again in full.
- Firebase Auth has no "changed since" listing: the kept listing is refreshed by uid (`get_users`,
  100 a call) for every uid a changed, added or deleted row of another part names (its old and new
  uid) and every uid the previous run's findings of a user Auth has name (KEYED_CHECKS; lib.history
  keeps their keys in the ops database); the Firestore profiles of the uids the changes name are
  read by id the same way. A change made in Auth alone to a uid nothing else names is seen at the
  next listing, every INCREMENTAL_AUTH_MAX_AGE_S; its age is shown (`last_full_at`).
- everything is read in full when the copy is missing, its stores differ, or its last full read is
  older than INCREMENTAL_FULL_EVERY_S (the nightly full read).

The other parts (document ids, prescription URLs, the pushed-down orphan checks), the single-store
SQL checks (evaluated by the database, token expiry by the clock) are read in full every run; the
catalog checks are carried from their last full read for INCREMENTAL_FULL_EVERY_S.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lib.checks.engine import Engine
from lib.checks.kept import Kept, age_s, iso, load_kept, locked, now_iso, read_meta, save_kept, state_dir
from lib.checks.sync import FB_USER_COLUMNS, KEYS_LIMIT, PARTS, Found, Loaded, Snapshot, _batches, _Findings, run_engine
from lib.errors import StoreUnavailable, safe_message
from lib.stores import Stores, columnar

INCREMENTAL_PARTS = ("core_users", "sb_users", "fs_profiles", "fb_users")
# checks whose previous findings' uids are looked up again in Firebase (their keys start with a uid):
# those naming a user Auth has (a ghost Auth user, a drifting email or phone), which Auth alone can
# delete or change, as a fix does. Findings of a uid Auth lacks (sync.core_user_missing_in_firebase)
# or of a missing profile (sync.profile_missing, a Firestore matter) are not: they are as many as the
# patients Firebase does not hold, and Auth gains a uid it has no user for only by an import, seen
# at the next listing unless another store's change names the uid.
KEYED_CHECKS = ("sync.firebase_user_missing_in_core", "sync.field_drift")
FS_FIELDS = ["email", "phone"]
FB_COLUMNS = FB_USER_COLUMNS  # what the full run lists: the access checks read `disabled`
BUCKET_WIDTH = 3  # deletions are found per id bucket of this many leading hex digits: 4,096 buckets
# the SQL files of each PostgreSQL identity part: the clock, the full read, the delta, the bucket
# counts and the rows of some buckets
SQL_OF = {
    "core_users": {"now": "core/incremental_now", "all": "core/incremental_users",
                   "since": "core/incremental_users_since", "buckets": "core/incremental_users_buckets",
                   "in_buckets": "core/incremental_users_in_buckets"},
    "sb_users": {"now": "supabase/incremental_now", "all": "supabase/incremental_users",
                 "since": "supabase/incremental_users_since", "buckets": "supabase/incremental_users_buckets",
                 "in_buckets": "supabase/incremental_users_in_buckets"},
}


@dataclass
class PartRead:
    """What this run read of one part: `mode` full | incremental, rows read, the last full read."""

    store: str
    mode: str
    rows_read: int
    last_full_at: str  # ISO-8601 UTC
    note: str = ""


@dataclass
class IncrementalSnapshot(Snapshot):
    reads: dict[str, PartRead] = field(default_factory=dict)


def _strings(t: pa.Table, columns: list[str]) -> pa.Table:
    return pa.table({c: (t[c].cast(pa.string()) if c in t.column_names else pa.nulls(t.num_rows, pa.string()))
                     for c in columns})


def _ids_in(t: pa.Table, col: str, values: pa.Array | list[str]) -> pa.Array:
    return pc.fill_null(pc.is_in(t[col], value_set=pa.array(values, pa.string())), False)


def _merge(old: pa.Table, delta: pa.Table, key: str, drop: pa.Array | list[str], order: bool) -> pa.Table:
    """`old` without the rows whose `key` is in `drop`, plus `delta`; re-sorted (created_at `_k`,
    then id, nulls last, as the full read's ORDER BY) when `order`."""
    kept = old.filter(pc.invert(_ids_in(old, key, drop)))
    out = pa.concat_tables([kept, _strings(delta, kept.column_names)]).combine_chunks()
    if order and out.num_rows:
        out = out.take(pc.sort_indices(out, sort_keys=[("_k", "ascending", "at_end"), (key, "ascending", "at_end")]))
    return out


def _bucket_counts(t: pa.Table) -> dict[str, tuple[int, int]]:
    """Rows (and rows with a patients row, where the part has is_patient) per id bucket."""
    b = pc.utf8_slice_codeunits(t["id"], 0, BUCKET_WIDTH)
    pat = (pc.cast(pc.equal(t["is_patient"], "t"), pa.int64()) if "is_patient" in t.column_names
           else pa.nulls(t.num_rows, pa.int64()))
    g = pa.table({"b": b, "p": pat}).group_by("b").aggregate([([], "count_all"), ("p", "sum")])
    return {k: (int(n), int(p or 0)) for k, n, p in zip(g["b"].to_pylist(), g["count_all"].to_pylist(),
                                                       g["p_sum"].to_pylist(), strict=True)}


def _stale_buckets(have_all: dict[str, tuple[int, int]], counted: list[dict[str, Any]]) -> list[str]:
    """The buckets whose merged rows (or patients) differ from the store's counts."""
    store = {r["b"]: (int(r["n"]), int(r["patients"]) if "patients" in r else None) for r in counted}
    out = []
    for b in set(have_all) | set(store):
        n, p = have_all.get(b, (0, 0))
        sn, sp = store.get(b, (0, 0))
        if n != sn or (sp is not None and p != sp):
            out.append(b)
    return sorted(out)


def _uids(t: pa.Table, col: str, rows: pa.Array | None = None) -> set[str]:
    a = t[col] if rows is None else t.filter(rows)[col]
    return {u for u in pc.drop_null(a).to_pylist() if u}


# ---------------------------------------------------------------------- the load
def load(stores: Stores, parts: set[str], down: dict[str, str], secrets: list[str], *,
         started: datetime, keys_limit: int = KEYS_LIMIT) -> IncrementalSnapshot:
    """The run's Snapshot of `parts`, the identity parts brought up to date from the kept copy;
    `started`: when the run began (its saved started_at)."""
    d = state_dir(stores)
    # the run's engine, as Snapshot.load makes it (the checks are its SQL); closed if the load fails
    with locked(d), run_engine(stores).closed_on_error() as engine:
        return _load(stores, d, parts, down, secrets, keys_limit, started, engine)


def _load(stores: Stores, d: Path, parts: set[str], down: dict[str, str], secrets: list[str],
          keys_limit: int, started: datetime, engine: Engine) -> IncrementalSnapshot:
    s = stores.settings
    snap = IncrementalSnapshot()
    snap.frames["_engine"] = engine
    snap.frames["_keys_limit"] = keys_limit
    region = s.phone_default_region
    wanted = set(parts)
    for p in list(wanted):
        wanted.update(PARTS[p].after)
    if wanted & set(INCREMENTAL_PARTS):  # together: a delta's uids are looked up in Firebase in the same run
        wanted |= set(INCREMENTAL_PARTS)
    kept = load_kept(d)
    oldest = min((k.last_full_at for p, k in kept.items() if p != "fb_users"), default=None)
    if oldest is None or age_s(oldest) > s.incremental_full_every_s:
        kept = {p: k for p, k in kept.items() if p == "fb_users"}  # the nightly full read (Auth: own cadence)
    margin = timedelta(seconds=s.incremental_margin_s)
    touched: set[str] = set()
    fs_count: list[int] = []  # Firestore's count of profiles, taken beside the delta
    new_kept: dict[str, Kept] = {}
    lock = threading.Lock()

    def guarded(part: str, fn: Callable[[], None]) -> None:
        spec = PARTS[part]
        for store in (spec.store, *spec.also):
            if store in down:
                snap.errors[part] = down[store]
                return
        t0 = time.perf_counter()
        try:
            fn()
        except StoreUnavailable as exc:
            snap.errors[part] = str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken part must not sink the run
            snap.errors[part] = f"{spec.store}: {safe_message(exc, secrets)}"
        snap.seconds[part] = snap.seconds.get(part, 0.0) + time.perf_counter() - t0

    def into_engine(part: str, got: Any) -> Any:
        """A part's table or stream into the run's engine (replacing what it held), or a finding as is."""
        if isinstance(got, Found | _Findings):
            return got
        if engine.has(part):
            engine.drop(part)
        return Loaded(engine.load(part, got, _batches(PARTS[part], region)))

    def done(part: str, k: Kept, mode: str, rows: int, note: str = "", changed: set[str] | None = None) -> None:
        with lock:
            new_kept[part] = k
            snap.frames[part] = into_engine(part, k.table.drop_columns([c for c in ("_k",) if c in k.table.column_names]))
            snap.reads[part] = PartRead(PARTS[part].store, mode, rows, k.last_full_at, note)
            touched.update(changed or ())

    def pg_users(part: str, store: Any) -> None:
        sql = SQL_OF[part]
        if not hasattr(store, "arrow"):  # the Supabase HTTP API: no SQL, read in full every run
            t = PARTS[part].loader(stores, {})
            assert isinstance(t, pa.Table)
            done(part, Kept(t, None, now_iso()), "full", t.num_rows, "no SQL access: read in full")
            return
        wm = iso(store.scalar(sql["now"]))
        old = kept.get(part)
        if old is None:
            t = store.arrow(sql["all"])
            done(part, Kept(t, wm, now_iso()), "full", t.num_rows)
            return
        since = datetime.fromisoformat(old.watermark or wm) - margin
        delta = store.arrow(sql["since"], {"since": since})
        rows = delta.num_rows
        changed_ids = delta["id"] if delta.num_rows else pa.array([], pa.string())
        changed = _uids(delta, "firebase_uid") | _uids(old.table, "firebase_uid", _ids_in(old.table, "id", changed_ids))
        if "live" in delta.column_names:
            delta = delta.filter(pc.equal(delta["live"], "t"))
        merged = _merge(old.table, delta, "id", changed_ids, order=True)
        # the merged copy holds every current row (changed ones from the delta), so a bucket holding
        # more than the store's count lost rows (or, core, a patients row): only those are read again
        width = {"width": BUCKET_WIDTH}
        stale = _stale_buckets(have_all=_bucket_counts(merged), counted=store.rows(sql["buckets"], width))
        note = ""
        if stale:
            again = store.arrow(sql["in_buckets"], {"buckets": stale, **width})
            rows += again.num_rows
            in_stale = pc.is_in(pc.utf8_slice_codeunits(merged["id"], 0, BUCKET_WIDTH),
                                value_set=pa.array(stale, pa.string()))
            changed |= _uids(merged, "firebase_uid", in_stale) | _uids(again, "firebase_uid")
            merged = _merge(merged.filter(pc.invert(in_stale)), again, "id", [], order=True)
            note = f"deletions: {len(stale)} of {16 ** BUCKET_WIDTH:,} id buckets read again"
        done(part, Kept(merged, wm, old.last_full_at), "incremental", rows, note, changed)

    def fs_delta() -> None:
        assert stores.firebase is not None
        wm = now_iso()
        old = kept.get("fs_profiles")
        if old is None:
            t = stores.firebase.profiles_table(FS_FIELDS)
            done("fs_profiles", Kept(t, wm, wm), "full", t.num_rows)
            return
        since = datetime.fromisoformat(old.watermark or wm) - margin
        with ThreadPoolExecutor(max_workers=1) as one:  # the count (for deletions) beside the delta
            counted = one.submit(stores.firebase.count_profiles, stores.firebase.page_timeout_s, persistent=True)
            delta = stores.firebase.profiles_since(iso(since), FS_FIELDS)
            fs_count.append(counted.result())
        merged = _merge(old.table, delta, "uid", delta["uid"], order=False)
        done("fs_profiles", Kept(merged, wm, old.last_full_at), "incremental", delta.num_rows, "",
             _uids(delta, "uid"))

    other = sorted(p for p in wanted - set(INCREMENTAL_PARTS) if "fb_users" not in PARTS[p].after)
    after_fb = sorted(p for p in wanted - set(INCREMENTAL_PARTS) if "fb_users" in PARTS[p].after)

    def plain(part: str) -> None:
        deps = {"keys_limit": keys_limit, "_engine": engine, **{x: snap.frames[x] for x in PARTS[part].after}}
        got = into_engine(part, PARTS[part].loader(stores, deps))
        with lock:
            snap.frames[part] = got
        n = got.rows if isinstance(got, Loaded) else 0
        snap.reads[part] = PartRead(PARTS[part].store, "full", n, now_iso(),
                                    "" if isinstance(got, Loaded) else "read in full; rows not counted")

    with ThreadPoolExecutor(max_workers=4) as pool:
        futs = []
        if "core_users" in wanted:
            futs.append(pool.submit(guarded, "core_users", lambda: pg_users("core_users", stores.core)))
        if "sb_users" in wanted:
            futs.append(pool.submit(guarded, "sb_users", lambda: pg_users("sb_users", stores.supabase)))
        if "fs_profiles" in wanted:
            futs.append(pool.submit(guarded, "fs_profiles", fs_delta))
        rest = [pool.submit(guarded, p, lambda p=p: plain(p)) for p in other]  # type: ignore[misc]
        for f in futs:
            f.result()
        prev, unknown = _previous_uids(stores, read_meta(d).get("run_started_at"))
        phase2 = []  # Auth: the uids of the changes and of the previous findings; Firestore: of the changes
        if "fb_users" in wanted:
            phase2.append(pool.submit(guarded, "fb_users", lambda: _fb(stores, kept, touched | prev, done, unknown)))
        if "fs_profiles" in snap.frames and snap.reads["fs_profiles"].mode == "incremental":
            phase2.append(pool.submit(guarded, "fs_profiles", lambda: _fs_by_id(stores, new_kept, touched, done, snap, fs_count[0])))
        for f in phase2:
            f.result()
        for p in after_fb:
            if "fb_users" in snap.errors:
                snap.errors[p] = snap.errors["fb_users"]
            else:
                rest.append(pool.submit(guarded, p, lambda p=p: plain(p)))  # type: ignore[misc]
        for f in rest:
            f.result()
    for p in wanted:
        if p in snap.errors:
            snap.drop(p)
    # an identity part that failed: nothing is kept of this run (the next reads from the old
    # watermarks again), so no change read here is lost before Firebase has been asked about it
    if not any(p in snap.errors for p in INCREMENTAL_PARTS) and new_kept:
        save_kept(d, {**kept, **new_kept}, set(new_kept),
                   {"constraints": read_meta(d).get("constraints"), "run_started_at": iso(started)})
    return snap


def _previous_uids(stores: Stores, previous_run_started: str | None) -> tuple[set[str], str]:
    """The uids the previous run's findings name (every key of the KEYED_CHECKS), and why they
    are not all known ('' when they are; the Auth listing is then read again): the newest keys
    saved must be those of the run that made the kept copy (a run not saved leaves older ones)."""
    try:
        rows = stores.ops.rows("finding_keys_latest")
    except Exception:  # noqa: BLE001 - without them the Auth listing is read in full
        return set(), "the previous findings are unknown (ops database)"
    got = {r["check_id"]: r for r in rows}
    why = ("" if all(c in got and got[c]["complete"] for c in KEYED_CHECKS)
           else "the previous run's finding keys are missing or incomplete")
    if rows and previous_run_started is not None and (
            rows[0]["started_at"] < datetime.fromisoformat(previous_run_started) - timedelta(milliseconds=1)):
        why = "the previous run was not saved"
    return {str(k).split("|", 1)[0] for r in rows if r["check_id"] in KEYED_CHECKS for k in r["keys"]}, why


def _fb(stores: Stores, kept: dict[str, Kept], touched: set[str], done: Any, unknown: str) -> None:
    assert stores.firebase is not None
    old = kept.get("fb_users")
    why = ("" if old is not None else "no kept listing")
    if old is not None and age_s(old.last_full_at) > stores.settings.incremental_auth_max_age_s:
        why = "the kept listing is older than INCREMENTAL_AUTH_MAX_AGE_S"
    why = why or unknown
    if why or old is None:
        now = now_iso()
        t = stores.firebase.users_table(FB_COLUMNS)
        done("fb_users", Kept(t, None, now), "full", t.num_rows, why)
        return
    uids = sorted(touched)
    chunks = [uids[i:i + 1000] for i in range(0, len(uids), 1000)]  # get_users asks 100 a call: 4 callers at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        rows = [r for got in pool.map(stores.firebase.get_users, chunks) for r in got]
    found = columnar.records(rows, list(FB_COLUMNS))
    merged = _merge(old.table, found, "uid", uids, order=False)
    done("fb_users", Kept(merged, None, old.last_full_at), "incremental", found.num_rows,
         f"{len(uids)} uids looked up; listed {round(age_s(old.last_full_at))} s ago")


def _fs_by_id(stores: Stores, new_kept: dict[str, Kept], touched: set[str], done: Any,
              snap: IncrementalSnapshot, counted: int) -> None:
    """Profiles of the touched uids read by id (deleted ones go), then Firestore's count (taken
    beside the delta) says whether other profiles went away: then it is listed again. A profile
    deleted between the count and now is found by the next run's count."""
    assert stores.firebase is not None
    cur, read = new_kept["fs_profiles"], snap.reads["fs_profiles"]
    uids = sorted(touched)
    docs = stores.firebase.get_profiles(uids, persistent=True) if uids else {}
    found = columnar.records([{"uid": u, **v} for u, v in docs.items()], ["uid", *FS_FIELDS])
    merged = _merge(cur.table, found, "uid", uids, order=False)
    rows = read.rows_read + len(uids)
    if merged.num_rows != counted:
        t = stores.firebase.profiles_table(FS_FIELDS)
        done("fs_profiles", Kept(t, cur.watermark, cur.watermark or now_iso()), "full", rows + t.num_rows,
             "profiles were deleted: listed again")
        return
    done("fs_profiles", Kept(merged, cur.watermark, cur.last_full_at), "incremental", rows, read.note)


# ---------------------------------------------------------------------- provenance
def provenance(parts: tuple[str, ...], reads: dict[str, PartRead] | None, started: datetime) -> tuple[str, str]:
    """(read, last_full_at) of a check over `parts`: incremental when any part was, and the oldest
    full read of its parts."""
    rs = [reads[p] for p in parts if reads and p in reads]
    if not rs:
        return "full", iso(started)
    mode = "incremental" if any(r.mode == "incremental" for r in rs) else "full"
    return mode, min(r.last_full_at for r in rs)


def reads_json(reads: dict[str, PartRead]) -> dict[str, Any]:
    by_store: dict[str, int] = {}
    for r in reads.values():
        by_store[r.store] = by_store.get(r.store, 0) + r.rows_read
    return {"parts": {p: asdict(r) for p, r in sorted(reads.items())}, "rows_read": by_store}
