"""Search: a query resolved to Firebase UIDs by indexed lookups in every store at once.

Each part has a resolver (core and Supabase by SQL, Firebase Auth by its indexed look-ups by UID,
email and phone); ASKED says which parts can answer which kind of query. Firestore is read by
document id only: a typed UID at once, otherwise the UIDs the other parts found, in a second wave
(a field query only when no other part found anything: `_firestore_by_uids`). No lookup scans: the
SQL is served by the schemas' keys and the recommended lookup indexes (lib.patient.indexes). The result (`Search`) holds the candidates
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
MAX_UIDS = 100  # the profiles wave 2 reads by document id, at most (one batched read)


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
    """A UID typed as such: its profile by document id (the first wave, with the other parts)."""
    fb = firebase_store(stores, "firestore")
    return [(uid, "Firestore profile by document id", doc.get("full_name"), doc.get("email"))
            for uid, doc in fb.get_profiles([q.text]).items()], []


# the profile field that holds each kind of identifier, and how to compare it with the query's value
_PROFILE_FIELD: dict[str, str] = {"email": "email", "phone": "phone", "id": "postgres_user_id"}


def _profile_matches(q: Query, doc: dict[str, Any], region: str) -> bool:
    value = doc.get(_PROFILE_FIELD[q.kind])
    if q.kind == "email":
        return normalize.email(value) == normalize.email(q.value)
    if q.kind == "phone":
        return normalize.phone(value, region) == q.value
    return str(value or "").strip().lower() == q.value


def _firestore_by_uids(stores: Stores, q: Query, uids: list[str]) -> tuple[list[Hit], list[str]]:
    """The second wave of an email, phone or id lookup: the profiles of the UIDs the other parts
    found, read by document id (one batched read), each reported found when its field holds the
    identifier (compared normalised: an email in another case, a phone in another format count).

    Only when no other part found anything does Firestore get a field query (`find_profiles`): the
    one way to reach a profile whose field alone holds the identifier (drifted from every other
    store, or a profile no other store knows). Production Firestore serves it from its automatic
    single-field index; the emulator scans the collection, but only for an identifier every
    indexed store missed."""
    fb = firebase_store(stores, "firestore")
    region = stores.settings.phone_default_region
    fld = _PROFILE_FIELD[q.kind]
    if uids:
        docs = fb.get_profiles(uids)
        return [(uid, f"Firestore profile by {fld}", doc.get("full_name"), doc.get("email"))
                for uid, doc in docs.items() if _profile_matches(q, doc, region)], []
    if q.kind == "id":
        found = fb.find_profiles(fld, "==", q.value, limit=MAX_MATCHES)
    else:
        found = fb.find_profiles(fld, "in", sorted({q.value, q.text}), limit=MAX_MATCHES)
    return [(uid, f"Firestore profile by {fld}", doc.get("full_name"), doc.get("email"))
            for uid, doc in found.items()], []


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
    # Wave 1: every part by its own index at once; Firestore only for a UID (its document id).
    # Wave 2 (an email, phone or id): Firestore reads the profiles of the UIDs wave 1 found by
    # document id. Never a Firestore field query unless wave 1 found nothing (_firestore_by_uids).
    later = "firestore" in asked and q.kind in _PROFILE_FIELD
    first = tuple(p for p in asked if not (later and p == "firestore"))
    tasks: dict[str, Callable[[], Any]] = {p: partial(RESOLVERS[p], stores, q) for p in first}
    found, result.down = in_parallel(stores, tasks)
    if later:
        seen = list(dict.fromkeys(uid for hits, _ in found.values() for uid, *_ in hits if uid))
        more, down = in_parallel(stores, {"firestore": partial(_firestore_by_uids, stores, q, seen[:MAX_UIDS])})
        found.update(more)
        result.down.update(down)
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
