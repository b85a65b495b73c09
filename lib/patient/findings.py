"""Per-patient findings: the checks that involve one patient, with the keys the checks report.

Derived from the check definitions where that keeps both the result and an indexed lookup:

- SQL checks run as their own file (lib.checks.registry: `.sql`, `.params`) filtered by the
  patient's keys, `SELECT f.key FROM (<the check's SQL>) AS f WHERE f.key = ANY(:patient_keys)`
  (`sql_check_keys`): sync.jobs_failed, sync.jobs_stuck and pulse.sync_lag (the patient's job ids
  are the keys), pulse.documents_unprocessed (the patient's Supabase document ids).
  (pulse.count_anomaly names checks, not patients: it has no per-patient view.)
- Cross-store checks run as lib.checks.sync's own functions on Arrow tables shaped as the run's
  snapshot but holding only these patients' rows (`derive`): sync.firebase_user_missing_in_core,
  sync.core_user_missing_in_firebase, sync.patient_missing_in_supabase, sync.profile_missing,
  sync.supabase_user_unknown, sync.field_drift (sync.drift_rows) and dup.core_users_phone.

The other rules are still written per patient, in `findings_of` over flags that the per-patient SQL
files (sql/core/patient_*, sql/supabase/patient_*) compute. Why, check by check:

- orphan.* and token.* SQL checks, dup.access_tokens, dup.active_connections, dup.medications,
  dup.supabase_users_firebase_uid, dup.core_users_email: their key is `id::text` and most rank a
  whole table with a window, so the filtered check cannot use an index: it reads the whole table
  on every lookup (millions of rows at the bench's sizes) where the per-patient SQL reads the
  patient's rows by index. Same rule, two statements.
- sync.document_missing_in_core / _in_supabase, sync.prescription_missing_in_supabase: the check
  compares id and URL-hash sets read by COPY inside its snapshot loader, not a function of rows.
- orphan.supabase_documents_patient, orphan.connections_patient: pushed down to Supabase with every
  Firebase uid as a parameter; per patient it is "Firebase Auth has no such user".
- identity.disabled_live_in_supabase, token.active_for_disabled_patient: pushed down with the
  disabled uids; per patient it is "the Firebase Auth user is disabled" and the Supabase user's
  banned_now (sql/supabase/patient_users) or the connection's active_unexpired flag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from lib import normalize
from lib.checks import sync
from lib.checks.ids import BY_ID, SEVERITY_RANK
from lib.checks.registry import ONLY_KEYS, REGISTRY
from lib.config import Settings
from lib.patient.query import PARTS
from lib.patient.view import Finding, PatientView
from lib.sqlfiles import load as load_sql
from lib.stores import columnar

# the SQL checks derived by filtering their own file: keys the patient's core sync job ids, and the
# patient's Supabase document ids
JOB_CHECKS = ("sync.jobs_failed", "sync.jobs_stuck", "pulse.sync_lag")
DOCUMENT_CHECKS = ("pulse.documents_unprocessed",)

# the cross-store checks derived by running lib.checks.sync's function on the patients' rows
IDENTITY_CHECKS: dict[str, Callable[[dict[str, Any], str], sync.Keys]] = {
    "sync.firebase_user_missing_in_core": sync.firebase_user_missing_in_core,
    "sync.core_user_missing_in_firebase": sync.core_user_missing_in_firebase,
    "sync.patient_missing_in_supabase": sync.patient_missing_in_supabase,
    "sync.profile_missing": sync.profile_missing,
    "sync.supabase_user_unknown": sync.supabase_user_unknown,
}

# A check's own statement (never a value: the file's text) filtered by bound keys.
_FILTERED = "SELECT f.key FROM (\n{check}\n) AS f WHERE f.key = ANY(CAST(:patient_keys AS text[]))"


def sql_check_keys(conn: Connection, settings: Settings, check_id: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` the SQL check `check_id` reports: its file, with its parameters, as a subquery."""
    keys = sorted(set(keys))
    check = REGISTRY[check_id]
    if not keys:
        return set()
    if check.kind != "sql" or check.sql is None:
        raise ValueError(f"{check_id} is not a SQL check")
    stmt = _FILTERED.format(check=load_sql(check.sql).text.strip().rstrip(";"))
    params = (check.params(settings) if check.params else {}) | {"patient_keys": keys}
    if check.keyed:  # the file itself reads only these rows, by its table's key
        params[ONLY_KEYS] = keys
    return {str(r[0]) for r in conn.execute(text(stmt), params)}


