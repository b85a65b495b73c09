"""The cross-store checks, set-based: each store's keys are read once per run into a Snapshot
(Firebase Auth listed once, 1,000 a page; Firestore streamed; PostgreSQL by COPY), then compared in
bulk. Never a query per patient.

Memory model (issue 9): the snapshot is columnar. Identities are Arrow tables of strings (a few bytes
a value, no Python object per value); document ids, prescription URLs and other big key sets are
16-byte binary columns read with COPY's binary format (5 M documents = 80 MB a side). Comparisons are
Arrow hash joins (multi-threaded, outside the GIL). The one check whose key set is as big as the
documents table and whose other side is small (Supabase documents whose patient is no Firebase user)
is pushed down to the database with the Firebase uids as an array parameter. Results keep the exact
count and the first KEYS_LIMIT keys in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib import normalize
from lib.errors import StoreUnavailable, safe_message
from lib.stores import Stores, columnar

# store order used in drift keys and pairs
DRIFT_STORES = ("firebase_auth", "firestore", "core", "supabase")
KEYS_LIMIT = 50_000  # keys kept per finding (the count is always exact)


@dataclass(frozen=True)
class Found:
    """A finding computed elsewhere (e.g. in the database): the exact count and the first keys."""

    count: int
    keys: list[str]


Part: TypeAlias = "pa.Table | Found"
Loader: TypeAlias = Callable[[Stores, dict[str, Any]], Part]


# ---------------------------------------------------------------------- the parts
def _core_users(s: Stores, _: dict[str, Any]) -> Part:
    assert s.core is not None
    return s.core.arrow("snapshot/core_users")


def _core_doc_ids(s: Stores, _: dict[str, Any]) -> Part:
    assert s.core is not None
    return s.core.fixed("snapshot/core_document_ids", {"id": "uuid"})


def _core_prescriptions(s: Stores, _: dict[str, Any]) -> Part:
    assert s.core is not None
    return s.core.fixed("snapshot/core_prescription_urls", {"id": "uuid", "url_md5": "uuid"})


def _sb_users(s: Stores, _: dict[str, Any]) -> Part:
    assert s.supabase is not None
    return s.supabase.live_users()


def _sb_doc_ids(s: Stores, _: dict[str, Any]) -> Part:
    assert s.supabase is not None
    return s.supabase.document_ids()


def _sb_prescriptions(s: Stores, _: dict[str, Any]) -> Part:
    assert s.supabase is not None
    return s.supabase.prescription_url_md5s()


def _sb_connections(s: Stores, _: dict[str, Any]) -> Part:
    assert s.supabase is not None
    return s.supabase.connection_patients()


def _sb_doc_orphans(s: Stores, deps: dict[str, Any]) -> Part:
    assert s.supabase is not None
    uids = pc.drop_null(deps["fb_users"].column("uid")).to_pylist()
    return Found(*s.supabase.documents_unknown_patient(uids, int(deps.get("keys_limit", KEYS_LIMIT))))


def _fb_users(s: Stores, _: dict[str, Any]) -> Part:
    assert s.firebase is not None
    return s.firebase.users_table()


def _fs_profiles(s: Stores, _: dict[str, Any]) -> Part:
    assert s.firebase is not None
    return s.firebase.profiles_table(["email", "phone"])


@dataclass(frozen=True)
class PartSpec:
    store: str  # the store part it reads: core | supabase | firebase_auth | firestore
    loader: Loader
    after: tuple[str, ...] = ()  # parts it needs first


PARTS: dict[str, PartSpec] = {
    "core_users": PartSpec("core", _core_users),
    "core_doc_ids": PartSpec("core", _core_doc_ids),
    "core_prescriptions": PartSpec("core", _core_prescriptions),
    "sb_users": PartSpec("supabase", _sb_users),
    "sb_doc_ids": PartSpec("supabase", _sb_doc_ids),
    "sb_prescriptions": PartSpec("supabase", _sb_prescriptions),
    "sb_connections": PartSpec("supabase", _sb_connections),
    "sb_doc_orphans": PartSpec("supabase", _sb_doc_orphans, after=("fb_users",)),
    "fb_users": PartSpec("firebase_auth", _fb_users),
    "fs_profiles": PartSpec("firestore", _fs_profiles),
}


FIREBASE_PARTS = ("firebase_auth", "firestore")
_listed: dict[tuple[str, ...], tuple[float, Part]] = {}  # Firebase parts last listed in this process
_listed_lock = threading.Lock()


def forget_firebase_listings() -> None:
    """Drop the reusable Firebase listings (the data under them was replaced, e.g. the demo refilled)."""
    with _listed_lock:
        _listed.clear()


def _listing_key(stores: Stores, part: str) -> tuple[str, ...]:
    s = stores.settings
    return (part, str(s.firebase_project_id), str(s.firebase_auth_emulator_host), str(s.firestore_emulator_host),
            str(s.google_application_credentials), str(stores.demo))


@dataclass
class Snapshot:
    """Each store's keys, read once per run (in parallel; a part that needs another waits for it)."""

    frames: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    reused: dict[str, float] = field(default_factory=dict)  # Firebase part → age (s) of the listing reused

    @classmethod
    def load(cls, stores: Stores, parts: Iterable[str], down: dict[str, str], secrets: list[str],
             *, reuse_firebase_s: float = 0.0, keys_limit: int = KEYS_LIMIT) -> Snapshot:
        """`reuse_firebase_s` > 0: a Firebase listing this process made at most that long ago is
        reused instead of listing again (Auth lists 1,000 users a page: minutes at millions)."""
        snap = cls()
        wanted = set(parts)
        for p in list(wanted):
            wanted.update(PARTS[p].after)

        def one(part: str) -> tuple[Part | None, str | None, float]:
            spec = PARTS[part]
            if spec.store in down:
                return None, down[spec.store], 0.0
            key = _listing_key(stores, part)
            if spec.store in FIREBASE_PARTS and reuse_firebase_s > 0:
                with _listed_lock:
                    hit = _listed.get(key)
                if hit is not None and time.monotonic() - hit[0] <= reuse_firebase_s:
                    snap.reused[part] = time.monotonic() - hit[0]
                    return hit[1], None, 0.0
            t0 = time.perf_counter()
            try:
                got = spec.loader(stores, {"keys_limit": keys_limit, **{d: snap.frames[d] for d in spec.after}})
                if spec.store in FIREBASE_PARTS:
                    with _listed_lock:
                        _listed[key] = (time.monotonic(), got)
                return got, None, time.perf_counter() - t0
            except StoreUnavailable as exc:
                return None, str(exc), time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 - a broken part must not sink the run
                return None, f"{spec.store}: {safe_message(exc, secrets)}", time.perf_counter() - t0

        waiting = {p for p in wanted if PARTS[p].after}
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
                    deps = PARTS[part].after
                    if not all(d in snap.frames or d in snap.errors for d in deps):
                        continue
                    waiting.discard(part)
                    failed = [snap.errors[d] for d in deps if d in snap.errors]
                    if failed:
                        snap.errors[part] = failed[0]
                    else:
                        futs[pool.submit(one, part)] = part
        return snap


