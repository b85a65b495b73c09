"""The benchmark's data set: up to 1,000,000 patients in the embedded stores, with 1 % of each kind
of drift planted at known places and the exact count every check must report. It stays one module:
the plant table (PLANTS), the id formulas, the expected counts and the fill that plants them must
agree line for line (and with sql/bench/fill_*.sql); one file is the one place to change a plant.

Patient i (1..n) lives in every store: a core user and patient, five documents in core and in
Supabase (same ids) with their files in storage, a chunk, a medication, an appointment with its
prescription, a session note, a sync job, a connection to a doctor, a Supabase auth user, and, for
the first `firebase_users` patients (at most 100,000: Firebase is the slow store to fill), a
Firebase Auth user and a Firestore profile. Every id is a function of (seed, i): md5 of
"seed/kind/i" as a uuid, and 28-character UIDs built the same way (sql/bench/fill_session.sql
holds the formulas; `hb_id`, `hb_uid`, `hb_email`, `hb_phone` below are the same in Python).

The stores are filled set-based: one `INSERT ... SELECT ... FROM generate_series` per table
(sql/bench/fill_*.sql), with the keys, indexes and foreign keys of the demo's schema dropped during
the fill and created again after it; Firebase Auth by `import_users` in batches of 1,000 and
Firestore by batched writes of 500, from a few threads, while PostgreSQL fills.

Drift is planted by residue class: patient i carries plant p when i % 100 == PLANTS[p] (one class
per plant, so 1 % of the patients for each). `expected` is computed from the same table: for each
class, what one patient of that class adds to each check (`_contributions`), times how many
patients the class holds inside and outside Firebase. Patients beyond `firebase_users` have no
Firebase user or profile: the checks that compare with Firebase legitimately count them, and
`expected` includes them.
"""

from __future__ import annotations

import hashlib
import json
import resource
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from lib.errors import OpsError
from lib.services import DATABASES

SIZES: dict[str, int] = {"quick": 10_000, "100k": 100_000, "1m": 1_000_000, "3m": 3_000_000}
FIREBASE_MAX = 100_000  # Firebase holds at most this many patients (plus doctors and planted users), at 3m too:
#                         the emulator lists 100,000 profiles in 2-4 minutes on the bench machine, 1,000,000 would
#                         take most of an hour a run (BENCHMARKS.md)
DOCS_PER_PATIENT = 5
MIN_PATIENTS = 100
MAX_PATIENTS = 5_000_000  # UIDs carry i in 8 digits; phone numbers are unique up to 8,000,000
VERSION = 2  # bump when a formula on the Python side changes (Firebase users and profiles)
INFO_FILE = "bench.json"
FRESH_FOR = timedelta(minutes=14)  # the fresh pending job (job_pending_fresh) is stuck after 15 minutes
#                                   (the fresh document after 15, the lagged job leaves the hour after 57)
AUTH_BATCH = 1000  # import_users takes 1,000 users a call
PROFILE_BATCH = 500  # a Firestore batch writes 500 documents
FIREBASE_THREADS = 4
# Drop the schema's keys, indexes and foreign keys for the fill and build them after it (measured at
# 100k patients: see _fill_database); False fills into the indexed tables.
DEFER_KEYS = True

