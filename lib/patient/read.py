"""Load: each patient (by Firebase UID) as every store holds them, with their rows across the
sync points, in two waves of parallel reads (`load`); and `lookup`, search then load.

Every query takes the whole list of patients (`= ANY(:uids)`): never a round trip per patient.
The findings and the drift of each patient come from lib.patient.findings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lib.patient import findings
from lib.patient.access import firebase_store, in_parallel, pg_store, rows
from lib.patient.drift import compare
from lib.patient.query import PARTS, UUID_RE
from lib.patient.resolve import Search, search
from lib.patient.view import PatientView
from lib.phi import without_url_secrets
from lib.stores import Stores
from lib.stores.firebase import PROFILE_FIELDS

JOBS_LIMIT = 2000


def _uuids(values: Iterable[Any]) -> list[str]:
    return sorted({str(v) for v in values if v is not None and UUID_RE.match(str(v))})


def _core_detail(stores: Stores, uids: list[str]) -> dict[str, Any]:
    core = pg_store(stores, "core")
    out: dict[str, Any] = {}
    with core.read() as conn:
        users = rows(conn, "core/patient_identity", uids=uids)
        out["users"] = users
        refs = _uuids([u["id"] for u in users] + [u["patient_id"] for u in users])
        out["documents"] = rows(conn, "core/patient_documents", refs=refs, ids=[])
        out["medications"] = rows(conn, "core/patient_medications", refs=refs)
        out["appointments"] = rows(conn, "core/patient_appointments", refs=refs)
        out["session_notes"] = rows(conn, "core/patient_session_notes", refs=refs)
        jobs = rows(conn, "core/patient_sync_jobs", uids=uids, limit=JOBS_LIMIT)
        # failed and stuck as the checks themselves say, their own SQL filtered by these job ids
        job_keys = [str(j["id"]) for j in jobs]
        out["checked"] = {c: findings.sql_check_keys(conn, stores.settings, c, job_keys) for c in findings.JOB_CHECKS}
        for j in jobs:
            j["stuck"] = str(j["id"]) in out["checked"]["sync.jobs_stuck"]
        out["sync_jobs"] = jobs
        job_ids = _uuids(j["entity_id"] for j in jobs if j["kind"] == "prescription")
        out["prescriptions"] = rows(conn, "core/patient_prescriptions",
                                  appointment_ids=_uuids(a["id"] for a in out["appointments"]), ids=job_ids)
        # the users sharing an email or a phone with these patients (dup.core_users_email / _phone)
        emails = sorted({e.strip().lower() for e in (u["email"] for u in users) if e and e.strip()})
        out["same_email"] = rows(conn, "core/patient_by_email", emails=emails) if emails else []
        tails = sorted({re.sub(r"\D", "", p)[-7:] for p in (u["phone"] for u in users) if p and re.sub(r"\D", "", p)})
        out["same_phone"] = rows(conn, "core/patient_by_phone", tails=tails) if tails else []
    return out


def _supabase_detail(stores: Stores, uids: list[str]) -> dict[str, Any]:
    sb = pg_store(stores, "supabase")
    out: dict[str, Any] = {}
    with sb.read() as conn:
        out["users"] = rows(conn, "supabase/patient_users", uids=uids)
        out["documents"] = rows(conn, "supabase/patient_documents", uids=uids, ids=[])
        doc_keys = [str(d["id"]) for d in out["documents"]]  # the checks' own SQL filtered by these ids
        out["checked"] = {c: findings.sql_check_keys(conn, stores.settings, c, doc_keys)
                          for c in findings.DOCUMENT_CHECKS}
        out["connections"] = rows(conn, "supabase/patient_connections", uids=uids,
                                hours=stores.settings.token_expiring_hours)
        out["orphan_chunks"] = rows(conn, "supabase/patient_orphan_chunks", uids=uids)
        out["orphan_files"] = rows(conn, "supabase/patient_orphan_files", uids=uids)
    return out


def _firebase_users(stores: Stores, uids: list[str]) -> dict[str, dict[str, Any]]:
    return {u["uid"]: u for u in firebase_store(stores, "firebase_auth").get_users(uids)}


def _firestore_profiles(stores: Stores, uids: list[str]) -> dict[str, dict[str, Any]]:
    """Each profile with the known fields first, then whatever else the document holds."""
    docs = firebase_store(stores, "firestore").get_profiles(uids)
    return {uid: {k: doc[k] for k in PROFILE_FIELDS if k in doc} | doc for uid, doc in docs.items()}


def load(stores: Stores, uids: list[str], known_down: dict[str, str] | None = None) -> list[PatientView]:
    """Each patient (by Firebase UID) in every store, their data and their findings, in `uids` order.

    Two waves of parallel reads, each one query per table for all the patients: first every store
    by UID, then the cross references (core documents of the patients' Supabase documents and back,
    and where their prescriptions' PDFs landed in Supabase). Parts in `known_down` (what search()
    found down a moment ago) are reported down without asking them again."""
    uids = list(dict.fromkeys(u for u in uids if u))
    if not uids:
        return []
    known_down = {p: e for p, e in (known_down or {}).items() if p in PARTS}
    readers: dict[str, Callable[[], Any]] = {
        "firebase_auth": lambda: _firebase_users(stores, uids),
        "firestore": lambda: _firestore_profiles(stores, uids),
        "core": lambda: _core_detail(stores, uids),
        "supabase": lambda: _supabase_detail(stores, uids),
    }
    first, down = in_parallel(stores, {p: fn for p, fn in readers.items() if p not in known_down})
    down.update(known_down)
    core: dict[str, Any] = first.get("core") or {}
    sb: dict[str, Any] = first.get("supabase") or {}
    if core or sb:  # the SQL checks filtered by the patients' keys, whichever store answered
        core["checked"] = {**core.get("checked", {}), **sb.get("checked", {})}

    # wave 2: the other side of each document, and where the prescriptions' PDFs are
    core_doc_ids = {d["id"] for d in core.get("documents", [])}
    sb_doc_ids = {d["id"] for d in sb.get("documents", [])}
    sb_urls = {d["file_url"] for d in sb.get("documents", []) if d["type"] == "prescription"}
    urls = sorted({p["pdf_url"] for p in core.get("prescriptions", []) if p["pdf_url"] and p["pdf_url"] not in sb_urls})
    second_tasks: dict[str, Callable[[], Any]] = {}
    need_core = sorted(sb_doc_ids - core_doc_ids)
    need_sb = sorted(core_doc_ids - sb_doc_ids)
    if "core" in first and need_core:
        def core_docs() -> Any:
            with pg_store(stores, "core").read() as conn:
                return rows(conn, "core/patient_documents", refs=[], ids=need_core)
        second_tasks["core"] = core_docs
    if "supabase" in first and (need_sb or urls):
        def sb_docs() -> Any:
            with pg_store(stores, "supabase").read() as conn:
                docs = rows(conn, "supabase/patient_documents", uids=[], ids=need_sb) if need_sb else []
                landed = rows(conn, "supabase/patient_prescription_documents", urls=urls) if urls else []
                return docs, landed
        second_tasks["supabase"] = sb_docs
    second, down2 = in_parallel(stores, second_tasks)
    for part, err in down2.items():
        down.setdefault(part, err)
    if "core" in second:
        core["documents"] = core.get("documents", []) + second["core"]
    landed: list[dict[str, Any]] = []
    if "supabase" in second:
        more, landed = second["supabase"]
        sb["documents"] = sb.get("documents", []) + more
    for part, info in (("firebase_auth", first.get("firebase_auth")), ("firestore", first.get("firestore"))):
        if info is None and part not in down:
            down[part] = f"{part}: not available"
    derived = findings.derive(first, core, sb, uids, down, stores.settings.phone_default_region)
    # what leaves lib carries no signed URL's token (the CLI's JSON, the page's tables, every role)
    return [without_url_secrets(_view(stores, uid, first, core, sb, landed, down, derived.get(uid)))
            for uid in uids]


def _view(stores: Stores, uid: str, first: dict[str, Any], core: dict[str, Any], sb: dict[str, Any],
          landed: list[dict[str, Any]], down: dict[str, str], derived: findings.Derived | None) -> PatientView:
    region = stores.settings.phone_default_region
    fb_user = (first.get("firebase_auth") or {}).get(uid)
    profile = (first.get("firestore") or {}).get(uid)
    user = next((u for u in core.get("users", []) if u["firebase_uid"] == uid), None)
    refs = {user["id"], user["patient_id"]} - {None} if user else set()
    sb_all = [u for u in sb.get("users", []) if u["firebase_uid"] == uid]
    live = [u for u in sb_all if u["deleted_at"] is None]
    kept = live[0] if live else None
    sb_users = []
    for u in sb_all:
        state = ("the patient's (oldest live)" if u is kept else
                 "extra live user (duplicate)" if u["deleted_at"] is None else "deleted")
        sb_users.append(u | {"state": state})

    core_rec = None
    if user is not None:
        core_rec = {k: user[k] for k in ("id", "firebase_uid", "email", "phone", "role", "verified", "created_at",
                                         "updated_at", "patient_id", "full_name", "date_of_birth")}
    sb_rec = None
    if kept is not None:
        sb_rec = {k: kept[k] for k in ("id", "firebase_uid", "postgres_id", "name", "email", "phone", "created_at",
                                       "last_sign_in_at", "banned_until")}
        sb_rec["other_users"] = len(sb_all) - 1
    view = PatientView(
        uid=uid,
        stores={"firebase_auth": fb_user, "firestore": profile, "core": core_rec, "supabase": sb_rec},
        down={p: down[p] for p in PARTS if p in down},
        supabase_users=sb_users,
    )

    # the patient's rows
    sb_docs = {d["id"]: d for d in sb.get("documents", []) if d["patient_id"] == uid}
    core_docs_all = core.get("documents", [])
    core_docs = {d["id"]: d for d in core_docs_all if d["patient_id"] in refs or d["id"] in sb_docs}
    for d in sb.get("documents", []):  # a Supabase document filed under another uid whose core row is this patient's
        if d["id"] in core_docs and d["id"] not in sb_docs:
            sb_docs[d["id"]] = d
    view.documents = _documents(sb_docs, core_docs, "core" in down, "supabase" in down)
    view.medications = [m for m in core.get("medications", []) if m["patient_id"] in refs]
    view.appointments = [a | {"carries": _carries(a["patient_id"], user)}
                         for a in core.get("appointments", []) if a["patient_id"] in refs]
    view.session_notes = [n | {"carries": _carries(n["patient_id"], user)}
                          for n in core.get("session_notes", []) if n["patient_id"] in refs]
    view.sync_jobs = [j for j in core.get("sync_jobs", []) if j["patient_firebase_uid"] == uid]
    appt_ids = {a["id"] for a in view.appointments}
    job_ids = {j["entity_id"] for j in view.sync_jobs if j["kind"] == "prescription"}
    sb_by_url: dict[str, list[dict[str, Any]]] = {}
    for d in [*sb_docs.values(), *landed]:
        sb_by_url.setdefault(d["file_url"], []).append(d)
    view.prescriptions = [_prescription(p, sb_by_url, "supabase" in down) for p in core.get("prescriptions", [])
                          if p["appointment_id"] in appt_ids or p["id"] in job_ids]
    view.connections = [_connection(c) for c in sb.get("connections", []) if c["patient_firebase_uid"] == uid]
    view.orphan_chunks = [c for c in sb.get("orphan_chunks", []) if c["patient_id"] == uid]
    view.orphan_files = [o for o in sb.get("orphan_files", []) if o["name"].startswith(f"{uid}/")]

    derived = derived or findings.Derived()
    view.comparison, view.drift = compare(view, derived.drift, region)
    view.findings = findings.findings_of(view, user, live, core, region, derived)
    return view


def _carries(ref: str, user: dict[str, Any] | None) -> str:
    if user is None:
        return ""
    return "user id" if ref == user["id"] else "patients.id" if ref == user["patient_id"] else ""


def _documents(sb_docs: dict[str, dict[str, Any]], core_docs: dict[str, dict[str, Any]], core_down: bool,
               sb_down: bool) -> list[dict[str, Any]]:
    out = []
    for doc_id in list(dict.fromkeys([*sb_docs, *core_docs])):
        s, c = sb_docs.get(doc_id), core_docs.get(doc_id)
        problems = []
        if s is not None and c is None and not core_down:
            problems.append("missing in core" if s["status"] == "processed" else f"not synced yet ({s['status']})")
        if c is not None and s is None and not sb_down:
            problems.append("missing in Supabase")
        if s is not None and not s["file_present"]:
            problems.append("file missing in storage")
        if c is not None and not c["patient_ok"]:
            problems.append("core row points at no patient")
        out.append({
            "id": doc_id,
            "type": (s or c or {}).get("type"),
            "status": s["status"] if s else None,
            "in_supabase": s is not None,
            "in_core": c is not None,
            "file_in_storage": s["file_present"] if s else None,
            "rag_chunks": int(s["rag_chunks"]) if s else None,
            "core_patient_id": c["patient_id"] if c else None,
            "core_patient_ok": c["patient_ok"] if c else None,
            "state": "; ".join(problems) or ("in both" if s is not None and c is not None else "—"),
            "created_at": (s or c or {}).get("created_at"),
            "file_url": (s or c or {}).get("file_url"),
        })
    return sorted(out, key=lambda d: str(d["created_at"] or ""), reverse=True)


def _prescription(p: dict[str, Any], sb_by_url: dict[str, list[dict[str, Any]]], sb_down: bool) -> dict[str, Any]:
    there = sb_by_url.get(p["pdf_url"] or "", [])
    reached = any(d["type"] == "prescription" for d in there)
    if sb_down:
        state = "unknown (Supabase down)"
    elif reached:
        state = "in Supabase"
    elif there:
        state = f"in Supabase as {there[0]['type']}, not as a prescription"
    else:
        state = "missing in Supabase"
    meds = (p.get("summary_json") or {}).get("medications") if isinstance(p.get("summary_json"), dict) else None
    return {
        "id": p["id"], "appointment_id": p["appointment_id"], "appointment_ok": p["appointment_ok"],
        "reached_supabase": None if sb_down else reached, "state": state, "pdf_url": p["pdf_url"],
        "medications": ", ".join(f"{m.get('name')} {m.get('strength')}" for m in meds or [] if isinstance(m, dict)),
        "created_at": p["created_at"],
    }


def _connection(c: dict[str, Any]) -> dict[str, Any]:
    if c["expired_active"]:
        state = "expired but active"
    elif c["expiring_soon"]:
        state = "expiring soon"
    elif c["is_active"]:
        state = "active"
    else:
        state = "inactive"
    notes = []
    if c["unused_expired"]:
        notes.append("expired, never used by a doctor")
    elif c["doctor_firebase_uid"] is None:
        notes.append("not used by a doctor yet")
    if c["token_shared_by"] > 1:
        notes.append(f"token shared by {c['token_shared_by']} connections")
    if c["duplicate_active"]:
        notes.append("a newer active connection to the same doctor exists")
    return c | {"state": state, "notes": "; ".join(notes), "token": f"…{c['token_tail']}"}


# ---------------------------------------------------------------------- one call: query -> matches
@dataclass
class Lookup:
    search: Search
    matches: list[PatientView]

    @property
    def found(self) -> bool:
        return bool(self.matches)

    def to_json(self) -> dict[str, Any]:
        s = self.search
        return {
            "query": s.query.raw,
            "kind": s.query.kind,
            "message": s.message,
            "matches": [m.to_json() for m in self.matches],
            "candidates": [{"firebase_uid": c.uid, "name": c.name, "email": c.email, "found": c.found}
                           for c in s.candidates],
            "truncated": s.truncated,
            "down": s.down,
            "notes": s.notes,
            "elapsed_ms": s.ms,
        }


def lookup(stores: Stores, raw: Any) -> Lookup:
    """search() then load() every candidate (a name fragment: at most MAX_MATCHES)."""
    t0 = time.perf_counter()
    s = search(stores, raw)
    matches = load(stores, s.uids, s.down) if s.uids else []
    s.ms = round((time.perf_counter() - t0) * 1000, 1)
    return Lookup(s, matches)