# ---------------------------------------------------------------------- Arrow helpers
Keys: TypeAlias = "pa.Array | pa.ChunkedArray | list[str] | Found"


def _array(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _minus(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The distinct non-null values of `a` that are not in `b` (a hash anti-join)."""
    left = pa.table({"k": pc.drop_null(a)})
    right = pa.table({"k": pc.drop_null(b)})
    return pc.unique(_array(left.join(right, keys="k", join_type="left anti").column("k")))


def _first_per(t: pa.Table, key: str) -> pa.Table:
    """The first row (in table order) of each non-null `key`."""
    t = t.filter(pc.is_valid(t[key]))
    idx = pa.table({"k": t[key], "i": pa.array(np.arange(t.num_rows))})
    first = idx.group_by("k", use_threads=False).aggregate([("i", "min")]).column("i_min")
    return t.take(pa.array(np.sort(_array(first).to_numpy())))


def _rows_where(t: pa.Table, mask: pa.Array | pa.ChunkedArray, col: str) -> pa.Array:
    return _array(t.filter(pc.fill_null(mask, False)).column(col))


def _patients(core: pa.Table) -> pa.Table:
    return core.filter(pc.equal(core["is_patient"], "t"))


def finish(raw: Keys, limit: int = KEYS_LIMIT) -> Found:
    """A check's keys as (exact count, first `limit` keys in order, as text)."""
    if isinstance(raw, Found):
        return Found(raw.count, raw.keys[:limit])
    if isinstance(raw, list):
        return Found(len(raw), sorted(raw)[:limit])
    arr = _array(raw)
    first = arr.take(pc.sort_indices(arr)[:limit]) if len(arr) else arr
    if pa.types.is_fixed_size_binary(arr.type):
        return Found(len(arr), columnar.uuid_text(first.to_pylist()))
    return Found(len(arr), [str(v) for v in first.to_pylist()])


# ---------------------------------------------------------------------- normalisation, vectorised
_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"


def _normalised(a: pa.Array | pa.ChunkedArray, fast: pa.Array, fast_values: pa.Array,
                slow: Callable[[str], str | None]) -> pa.Array:
    """`fast_values` where `fast` holds, lib.normalize's own function (in Python) elsewhere; '' → null."""
    a = _array(a)
    mask = pc.fill_null(pc.and_(pc.invert(fast), pc.is_valid(a)), False)
    out = _array(fast_values)
    if pc.any(mask).as_py():
        repl = pa.array([slow(v) for v in a.filter(mask).to_pylist()], pa.string())
        out = pc.replace_with_mask(out, mask, repl)
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


def norm_email(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    """normalize.email for every value: printable ASCII is trimmed and lower-cased in Arrow (what
    str.strip().casefold() does to it); anything else goes through normalize.email itself."""
    a = _array(a).cast(pa.string())
    fast = pc.match_substring_regex(a, _PRINTABLE_ASCII)
    return _normalised(a, fast, pc.ascii_lower(pc.utf8_trim(a, " ")), normalize.email)


def norm_phone(a: pa.Array | pa.ChunkedArray, region: str) -> pa.Array:
    """normalize.phone for every value: a value already in E.164 is itself (as normalize.phone
    says); only the others are parsed with phonenumbers."""
    a = _array(a).cast(pa.string())
    fast = pc.match_substring_regex(a, r"^\+[1-9][0-9]{6,14}$")
    return _normalised(a, fast, a, lambda v: normalize.phone(v, region))


# ---------------------------------------------------------------------- the checks
def firebase_user_missing_in_core(f: dict[str, Any], region: str) -> Keys:
    fb = f["fb_users"]
    return _minus(fb.filter(pc.equal(fb["role"], "patient"))["uid"], f["core_users"]["firebase_uid"])


def core_user_missing_in_firebase(f: dict[str, Any], region: str) -> Keys:
    return _minus(f["core_users"]["firebase_uid"], f["fb_users"]["uid"])


def patient_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    return _minus(_patients(f["core_users"])["firebase_uid"], f["sb_users"]["firebase_uid"])


def _core_ids(core: pa.Table) -> pa.Table:
    """firebase_uid → core users.id (the last row of a uid wins, as a dict would)."""
    t = core.select(["firebase_uid", "id"])
    t = t.filter(pc.is_valid(t["firebase_uid"]))
    rev = _first_per(t.take(pa.array(np.arange(t.num_rows)[::-1])), "firebase_uid")
    return rev.rename_columns(["firebase_uid", "core_id"])


def supabase_user_unknown(f: dict[str, Any], region: str) -> Keys:
    sb = f["sb_users"].select(["id", "firebase_uid", "postgres_id"])
    j = sb.join(_core_ids(f["core_users"]), keys="firebase_uid", join_type="left outer")
    bad = pc.fill_null(pc.not_equal(j["core_id"], j["postgres_id"]), True)
    return pc.unique(_rows_where(j, bad, "id"))


def profile_missing(f: dict[str, Any], region: str) -> Keys:
    return _minus(_patients(f["core_users"])["firebase_uid"], f["fs_profiles"]["uid"])


def _table(x: Any, columns: list[str]) -> pa.Table:
    """A part given as a pandas frame (the patient page builds small ones) as an Arrow table."""
    return columnar.strings(x, columns) if isinstance(x, pd.DataFrame) else x


def _store_values(f: dict[str, Any]) -> dict[str, pa.Table]:
    """Per store: uid, raw email, raw phone (one row per uid: the first, i.e. for Supabase the oldest
    live user of each uid)."""
    core = _table(f["core_users"], ["firebase_uid", "email", "phone"])
    sb = _table(f["sb_users"], ["firebase_uid", "email", "phone"])
    fb = _table(f["fb_users"], ["uid", "email", "phone"])
    fs = _table(f["fs_profiles"], ["uid", "email", "phone"])

    def shape(t: pa.Table, uid: str) -> pa.Table:
        cols = {c: (t[c] if c in t.column_names else pa.nulls(t.num_rows, pa.string())) for c in ("email", "phone")}
        return _first_per(pa.table({"uid": t[uid], **cols}), "uid")

    return {"firebase_auth": shape(fb, "uid"), "firestore": shape(fs, "uid"),
            "core": shape(core, "firebase_uid"), "supabase": shape(sb, "firebase_uid")}


def patient_uids(f: dict[str, Any]) -> pa.Array:
    core, fb = f["core_users"], f["fb_users"]
    a = _array(core.filter(pc.equal(core["role"], "PATIENT"))["firebase_uid"]).cast(pa.string())
    b = _array(fb.filter(pc.equal(fb["role"], "patient"))["uid"]).cast(pa.string())
    return pc.unique(pc.drop_null(pa.concat_arrays([a, b])))


def drift_rows(f: dict[str, Any], region: str, uids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """One row per (uid, field, pair of stores) whose non-empty values differ after normalisation."""
    wanted = patient_uids(f) if uids is None else pa.array(sorted(set(uids)), pa.string())
    wide = pa.table({"uid": wanted})
    for store, t in _store_values(f).items():
        t = t.rename_columns(["uid", f"{store}:email", f"{store}:phone"])
        wide = wide.join(t, keys="uid", join_type="left outer")
    norm: dict[str, pa.Array] = {}
    for store in DRIFT_STORES:
        norm[f"{store}:email"] = norm_email(wide[f"{store}:email"])
        norm[f"{store}:phone"] = norm_phone(wide[f"{store}:phone"], region)
    rows: list[dict[str, Any]] = []
    for fld in ("email", "phone"):
        for a, b in combinations(DRIFT_STORES, 2):
            na, nb = norm[f"{a}:{fld}"], norm[f"{b}:{fld}"]
            mask = pc.fill_null(pc.not_equal(na, nb), False)
            if not pc.any(mask).as_py():
                continue
            hit = wide.filter(mask).select(["uid", f"{a}:{fld}", f"{b}:{fld}"]).to_pylist()
            rows.extend({"uid": r["uid"], "field": fld, "stores": [a, b],
                         "values": [r[f"{a}:{fld}"], r[f"{b}:{fld}"]]} for r in hit)
    rows.sort(key=lambda r: (r["uid"], r["field"], DRIFT_STORES.index(r["stores"][0]),
                             DRIFT_STORES.index(r["stores"][1])))
    return rows


def drift_key(row: dict[str, Any]) -> str:
    (a, b), (va, vb) = row["stores"], row["values"]
    return f"{row['uid']}|{row['field']}|{a}={va}|{b}={vb}"


def field_drift(f: dict[str, Any], region: str) -> Keys:
    return [drift_key(r) for r in drift_rows(f, region)]


def document_missing_in_core(f: dict[str, Any], region: str) -> Keys:
    sb = f["sb_doc_ids"]
    return _minus(sb.filter(sb["processed"])["id"], f["core_doc_ids"]["id"])


def document_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    return _minus(f["core_doc_ids"]["id"], f["sb_doc_ids"]["id"])


def prescription_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    core, sb = f["core_prescriptions"], f["sb_prescriptions"]
    return _array(core.join(sb, keys="url_md5", join_type="left anti").column("id"))


def supabase_documents_patient(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["sb_doc_orphans"]
    return found


def connections_patient(f: dict[str, Any], region: str) -> Keys:
    c = f["sb_connections"]
    known = pc.is_in(c["patient_firebase_uid"], value_set=_array(pc.drop_null(f["fb_users"]["uid"])))
    return pc.unique(_rows_where(c, pc.invert(pc.fill_null(known, False)), "id"))


def core_users_phone(f: dict[str, Any], region: str) -> Keys:
    core = f["core_users"]  # oldest first
    t = pa.table({"id": core["id"], "n": norm_phone(core["phone"], region), "i": pa.array(np.arange(core.num_rows))})
    t = t.filter(pc.is_valid(t["n"]))
    first = t.group_by("n", use_threads=False).aggregate([("i", "min")]).column("i_min")
    dup = pc.invert(pc.is_in(t["i"], value_set=_array(first)))
    return _rows_where(t, dup, "id")


def reconcile_identities(stores: Stores) -> dict[str, list[str]]:
    """Core ↔ Supabase identity reconciliation (the benchmark's unit): every core user against the
    live Supabase auth users by Firebase uid. Lists the uids missing on either side and those whose
    Supabase metadata postgres_id (oldest live user of the uid) is not the core users.id."""
    snap = Snapshot.load(stores, {"core_users", "sb_users"}, {}, stores.settings.secret_values())
    if snap.errors:
        raise StoreUnavailable(next(iter(snap.errors.values())))
    core, sb = snap.frames["core_users"], snap.frames["sb_users"]
    both = _first_per(sb.select(["firebase_uid", "postgres_id"]), "firebase_uid").join(
        _core_ids(core), keys="firebase_uid", join_type="inner")
    mismatch = pc.fill_null(pc.not_equal(both["core_id"], both["postgres_id"]), True)
    return {
        "missing_in_supabase": sorted(_minus(core["firebase_uid"], sb["firebase_uid"]).to_pylist()),
        "missing_in_core": sorted(_minus(sb["firebase_uid"], core["firebase_uid"]).to_pylist()),
        "postgres_id_mismatch": sorted(_rows_where(both, mismatch, "firebase_uid").to_pylist()),
    }


SnapshotFn = Callable[[dict[str, Any], str], Keys]
SNAPSHOT_CHECKS: dict[str, tuple[tuple[str, ...], SnapshotFn]] = {
    "sync.firebase_user_missing_in_core": (("fb_users", "core_users"), firebase_user_missing_in_core),
    "sync.core_user_missing_in_firebase": (("core_users", "fb_users"), core_user_missing_in_firebase),
    "sync.patient_missing_in_supabase": (("core_users", "sb_users"), patient_missing_in_supabase),
    "sync.supabase_user_unknown": (("core_users", "sb_users"), supabase_user_unknown),
    "sync.profile_missing": (("core_users", "fs_profiles"), profile_missing),
    "sync.field_drift": (("core_users", "sb_users", "fb_users", "fs_profiles"), field_drift),
    "sync.document_missing_in_core": (("sb_doc_ids", "core_doc_ids"), document_missing_in_core),
    "sync.document_missing_in_supabase": (("core_doc_ids", "sb_doc_ids"), document_missing_in_supabase),
    "sync.prescription_missing_in_supabase": (("core_prescriptions", "sb_prescriptions"),
                                              prescription_missing_in_supabase),
    "orphan.supabase_documents_patient": (("sb_doc_orphans",), supabase_documents_patient),
    "orphan.connections_patient": (("sb_connections", "fb_users"), connections_patient),
    "dup.core_users_phone": (("core_users",), core_users_phone),
}
