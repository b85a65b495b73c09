"""The cross-store checks, set-based: each store's keys are read once per run into a Snapshot
(Firebase Auth listed once, 1,000 a page; Firestore streamed; PostgreSQL by COPY), then compared in
bulk. Never a query per patient. It stays one module: the snapshot's parts, the Arrow helpers and
the checks share one columnar data layout (part names, UidCodes, 16-byte id columns) that each check
reads in a few lines; split apart, every check would reach across files for the layout it reads.

Memory model (issue 9): the snapshot is columnar. Identities are Arrow tables of strings (a few bytes
a value, no Python object per value); document ids, prescription URLs and other big key sets are
16-byte binary columns read with COPY's binary format (5 M documents = 80 MB a side). Comparisons are
Arrow hash joins (multi-threaded, outside the GIL). The one check whose key set is as big as the
documents table and whose other side is small (Supabase documents whose patient is no Firebase user)
is pushed down to the database with the Firebase uids as an array parameter; so are the two access
checks, with the uids of the disabled Firebase Auth users (a small set: the listing's `disabled`
column). Results keep the exact count and the first KEYS_LIMIT keys in order.
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


Part: TypeAlias = "pa.Table | Found | _Findings"
Loader: TypeAlias = Callable[[Stores, dict[str, Any]], Part]


# ---------------------------------------------------------------------- the parts
def _core_users(s: Stores, _: dict[str, Any]) -> Part:
    assert s.core is not None
    return s.core.arrow("snapshot/core_users")


def _core_prescriptions(s: Stores, _: dict[str, Any]) -> Part:
    assert s.core is not None
    return s.core.fixed("snapshot/core_prescription_urls", {"id": "uuid", "url_md5": "uuid"})


def _sb_users(s: Stores, _: dict[str, Any]) -> Part:
    assert s.supabase is not None
    return s.supabase.live_users()


def _sb_prescriptions(s: Stores, _: dict[str, Any]) -> Part:
    assert s.supabase is not None
    return s.supabase.prescription_url_md5s()


def _sb_conn_orphans(s: Stores, deps: dict[str, Any]) -> Part:
    assert s.supabase is not None
    uids = pc.drop_null(deps["fb_users"].column("uid")).to_pylist()
    return Found(*s.supabase.connections_unknown_patient(uids, int(deps.get("keys_limit", KEYS_LIMIT))))


def _doc_findings(s: Stores, deps: dict[str, Any]) -> Part:
    """Both document checks at once: the two id sets (16 bytes an id) are read, compared and let go
    of before the identity parts are read, so the biggest arrays never sit beside them."""
    limit = int(deps.get("keys_limit", KEYS_LIMIT))
    assert s.core is not None and s.supabase is not None
    core = s.core.fixed("snapshot/core_document_ids", {"id": "uuid"})
    sb = s.supabase.document_ids()
    processed = _array(sb["id"]).filter(_array(sb["processed"]))
    out = {
        "sync.document_missing_in_core": finish(_minus_ids(processed, _array(core["id"])), limit),
        "sync.document_missing_in_supabase": finish(_minus_ids(_array(core["id"]), _array(sb["id"])), limit),
    }
    return _Findings(out)


def _sb_doc_orphans(s: Stores, deps: dict[str, Any]) -> Part:
    assert s.supabase is not None
    uids = pc.drop_null(deps["fb_users"].column("uid")).to_pylist()
    return Found(*s.supabase.documents_unknown_patient(uids, int(deps.get("keys_limit", KEYS_LIMIT))))


def _disabled_uids(fb_users: pa.Table) -> list[str]:
    """The uids of the Firebase Auth users that are `disabled` (the listing's column, "True"/"False")."""
    if "disabled" not in fb_users.column_names:
        return []
    mask = pc.fill_null(pc.equal(fb_users.column("disabled"), "True"), False)
    return pc.drop_null(fb_users.filter(mask).column("uid")).to_pylist()


def _sb_disabled_live(s: Stores, deps: dict[str, Any]) -> Part:
    assert s.supabase is not None
    uids = _disabled_uids(deps["fb_users"])
    return Found(*s.supabase.live_users_of(uids, int(deps.get("keys_limit", KEYS_LIMIT))))


def _sb_disabled_connections(s: Stores, deps: dict[str, Any]) -> Part:
    assert s.supabase is not None
    uids = _disabled_uids(deps["fb_users"])
    return Found(*s.supabase.active_connections_of(uids, int(deps.get("keys_limit", KEYS_LIMIT))))


FB_USER_COLUMNS = ("uid", "email", "phone", "role", "disabled")  # the Auth listing's columns (incremental keeps the same)


def _fb_users(s: Stores, _: dict[str, Any]) -> Part:
    assert s.firebase is not None
    return s.firebase.users_table(FB_USER_COLUMNS)


def _fs_profiles(s: Stores, _: dict[str, Any]) -> Part:
    assert s.firebase is not None
    return s.firebase.profiles_table(["email", "phone"])


class _Findings(dict[str, "Found"]):
    """Findings a part computed while loading (check id → Found)."""


@dataclass(frozen=True)
class PartSpec:
    store: str  # the store part it reads: core | supabase | firebase_auth | firestore
    loader: Loader
    after: tuple[str, ...] = ()  # parts it needs first
    wait: tuple[str, ...] = ()  # parts it starts after (when they are wanted), whatever their outcome
    also: tuple[str, ...] = ()  # other store parts it reads


PARTS: dict[str, PartSpec] = {
    "doc_findings": PartSpec("core", _doc_findings, also=("supabase",)),
    "core_users": PartSpec("core", _core_users, wait=("doc_findings",)),
    "core_prescriptions": PartSpec("core", _core_prescriptions),
    "sb_users": PartSpec("supabase", _sb_users, wait=("doc_findings",)),
    "sb_prescriptions": PartSpec("supabase", _sb_prescriptions),
    "sb_conn_orphans": PartSpec("supabase", _sb_conn_orphans, after=("fb_users",)),
    "sb_doc_orphans": PartSpec("supabase", _sb_doc_orphans, after=("fb_users",)),
    "sb_disabled_live": PartSpec("supabase", _sb_disabled_live, after=("fb_users",)),
    "sb_disabled_connections": PartSpec("supabase", _sb_disabled_connections, after=("fb_users",)),
    "fb_users": PartSpec("firebase_auth", _fb_users),
    "fs_profiles": PartSpec("firestore", _fs_profiles),
}


FIREBASE_PARTS = ("firebase_auth", "firestore")
_listed: dict[tuple[str, ...], tuple[float, Part]] = {}  # Firebase parts last listed in this process
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
            for store in (spec.store, *spec.also):
                if store in down:
                    return None, down[store], 0.0
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
                pa.default_memory_pool().release_unused()
                if spec.store in FIREBASE_PARTS:
                    with _listed_lock:
                        _listed[key] = (time.monotonic(), got)
                return got, None, time.perf_counter() - t0
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


# ---------------------------------------------------------------------- Arrow helpers
Keys: TypeAlias = "pa.Array | pa.ChunkedArray | list[str] | Found"


def _array(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _minus(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The distinct non-null values of `a` that are not in `b`: a hash set of `b` (is_in) for text
    keys, a hash anti-join for 16-byte keys (faster there)."""
    a, b = _array(pc.drop_null(a)), _array(pc.drop_null(b))
    if pa.types.is_fixed_size_binary(a.type):
        out = pa.table({"k": a}).join(pa.table({"k": b}), keys="k", join_type="left anti").column("k")
        return pc.unique(_array(out))
    return pc.unique(a.filter(pc.invert(pc.is_in(a, value_set=b))))


def _minus_ids(a: pa.Array, b: pa.Array) -> pa.Array:
    """`_minus` for 16-byte ids, a sixteenth at a time (by the first hex digit, uniform for uuids):
    the hash table of one slice is small, so 5 M ids a side compare in little memory."""
    ua = np.frombuffer(a.buffers()[1], np.uint8)[a.offset * 16 : (a.offset + len(a)) * 16] >> 4 if len(a) else None
    ub = np.frombuffer(b.buffers()[1], np.uint8)[b.offset * 16 : (b.offset + len(b)) * 16] >> 4 if len(b) else None
    if ua is None:
        return a
    if ub is None:
        return pc.unique(a)
    ha, hb = ua[::16], ub[::16]
    out = [_minus(a.filter(pa.array(ha == h)), b.filter(pa.array(hb == h))) for h in range(16)]
    return pa.concat_arrays(out)


def _rows_where(t: pa.Table, mask: pa.Array | pa.ChunkedArray, col: str) -> pa.Array:
    return _array(t.filter(pc.fill_null(mask, False)).column(col))


def finish(raw: Keys, limit: int = KEYS_LIMIT) -> Found:
    """A check's keys as (exact count, first `limit` keys in order, as text)."""
    if isinstance(raw, Found):
        return Found(raw.count, raw.keys[:limit])
    if isinstance(raw, list):
        return Found(len(raw), sorted(raw)[:limit])
    arr = _array(raw)
    if len(arr) > limit:  # the `limit` smallest (a partial selection), then only those sorted
        arr_k = arr.take(pc.bottom_k_unstable(arr, limit))
        first = arr_k.take(pc.sort_indices(arr_k))
    else:
        first = arr.take(pc.sort_indices(arr)) if len(arr) else arr
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
class UidCodes:
    """Every Firebase uid of the identity parts, dictionary-encoded once (one hash table for all):
    each store's uid column becomes an int32 code (-1: none), and every set operation on uids is a
    lookup in a table as long as the number of distinct uids (numpy), not another hash set of
    strings. At 1 M patients this keeps the comparisons to a few MB each."""

    COLUMNS = {"core_users": "firebase_uid", "sb_users": "firebase_uid", "fb_users": "uid", "fs_profiles": "uid"}

    def __init__(self, f: dict[str, Any]) -> None:
        self.tables = {name: _table(f[name], [col]) if isinstance(f[name], pd.DataFrame) else f[name]
                       for name, col in self.COLUMNS.items() if name in f}
        # one memo table across every store's chunks (no concatenated copy): all chunks share codes
        chunks: list[tuple[str, pa.Array]] = [
            (name, c.cast(pa.string())) for name, t in self.tables.items() for c in t[self.COLUMNS[name]].chunks
            if len(c)]
        encoded = pa.chunked_array([c for _, c in chunks], pa.string()).dictionary_encode()
        self.values: pa.Array = (encoded.chunks[-1].dictionary if encoded.num_chunks
                                 else pa.array([], pa.string()))
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.tables}
        for (name, _), enc in zip(chunks, encoded.chunks, strict=True):
            parts[name].append(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64))
        self.codes: dict[str, np.ndarray] = {
            name: np.concatenate(p) if p else np.zeros(0, np.int64) for name, p in parts.items()}

    @property
    def size(self) -> int:
        return len(self.values)

    def present(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A table over codes: True where store `name` (or those of its rows) holds the uid."""
        out = np.zeros(self.size + 1, dtype=bool)  # the last slot stands for "no uid" (-1)
        codes = self.codes[name] if rows is None else self.codes[name][rows]
        out[codes[codes >= 0]] = True
        return out[: self.size]

    def position(self, name: str, *, first: bool = True) -> np.ndarray:
        """Code → the row of `name` holding it (its first row, or its last), -1 where none."""
        codes = self.codes[name]
        pos = np.full(self.size, -1, dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)
        if first:
            rows = rows[::-1]
        pos[codes[rows]] = rows
        return pos

    def missing(self, name: str, rows: np.ndarray | None, other: str) -> pa.Array:
        """The distinct uids of `name` (or of its `rows`) that store `other` does not hold."""
        codes = self.codes[name] if rows is None else self.codes[name][rows]
        codes = codes[codes >= 0]
        return self.uids(np.unique(codes[~self.present(other)[codes]]))

    def uids(self, codes: np.ndarray) -> pa.Array:
        return self.values.take(pa.array(codes, pa.int64()))

    def of(self, uids: Iterable[str]) -> np.ndarray:
        idx = pc.index_in(pa.array(sorted(set(uids)), pa.string()), value_set=self.values)
        return pc.drop_null(idx).to_numpy(zero_copy_only=False).astype(np.int64)


def _codes(f: dict[str, Any]) -> UidCodes:
    """The run's UidCodes, built once and kept beside the parts."""
    codes = f.get("_uid_codes")
    if not isinstance(codes, UidCodes):
        codes = f["_uid_codes"] = UidCodes(f)
    return codes


def _where(t: pa.Table, col: str, value: str) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(pc.equal(_array(t[col]), value), False).to_numpy(zero_copy_only=False))


def firebase_user_missing_in_core(f: dict[str, Any], region: str) -> Keys:
    return _codes(f).missing("fb_users", _where(f["fb_users"], "role", "patient"), "core_users")


def core_user_missing_in_firebase(f: dict[str, Any], region: str) -> Keys:
    return _codes(f).missing("core_users", None, "fb_users")


def patient_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    return _codes(f).missing("core_users", _where(f["core_users"], "is_patient", "t"), "sb_users")


def profile_missing(f: dict[str, Any], region: str) -> Keys:
    return _codes(f).missing("core_users", _where(f["core_users"], "is_patient", "t"), "fs_profiles")


def _take(a: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """a[rows], null where a row is -1."""
    return _array(a).take(pa.array(np.where(rows < 0, 0, rows), pa.int64(), mask=rows < 0))


def _core_id_of(codes: UidCodes, core: pa.Table, uid_codes: np.ndarray) -> pa.Array:
    """The core users.id of each uid code (the last core row of a uid wins, as a dict would)."""
    pos = codes.position("core_users", first=False)
    rows = np.where(uid_codes >= 0, pos[np.where(uid_codes >= 0, uid_codes, 0)], -1)
    return _take(core["id"], rows)


def supabase_user_unknown(f: dict[str, Any], region: str) -> Keys:
    codes, sb = _codes(f), f["sb_users"]
    core_id = _core_id_of(codes, f["core_users"], codes.codes["sb_users"])
    bad = pc.fill_null(pc.not_equal(core_id, _array(sb["postgres_id"])), True)
    return pc.unique(_array(sb["id"]).filter(bad))


def _table(x: Any, columns: list[str]) -> pa.Table:
    """A part given as a pandas frame (the patient page builds small ones) as an Arrow table."""
    return columnar.strings(x, columns) if isinstance(x, pd.DataFrame) else x


DRIFT_PARTS = {"firebase_auth": "fb_users", "firestore": "fs_profiles", "core": "core_users", "supabase": "sb_users"}


def patient_codes(f: dict[str, Any]) -> np.ndarray:
    """Codes of the patients: core users with role PATIENT and Firebase users with claim patient."""
    codes = _codes(f)
    a = codes.codes["core_users"][_where(f["core_users"], "role", "PATIENT")]
    b = codes.codes["fb_users"][_where(f["fb_users"], "role", "patient")]
    both = np.concatenate([a, b])
    return np.unique(both[both >= 0])


def drift_rows(f: dict[str, Any], region: str, uids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """One row per (uid, field, pair of stores) whose non-empty values differ after normalisation.

    Each store's values are normalised once (its first row per uid; for Supabase the oldest live
    user); pair by pair the rows are aligned through the uid codes, the normalised values compared,
    and the raw values read for the differing uids alone (kept if wanted: patients, or `uids`)."""
    if any(isinstance(f[p], pd.DataFrame) for p in DRIFT_PARTS.values()):  # the patient page's frames
        f = {p: _table(f[p], [UidCodes.COLUMNS[p], "email", "phone"]) for p in DRIFT_PARTS.values()}
    codes = _codes(f)
    wanted = np.zeros(codes.size, dtype=bool)
    wanted[patient_codes(f) if uids is None else codes.of(uids)] = True
    pos = {store: codes.position(part) for store, part in DRIFT_PARTS.items()}
    rows: list[dict[str, Any]] = []
    for fld in ("email", "phone"):
        normed = {}
        for store, part in DRIFT_PARTS.items():
            col = f[part][fld] if fld in f[part].column_names else pa.nulls(f[part].num_rows, pa.string())
            normed[store] = norm_email(col) if fld == "email" else norm_phone(col, region)
        for a, b in combinations(DRIFT_STORES, 2):
            both = np.flatnonzero((pos[a] >= 0) & (pos[b] >= 0) & wanted)
            ra, rb = pos[a][both], pos[b][both]
            differ = pc.fill_null(pc.not_equal(normed[a].take(pa.array(ra)), normed[b].take(pa.array(rb))), False)
            mask = differ.to_numpy(zero_copy_only=False)
            if not mask.any():
                continue
            hit, ra, rb = both[mask], ra[mask], rb[mask]
            ta, tb = DRIFT_PARTS[a], DRIFT_PARTS[b]
            va = _array(f[ta][fld]).take(pa.array(ra)).to_pylist()
            vb = _array(f[tb][fld]).take(pa.array(rb)).to_pylist()
            rows.extend({"uid": u, "field": fld, "stores": [a, b], "values": [x, y]}
                        for u, x, y in zip(codes.uids(hit).to_pylist(), va, vb, strict=True))
    rows.sort(key=lambda r: (r["uid"], r["field"], DRIFT_STORES.index(r["stores"][0]),
                             DRIFT_STORES.index(r["stores"][1])))
    return rows


def drift_key(row: dict[str, Any]) -> str:
    (a, b), (va, vb) = row["stores"], row["values"]
    return f"{row['uid']}|{row['field']}|{a}={va}|{b}={vb}"


def field_drift(f: dict[str, Any], region: str) -> Keys:
    return [drift_key(r) for r in drift_rows(f, region)]


def document_missing_in_core(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["doc_findings"]["sync.document_missing_in_core"]
    return found


def document_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    found: Found = f["doc_findings"]["sync.document_missing_in_supabase"]
    return found


def prescription_missing_in_supabase(f: dict[str, Any], region: str) -> Keys:
    core, sb = f["core_prescriptions"], f["sb_prescriptions"]
    return _array(core.join(sb, keys="url_md5", join_type="left anti").column("id"))


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
    core = f["core_users"]  # oldest first
    t = pa.table({"id": core["id"], "n": norm_phone(core["phone"], region), "i": pa.array(np.arange(core.num_rows))})
    t = t.filter(pc.is_valid(t["n"]))
    first = t.group_by("n", use_threads=False).aggregate([("i", "min")]).column("i_min")
    dup = pc.invert(pc.is_in(t["i"], value_set=_array(first)))
    return _rows_where(t, dup, "id")


def reconcile_identities(stores: Stores) -> dict[str, list[str]]:
    """Core ↔ Supabase identity reconciliation (the benchmark's unit): every core user against the
    live Supabase auth users by Firebase uid. Lists the uids missing on either side and those whose
    Supabase metadata postgres_id (oldest live user of the uid) is not the core users.id. It reads
    only the key columns (both stores at once, by COPY) and compares them on uid codes, as the
    check run does."""
    if stores.core is None or stores.supabase is None:
        raise StoreUnavailable("the reconciliation needs the core and Supabase databases")
    if not hasattr(stores.supabase, "arrow"):
        raise StoreUnavailable("supabase: the reconciliation needs SUPABASE_DB_URL")
    with ThreadPoolExecutor(max_workers=2) as pool:
        core_f = pool.submit(stores.core.arrow, "snapshot/core_user_keys")
        sb_f = pool.submit(stores.supabase.arrow, "snapshot/supabase_user_keys")  # type: ignore[union-attr]
        f = {"core_users": core_f.result(), "sb_users": sb_f.result()}
    codes = UidCodes(f)
    sb_first = codes.position("sb_users")  # code → the oldest live Supabase user of the uid
    both = np.flatnonzero((sb_first >= 0) & codes.present("core_users"))
    core_id = _core_id_of(codes, f["core_users"], both)
    postgres_id = _take(f["sb_users"]["postgres_id"], sb_first[both])
    mismatch = pc.fill_null(pc.not_equal(core_id, postgres_id), True).to_numpy(zero_copy_only=False)
    return {
        "missing_in_supabase": sorted(codes.missing("core_users", None, "sb_users").to_pylist()),
        "missing_in_core": sorted(codes.missing("sb_users", None, "core_users").to_pylist()),
        "postgres_id_mismatch": sorted(codes.uids(both[mismatch]).to_pylist()),
    }


# A cross-store check: the Snapshot frames and the default phone region in, its keys out. The check
# entries of lib.checks.ids name these functions (and the parts they read) by name.
SnapshotFn = Callable[[dict[str, Any], str], Keys]