# Each plant and its residue class: patient i carries it when i % 100 == PLANTS[name].
# "must not count" plants are near misses next to the real ones.
PLANTS: dict[str, int] = {
    "fb_ghost": 1,  # an extra Firebase patient with no core user: sync.firebase_user_missing_in_core
    "fb_ghost_other": 2,  # an extra Firebase doctor and a user without a role claim, no core user: must not count
    "fb_user_none": 3,  # no Firebase Auth user: sync.core_user_missing_in_firebase (+ its Supabase documents
    #                     and connections are orphans: orphan.supabase_documents_patient, orphan.connections_patient)
    "sb_user_none": 4,  # no Supabase user: sync.patient_missing_in_supabase
    "sb_user_deleted": 5,  # only a deleted Supabase user: sync.patient_missing_in_supabase
    "sb_ghost": 6,  # a live Supabase user of a UID core does not know: sync.supabase_user_unknown
    "sb_wrong_postgres_id": 7,  # metadata postgres_id is not the core users.id: sync.supabase_user_unknown
    "sb_ghost_deleted": 8,  # a deleted Supabase user of an unknown UID: must not count
    "profile_none": 9,  # no Firestore profile: sync.profile_missing
    "core_email": 10,  # core email changed: drift core vs Firebase Auth, Firestore, Supabase
    "fs_phone": 11,  # Firestore phone changed: drift Firestore vs Firebase Auth, core, Supabase
    "sb_email": 12,  # Supabase email changed, Firestore has no email: drift Supabase vs Firebase Auth, core
    "fb_phone": 13,  # Firebase Auth phone changed: drift Firebase Auth vs Firestore, core, Supabase
    "phone_format": 14,  # core phone "+1 (415) 200-0014", Supabase "+1 415-200-0014" and its email
    #                      upper-cased and padded, no Firestore phone: must not count
    "core_email_case": 15,  # core email upper-cased and padded: must not count
    "doc_only_sb": 16,  # document 1 processed in Supabase, absent from core: sync.document_missing_in_core
    "doc_processing": 17,  # document 1 still processing, absent from core: must not count (there);
    #                        weeks old: pulse.documents_unprocessed
    "doc_uploaded": 18,  # document 1 only uploaded, absent from core: the same
    "doc_only_core": 19,  # document 1 absent from Supabase: sync.document_missing_in_supabase
    "rx_wrong_type": 20,  # the prescription PDF reached Supabase typed lab_report: sync.prescription_missing_in_supabase
    "rx_unsynced": 21,  # the prescription PDF never reached either store: sync.prescription_missing_in_supabase
    "job_failed": 22,  # a failed sync job: sync.jobs_failed
    "job_pending_stuck": 23,  # a job pending for 2 hours: sync.jobs_stuck
    "job_running_stuck": 24,  # a job running for 40 minutes: sync.jobs_stuck
    "job_pending_fresh": 25,  # a job pending for a minute: must not count (for FRESH_FOR after the anchor)
    "dup_email": 26,  # one more core user with the email upper-cased: dup.core_users_email
    "dup_email3": 27,  # two more (upper-cased, padded): dup.core_users_email counts 2
    "dup_phone": 28,  # one more core user with the phone in national format: dup.core_users_phone
    "conv_two": 30,  # OPEN, OPEN on one page connection and psid: dup.open_conversations
    "conv_snoozed": 31,  # SNOOZED, OPEN, CLOSED on Instagram: dup.open_conversations
    "conv_closed": 32,  # OPEN, CLOSED, CLOSED: must not count
    "conv_three": 33,  # OPEN, OPEN, SNOOZED on the widget: dup.open_conversations counts 2
    "tok_dup": 34,  # one more connection (another doctor) with the same token: dup.access_tokens
    "tok_dup3": 35,  # two more: dup.access_tokens counts 2
    "dup_medication": 36,  # the medication again, name upper-cased (and once in another strength,
    #                        which must not count): dup.medications
    "sb_dup": 37,  # a second live Supabase user of the patient: dup.supabase_users_firebase_uid
    "sb_dup_deleted": 38,  # a second, deleted Supabase user: must not count
    "doc_patient_user_id": 39,  # core document 2's patient_id is the user id: orphan.documents_patient
    "doc_patient_nowhere": 40,  # core document 2's patient_id points nowhere: orphan.documents_patient
    "note_patient_user_id": 41,  # the session note's patient_id is the user id: orphan.session_notes_patient
    "note_patient_nowhere": 42,  # the session note's patient_id points nowhere: orphan.session_notes_patient
    "appt_patient_id": 43,  # the appointment's patient_id is the patients.id (the wrong patient key): orphan.appointments_patient
    "appt_nowhere": 44,  # the appointment's patient_id points nowhere: orphan.appointments_patient
    "rx_appt_nowhere": 45,  # the prescription's appointment does not exist: orphan.prescriptions_appointment
    "orphan_medication": 46,  # a medication of a missing document (and one without a document,
    #                           which must not count): orphan.medications_document
    "orphan_chunk": 47,  # a chunk of a missing document: orphan.rag_chunks_document
    "ghost_doc": 48,  # a failed upload by a UID Firebase does not know: orphan.supabase_documents_patient
    "ghost_conn": 49,  # a connection of a UID Firebase does not know: orphan.connections_patient
    "stray_object": 50,  # a stored file no document names: orphan.storage_objects
    "other_bucket": 51,  # the same in bucket avatars: must not count
    "file_missing": 52,  # document 3's file is missing from storage: orphan.documents_file_missing
    "tok_expired": 54,  # the connection expired 10 days ago, still active: token.expired_active
    "tok_unused_active": 55,  # one more connection, no doctor, active, expired: token.expired_active
    #                           and token.unused_expired
    "tok_soon": 56,  # the connection expires in 12 hours: token.expiring_soon
    "tok_unused_inactive": 57,  # one more connection, no doctor, inactive, expired: token.unused_expired
    "tok_used_expired": 58,  # the connection expired, inactive, used by its doctor: must not count
    "tok_three_days": 59,  # the connection expires in 3 days: must not count
    "job_lagged": 60,  # a job that succeeded 3 minutes ago, 25 minutes after its creation: pulse.sync_lag
    "job_lag_near": 61,  # one that succeeded 9 minutes after its creation: must not count
    "job_lag_old": 62,  # one that lagged 30 minutes but succeeded 2 hours ago: must not count
    "doc_processing_fresh": 63,  # document 1 processing for 15 minutes: must not count (for 15 minutes)
    "fb_disabled": 64,  # the Firebase Auth user is disabled (the account was closed), its Supabase user
    #                     live and its connection active: identity.disabled_live_in_supabase and
    #                     token.active_for_disabled_patient (only where Firebase holds the patient)
}
BY_RESIDUE: dict[int, str] = {r: name for name, r in PLANTS.items()}
assert len(BY_RESIDUE) == len(PLANTS) and 0 not in BY_RESIDUE and max(BY_RESIDUE) < 100