@dataclass
class Derived:
    """What the check definitions say about one patient: drift rows and keys per check."""

    drift: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)


def snapshot_frames(first: dict[str, Any], core: dict[str, Any], sb: dict[str, Any]) -> dict[str, Any]:
    """The patients' rows as the check run's snapshot parts (lib.checks.sync.PARTS): Arrow tables of
    strings with the snapshot's columns, the Supabase users live only and oldest first."""
    fb = (first.get("firebase_auth") or {}).values()
    fs = [{**doc, "uid": uid} for uid, doc in (first.get("firestore") or {}).items()]
    users = [u | {"is_patient": "t" if u["patient_id"] is not None else "f"} for u in core.get("users", [])]
    live = sorted((u for u in sb.get("users", []) if not u["deleted_at"]), key=lambda u: (u["created_at"], str(u["id"])))
    return {
        "fb_users": columnar.records(fb, ["uid", "email", "phone", "role"]),
        "fs_profiles": columnar.records(fs, ["uid", "email", "phone"]),
        "core_users": columnar.records(users, ["id", "firebase_uid", "email", "phone", "role", "is_patient"]),
        "sb_users": columnar.records(live, ["id", "firebase_uid", "postgres_id", "email", "phone"]),
    }


def derive(first: dict[str, Any], core: dict[str, Any], sb: dict[str, Any], uids: list[str], down: dict[str, str],
           region: str) -> dict[str, Derived]:
    """Every patient's drift and cross-store findings at once, by lib.checks.sync's own functions
    (a check that reads a part that is down is left out, as the check run does)."""
    frames = snapshot_frames(first, core, sb)
    try:
        return _derive(frames, core, uids, down, region)
    finally:
        sync.close_engine(frames)  # the small engine the checks made for these frames


def _derive(frames: dict[str, Any], core: dict[str, Any], uids: list[str], down: dict[str, str],
            region: str) -> dict[str, Derived]:
    out = {uid: Derived() for uid in uids}
    for r in sync.drift_rows(frames, region, set(uids)):
        out[r["uid"]].drift.append(r | {"check": "sync.field_drift"})
    owner = {uid: uid for uid in uids} | {
        str(i): str(u) for i, u in zip(frames["sb_users"]["id"].to_pylist(),
                                       frames["sb_users"]["firebase_uid"].to_pylist(), strict=True)}
    for check_id, fn in IDENTITY_CHECKS.items():
        if any(p in down for p in BY_ID[check_id].stores):
            continue
        for key in sync.finish(fn(frames, region)).keys:
            if (uid := owner.get(key)) in out:
                out[uid].keys.setdefault(check_id, []).append(key)
    if "core" not in down:
        by_phone = _phone_surplus(core.get("same_phone", []), region)
        for u in core.get("users", []):
            mine = normalize.phone(u["phone"], region)
            if u["firebase_uid"] in out and mine in by_phone:
                out[u["firebase_uid"]].keys["dup.core_users_phone"] = by_phone[mine]
    return out


def _phone_surplus(same_phone: list[dict[str, Any]], region: str) -> dict[str, list[str]]:
    """dup.core_users_phone (lib.checks.sync.core_users_phone) over the users sharing a phone tail
    with the patients (oldest first, as the snapshot), by normalised phone: every group the patients
    belong to is whole there, so its surplus is the check's."""
    if not same_phone:
        return {}
    table = columnar.records(same_phone, ["id", "phone"])
    frames: dict[str, Any] = {"core_users": table}
    try:
        surplus = set(sync.finish(sync.core_users_phone(frames, region)).keys)
    finally:
        sync.close_engine(frames)
    out: dict[str, list[str]] = {}
    for r in same_phone:
        phone = normalize.phone(r["phone"], region)
        if r["id"] in surplus and phone is not None:
            out.setdefault(phone, []).append(r["id"])
    return out


