"""Patient lookup: one search box, one patient, every store.

A query (Firebase UID, email in any case, phone in any format, core user / patient id, a Supabase
id, or a name fragment) is classified, then resolved to Firebase UIDs by indexed lookups in every
store at once (`search`). `load` then reads each patient as every store holds them, side by side,
their data across the sync points and the check findings that involve them. Every query takes the
whole list of patients (`= ANY(:uids)`): never a round trip per patient.

A store that is down (or not configured) is reported as such in `down` while the others answer.
Bad input is never an error: it gets NOT_FOUND or TOO_SHORT.
"""

from __future__ import annotations

import re
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import combinations
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from lib import normalize, plain
from lib.checks.ids import BY_ID, SEVERITY_RANK
from lib.checks.sync import DRIFT_STORES, drift_key, drift_rows
from lib.errors import StoreUnavailable, safe_message
from lib.phi import without_url_secrets
from lib.sqlfiles import load as load_sql
from lib.stores import Stores
from lib.stores.firebase import PROFILE_FIELDS, FirebaseStore
from lib.stores.postgres import PgStore

NOT_FOUND = "not found in any store"
TOO_SHORT = "type at least 2 characters"
MIN_CHARS = 2
MAX_CHARS = 320  # no identifier is longer (an email is at most 254)
TOO_LONG = f"that is longer than any identifier: type at most {MAX_CHARS} characters"
MAX_MATCHES = 50  # a name fragment lists at most this many patients
JOBS_LIMIT = 2000

# The four places a patient lives (the drift check's order).
PARTS: tuple[str, ...] = DRIFT_STORES  # firebase_auth, firestore, core, supabase
PART_LABELS = {"firebase_auth": "Firebase Auth", "firestore": "Firestore", "core": "Core PostgreSQL",
               "supabase": "Supabase"}
STORE_OF_PART = {"firebase_auth": "firebase", "firestore": "firebase", "core": "core", "supabase": "supabase"}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")
_UID = re.compile(r"^[A-Za-z0-9_\-]{20,128}$")  # Firebase's are 28 letters and digits; custom ones up to 128
_TOKEN = re.compile(r"^(?=.*\d)[A-Za-z0-9_\-]{6,19}$")  # a short single token with a digit: maybe a custom UID
_OBJECT = re.compile(r"/storage/v1/object/(public/)?documents/([^?#]+)")


# ---------------------------------------------------------------------- the query
@dataclass(frozen=True)
class Query:
    raw: str
    text: str  # printable, white space collapsed
    kind: str  # uid | email | phone | id | name | invalid
    value: str  # the normalised identifier (uid, lower-case email, E.164, canonical uuid, lower-case name)
    message: str | None = None  # for `invalid`: TOO_SHORT or NOT_FOUND
    also_uid: bool = False  # a name-like token that may also be a (custom) Firebase UID

    @property
    def tail(self) -> str:
        """The last 7 digits of a phone query (what the SQL narrows candidates by)."""
        return re.sub(r"\D", "", self.value)[-7:]

    @property
    def pattern(self) -> str:
        """A LIKE pattern '%fragment%' with the LIKE wildcards escaped."""
        esc = self.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{esc}%"


def classify(raw: Any, region: str = "US") -> Query:
    """What kind of identifier `raw` is, and its normalised value. Never raises."""
    s = "" if raw is None else str(raw)
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in s).split())
    raw_s = s[:MAX_CHARS]
    if len(cleaned) < MIN_CHARS:
        return Query(raw_s, cleaned, "invalid", "", TOO_SHORT)
    if len(cleaned) > MAX_CHARS:
        return Query(raw_s, cleaned[:MAX_CHARS], "invalid", "", TOO_LONG)
    compact = cleaned.replace(" ", "")
    if _UUID.match(compact):
        return Query(raw_s, cleaned, "id", str(uuidlib.UUID(compact)))
    if _EMAIL.match(cleaned):  # trimmed, never compacted: "jo hn@x.com" must not find john@x.com
        return Query(raw_s, cleaned, "email", cleaned.lower())
    digits = re.sub(r"\D", "", cleaned)
    if _PHONE.match(cleaned) and 7 <= len(digits) <= 15:
        return Query(raw_s, cleaned, "phone", normalize.phone(cleaned, region) or digits)
    if _UID.match(cleaned):
        return Query(raw_s, cleaned, "uid", cleaned)
    return Query(raw_s, cleaned, "name", cleaned.lower(), also_uid=bool(_TOKEN.match(cleaned)))