# core: ghost users registered twice (dup_*), each with a Firebase user but no patients row
CORE_GHOSTS = {"dup_email": 1, "dup_email3": 2, "dup_phone": 1}
# one patient's rows in each class that differs from the usual 5 Supabase documents / 1 connection
SB_DOCS = {"doc_only_core": 4, "rx_unsynced": 4}
CONNECTIONS = {"tok_dup": 2, "tok_dup3": 3, "tok_unused_active": 2, "tok_unused_inactive": 2}
# what one patient of a class adds to a check, wherever it is (Firebase or not)
ALWAYS: dict[str, dict[str, int]] = {
    "sb_user_none": {"sync.patient_missing_in_supabase": 1},
    "sb_user_deleted": {"sync.patient_missing_in_supabase": 1},
    "sb_ghost": {"sync.supabase_user_unknown": 1},
    "sb_wrong_postgres_id": {"sync.supabase_user_unknown": 1},
    "doc_only_sb": {"sync.document_missing_in_core": 1},
    "doc_only_core": {"sync.document_missing_in_supabase": 1},
    "doc_processing": {"pulse.documents_unprocessed": 1},  # weeks old, never processed
    "doc_uploaded": {"pulse.documents_unprocessed": 1},
    "job_lagged": {"pulse.sync_lag": 1},
    "rx_wrong_type": {"sync.prescription_missing_in_supabase": 1},
    "rx_unsynced": {"sync.prescription_missing_in_supabase": 1},
    "job_failed": {"sync.jobs_failed": 1},
    "job_pending_stuck": {"sync.jobs_stuck": 1},
    "job_running_stuck": {"sync.jobs_stuck": 1},
    "dup_email": {"dup.core_users_email": 1},
    "dup_email3": {"dup.core_users_email": 2},
    "dup_phone": {"dup.core_users_phone": 1},
    "conv_two": {"dup.open_conversations": 1},
    "conv_snoozed": {"dup.open_conversations": 1},
    "conv_three": {"dup.open_conversations": 2},
    "tok_dup": {"dup.access_tokens": 1},
    "tok_dup3": {"dup.access_tokens": 2},
    "dup_medication": {"dup.medications": 1},
    "sb_dup": {"dup.supabase_users_firebase_uid": 1},
    "doc_patient_user_id": {"orphan.documents_patient": 1},
    "doc_patient_nowhere": {"orphan.documents_patient": 1},
    "note_patient_user_id": {"orphan.session_notes_patient": 1},
    "note_patient_nowhere": {"orphan.session_notes_patient": 1},
    "appt_patient_id": {"orphan.appointments_patient": 1},
    "appt_nowhere": {"orphan.appointments_patient": 1},
    "rx_appt_nowhere": {"orphan.prescriptions_appointment": 1},
    "orphan_medication": {"orphan.medications_document": 1},
    "orphan_chunk": {"orphan.rag_chunks_document": 1},
    "ghost_doc": {"orphan.supabase_documents_patient": 1},
    "ghost_conn": {"orphan.connections_patient": 1},
    "stray_object": {"orphan.storage_objects": 1},
    "file_missing": {"orphan.documents_file_missing": 1},
    "tok_expired": {"token.expired_active": 1},
    "tok_unused_active": {"token.expired_active": 1, "token.unused_expired": 1},
    "tok_soon": {"token.expiring_soon": 1},
    "tok_unused_inactive": {"token.unused_expired": 1},
}
# drift: findings (one per field and pair of stores) of one patient, (in Firebase, not in Firebase)
DRIFT = {
    "core_email": (3, 1),  # core vs Firebase Auth, Firestore, Supabase / core vs Supabase
    "fs_phone": (3, 0),  # Firestore vs Firebase Auth, core, Supabase / no Firestore profile
    "sb_email": (2, 1),  # Supabase vs Firebase Auth, core (Firestore has no email) / Supabase vs core
    "fb_phone": (3, 0),  # Firebase Auth vs Firestore, core, Supabase / no Firebase user
}

AREAS = ("415", "212", "617", "312", "206", "512", "303", "404", "702", "919")
DOCTOR_AREA = "646"
CHANGED_AREA = "347"  # a changed phone (fs_phone, fb_phone): another number, still unique in Firebase

Progress = Callable[[str], None]


# ---------------------------------------------------------------------- the formulas (as in fill_session.sql)
def _md5(seed: int, kind: str, i: int) -> str:
    return hashlib.md5(f"{seed}/{kind}/{i}".encode(), usedforsecurity=False).hexdigest()


def hb_id(seed: int, kind: str, i: int) -> str:
    return str(uuid.UUID(_md5(seed, kind, i)))


def hb_uid(seed: int, kind: str, i: int) -> str:
    return f"{kind[0]}{i:08d}{_md5(seed, kind, i)[:19]}"


def hb_email(i: int) -> str:
    return f"patient{i}@bench.example.com"


def hb_phone(area: str, k: int) -> str:
    return f"+1{area}{200 + (k // 10000) % 800:03d}{k % 10000:04d}"


def hb_area(i: int) -> str:
    return AREAS[i % 10]