def findings_of(view: PatientView, user: dict[str, Any] | None, live: list[dict[str, Any]], core: dict[str, Any],
                region: str, derived: Derived) -> list[Finding]:
    """The findings of the checks that involve this patient, with the keys the checks would report."""
    down = view.down
    up = {p: p not in down for p in PARTS}
    found: dict[str, list[str]] = {}

    def add(check: str, keys: Iterable[Any]) -> None:
        keys = [str(k) for k in keys]
        if keys:
            found.setdefault(check, []).extend(keys)

    uid = view.uid
    fb = view.stores["firebase_auth"]
    is_patient = (user is not None and user["role"] == "PATIENT") or (fb is not None and fb.get("role") == "patient")
    for check, keys in derived.keys.items():
        add(check, keys)
    if is_patient:
        add("sync.field_drift", [sync.drift_key(r | {"uid": uid}) for r in view.drift
                                 if r["check"] == "sync.field_drift"])
    checked: dict[str, set[str]] = core.get("checked", {})
    for check in JOB_CHECKS:
        add(check, [j["id"] for j in view.sync_jobs if str(j["id"]) in checked.get(check, set())])
    for check in DOCUMENT_CHECKS:
        add(check, [d["id"] for d in view.documents if d["in_supabase"] and str(d["id"]) in checked.get(check, set())])
    # the rules below live twice (here or in the per-patient SQL, and in the check): see the docstring
    for d in view.documents:
        if d["in_supabase"] and not d["in_core"] and d["status"] == "processed" and up["core"]:
            add("sync.document_missing_in_core", [d["id"]])
        if d["in_core"] and not d["in_supabase"] and up["supabase"]:
            add("sync.document_missing_in_supabase", [d["id"]])
        if d["in_core"] and d["core_patient_ok"] is False:
            add("orphan.documents_patient", [d["id"]])
        if d["in_supabase"] and d["file_in_storage"] is False:
            add("orphan.documents_file_missing", [d["id"]])
        if d["in_supabase"] and up["firebase_auth"] and fb is None:
            add("orphan.supabase_documents_patient", [d["id"]])
    add("sync.prescription_missing_in_supabase", [p["id"] for p in view.prescriptions if p["reached_supabase"] is False])
    add("orphan.prescriptions_appointment", [p["id"] for p in view.prescriptions if not p["appointment_ok"]])
    if user is not None:
        add("dup.core_users_email", _surplus(core.get("same_email", []), user,
                                             lambda r: normalize.email(r["email"])))
    add("dup.medications", [m["id"] for m in view.medications if m["duplicate"]])
    add("orphan.medications_document", [m["id"] for m in view.medications if m["document_missing"]])
    add("dup.supabase_users_firebase_uid", [u["id"] for u in live[1:]])
    add("orphan.appointments_patient", [a["id"] for a in view.appointments if not a["patient_ok"]])
    add("orphan.session_notes_patient", [n["id"] for n in view.session_notes if not n["patient_ok"]])
    for c in view.connections:
        if c["expired_active"]:
            add("token.expired_active", [c["id"]])
        if c["expiring_soon"]:
            add("token.expiring_soon", [c["id"]])
        if c["unused_expired"]:
            add("token.unused_expired", [c["id"]])
        if c["token_duplicate"]:
            add("dup.access_tokens", [c["id"]])
        if c["duplicate_active"]:
            add("dup.active_connections", [c["id"]])
    if up["firebase_auth"] and fb is None:
        add("orphan.connections_patient", [c["id"] for c in view.connections])
    if up["firebase_auth"] and up["supabase"] and fb is not None and fb.get("disabled"):  # access
        if any(not u["banned_now"] for u in live):
            add("identity.disabled_live_in_supabase", [uid])
        add("token.active_for_disabled_patient", [c["id"] for c in view.connections if c["active_unexpired"]])
    add("orphan.rag_chunks_document", [c["id"] for c in view.orphan_chunks])
    add("orphan.storage_objects", [o["name"] for o in view.orphan_files])

    out = []
    for check, keys in found.items():
        info = BY_ID[check]
        out.append(Finding(check, info.severity, info.title, info.fix, sorted(set(keys))))
    out.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.check))
    return out


def _surplus(rows: list[dict[str, Any]], user: dict[str, Any], key: Callable[[dict[str, Any]], Any]) -> list[str]:
    """The surplus users (all but the oldest) of the group `user` belongs to, if it has more than one."""
    mine = key(user)
    if mine is None:
        return []
    group = sorted((r for r in rows if key(r) == mine), key=lambda r: (r["created_at"], r["id"]))
    if len(group) < 2 or not any(r["id"] == user["id"] for r in group):
        return []
    return [r["id"] for r in group[1:]]

