"""Search: a query resolved to Firebase UIDs by indexed lookups in every store at once.

Each part has a resolver (core and Supabase by SQL, Firebase Auth and Firestore by their APIs);
ASKED says which parts can answer which kind of query. The result (`Search`) holds the candidates
with how each store found them, the parts that were down and the one sentence to show when
nothing matched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from lib import normalize
from lib.patient.access import firebase_store, in_parallel, pg_store, rows
from lib.patient.query import MAX_MATCHES, NOT_FOUND, PART_LABELS, PARTS, Query, classify
from lib.stores import Stores


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
    core = pg_store(stores, "core")
    hits: list[Hit] = []
    region = stores.settings.phone_default_region
    with core.read() as conn:
        if q.kind == "uid" or q.also_uid:
            for r in rows(conn, "core/patient_identity", uids=[q.text]):
                hits.append((r["firebase_uid"], "core user by Firebase UID", r["full_name"], r["email"]))
        if q.kind == "email":
            for r in rows(conn, "core/patient_by_email", emails=[q.value]):
                hits.append((r["firebase_uid"], "core user by email", None, r["email"]))
        elif q.kind == "phone":
            for r in rows(conn, "core/patient_by_phone", tails=[q.tail]):
                if normalize.phone(r["phone"], region) == q.value:
                    hits.append((r["firebase_uid"], "core user by phone", None, r["email"]))
        elif q.kind == "id":
            for r in rows(conn, "core/patient_by_id", id=q.value):
                hits.append((r["firebase_uid"], f"{r['via']}", None, None))
        elif q.kind == "name":
            for r in rows(conn, "core/patient_by_name", pattern=q.pattern, limit=MAX_MATCHES + 1):
                hits.append((r["firebase_uid"], "core patient by name", r["full_name"], r["email"]))
    notes = [f"core: a user matches ({how}) but has no Firebase UID" for uid, how, _, _ in hits if not uid]
    return hits, notes


def _supabase_resolve(stores: Stores, q: Query) -> tuple[list[Hit], list[str]]:
    sb = pg_store(stores, "supabase")
    hits: list[Hit] = []
    region = stores.settings.phone_default_region
    with sb.read() as conn:
        if q.kind == "uid" or q.also_uid:
            for r in rows(conn, "supabase/patient_users", uids=[q.text]):
                hits.append((r["firebase_uid"], "Supabase auth user by metadata firebase_uid", r["name"], r["email"]))
            for r in rows(conn, "supabase/patient_refs", uids=[q.text]):
                if r["documents"]:
                    hits.append((r["firebase_uid"], "Supabase documents by patient_id", None, None))
                if r["connections"]:
                    hits.append((r["firebase_uid"], "Supabase connections by patient_firebase_uid", None, None))
        if q.kind == "email":
            for r in rows(conn, "supabase/patient_by_email", emails=[q.value]):
                hits.append((r["firebase_uid"], "Supabase auth user by email", r["name"], r["email"]))
        elif q.kind == "phone":
            for r in rows(conn, "supabase/patient_by_phone", tails=[q.tail]):
                if normalize.phone(r["phone"], region) == q.value:
                    hits.append((r["firebase_uid"], "Supabase auth user by phone", r["name"], None))
        elif q.kind == "id":
            for r in rows(conn, "supabase/patient_by_id", id=q.value):
                hits.append((r["firebase_uid"], r["via"], None, None))
        elif q.kind == "name":
            for r in rows(conn, "supabase/patient_by_name", pattern=q.pattern, limit=MAX_MATCHES + 1):
                hits.append((r["firebase_uid"], "Supabase auth user by metadata name", r["name"], r["email"]))
    notes = [f"supabase: a record matches ({how}) but carries no Firebase UID" for uid, how, _, _ in hits if not uid]
    return hits, notes


def _auth_resolve(stores: Stores, q: Query) -> tuple[list[Hit], list[str]]:
    fb = firebase_store(stores, "firebase_auth")
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
    fb = firebase_store(stores, "firestore")
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
    found, result.down = in_parallel(stores, tasks)
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