def doctors_for(patients: int) -> int:
    return max(5, patients // 1000)


def plant_of(i: int) -> str | None:
    return BY_RESIDUE.get(i % 100)


def in_class(limit: int, r: int) -> int:
    """How many i in 1..limit have i % 100 == r."""
    if limit <= 0:
        return 0
    return limit // 100 if r == 0 else (0 if limit < r else (limit - r) // 100 + 1)


# ---------------------------------------------------------------------- expected counts
def _contributions(name: str | None, in_firebase: bool) -> Counter[str]:
    """What one patient of class `name` adds to each check; `in_firebase`: i <= firebase_users."""
    c: Counter[str] = Counter(ALWAYS.get(name or "", {}))
    has_auth_user = in_firebase and name != "fb_user_none"
    if not in_firebase:  # Firebase holds none of this patient's users: every core user is missing there
        c["sync.core_user_missing_in_firebase"] += 1 + CORE_GHOSTS.get(name or "", 0)
        c["sync.profile_missing"] += 1
    elif name == "fb_user_none":
        c["sync.core_user_missing_in_firebase"] += 1
    elif name == "profile_none":
        c["sync.profile_missing"] += 1
    elif name == "fb_ghost":
        c["sync.firebase_user_missing_in_core"] += 1
    elif name == "fb_disabled":
        c["identity.disabled_live_in_supabase"] += 1
        c["token.active_for_disabled_patient"] += 1
    if not has_auth_user:  # the patient's Supabase documents and connections name no Firebase user
        c["orphan.supabase_documents_patient"] += SB_DOCS.get(name or "", DOCS_PER_PATIENT)
        c["orphan.connections_patient"] += CONNECTIONS.get(name or "", 1)
    if name in DRIFT:
        c["sync.field_drift"] += DRIFT[name][0 if in_firebase else 1]
    return c


# The planted schema defects the bench's recommended lookup indexes repair: the demo keeps
# prescriptions.appointment_id unindexed (a planted advisor finding); the bench, a deployment with
# every recommended lookup index (lib.patient.indexes), indexes it (sql/bench/lookup_index_prescriptions.sql).
FIXED_BY_LOOKUP_INDEXES = {"advisor.unindexed_foreign_key": {"core.prescriptions.prescriptions_appointment_id_fkey"}}


def schema_findings() -> dict[str, int]:
    """constraint.* and advisor.*: from the demo schema's broken state, as the demo counts them,
    less what the recommended lookup indexes repair."""
    from lib.demo.generate import SCHEMA_PLANTS

    return {check: len(set(keys) - FIXED_BY_LOOKUP_INDEXES.get(check, set())) for check, keys in SCHEMA_PLANTS.items()}


# The generated history reanchor writes into the ops database: one run a day over the days before
# the anchor, every check steady at its expected count but these, which were 0 until today
# (the OCR backlog appeared today): pulse.count_anomaly counts them when they are far enough above.
HISTORY_DAYS = 14
HISTORY_SOURCE = "bench-history"
HISTORY_NEW_TODAY = ("pulse.documents_unprocessed",)


def history_baseline(expected: dict[str, int]) -> dict[str, int]:
    """Each check's count in every run of the generated history."""
    return {cid: 0 if cid in HISTORY_NEW_TODAY else n for cid, n in expected.items()}


def history_findings(counts: Counter[str]) -> dict[str, int]:
    """pulse.count_anomaly: how many checks the rule (lib.checks.pulse, default settings) finds
    far above the generated history, in a run on the anchor's day."""
    from lib.checks import pulse
    from lib.checks.ids import CHECKS
    from lib.config import Settings

    now = {c.id: int(counts.get(c.id, 0)) for c in CHECKS if c.kind != "history"}
    days = {cid: [n] * HISTORY_DAYS for cid, n in history_baseline(now).items()}
    return {"pulse.count_anomaly": len(pulse.judge(now, days, Settings.model_construct()))}


def expected_counts(patients: int, firebase_users: int) -> dict[str, int]:
    """The exact count of every check id for a data set of this shape (seed does not matter)."""
    from lib.checks.ids import CHECK_IDS

    fb = min(patients, firebase_users)
    total: Counter[str] = Counter()
    for r in range(100):
        name = BY_RESIDUE.get(r)
        inside, everywhere = in_class(fb, r), in_class(patients, r)
        for check, k in _contributions(name, True).items():
            total[check] += k * inside
        for check, k in _contributions(name, False).items():
            total[check] += k * (everywhere - inside)
    total.update(schema_findings())
    total.update(history_findings(total))
    unknown = set(total) - set(CHECK_IDS)
    assert not unknown, f"expected counts for unknown checks: {sorted(unknown)}"
    return {cid: int(total.get(cid, 0)) for cid in CHECK_IDS}


# keys one planted patient i of a class yields for a check: (check, plant, needs Firebase, key of i)
SAMPLES: tuple[tuple[str, str, bool, Callable[[int, int, int], str]], ...] = (
    ("sync.firebase_user_missing_in_core", "fb_ghost", True, lambda s, n, i: hb_uid(s, "gfb", i)),
    ("sync.core_user_missing_in_firebase", "fb_user_none", True, lambda s, n, i: hb_uid(s, "patient", i)),
    ("sync.patient_missing_in_supabase", "sb_user_none", False, lambda s, n, i: hb_uid(s, "patient", i)),
    ("sync.patient_missing_in_supabase", "sb_user_deleted", False, lambda s, n, i: hb_uid(s, "patient", i)),
    ("sync.supabase_user_unknown", "sb_ghost", False, lambda s, n, i: hb_id(s, "sbghost", i)),
    ("sync.supabase_user_unknown", "sb_wrong_postgres_id", False, lambda s, n, i: hb_id(s, "sbuser", i)),
    ("sync.profile_missing", "profile_none", True, lambda s, n, i: hb_uid(s, "patient", i)),
    ("sync.document_missing_in_core", "doc_only_sb", False, lambda s, n, i: hb_id(s, "doc", (i - 1) * 5 + 1)),
    ("sync.document_missing_in_supabase", "doc_only_core", False, lambda s, n, i: hb_id(s, "doc", (i - 1) * 5 + 1)),
    ("sync.prescription_missing_in_supabase", "rx_wrong_type", False, lambda s, n, i: hb_id(s, "rx", i)),
    ("sync.prescription_missing_in_supabase", "rx_unsynced", False, lambda s, n, i: hb_id(s, "rx", i)),
    ("sync.jobs_failed", "job_failed", False, lambda s, n, i: str(n + i)),
    ("sync.jobs_stuck", "job_pending_stuck", False, lambda s, n, i: str(n + i)),
    ("sync.jobs_stuck", "job_running_stuck", False, lambda s, n, i: str(n + i)),
    ("dup.core_users_email", "dup_email", False, lambda s, n, i: hb_id(s, "gdup1", i)),
    ("dup.core_users_phone", "dup_phone", False, lambda s, n, i: hb_id(s, "gdup1", i)),
    ("dup.access_tokens", "tok_dup", False, lambda s, n, i: hb_id(s, "conn1", i)),
    ("dup.medications", "dup_medication", False, lambda s, n, i: hb_id(s, "med-again", i)),
    ("dup.supabase_users_firebase_uid", "sb_dup", False, lambda s, n, i: hb_id(s, "sbdup", i)),
    ("orphan.documents_patient", "doc_patient_user_id", False, lambda s, n, i: hb_id(s, "doc", (i - 1) * 5 + 2)),
    ("orphan.session_notes_patient", "note_patient_nowhere", False, lambda s, n, i: hb_id(s, "note", i)),
    ("orphan.appointments_patient", "appt_patient_id", False, lambda s, n, i: hb_id(s, "appointment", i)),
    ("orphan.prescriptions_appointment", "rx_appt_nowhere", False, lambda s, n, i: hb_id(s, "rx", i)),
    ("orphan.medications_document", "orphan_medication", False, lambda s, n, i: hb_id(s, "med-orphan", i)),
    ("orphan.rag_chunks_document", "orphan_chunk", False, lambda s, n, i: str(n + i)),
    ("orphan.supabase_documents_patient", "ghost_doc", False, lambda s, n, i: hb_id(s, "ghostdoc", i)),
    ("orphan.connections_patient", "ghost_conn", False, lambda s, n, i: hb_id(s, "conn1", i)),
    ("orphan.storage_objects", "stray_object", False,
     lambda s, n, i: f"{hb_uid(s, 'patient', i)}/stray-{hb_id(s, 'strayobject', i)}.pdf"),
    ("orphan.documents_file_missing", "file_missing", False, lambda s, n, i: hb_id(s, "doc", (i - 1) * 5 + 3)),
    ("identity.disabled_live_in_supabase", "fb_disabled", True, lambda s, n, i: hb_uid(s, "patient", i)),
    ("token.active_for_disabled_patient", "fb_disabled", True, lambda s, n, i: hb_id(s, "conn", i)),
    ("token.expired_active", "tok_expired", False, lambda s, n, i: hb_id(s, "conn", i)),
    ("token.expiring_soon", "tok_soon", False, lambda s, n, i: hb_id(s, "conn", i)),
    ("token.unused_expired", "tok_unused_inactive", False, lambda s, n, i: hb_id(s, "conn1", i)),
    ("pulse.sync_lag", "job_lagged", False, lambda s, n, i: str(n + i)),
    ("pulse.documents_unprocessed", "doc_processing", False, lambda s, n, i: hb_id(s, "doc", (i - 1) * 5 + 1)),
    ("pulse.documents_unprocessed", "doc_uploaded", False, lambda s, n, i: hb_id(s, "doc", (i - 1) * 5 + 1)),
)


def sample_keys(patients: int, firebase_users: int, seed: int, per_plant: int = 3) -> dict[str, list[str]]:
    """A few keys each check must report (the first patients of each planted class). A check that
    keeps only the first keys of a large finding (lib.checks.sync.KEYS_LIMIT) may not list them."""
    fb = min(patients, firebase_users)
    out: dict[str, list[str]] = {}
    for check, plant, needs_fb, key in SAMPLES:
        r = PLANTS[plant]
        limit = fb if needs_fb else patients
        out.setdefault(check, []).extend(key(seed, patients, i) for i in range(r, limit + 1, 100)[:per_plant])
    return out


# ---------------------------------------------------------------------- the info file
@dataclass
class BenchInfo:
    """What was built where, what every check must count, and how long the build took."""

    size: str
    patients: int
    firebase_users: int  # patients held in Firebase (the first ones)
    doctors: int
    seed: int
    anchor: str  # ISO time every relative timestamp of the data is measured from
    data_dir: str
    core_url: str
    supabase_url: str
    ops_url: str
    auth_host: str
    firestore_host: str
    project_id: str
    expected: dict[str, int]
    samples: dict[str, list[str]] = field(default_factory=dict)
    build_seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""
    reused: bool = False
    peak_rss_mb: float = 0.0
    version: int = VERSION

    def env(self) -> dict[str, str]:
        """The settings that make the dashboard read these stores as a configured deployment (not the demo)."""
        return {
            "CORE_DATABASE_URL": self.core_url,
            "SUPABASE_DB_URL": self.supabase_url,
            "OPS_DATABASE_URL": self.ops_url,
            "FIREBASE_PROJECT_ID": self.project_id,
            "FIREBASE_AUTH_EMULATOR_HOST": self.auth_host,
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
        }

    @property
    def valid_until(self) -> datetime:
        """Until when the time-dependent plants hold (the fresh pending job); `reanchor` renews them."""
        return datetime.fromisoformat(self.anchor) + FRESH_FOR

    def save(self) -> None:
        path = Path(self.data_dir) / INFO_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(path)


def load_info(data_dir: Path | str) -> BenchInfo:
    """The data set built in `data_dir` (its bench.json)."""
    path = Path(data_dir) / INFO_FILE
    try:
        raw = json.loads(path.read_text())
        names = {f.name for f in fields(BenchInfo)}
        return BenchInfo(**{k: v for k, v in raw.items() if k in names})
    except FileNotFoundError:
        raise OpsError(f"No benchmark data set in {data_dir}: build one first (lib.bench.data.build).") from None
    except (ValueError, TypeError):
        raise OpsError(f"{path} is not a benchmark description; build the data set again.") from None


def fingerprint() -> str:
    """What the data set depends on: the fill SQL, the plant table and VERSION."""
    from lib.sqlfiles import SQL_DIR

    h = hashlib.sha256(f"{VERSION}|{sorted(PLANTS.items())}".encode())
    for path in sorted((SQL_DIR / "bench").glob("fill_*.sql")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def parse_size(size_or_n: str | int) -> tuple[str, int]:
    if isinstance(size_or_n, int) or str(size_or_n).replace("_", "").isdigit():
        n = int(str(size_or_n).replace("_", ""))
        name = next((k for k, v in SIZES.items() if v == n), str(n))
    elif str(size_or_n) in SIZES:
        name, n = str(size_or_n), SIZES[str(size_or_n)]
    else:
        raise OpsError(f"Unknown size {size_or_n!r}: use {', '.join(SIZES)} or a number of patients.")
    if not MIN_PATIENTS <= n <= MAX_PATIENTS:
        raise OpsError(f"The number of patients must be between {MIN_PATIENTS:,} and {MAX_PATIENTS:,}.")
    return name, n


# ---------------------------------------------------------------------- PostgreSQL
def _params(seed: int, patients: int, anchor: datetime) -> dict[str, Any]:
    from lib.demo.generate import PUBLIC_PREFIX, SIGNED_PREFIX

    return {
        "seed": seed,
        "n": patients,
        "doctors": doctors_for(patients),
        "anchor": anchor,
        "public_prefix": PUBLIC_PREFIX,
        "signed_prefix": SIGNED_PREFIX,
        **{f"r_{name}": r for name, r in PLANTS.items()},
    }


CORE_FILLS = ("users", "patients", "doctors", "appointments", "prescriptions", "documents", "medications",
              "session_notes", "sync_jobs", "conversations", "webhook_log")
SUPABASE_FILLS = ("users", "documents", "objects", "rag_chunks", "connections")
TABLE_OF = {("supabase", "users"): "auth.users", ("supabase", "objects"): "storage.objects"}
CREATED = {"key": "keys", "index": "indexes", "foreign key": "foreign_keys"}  # build_seconds labels


def _fill_database(store: str, url: str, params: dict[str, Any], progress: Progress,
                   seconds: dict[str, float], rows: dict[str, int]) -> None:
    """Create the demo's schema in `store`, fill every table, then keys, indexes, the demo's broken
    constraints (core), identity sequences, VACUUM ANALYZE."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from lib.sqlfiles import load

    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                           connect_args={"application_name": "healbridge-bench"})

    def timed(label: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        seconds[f"{store}.{label}"] = round(time.perf_counter() - t0, 2)
        return out

    try:
        with engine.connect() as conn:
            raw: Any = conn.connection.dbapi_connection  # psycopg's own connection: runs a script as is
            assert raw is not None

            def script(name: str) -> None:
                raw.execute(load(name).text.encode())

            timed("schema", lambda: script(f"demo/{store}_schema"))
            script("bench/fill_session")
            ddl = [dict(r._mapping) for r in conn.execute(text(load("bench/deferred_ddl").text))] if DEFER_KEYS else []
            for d in ddl:  # already in drop order
                raw.execute(d["drop_sql"].encode())
            for table in CORE_FILLS if store == "core" else SUPABASE_FILLS:
                stmt = text(load(f"bench/fill_{store}_{table}").text)
                def fill(stmt: Any = stmt) -> int:
                    return int(conn.execute(stmt, params).rowcount)

                count = timed(f"fill.{table}", fill)
                label = TABLE_OF.get((store, table), table)
                rows[f"{store}.{label}"] = int(count)
                progress(f"{store}: {label} {count:,} rows in {seconds[f'{store}.fill.{table}']:.1f} s")

            def recreate() -> None:
                for d in sorted(ddl, key=lambda d: (d["create_order"], d["name"])):
                    t0 = time.perf_counter()
                    raw.execute(d["create_sql"].encode())
                    kind = f"{store}.create.{CREATED[d['kind']]}"
                    seconds[kind] = round(seconds.get(kind, 0.0) + time.perf_counter() - t0, 2)

            if ddl:
                timed("keys_indexes", recreate)
                progress(f"{store}: {len(ddl)} keys, indexes and foreign keys built in "
                         f"{seconds[f'{store}.keys_indexes']:.1f} s")
            if store == "core":
                conn.execute(text(load("bench/identity_sync_jobs").text))
                timed("constraints", lambda: script("demo/core_constraints"))
            else:
                conn.execute(text(load("bench/identity_rag_chunks").text))
            timed("vacuum_analyze", lambda: script("bench/vacuum_analyze"))
            progress(f"{store}: VACUUM ANALYZE in {seconds[f'{store}.vacuum_analyze']:.1f} s")
    finally:
        engine.dispose()


def _run(url: str, name: str, params: dict[str, Any] | None = None) -> Any:
    """Run one file of sql/ in its own connection: its first value, or the rows it changed."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from lib.sqlfiles import load

    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                           connect_args={"application_name": "healbridge-bench"})
    try:
        with engine.connect() as conn:
            res = conn.execute(text(load(name).text), params or {})
            return res.scalar() if res.returns_rows else res.rowcount
    finally:
        engine.dispose()


def _held(info: BenchInfo) -> bool:
    """Whether both databases still hold the data set `info` describes (row counts of its users)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return (_run(info.core_url, "bench/held_core") == info.rows.get("core.users")
                and _run(info.supabase_url, "bench/held_supabase") == info.rows.get("supabase.auth.users"))
    except SQLAlchemyError:
        return False


# ---------------------------------------------------------------------- Firebase
def firebase_users(seed: int, patients: int, in_firebase: int) -> Iterator[dict[str, Any]]:
    """Every Firebase Auth user: the first `in_firebase` patients, the Firebase plants, the doctors."""
    for i in range(1, min(patients, in_firebase) + 1):
        plant = plant_of(i)
        if plant != "fb_user_none":
            yield {"uid": hb_uid(seed, "patient", i), "email": hb_email(i),
                   "phone": hb_phone(CHANGED_AREA if plant == "fb_phone" else hb_area(i), i),
                   "display_name": f"Patient {i}", "claims": {"role": "patient"},
                   **({"disabled": True} if plant == "fb_disabled" else {})}
        if plant == "fb_ghost":
            yield {"uid": hb_uid(seed, "gfb", i), "email": f"ghost.fb{i}@bench.example.com", "phone": None,
                   "display_name": f"Ghost {i}", "claims": {"role": "patient"}}
        elif plant == "fb_ghost_other":
            yield {"uid": hb_uid(seed, "gfbdoctor", i), "email": f"ghost.doctor{i}@bench.example.com", "phone": None,
                   "display_name": f"Ghost doctor {i}", "claims": {"role": "doctor"}}
            yield {"uid": hb_uid(seed, "gnoclaim", i), "email": f"ghost.noclaim{i}@bench.example.com", "phone": None,
                   "display_name": f"No role {i}", "claims": None}
        for k in range(1, CORE_GHOSTS.get(plant or "", 0) + 1):  # the second registrations core holds
            yield {"uid": hb_uid(seed, f"gdup{k}", i), "email": None, "phone": None,
                   "display_name": f"Patient {i} again", "claims": {"role": "patient"}}
    for d in range(1, doctors_for(patients) + 1):
        yield {"uid": hb_uid(seed, "doctor", d), "email": f"doctor{d}@bench.example.com",
               "phone": hb_phone(DOCTOR_AREA, d), "display_name": f"Dr. Doctor {d}", "claims": {"role": "doctor"}}


def firestore_profiles(seed: int, patients: int, in_firebase: int, anchor: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every `patients/{uid}` profile: the first `in_firebase` patients but profile_none."""
    for i in range(1, min(patients, in_firebase) + 1):
        plant = plant_of(i)
        if plant == "profile_none":
            continue
        doc: dict[str, Any] = {
            "full_name": f"Patient {i}",
            "date_of_birth": (date(1940, 1, 1) + timedelta(days=(i * 37) % 23725)).isoformat(),
            "postgres_user_id": hb_id(seed, "user", i),
            "updated_at": (anchor - timedelta(days=29 + i % 700)).isoformat(),
        }
        if plant != "sb_email":
            doc["email"] = hb_email(i)
        if plant != "phone_format":
            doc["phone"] = hb_phone(CHANGED_AREA if plant == "fs_phone" else hb_area(i), i)
        yield hb_uid(seed, "patient", i), doc


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[k : k + size] for k in range(0, len(items), size)]