# ---------------------------------------------------------------------- running the stores in parallel
def _secrets(stores: Stores) -> list[str]:
    return stores.settings.secret_values()


def _pg(stores: Stores, part: str) -> PgStore:
    store = stores.get(part)
    if store is None:
        raise StoreUnavailable(f"{part}: not configured")
    if not isinstance(store, PgStore):
        raise StoreUnavailable(f"{part}: the patient lookup needs SQL; set SUPABASE_DB_URL (the HTTP API has none)")
    return store


def _fb(stores: Stores, part: str) -> FirebaseStore:
    if stores.firebase is None:
        raise StoreUnavailable(f"{part}: not configured")
    return stores.firebase


def _parallel(stores: Stores, tasks: dict[str, Callable[[], Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Run one task per store part at once; a part that fails is reported, the others still answer."""
    secrets = _secrets(stores)

    def one(item: tuple[str, Callable[[], Any]]) -> tuple[str, Any, str | None]:
        part, fn = item
        try:
            return part, fn(), None
        except StoreUnavailable as exc:
            return part, None, safe_message(exc, secrets)
        except Exception as exc:  # noqa: BLE001 - one part failing must not sink the lookup
            return part, None, f"{part}: {safe_message(exc, secrets)}"

    results: dict[str, Any] = {}
    down: dict[str, str] = {}
    if not tasks:
        return results, down
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        for part, value, err in pool.map(one, tasks.items()):
            if err is None:
                results[part] = value
            else:
                down[part] = err
    return results, down


def _q(conn: Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(text(load_sql(name).text), params)]


# ---------------------------------------------------------------------- search: query -> Firebase UIDs
@dataclass
class Candidate:
    uid: str
    name: str | None = None
    email: str | None = None
    found: list[str] = field(default_factory=list)  # how each store found it ("core user by email", …)


@dataclass
class Search:
    query: Query
    candidates: list[Candidate] = field(default_factory=list)
    down: dict[str, str] = field(default_factory=dict)  # part -> one sentence
    asked: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    truncated: bool = False
    ms: float = 0.0

    @property
    def uids(self) -> list[str]:
        return [c.uid for c in self.candidates]

    @property
    def all_down(self) -> bool:
        return bool(self.asked) and all(p in self.down for p in self.asked)

    @property
    def message(self) -> str | None:
        """None when something matched; otherwise the one sentence to show."""
        if self.query.message:
            return self.query.message
        if self.candidates:
            return None
        if self.down:
            answered = [PART_LABELS[p] for p in self.asked if p not in self.down]
            if not answered:
                return "no store answered: " + "; ".join(self.down.values())
            return f"{NOT_FOUND} that answered ({', '.join(PART_LABELS[p] for p in self.down)} down)"
        return NOT_FOUND


Hit = tuple[str | None, str, str | None, str | None]  # uid, how, name, email


def _core_resolve(stores: Stores, q: Query) -> tuple[list[Hit], list[str]]:
    core = _pg(stores, "core")
    hits: list[Hit] = []
    region = stores.settings.phone_default_region
    with core.read() as conn:
        if q.kind == "uid" or q.also_uid:
            for r in _q(conn, "core/patient_identity", uids=[q.text]):
                hits.append((r["firebase_uid"], "core user by Firebase UID", r["full_name"], r["email"]))
        if q.kind == "email":
            for r in _q(conn, "core/patient_by_email", emails=[q.value]):
                hits.append((r["firebase_uid"], "core user by email", None, r["email"]))
        elif q.kind == "phone":
            for r in _q(conn, "core/patient_by_phone", tails=[q.tail]):
                if normalize.phone(r["phone"], region) == q.value:
                    hits.append((r["firebase_uid"], "core user by phone", None, r["email"]))
        elif q.kind == "id":
            for r in _q(conn, "core/patient_by_id", id=q.value):
                hits.append((r["firebase_uid"], f"{r['via']}", None, None))
        elif q.kind == "name":
            for r in _q(conn, "core/patient_by_name", pattern=q.pattern, limit=MAX_MATCHES + 1):
                hits.append((r["firebase_uid"], "core patient by name", r["full_name"], r["email"]))
    notes = [f"core: a user matches ({how}) but has no Firebase UID" for uid, how, _, _ in hits if not uid]
    return hits, notes


def _supabase_resolve(stores: Stores, q: Query) -> tuple[list[Hit], list[str]]:
    sb = _pg(stores, "supabase")
    hits: list[Hit] = []
    region = stores.settings.phone_default_region
    with sb.read() as conn:
        if q.kind == "uid" or q.also_uid:
            for r in _q(conn, "supabase/patient_users", uids=[q.text]):
                hits.append((r["firebase_uid"], "Supabase auth user by metadata firebase_uid", r["name"], r["email"]))
            for r in _q(conn, "supabase/patient_refs", uids=[q.text]):
                if r["documents"]:
                    hits.append((r["firebase_uid"], "Supabase documents by patient_id", None, None))
                if r["connections"]:
                    hits.append((r["firebase_uid"], "Supabase connections by patient_firebase_uid", None, None))
        if q.kind == "email":
            for r in _q(conn, "supabase/patient_by_email", emails=[q.value]):
                hits.append((r["firebase_uid"], "Supabase auth user by email", r["name"], r["email"]))
        elif q.kind == "phone":
            for r in _q(conn, "supabase/patient_by_phone", tails=[q.tail]):
                if normalize.phone(r["phone"], region) == q.value:
                    hits.append((r["firebase_uid"], "Supabase auth user by phone", r["name"], None))
        elif q.kind == "id":
            for r in _q(conn, "supabase/patient_by_id", id=q.value):
                hits.append((r["firebase_uid"], r["via"], None, None))
        elif q.kind == "name":
            for r in _q(conn, "supabase/patient_by_name", pattern=q.pattern, limit=MAX_MATCHES + 1):
                hits.append((r["firebase_uid"], "Supabase auth user by metadata name", r["name"], r["email"]))
    notes = [f"supabase: a record matches ({how}) but carries no Firebase UID" for uid, how, _, _ in hits if not uid]
    return hits, notes


def _auth_resolve(stores: Stores, q: Query) -> tuple[list[Hit], list[str]]:
    fb = _fb(stores, "firebase_auth")
    users: list[dict[str, Any] | None] = []
    if q.kind == "uid" or q.also_uid:
        users.append(fb.find_user("uid", q.text))
    if q.kind == "email":
        users.append(fb.find_user("email", q.value))
    elif q.kind == "phone" and q.value.startswith("+"):
        users.append(fb.find_user("phone", q.value))
    how = {"uid": "Firebase Auth user by UID", "email": "Firebase Auth user by email",
           "phone": "Firebase Auth user by phone", "name": "Firebase Auth user by UID"}[q.kind]
    return [(u["uid"], how, u["display_name"], u["email"]) for u in users if u is not None], []


def _firestore_resolve(stores: Stores, q: Query) -> tuple[list[Hit], list[str]]:
    fb = _fb(stores, "firestore")
    hits: list[Hit] = []
    if q.kind == "uid" or q.also_uid:
        for uid, doc in fb.get_profiles([q.text]).items():
            hits.append((uid, "Firestore profile by document id", doc.get("full_name"), doc.get("email")))
    filters: list[tuple[str, str, Any]] = []
    if q.kind == "email":
        filters.append(("email", "in", sorted({q.value, q.text})))
    elif q.kind == "phone":
        filters.append(("phone", "in", sorted({q.value, q.text})))
    elif q.kind == "id":
        filters.append(("postgres_user_id", "==", q.value))
    for fld, op, val in filters:
        for uid, doc in fb.find_profiles(fld, op, val, limit=MAX_MATCHES).items():
            hits.append((uid, f"Firestore profile by {fld}", doc.get("full_name"), doc.get("email")))
    return hits, []


RESOLVERS: dict[str, Callable[[Stores, Query], tuple[list[Hit], list[str]]]] = {
    "firebase_auth": _auth_resolve,
    "firestore": _firestore_resolve,
    "core": _core_resolve,
    "supabase": _supabase_resolve,
}
# which parts can answer which kind of query (Firebase has no substring search and no core ids)
ASKED = {
    "uid": PARTS,
    "email": PARTS,
    "phone": PARTS,
    "id": ("firestore", "core", "supabase"),
    "name": ("core", "supabase"),
}


def search(stores: Stores, raw: Any) -> Search:
    """Resolve a query to Firebase UIDs, every store at once. Never raises for bad input."""
    t0 = time.perf_counter()
    q = classify(raw, stores.settings.phone_default_region)
    result = Search(query=q)
    if q.kind == "invalid":
        return result
    asked = PARTS if q.also_uid else ASKED[q.kind]
    result.asked = asked
    tasks: dict[str, Callable[[], Any]] = {p: partial(RESOLVERS[p], stores, q) for p in asked}
    found, result.down = _parallel(stores, tasks)
    by_uid: dict[str, Candidate] = {}
    for part in PARTS:
        hits, notes = found.get(part, ([], []))
        result.notes.extend(notes)
        for uid, how, name, email in hits:
            if not uid:
                continue
            c = by_uid.setdefault(uid, Candidate(uid))
            c.name = c.name or name
            c.email = c.email or email
            if how not in c.found:
                c.found.append(how)
    cands = sorted(by_uid.values(), key=lambda c: (normalize.name(c.name) or "\uffff", c.uid))
    result.truncated = len(cands) > MAX_MATCHES
    result.candidates = cands[:MAX_MATCHES]
    result.ms = round((time.perf_counter() - t0) * 1000, 1)
    return result


# ---------------------------------------------------------------------- load: the patients in every store
@dataclass
class Finding:
    check: str
    severity: str
    title: str
    fix: str | None
    keys: list[str]


@dataclass
class PatientView:
    uid: str
    stores: dict[str, dict[str, Any] | None]  # part -> the record (None: missing or down)
    down: dict[str, str]  # part -> why it could not be read
    supabase_users: list[dict[str, Any]] = field(default_factory=list)  # every auth user of the uid, flagged
    comparison: list[dict[str, Any]] = field(default_factory=list)  # one row per field, a value per store
    drift: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    medications: list[dict[str, Any]] = field(default_factory=list)
    prescriptions: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    session_notes: list[dict[str, Any]] = field(default_factory=list)
    sync_jobs: list[dict[str, Any]] = field(default_factory=list)
    orphan_chunks: list[dict[str, Any]] = field(default_factory=list)
    orphan_files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        for part, key in (("core", "full_name"), ("firestore", "full_name"), ("firebase_auth", "display_name"),
                          ("supabase", "name")):
            rec = self.stores.get(part)
            if rec and rec.get(key):
                return str(rec[key])
        return None

    @property
    def finding_ids(self) -> list[str]:
        return [f.check for f in self.findings]

    def state(self, part: str) -> str:
        """present | missing | down"""
        if part in self.down:
            return "down"
        return "present" if self.stores.get(part) is not None else "missing"

    def to_json(self) -> dict[str, Any]:
        return {
            "firebase_uid": self.uid,
            "name": self.name,
            "stores": {p: _jsonable(self.stores.get(p)) for p in PARTS},
            "down": dict(self.down),
            "drift": _jsonable(self.drift),
            "findings": self.finding_ids,
            "finding_details": [
                {"check": f.check, "severity": f.severity, "title": f.title, "fix": f.fix, "keys": f.keys}
                for f in self.findings
            ],
            "supabase_users": _jsonable(self.supabase_users),
            "documents": _jsonable(self.documents),
            "medications": _jsonable(self.medications),
            "prescriptions": _jsonable(self.prescriptions),
            "connections": _jsonable(self.connections),
            "appointments": _jsonable(self.appointments),
            "session_notes": _jsonable(self.session_notes),
            "sync_jobs": _jsonable(self.sync_jobs),
            "orphan_rag_chunks": _jsonable(self.orphan_chunks),
            "orphan_files": _jsonable(self.orphan_files),
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, uuidlib.UUID):
        return str(v)
    return v


def _uuids(values: Iterable[Any]) -> list[str]:
    return sorted({str(v) for v in values if v is not None and _UUID.match(str(v))})


def _core_detail(stores: Stores, uids: list[str]) -> dict[str, Any]:
    core = _pg(stores, "core")
    out: dict[str, Any] = {}
    with core.read() as conn:
        users = _q(conn, "core/patient_identity", uids=uids)
        out["users"] = users
        refs = _uuids([u["id"] for u in users] + [u["patient_id"] for u in users])
        out["documents"] = _q(conn, "core/patient_documents", refs=refs, ids=[])
        out["medications"] = _q(conn, "core/patient_medications", refs=refs)
        out["appointments"] = _q(conn, "core/patient_appointments", refs=refs)
        out["session_notes"] = _q(conn, "core/patient_session_notes", refs=refs)
        jobs = _q(conn, "core/patient_sync_jobs", uids=uids, minutes=stores.settings.sync_jobs_stuck_minutes,
                  limit=JOBS_LIMIT)
        out["sync_jobs"] = jobs
        job_ids = _uuids(j["entity_id"] for j in jobs if j["kind"] == "prescription")
        out["prescriptions"] = _q(conn, "core/patient_prescriptions",
                                  appointment_ids=_uuids(a["id"] for a in out["appointments"]), ids=job_ids)
        # the users sharing an email or a phone with these patients (dup.core_users_email / _phone)
        emails = sorted({e.strip().lower() for e in (u["email"] for u in users) if e and e.strip()})
        out["same_email"] = _q(conn, "core/patient_by_email", emails=emails) if emails else []
        tails = sorted({re.sub(r"\D", "", p)[-7:] for p in (u["phone"] for u in users) if p and re.sub(r"\D", "", p)})
        out["same_phone"] = _q(conn, "core/patient_by_phone", tails=tails) if tails else []
    return out


def _supabase_detail(stores: Stores, uids: list[str]) -> dict[str, Any]:
    sb = _pg(stores, "supabase")
    out: dict[str, Any] = {}
    with sb.read() as conn:
        out["users"] = _q(conn, "supabase/patient_users", uids=uids)
        out["documents"] = _q(conn, "supabase/patient_documents", uids=uids, ids=[])
        out["connections"] = _q(conn, "supabase/patient_connections", uids=uids,
                                hours=stores.settings.token_expiring_hours)
        out["orphan_chunks"] = _q(conn, "supabase/patient_orphan_chunks", uids=uids)
        out["orphan_files"] = _q(conn, "supabase/patient_orphan_files", uids=uids)
    return out


def _firebase_users(stores: Stores, uids: list[str]) -> dict[str, dict[str, Any]]:
    return {u["uid"]: u for u in _fb(stores, "firebase_auth").get_users(uids)}


def _firestore_profiles(stores: Stores, uids: list[str]) -> dict[str, dict[str, Any]]:
    """Each profile with the known fields first, then whatever else the document holds."""
    docs = _fb(stores, "firestore").get_profiles(uids)
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
    first, down = _parallel(stores, {p: fn for p, fn in readers.items() if p not in known_down})
    down.update(known_down)
    core: dict[str, Any] = first.get("core") or {}
    sb: dict[str, Any] = first.get("supabase") or {}

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
            with _pg(stores, "core").read() as conn:
                return _q(conn, "core/patient_documents", refs=[], ids=need_core)
        second_tasks["core"] = core_docs
    if "supabase" in first and (need_sb or urls):
        def sb_docs() -> Any:
            with _pg(stores, "supabase").read() as conn:
                docs = _q(conn, "supabase/patient_documents", uids=[], ids=need_sb) if need_sb else []
                landed = _q(conn, "supabase/patient_prescription_documents", urls=urls) if urls else []
                return docs, landed
        second_tasks["supabase"] = sb_docs
    second, down2 = _parallel(stores, second_tasks)
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
    drift = _field_drift(first, core, sb, uids, stores.settings.phone_default_region)
    # what leaves lib carries no signed URL's token (the CLI's JSON, the page's tables, every role)
    return [without_url_secrets(_view(stores, uid, first, core, sb, landed, down, drift.get(uid, []))) for uid in uids]


def _view(stores: Stores, uid: str, first: dict[str, Any], core: dict[str, Any], sb: dict[str, Any],
          landed: list[dict[str, Any]], down: dict[str, str], drift: list[dict[str, Any]]) -> PatientView:
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

    view.comparison, view.drift = _compare(view, drift, region)
    view.findings = _findings(view, user, live, core, region)
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


# ---------------------------------------------------------------------- side by side, drift, findings
# field -> (normaliser, {part: the record's key})
FIELDS: dict[str, tuple[Callable[[Any, str], str | None], dict[str, str]]] = {
    "email": (lambda v, r: normalize.email(v),
              {"firebase_auth": "email", "firestore": "email", "core": "email", "supabase": "email"}),
    "phone": (lambda v, r: normalize.phone(v, r),
              {"firebase_auth": "phone", "firestore": "phone", "core": "phone", "supabase": "phone"}),
    "name": (lambda v, r: normalize.name(v),
             {"firebase_auth": "display_name", "firestore": "full_name", "core": "full_name", "supabase": "name"}),
    "date_of_birth": (lambda v, r: (str(v)[:10] or None) if v not in (None, "") else None,
                      {"firestore": "date_of_birth", "core": "date_of_birth"}),
    "core user id": (lambda v, r: (str(v).strip().lower() or None) if v not in (None, "") else None,
                     {"firestore": "postgres_user_id", "core": "id", "supabase": "postgres_id"}),
}
DRIFT_FIELDS = ("email", "phone")  # what sync.field_drift compares


def _field_drift(first: dict[str, Any], core: dict[str, Any], sb: dict[str, Any], uids: list[str],
                 region: str) -> dict[str, list[dict[str, Any]]]:
    """Email and phone drift of every patient at once, through sync.drift_rows itself (so it agrees
    with sync.field_drift): frames shaped as the check's snapshot, holding only these patients."""
    fb = (first.get("firebase_auth") or {}).values()
    fs = (first.get("firestore") or {}).items()
    frames = {
        "fb_users": pd.DataFrame([{"uid": u["uid"], "email": u.get("email"), "phone": u.get("phone")} for u in fb],
                                 columns=["uid", "email", "phone"]),
        "fs_profiles": pd.DataFrame([{"uid": uid, "email": d.get("email"), "phone": d.get("phone")} for uid, d in fs],
                                    columns=["uid", "email", "phone"]),
        "core_users": pd.DataFrame([{"firebase_uid": u["firebase_uid"], "email": u["email"], "phone": u["phone"]}
                                    for u in core.get("users", [])], columns=["firebase_uid", "email", "phone"]),
        # the live users only, oldest first: the snapshot's shape (sql/snapshot/supabase_live_users.sql)
        "sb_users": pd.DataFrame([{"id": u["id"], "firebase_uid": u["firebase_uid"], "email": u["email"],
                                   "phone": u["phone"]}
                                  for u in sorted((u for u in sb.get("users", []) if not u["deleted_at"]),
                                                  key=lambda u: (u["created_at"], str(u["id"])))],
                                 columns=["id", "firebase_uid", "email", "phone"]),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for r in drift_rows(frames, region, set(uids)):
        out.setdefault(r["uid"], []).append(r | {"check": "sync.field_drift"})
    return out


def _compare(view: PatientView, drift: list[dict[str, Any]], region: str) -> tuple[list[dict[str, Any]],
                                                                                 list[dict[str, Any]]]:
    """The side-by-side rows, and the drift: email and phone as sync.drift_rows found it, the other
    fields by the same rules (two different non-empty values after normalisation)."""
    drift = [{k: v for k, v in r.items() if k != "uid"} for r in drift]
    rows = []
    for fld, (norm, keys) in FIELDS.items():
        raw = {p: (view.stores[p] or {}).get(k) if view.stores.get(p) else None for p, k in keys.items()}
        normed = {p: norm(v, region) for p, v in raw.items()}
        differs: set[str] = set()
        for a, b in combinations([p for p in PARTS if p in keys], 2):
            if normed[a] is not None and normed[b] is not None and normed[a] != normed[b]:
                differs.update((a, b))
                if fld not in DRIFT_FIELDS:
                    drift.append({"field": fld, "stores": [a, b], "values": [raw[a], raw[b]], "check": None})
        rows.append({"field": fld, **{p: _show(raw.get(p)) if p in keys else None for p in PARTS},
                     "differs": sorted(differs, key=PARTS.index), "odd": _odd(normed, differs)})
    return rows, drift


def _odd(normed: dict[str, str | None], differs: set[str]) -> list[str]:
    """The stores to highlight: those that differ from the value most stores agree on (all that
    differ when no value has a majority)."""
    if not differs:
        return []
    counts: dict[str, int] = {}
    for p in differs:
        counts[normed[p] or ""] = counts.get(normed[p] or "", 0) + 1
    best = sorted(counts.values(), reverse=True)
    if len(best) > 1 and best[0] > best[1]:
        common = next(v for v, n in counts.items() if n == best[0])
        return sorted((p for p in differs if normed[p] != common), key=PARTS.index)
    return sorted(differs, key=PARTS.index)


def _show(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime | date):
        return v.isoformat()[:10] if isinstance(v, date) and not isinstance(v, datetime) else v.isoformat()
    return str(v)


def _findings(view: PatientView, user: dict[str, Any] | None, live: list[dict[str, Any]], core: dict[str, Any],
              region: str) -> list[Finding]:
    """The findings of the checks that involve this patient, with the keys the checks would report."""
    down = view.down
    up = {p: p not in down for p in PARTS}
    found: dict[str, list[str]] = {}

    def add(check: str, keys: Iterable[Any]) -> None:
        keys = [str(k) for k in keys]
        if keys:
            found.setdefault(check, []).extend(keys)

    uid = view.uid
    fb, fs = view.stores["firebase_auth"], view.stores["firestore"]
    is_patient = (user is not None and user["role"] == "PATIENT") or (fb is not None and fb.get("role") == "patient")
    has_patient_row = user is not None and user["patient_id"] is not None
    if up["firebase_auth"] and up["core"]:
        if fb is not None and fb.get("role") == "patient" and user is None:
            add("sync.firebase_user_missing_in_core", [uid])
        if user is not None and fb is None:
            add("sync.core_user_missing_in_firebase", [uid])
    if up["core"] and up["supabase"]:
        if has_patient_row and not live:
            add("sync.patient_missing_in_supabase", [uid])
        add("sync.supabase_user_unknown", [u["id"] for u in live if user is None or u["postgres_id"] != user["id"]])
    if up["core"] and up["firestore"] and has_patient_row and fs is None:
        add("sync.profile_missing", [uid])
    if is_patient:
        add("sync.field_drift", [drift_key(r | {"uid": uid}) for r in view.drift if r["check"] == "sync.field_drift"])
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
    add("sync.jobs_failed", [j["id"] for j in view.sync_jobs if j["status"] == "failed"])
    add("sync.jobs_stuck", [j["id"] for j in view.sync_jobs if j["stuck"]])
    if user is not None:
        add("dup.core_users_email", _surplus(core.get("same_email", []), user,
                                             lambda r: normalize.email(r["email"])))
        add("dup.core_users_phone", _surplus(core.get("same_phone", []), user, lambda r: normalize.phone(r["phone"], region)))
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


# ---------------------------------------------------------------------- what the page shows
def comparison_frame(view: PatientView) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The side-by-side table (a row per field, a column per store; "—" where the store holds no
    such field, "(missing)" / "(down)" for a store without the patient) and a same-shaped boolean
    frame: True where the value differs, after the comparison rules, from what the other stores
    agree on (every differing value when they do not agree)."""
    cols = [PART_LABELS[p] for p in PARTS]
    values, marks = [], []
    for row in view.comparison:
        vals, mk = [], []
        for p in PARTS:
            state = view.state(p)
            if state != "present":
                vals.append(f"({state})")
            else:
                vals.append(row[p] if row[p] is not None else "—" if p not in FIELDS[row["field"]][1] else "")
            mk.append(p in row["odd"])
        values.append(vals)
        marks.append(mk)
    index = [r["field"] for r in view.comparison]
    return pd.DataFrame(values, index=index, columns=cols), pd.DataFrame(marks, index=index, columns=cols)


def comparison_styler(view: PatientView) -> Any:
    """The side-by-side table with differing values highlighted (a pandas Styler)."""
    frame, marks = comparison_frame(view)
    css = marks.replace({True: "background-color: #ffd6d6; color: #8a0000; font-weight: 600", False: ""})
    return frame.style.apply(lambda _: css, axis=None)


def findings_frame(view: PatientView, max_keys: int = 5) -> pd.DataFrame:
    """One row a finding; `fix` is the link to its fix on the Fixes page (fixes?fix=<id>), if any."""
    rows = [{"check": f.check, "severity": f.severity, "what": f.title, "count": len(f.keys),
             "keys": ", ".join(f.keys[:max_keys]) + (", …" if len(f.keys) > max_keys else ""),
             "fix": f"fixes?fix={f.fix}" if f.fix else None} for f in view.findings]
    return pd.DataFrame(rows, columns=["check", "severity", "what", "count", "keys", "fix"])


SECTION_COLUMNS: dict[str, list[str]] = {
    "documents": ["state", "type", "status", "in_supabase", "in_core", "file_in_storage", "rag_chunks", "created_at",
                  "id", "core_patient_id"],
    "medications": ["name", "strength", "frequency", "duplicate", "document_missing", "document_id", "start_date",
                    "created_at", "id"],
    "prescriptions": ["state", "reached_supabase", "appointment_ok", "medications", "created_at", "appointment_id",
                      "id"],
    "connections": ["state", "notes", "doctor_firebase_uid", "token", "token_expires_at", "is_active", "used_at",
                    "created_at", "id"],
    "appointments": ["status", "type", "scheduled_at", "doctor", "patient_ok", "carries", "created_at", "id"],
    "session_notes": ["note", "doctor", "patient_ok", "carries", "created_at", "id"],
    "sync_jobs": ["id", "kind", "status", "stuck", "attempts", "source", "target", "entity_id", "last_error",
                  "created_at", "updated_at"],
    "supabase_users": ["state", "id", "email", "phone", "postgres_id", "created_at", "deleted_at", "last_sign_in_at"],
}


def section_frame(view: PatientView, section: str) -> pd.DataFrame:
    cols = SECTION_COLUMNS[section]
    rows: list[dict[str, Any]] = getattr(view, section)
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def job_errors_frame(view: PatientView) -> pd.DataFrame:
    """The patient's failed and stuck sync jobs, newest first, with the whole error text."""
    rows = [{"job": j["id"], "kind": j["kind"], "status": "stuck" if j["stuck"] else j["status"],
             "attempts": j["attempts"], "entity_id": j["entity_id"], "updated_at": j["updated_at"],
             "error": j["last_error"] or ("no progress since the last update" if j["stuck"] else None)}
            for j in view.sync_jobs if j["status"] == "failed" or j["stuck"]]
    return pd.DataFrame(rows, columns=["job", "kind", "status", "attempts", "entity_id", "updated_at", "error"])


def candidates_frame(s: Search) -> pd.DataFrame:
    rows = [{"name": c.name, "email": c.email, "firebase_uid": c.uid, "found by": "; ".join(c.found)}
            for c in s.candidates]
    return pd.DataFrame(rows, columns=["name", "email", "firebase_uid", "found by"])


JOB_COLORS = {"succeeded": "#2e9e5b", "failed": "#d62728", "pending": "#f0a202", "running": "#1f77b4"}


def jobs_figure(view: PatientView) -> Any:
    """The patient's sync_jobs as a plotly timeline (a bar from created_at to updated_at per job, one
    row per kind, coloured by status, the error in the hover); None without jobs."""
    import plotly.express as px

    if not view.sync_jobs:
        return None
    df = pd.DataFrame(view.sync_jobs)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    df["updated_at"] = pd.to_datetime(df["updated_at"], utc=True)
    span = max(df["updated_at"].max() - df["created_at"].min(), pd.Timedelta(hours=1))
    min_width = max(span / 150, pd.Timedelta(minutes=1))
    df["end"] = df[["updated_at"]].assign(m=df["created_at"] + min_width).max(axis=1)
    # store values are text, never plotly markup (it renders <a href>, <b>, <br> and entities)
    df["error"] = df["last_error"].fillna("").map(lambda e: "<br>".join(plain.chart(line) for line in _wrap(e, 80)))
    for col in ("kind", "status", "entity_id", "source", "target"):
        df[col] = df[col].map(lambda v: None if v is None else plain.chart(v))
    df["job"] = df["id"].map(lambda i: f"#{i}")
    fig = px.timeline(df, x_start="created_at", x_end="end", y="kind", color="status",
                      color_discrete_map=JOB_COLORS, hover_name="job",
                      hover_data={"entity_id": True, "attempts": True, "source": True, "target": True,
                                  "error": True, "end": False, "updated_at": True})
    fig.update_layout(height=160 + 40 * df["kind"].nunique(), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend_title_text="Status", title="Sync jobs of this patient, created to last attempt")
    fig.update_yaxes(title="Kind")
    fig.update_xaxes(title="Time (UTC)")
    return fig


def _wrap(s: str, width: int) -> list[str]:
    words, lines, line = s.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return lines


__all__ = [
    "MAX_CHARS", "MAX_MATCHES", "NOT_FOUND", "PARTS", "PART_LABELS", "TOO_LONG", "TOO_SHORT", "Candidate", "Finding", "Lookup", "PatientView",
    "Query", "Search", "candidates_frame", "classify", "comparison_frame", "comparison_styler", "findings_frame",
    "job_errors_frame", "jobs_figure", "load", "lookup", "search", "section_frame",
]
