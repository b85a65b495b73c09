"""The cross-store checks, set-based: each store's keys are read once per run into a Snapshot
(Firebase Auth listed once, 1,000 a page; Firestore streamed; PostgreSQL by COPY), then compared
in bulk with pandas. Never a query per patient."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pandas as pd

from lib import normalize
from lib.errors import StoreUnavailable, safe_message
from lib.stores import Stores

# store order used in drift keys and pairs
DRIFT_STORES = ("firebase_auth", "firestore", "core", "supabase")


def _core_users(s: Stores) -> pd.DataFrame:
    assert s.core is not None
    return s.core.frame("core/identities")


def _sb_users(s: Stores) -> pd.DataFrame:
    assert s.supabase is not None
    return s.supabase.identities_frame()


def _fb_users(s: Stores) -> pd.DataFrame:
    assert s.firebase is not None
    return s.firebase.users_frame()


def _fs_profiles(s: Stores) -> pd.DataFrame:
    assert s.firebase is not None
    return s.firebase.profiles_frame(["email", "phone"])


def _core_doc_ids(s: Stores) -> pd.DataFrame:
    assert s.core is not None
    return s.core.frame("core/document_ids")


def _core_prescriptions(s: Stores) -> pd.DataFrame:
    assert s.core is not None
    return s.core.frame("core/prescription_urls")


def _sb_docs(s: Stores) -> pd.DataFrame:
    assert s.supabase is not None
    return s.supabase.documents_frame()


def _sb_connections(s: Stores) -> pd.DataFrame:
    assert s.supabase is not None
    return s.supabase.connections_frame()


# part name -> (the store part it needs, loader)
PARTS: dict[str, tuple[str, Callable[[Stores], pd.DataFrame]]] = {
    "core_users": ("core", _core_users),
    "core_doc_ids": ("core", _core_doc_ids),
    "core_prescriptions": ("core", _core_prescriptions),
    "sb_users": ("supabase", _sb_users),
    "sb_docs": ("supabase", _sb_docs),
    "sb_connections": ("supabase", _sb_connections),
    "fb_users": ("firebase_auth", _fb_users),
    "fs_profiles": ("firestore", _fs_profiles),
}


@dataclass
class Snapshot:
    """Each store's keys, read once per run."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, stores: Stores, parts: set[str], down: dict[str, str], secrets: list[str]) -> Snapshot:
        snap = cls()

        def one(part: str) -> tuple[str, pd.DataFrame | None, str | None, float]:
            store_part, loader = PARTS[part]
            if store_part in down:
                return part, None, down[store_part], 0.0
            t0 = time.perf_counter()
            try:
                return part, loader(stores), None, time.perf_counter() - t0
            except StoreUnavailable as exc:
                return part, None, str(exc), time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 - a broken part must not sink the run
                return part, None, f"{store_part}: {safe_message(exc, secrets)}", time.perf_counter() - t0

        with ThreadPoolExecutor(max_workers=max(1, min(6, len(parts)))) as pool:
            for part, frame, err, secs in pool.map(one, sorted(parts)):
                snap.seconds[part] = secs
                if frame is not None:
                    snap.frames[part] = frame
                else:
                    snap.errors[part] = err or f"{part}: not available"
        return snap


def _truthy(col: pd.Series) -> pd.Series:
    return col.astype(str).str.lower().isin(["t", "true", "1"])


def _live_sb(sb: pd.DataFrame) -> pd.DataFrame:
    return sb[~_truthy(sb["deleted"])]


def _col_set(df: pd.DataFrame, col: str) -> set[str]:
    return set(df[col].dropna().astype(str))