def _fill_firebase(auth_host: str, firestore_host: str, project_id: str, seed: int, patients: int,
                   in_firebase: int, anchor: datetime, progress: Progress, seconds: dict[str, float],
                   rows: dict[str, int]) -> None:
    """Wipe the emulators, import the users (1,000 a call) and write the profiles (500 a batch),
    each from FIREBASE_THREADS threads with a client of their own."""
    from firebase_admin import auth

    from lib.stores.firebase import FirebaseStore

    local = threading.local()

    def store() -> FirebaseStore:
        if not hasattr(local, "store"):
            local.store = FirebaseStore(project_id, auth_emulator_host=auth_host, firestore_emulator_host=firestore_host,
                                        timeout_s=120)
        return cast(FirebaseStore, local.store)

    store().wipe_emulators()
    t0 = time.perf_counter()
    records = [auth.ImportUserRecord(uid=u["uid"], email=u["email"], phone_number=u["phone"],
                                     display_name=u["display_name"], email_verified=True, custom_claims=u["claims"],
                                     disabled=bool(u.get("disabled")))
               for u in firebase_users(seed, patients, in_firebase)]
    with ThreadPoolExecutor(FIREBASE_THREADS, thread_name_prefix="bench-auth") as pool:
        list(pool.map(lambda batch: store().import_users(batch), _chunks(records, AUTH_BATCH)))
    seconds["firebase.auth"] = round(time.perf_counter() - t0, 2)
    rows["firebase.auth_users"] = len(records)
    progress(f"firebase: {len(records):,} Auth users in {seconds['firebase.auth']:.1f} s")

    t0 = time.perf_counter()
    profiles = list(firestore_profiles(seed, patients, in_firebase, anchor))
    with ThreadPoolExecutor(FIREBASE_THREADS, thread_name_prefix="bench-firestore") as pool:
        list(pool.map(lambda batch: store().write_profiles(dict(batch)), _chunks(profiles, PROFILE_BATCH)))
    seconds["firebase.firestore"] = round(time.perf_counter() - t0, 2)
    rows["firestore.patients"] = len(profiles)
    progress(f"firebase: {len(profiles):,} Firestore profiles in {seconds['firebase.firestore']:.1f} s")


def _firebase_holds(info: BenchInfo) -> bool:
    """Whether the running emulators hold the data set (the profile count and the last patient's user)."""
    from lib.errors import StoreUnavailable
    from lib.stores.firebase import FirebaseStore

    fb = FirebaseStore(info.project_id, auth_emulator_host=info.auth_host, firestore_emulator_host=info.firestore_host)
    last = next((i for i in range(min(info.patients, info.firebase_users), 0, -1) if plant_of(i) != "fb_user_none"), 0)
    try:
        return (fb.count_profiles() == info.rows.get("firestore.patients")
                and fb.find_user("uid", hb_uid(info.seed, "patient", last)) is not None)
    except StoreUnavailable:
        return False


# ---------------------------------------------------------------------- build, reanchor, stop
def _settings(data_dir: Path) -> Any:
    from lib.config import load_settings

    return load_settings(healbridge_data_dir=data_dir)


def ensure_lookup_indexes(info: BenchInfo) -> None:
    """The recommended lookup indexes (lib.patient.indexes), the one the demo leaves out on purpose
    included; IF NOT EXISTS, so a reused data set gets them too. They change no check's count but
    advisor.unindexed_foreign_key's (FIXED_BY_LOOKUP_INDEXES)."""
    _run(info.core_url, "demo/lookup_indexes_core")
    _run(info.core_url, "bench/lookup_index_prescriptions")
    _run(info.supabase_url, "demo/lookup_indexes_supabase")