# ---------------------------------------------------------------------- the checks
def firebase_user_missing_in_core(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    fb, core = f["fb_users"], f["core_users"]
    patients = fb[fb["role"] == "patient"]
    return sorted(set(patients["uid"]) - _col_set(core, "firebase_uid"))


def core_user_missing_in_firebase(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    return sorted(_col_set(f["core_users"], "firebase_uid") - set(f["fb_users"]["uid"]))


def patient_missing_in_supabase(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    core = f["core_users"]
    patients = core[_truthy(core["is_patient"])]
    return sorted(_col_set(patients, "firebase_uid") - _col_set(_live_sb(f["sb_users"]), "firebase_uid"))


def supabase_user_unknown(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    core = f["core_users"].dropna(subset=["firebase_uid"])
    ids = dict(zip(core["firebase_uid"], core["id"], strict=True))
    live = _live_sb(f["sb_users"])
    out = []
    for sid, uid, pid in zip(live["id"], live["firebase_uid"], live["postgres_id"], strict=True):
        if not isinstance(uid, str) or uid not in ids or ids[uid] != pid:
            out.append(sid)
    return sorted(out)


def profile_missing(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    core = f["core_users"]
    patients = core[_truthy(core["is_patient"])]
    return sorted(_col_set(patients, "firebase_uid") - set(f["fs_profiles"]["uid"]))


def _store_values(f: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per store: uid -> raw email and phone (Supabase: the oldest live user of each uid)."""
    core = f["core_users"].dropna(subset=["firebase_uid"]).rename(columns={"firebase_uid": "uid"})
    sb = _live_sb(f["sb_users"]).dropna(subset=["firebase_uid"]).sort_values(["created_at", "id"])
    sb = sb.drop_duplicates("firebase_uid").rename(columns={"firebase_uid": "uid"})
    return {
        "firebase_auth": f["fb_users"],
        "firestore": f["fs_profiles"],
        "core": core,
        "supabase": sb,
    }


def patient_uids(f: dict[str, pd.DataFrame]) -> set[str]:
    core, fb = f["core_users"], f["fb_users"]
    return set(core.loc[core["role"] == "PATIENT", "firebase_uid"].dropna()) | set(fb.loc[fb["role"] == "patient", "uid"])


def drift_rows(f: dict[str, pd.DataFrame], region: str, uids: set[str] | None = None) -> list[dict[str, Any]]:
    """One row per (uid, field, pair of stores) whose non-empty values differ after normalisation."""
    uids = patient_uids(f) if uids is None else uids
    values = _store_values(f)
    wide = pd.DataFrame(index=sorted(uids))
    norm = {"email": normalize.email, "phone": lambda v: normalize.phone(v, region)}
    for store, df in values.items():
        df = df[df["uid"].isin(uids)].set_index("uid")
        for fld in ("email", "phone"):
            raw = df[fld] if fld in df.columns else pd.Series(dtype=object)
            wide[f"{store}:{fld}"] = raw.reindex(wide.index)
            uniq = {v: norm[fld](v) for v in wide[f"{store}:{fld}"].dropna().unique()}
            wide[f"{store}:{fld}:n"] = wide[f"{store}:{fld}"].map(uniq)
    rows: list[dict[str, Any]] = []
    for fld in ("email", "phone"):
        for a, b in combinations(DRIFT_STORES, 2):
            na, nb = wide[f"{a}:{fld}:n"], wide[f"{b}:{fld}:n"]
            mask = na.notna() & nb.notna() & (na != nb)
            for uid in wide.index[mask]:
                rows.append({"uid": uid, "field": fld, "stores": [a, b],
                             "values": [wide.at[uid, f"{a}:{fld}"], wide.at[uid, f"{b}:{fld}"]]})
    return rows


def drift_key(row: dict[str, Any]) -> str:
    (a, b), (va, vb) = row["stores"], row["values"]
    return f"{row['uid']}|{row['field']}|{a}={va}|{b}={vb}"


def field_drift(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    return sorted(drift_key(r) for r in drift_rows(f, region))


def document_missing_in_core(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    sb = f["sb_docs"]
    return sorted(set(sb.loc[sb["status"] == "processed", "id"]) - set(f["core_doc_ids"]["id"]))


def document_missing_in_supabase(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    return sorted(set(f["core_doc_ids"]["id"]) - set(f["sb_docs"]["id"]))


def prescription_missing_in_supabase(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    sb = f["sb_docs"]
    urls = _col_set(sb[sb["type"] == "prescription"], "file_url")
    pr = f["core_prescriptions"]
    return sorted(pr.loc[~pr["pdf_url"].isin(urls), "id"])


def supabase_documents_patient(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    sb = f["sb_docs"]
    return sorted(sb.loc[~sb["patient_id"].isin(set(f["fb_users"]["uid"])), "id"])


def connections_patient(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    c = f["sb_connections"]
    return sorted(c.loc[~c["patient_firebase_uid"].isin(set(f["fb_users"]["uid"])), "id"])


def core_users_phone(f: dict[str, pd.DataFrame], region: str) -> list[str]:
    core = f["core_users"].copy()
    uniq = {v: normalize.phone(v, region) for v in core["phone"].dropna().unique()}
    core["n"] = core["phone"].map(uniq)
    core = core.dropna(subset=["n"]).sort_values(["created_at", "id"])
    return sorted(core.loc[core.duplicated("n", keep="first"), "id"])


SnapshotFn = Callable[[dict[str, pd.DataFrame], str], list[str]]
SNAPSHOT_CHECKS: dict[str, tuple[tuple[str, ...], SnapshotFn]] = {
    "sync.firebase_user_missing_in_core": (("fb_users", "core_users"), firebase_user_missing_in_core),
    "sync.core_user_missing_in_firebase": (("core_users", "fb_users"), core_user_missing_in_firebase),
    "sync.patient_missing_in_supabase": (("core_users", "sb_users"), patient_missing_in_supabase),
    "sync.supabase_user_unknown": (("core_users", "sb_users"), supabase_user_unknown),
    "sync.profile_missing": (("core_users", "fs_profiles"), profile_missing),
    "sync.field_drift": (("core_users", "sb_users", "fb_users", "fs_profiles"), field_drift),
    "sync.document_missing_in_core": (("sb_docs", "core_doc_ids"), document_missing_in_core),
    "sync.document_missing_in_supabase": (("core_doc_ids", "sb_docs"), document_missing_in_supabase),
    "sync.prescription_missing_in_supabase": (("core_prescriptions", "sb_docs"), prescription_missing_in_supabase),
    "orphan.supabase_documents_patient": (("sb_docs", "fb_users"), supabase_documents_patient),
    "orphan.connections_patient": (("sb_connections", "fb_users"), connections_patient),
    "dup.core_users_phone": (("core_users",), core_users_phone),
}