def reanchor(info: BenchInfo, now: datetime | None = None) -> BenchInfo:
    """Move the time-dependent plants (stuck, fresh and lagged jobs, tokens expiring around the
    anchor, the fresh unprocessed document) by the time since the anchor, so that the checks, which
    count against now(), find `expected` again, and write the generated history before the new
    anchor again (pulse.count_anomaly); saves the new anchor."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    old = datetime.fromisoformat(info.anchor)
    _run(info.core_url, "bench/reanchor_core", {"n": info.patients, "anchor": old, "now": now})
    _run(info.supabase_url, "bench/reanchor_supabase", {"anchor": old, "now": now})
    _run(info.supabase_url, "bench/reanchor_supabase_documents", {"anchor": old, "now": now})
    write_history(info, now)
    info.anchor = now.isoformat()
    info.save()
    return info


def write_history(info: BenchInfo, anchor: datetime) -> None:
    """The generated history in the ops database (HISTORY_DAYS daily runs before `anchor`, source
    HISTORY_SOURCE), in place of the ones written before; every other run stays."""
    from lib.checks.ids import BY_ID
    from lib.stores.ops import engine_for
    from lib.stores.ops import run as ops_run

    base = history_baseline(info.expected)
    engine = engine_for(info.ops_url)  # creates the ops schema on first use
    try:
        with engine.begin() as conn:
            ops_run(conn, "delete_generated_runs_of", {"source": HISTORY_SOURCE})
            ops_run(conn, "insert_daily_history", {
                "anchor": anchor, "days": HISTORY_DAYS, "source": HISTORY_SOURCE, "checks": list(base),
                "severities": [BY_ID[c].severity for c in base], "counts": list(base.values())})
    finally:
        engine.dispose()  # hold no connection to the benchmark's server


def build(
    size_or_n: str | int,
    *,
    seed: int = 1,
    data_dir: Path | str,
    firebase_users: int | None = None,
    force: bool = False,
    progress: Progress = print,
) -> BenchInfo:
    """Start the embedded stores in `data_dir` and fill them with the benchmark data set, or reuse the
    one already there (same size, seed and Firebase share; the emulators are refilled when they had
    stopped). `firebase_users` (default min(patients, 100,000)) is how many patients Firebase holds."""
    from lib.services import PROJECT_ID, EmbeddedServices

    name, n = parse_size(size_or_n)
    in_fb = min(n, FIREBASE_MAX if firebase_users is None else firebase_users)
    if in_fb < 0:
        raise OpsError("firebase_users must not be negative.")
    data_dir = Path(data_dir).resolve()
    t_all = time.perf_counter()
    seconds: dict[str, float] = {}
    services = EmbeddedServices(_settings(data_dir))
    before = services.running()
    t0 = time.perf_counter()
    services.start(progress)
    seconds["services"] = round(time.perf_counter() - t0, 2)
    auth_host, fs_host = services.auth_host(), services.firestore_host()
    assert auth_host and fs_host
    urls = {db: services.pg_uri(db) for db in DATABASES}
    fp = fingerprint()

    try:
        previous: BenchInfo | None = load_info(data_dir)
    except OpsError:
        previous = None
    if (previous and not force and previous.fingerprint == fp and previous.version == VERSION
            and (previous.patients, previous.seed, previous.firebase_users) == (n, seed, in_fb)):
        previous.core_url, previous.supabase_url, previous.ops_url = urls["core"], urls["supabase"], urls["ops"]
        previous.auth_host, previous.firestore_host = auth_host, fs_host
        if _held(previous):
            info = previous
            info.reused, info.build_seconds = True, {"services": seconds["services"]}
            if not (before["auth"] and before["firestore"] and _firebase_holds(info)):
                progress("The emulators were empty: filling Firebase again")
                anchor = datetime.fromisoformat(info.anchor)
                _fill_firebase(auth_host, fs_host, PROJECT_ID, seed, n, in_fb, anchor, progress,
                               info.build_seconds, info.rows)
            ensure_lookup_indexes(info)
            info.expected = expected_counts(n, in_fb)  # a set built before an index repaired a plant
            reanchor(info)
            info.build_seconds["total"] = round(time.perf_counter() - t_all, 2)
            info.peak_rss_mb = _peak_rss_mb()
            info.save()
            progress(f"Reusing the {name} data set in {data_dir} ({n:,} patients, seed {seed})")
            return info

    anchor = datetime.now(UTC).replace(second=0, microsecond=0)
    (data_dir / INFO_FILE).unlink(missing_ok=True)
    t0 = time.perf_counter()
    services.recreate_databases(DATABASES)
    seconds["databases"] = round(time.perf_counter() - t0, 2)
    rows: dict[str, int] = {}
    params = _params(seed, n, anchor)
    progress(f"Building {n:,} patients ({in_fb:,} in Firebase), seed {seed}, in {data_dir}")

    def part(label: str, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            t = time.perf_counter()
            fn()
            seconds[label] = round(time.perf_counter() - t, 2)
        return run

    jobs = [
        part("core", lambda: _fill_database("core", urls["core"], params, progress, seconds, rows)),
        part("supabase", lambda: _fill_database("supabase", urls["supabase"], params, progress, seconds, rows)),
        part("firebase", lambda: _fill_firebase(auth_host, fs_host, PROJECT_ID, seed, n, in_fb, anchor, progress,
                                                seconds, rows)),
    ]
    with ThreadPoolExecutor(len(jobs), thread_name_prefix="bench-build") as pool:
        for fut in [pool.submit(j) for j in jobs]:
            fut.result()
    info = BenchInfo(
        size=name, patients=n, firebase_users=in_fb, doctors=doctors_for(n), seed=seed, anchor=anchor.isoformat(),
        data_dir=str(data_dir), core_url=urls["core"], supabase_url=urls["supabase"], ops_url=urls["ops"],
        auth_host=auth_host, firestore_host=fs_host, project_id=PROJECT_ID,
        expected=expected_counts(n, in_fb), samples=sample_keys(n, in_fb, seed),
        build_seconds=seconds, rows=dict(sorted(rows.items())), fingerprint=fp,
    )
    ensure_lookup_indexes(info)
    reanchor(info)
    seconds["total"] = round(time.perf_counter() - t_all, 2)
    info.peak_rss_mb = _peak_rss_mb()
    info.save()
    progress(f"Built {n:,} patients in {seconds['total']:.1f} s")
    return info


def stop(data_dir: Path | str) -> None:
    """Stop the stores of `data_dir` (the data set stays on disk; `build` starts and reuses it)."""
    from lib.services import EmbeddedServices

    EmbeddedServices(_settings(Path(data_dir).resolve())).stop()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
