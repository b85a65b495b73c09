"""Generated HealBridge data with known defects. It stays one module: the generator is one walk
over one seeded random stream (`_Builder.rng`) whose order of draws is the data; splitting it
would scatter the plants of one patient and tie the rows to the order in which files call it.

`build(n, seed, clean, anchor)` returns every row of every store plus the manifest of planted
defects: for each check id, how many findings the checks must report and their keys. The data is a
pure function of (n, seed, anchor): the same arguments give the same rows, byte for byte.

Every normal patient is consistent in all four stores. Each plant adds its own rows (a special
patient, a stray document, a duplicate conversation) built so that it trips exactly the checks it
is recorded under, and edge cases ("must not count") are planted next to them.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lib.checks.ids import CHECK_IDS

SUPABASE_HOST = "https://demo-healbridge.supabase.co"
PUBLIC_PREFIX = f"{SUPABASE_HOST}/storage/v1/object/public/documents/"
SIGNED_PREFIX = f"{SUPABASE_HOST}/storage/v1/object/documents/"

CORE_COLUMNS: dict[str, list[str]] = {
    "users": ["id", "firebase_uid", "email", "phone", "role", "verified", "created_at", "updated_at"],
    "patients": ["id", "user_id", "full_name", "date_of_birth", "created_at", "updated_at"],
    "doctors": ["id", "user_id", "full_name", "specialty"],
    "appointments": ["id", "patient_id", "doctor_id", "type", "status", "scheduled_at", "created_at"],
    "prescriptions": ["id", "appointment_id", "pdf_url", "summary_json", "created_at"],
    "documents": ["id", "patient_id", "type", "file_url", "ocr_confidence", "created_at"],
    "medications": ["id", "patient_id", "document_id", "name", "strength", "form", "frequency", "route",
                    "duration_days", "start_date", "reminders_enabled", "created_at"],
    "session_notes": ["id", "patient_id", "doctor_id", "note", "created_at"],
    "sync_jobs": ["id", "kind", "entity_id", "patient_firebase_uid", "source", "target", "status", "attempts",
                  "last_error", "created_at", "updated_at"],
    "conversations": ["id", "pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId",
                      "psid", "status", "lastMessageAt", "createdAt"],
    "webhook_log": ["received_at", "source", "payload"],
}
SUPABASE_COLUMNS: dict[str, list[str]] = {
    "auth.users": ["id", "email", "phone", "raw_user_meta_data", "raw_app_meta_data", "created_at", "updated_at",
                   "last_sign_in_at", "deleted_at", "banned_until", "is_anonymous"],
    "storage.objects": ["id", "bucket_id", "name", "created_at", "metadata"],
    "public.documents": ["id", "patient_id", "type", "file_url", "text", "structured_json", "ocr_confidence",
                         "status", "created_at", "processed_at"],
    "public.rag_chunks": ["id", "patient_id", "document_id", "chunk_text", "embedding", "metadata", "created_at"],
    "public.patient_doctor_connections": ["id", "patient_firebase_uid", "doctor_firebase_uid", "access_token",
                                          "token_expires_at", "is_active", "created_at", "used_at"],
}

FIRST = ["Ada", "Ben", "Chloé", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira", "Liam", "Maya",
         "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vik", "Wen", "Yara", "Zoe", "José"]
LAST = ["Okafor", "Smith", "Nguyen", "García", "Kowalski", "Haddad", "Tanaka", "Müller", "Silva", "Johnson",
        "Ivanova", "Rossi", "Cohen", "Patel", "O'Brien", "Larsen", "Dubois", "Kim", "Mensah", "Novak"]
SPECIALTIES = ["cardiology", "dermatology", "general practice", "endocrinology", "pediatrics", "neurology"]
DRUGS = [("Metformin", "500 mg"), ("Lisinopril", "10 mg"), ("Atorvastatin", "20 mg"), ("Amoxicillin", "250 mg"),
         ("Levothyroxine", "50 mcg"), ("Omeprazole", "20 mg"), ("Sertraline", "50 mg"), ("Ibuprofen", "400 mg")]
DOC_TYPES = ["lab_report", "scan", "discharge_summary"]
JOB_ERRORS = [
    "duplicate key value violates unique constraint \"patient_doctor_connections_patient_firebase_uid_doctor_fire_key\"",
    "insert or update on table \"appointments\" violates foreign key constraint \"appointments_patient_id_fkey\"",
    "Supabase auth.admin.createUser: A user with this email address has already been registered",
    "timeout waiting for OCR result after 120 s",
    "Firestore: 5 NOT_FOUND: No document to update: patients/",
]
OCR_BACKLOG = 12  # uploads the stopped OCR worker left behind (pulse.documents_unprocessed)
AREA_CODES = ["415", "212", "617", "312", "206", "512", "303", "404", "702", "919"]


@dataclass
class Patient:
    uid: str
    user_id: str
    patient_id: str
    first: str
    last: str
    email: str | None
    phone: str | None  # E.164
    dob: date
    created: datetime


@dataclass
class DemoData:
    n: int
    seed: int
    clean: bool
    anchor: datetime
    core: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in CORE_COLUMNS})
    supabase: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in SUPABASE_COLUMNS})
    firebase_users: list[dict[str, Any]] = field(default_factory=list)
    firestore: dict[str, dict[str, Any]] = field(default_factory=dict)
    planted: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CHECK_IDS})

    def manifest(self) -> dict[str, Any]:
        return {
            "patients": self.n,
            "seed": self.seed,
            "clean": self.clean,
            "anchor": self.anchor.isoformat(),
            "planted": {c: {"count": len(k), "keys": sorted(k)} for c, k in self.planted.items()},
        }


# Planted constraint findings: they come from the demo schema (sql/demo/*.sql), not from rows.
SCHEMA_PLANTS: dict[str, list[str]] = {
    "constraint.missing": [
        "core.documents.fk_documents_patient",
        "core.session_notes.fk_session_notes_patient",
        "supabase.patient_doctor_connections.patient_doctor_connections_access_token_key",
        "supabase.rag_chunks.rag_chunks_document_id_fkey",
    ],
    "constraint.unexpected": [
        "core.conversations.conversations_telegramConnectionId_psid_key",
        "supabase.patient_doctor_connections.patient_doctor_connections_patient_firebase_uid_doctor_fire_key",
    ],
    "constraint.mismatch": ["core.appointments.appointments_patient_id_fkey"],
    "constraint.not_valid": [
        "core.appointments.appointments_patient_id_fkey",
        "core.medications.medications_document_id_fkey",
        "core.medications.medications_patient_id_fkey",
        "core.prescriptions.prescriptions_appointment_id_fkey",
    ],
    "advisor.unindexed_foreign_key": ["core.doctors.doctors_user_id_fkey", "core.prescriptions.prescriptions_appointment_id_fkey"],
    "advisor.no_primary_key": ["core.webhook_log"],
    "advisor.duplicate_index": ["core.sync_jobs.sync_jobs_status_created_at_idx"],
}


class _Builder:
    def __init__(self, n: int, seed: int, clean: bool, anchor: datetime) -> None:
        self.rng = random.Random(seed)
        self.d = DemoData(n=n, seed=seed, clean=clean, anchor=anchor)
        self.now = anchor
        self.k = max(1, n // 500)  # how many of each planted way
        self._person = 0
        self._job_id = 0
        self._chunk_id = 0
        self.doctors: list[tuple[str, str]] = []  # (doctor_id, doctor uid)
        self._pairs: set[tuple[str, str]] = set()  # (patient uid, doctor uid): the pair UNIQUE holds
        self.normal: list[Patient] = []

    # ------------------------------------------------------------------ primitives
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def fuid(self) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(28))

    def token(self) -> str:
        return "".join(self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(40))

    def ago(self, lo_days: float, hi_days: float) -> datetime:
        return self.now - timedelta(seconds=int(self.rng.uniform(lo_days, hi_days) * 86400))

    def ahead(self, lo_days: float, hi_days: float) -> datetime:
        return self.now + timedelta(seconds=int(self.rng.uniform(lo_days, hi_days) * 86400))

    def plant(self, check: str, key: str) -> None:
        self.d.planted[check].append(key)

    def core(self, table: str, **row: Any) -> None:
        self.d.core[table].append(tuple(row.get(c) for c in CORE_COLUMNS[table]))

    def supa(self, table: str, **row: Any) -> None:
        self.d.supabase[table].append(tuple(row.get(c) for c in SUPABASE_COLUMNS[table]))

    def job(self, kind: str, entity: str, uid: str | None, status: str = "succeeded", *, error: str | None = None,
            updated: datetime | None = None, attempts: int = 1, took: timedelta = timedelta(minutes=2)) -> int:
        """A sync job; with `updated`, created `took` before it."""
        self._job_id += 1
        created = updated - took if updated else self.ago(1, 60)
        src, dst = {"user": ("firebase", "core"), "profile": ("core", "supabase"), "document": ("supabase", "core"),
                    "prescription": ("core", "supabase")}[kind]
        self.core("sync_jobs", id=self._job_id, kind=kind, entity_id=entity, patient_firebase_uid=uid, source=src,
                  target=dst, status=status, attempts=attempts, last_error=error, created_at=created,
                  updated_at=updated or created + timedelta(seconds=3))
        return self._job_id

    # ------------------------------------------------------------------ people
    def person(self, *, email: bool = True, phone: bool = True) -> Patient:
        self._person += 1
        i = self._person
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == "."))
        return Patient(
            uid=self.fuid(),
            user_id=self.uuid(),
            patient_id=self.uuid(),
            first=first,
            last=last,
            email=f"{local}{i}@example.com" if email else None,
            phone=f"+1{AREA_CODES[i % len(AREA_CODES)]}{200 + (i // 10000) % 800:03d}{i % 10000:04d}" if phone else None,
            dob=date(1940, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 65)),
            created=self.ago(30, 720),
        )

    def add_patient(
        self,
        p: Patient,
        *,
        core: bool = True,
        firebase: bool = True,
        firestore: bool = True,
        supabase: str = "live",  # live | deleted | none
        core_email: str | None = "same",
        core_phone: str | None = "same",
        fs_email: str | None = "same",
        fs_phone: str | None = "same",
        sb_email: str | None = "same",
        sb_phone: str | None = "same",
        fb_email: str | None = "same",
        fb_phone: str | None = "same",
        postgres_id: str | None = None,
        disabled: bool = False,  # the Firebase Auth user is disabled (it last signed in `signed_in`)
        signed_in: datetime | None = None,
        banned_until: datetime | None = None,  # of the Supabase user
    ) -> None:
        def pick(v: str | None, same: str | None) -> str | None:
            return same if v == "same" else v

        name = f"{p.first} {p.last}"
        if core:
            self.core("users", id=p.user_id, firebase_uid=p.uid, email=pick(core_email, p.email),
                      phone=pick(core_phone, p.phone), role="PATIENT", verified=True, created_at=p.created,
                      updated_at=p.created + timedelta(days=1))
            self.core("patients", id=p.patient_id, user_id=p.user_id, full_name=name, date_of_birth=p.dob,
                      created_at=p.created, updated_at=p.created + timedelta(days=1))
            self.job("user", p.user_id, p.uid)
        if firebase:
            self.d.firebase_users.append({"uid": p.uid, "email": pick(fb_email, p.email),
                                          "phone": pick(fb_phone, p.phone), "display_name": name,
                                          "email_verified": True, "claims": {"role": "patient"},
                                          **({"disabled": True} if disabled else {}),
                                          **({"last_sign_in": signed_in} if signed_in else {})})
        if firestore:
            doc = {"full_name": name, "date_of_birth": p.dob.isoformat(),
                   "postgres_user_id": p.user_id if core else None,
                   "updated_at": (p.created + timedelta(days=1)).isoformat()}
            for f, v in (("email", pick(fs_email, p.email)), ("phone", pick(fs_phone, p.phone))):
                if v is not None:
                    doc[f] = v
            self.d.firestore[p.uid] = doc
        if supabase != "none":
            self.supabase_user(p, email=pick(sb_email, p.email), phone=pick(sb_phone, p.phone),
                               postgres_id=postgres_id or p.user_id, deleted=supabase == "deleted",
                               banned_until=banned_until)
            if core:
                self.job("profile", p.user_id, p.uid)

    def supabase_user(self, p: Patient, *, email: str | None, phone: str | None, postgres_id: str | None,
                      deleted: bool = False, created: datetime | None = None, uid: str | None = "same",
                      banned_until: datetime | None = None) -> str:
        sid = self.uuid()
        created = created or p.created + timedelta(minutes=5)
        meta: dict[str, Any] = {"postgres_id": postgres_id, "name": f"{p.first} {p.last}", "role": "PATIENT"}
        if uid is not None:
            meta["firebase_uid"] = p.uid if uid == "same" else uid
        self.supa("auth.users", id=sid, email=email, phone=phone, raw_user_meta_data=json.dumps(meta),
                  raw_app_meta_data=json.dumps({"provider": "email", "providers": ["email"]}), created_at=created,
                  updated_at=created, last_sign_in_at=self.ago(0, 20), deleted_at=self.ago(1, 20) if deleted else None,
                  banned_until=banned_until, is_anonymous=False)
        return sid

    def doctor(self, *, core: bool = True, firebase: bool = True) -> tuple[str, str]:
        p = self.person()
        did = self.uuid()
        name = f"Dr. {p.first} {p.last}"
        if core:
            self.core("users", id=p.user_id, firebase_uid=p.uid, email=f"dr.{p.email}", phone=p.phone, role="DOCTOR",
                      verified=True, created_at=p.created, updated_at=p.created)
            self.core("doctors", id=did, user_id=p.user_id, full_name=name, specialty=self.rng.choice(SPECIALTIES))
        if firebase:
            self.d.firebase_users.append({"uid": p.uid, "email": f"dr.{p.email}", "phone": p.phone,
                                          "display_name": name, "email_verified": True,
                                          "claims": {"role": "doctor"}})
        return did, p.uid

    # ------------------------------------------------------------------ documents
    def file_url(self, name: str) -> str:
        if self.rng.random() < 0.3:
            return f"{SIGNED_PREFIX}{name}?token={self.token()[:16]}"
        return f"{PUBLIC_PREFIX}{name}"

    def storage_object(self, name: str, created: datetime, bucket: str = "documents") -> None:
        self.supa("storage.objects", id=self.uuid(), bucket_id=bucket, name=name, created_at=created,
                  metadata=json.dumps({"mimetype": "application/pdf", "size": self.rng.randrange(20_000, 900_000)}))

    def rag_chunk(self, uid: str, doc_id: str, text: str, created: datetime) -> int:
        self._chunk_id += 1
        self.supa("public.rag_chunks", id=self._chunk_id, patient_id=uid, document_id=doc_id, chunk_text=text,
                  embedding=None, metadata=json.dumps({"source": "ocr"}), created_at=created)
        return self._chunk_id

    def document(self, p: Patient, *, core: bool = True, supabase: bool = True, status: str = "processed",
                 file: bool = True, meds: int | None = None, doc_type: str | None = None,
                 core_patient_id: str | None = None, sb_patient_uid: str | None = None,
                 object_name: str | None = None, created: datetime | None = None) -> tuple[str, list[str]]:
        doc_id = self.uuid()
        created = created or self.ago(1, 300)
        doc_type = doc_type or self.rng.choice(DOC_TYPES)
        name = object_name or f"{p.uid}/{doc_id}.pdf"
        url = f"{PUBLIC_PREFIX}{name}" if object_name else self.file_url(name)
        drugs = self.rng.sample(DRUGS, self.rng.randrange(0, 3) if meds is None else meds)
        if supabase:
            self.supa("public.documents", id=doc_id, patient_id=sb_patient_uid or p.uid, type=doc_type, file_url=url,
                      text=f"{doc_type.replace('_', ' ')} for {p.first} {p.last}",
                      structured_json=json.dumps({"medications": [{"name": n, "strength": s} for n, s in drugs]}),
                      ocr_confidence=round(self.rng.uniform(0.6, 0.99), 2), status=status, created_at=created,
                      processed_at=created + timedelta(minutes=1) if status == "processed" else None)
            if file:
                self.storage_object(name, created)
            if status == "processed":
                self.rag_chunk(sb_patient_uid or p.uid, doc_id, f"{doc_type} text", created)
        med_ids: list[str] = []
        if core:
            self.core("documents", id=doc_id, patient_id=core_patient_id or p.patient_id, type=doc_type, file_url=url,
                      ocr_confidence=0.9, created_at=created + timedelta(minutes=2))
            for n, s in drugs:
                med_ids.append(self.medication(p, doc_id, n, s, created + timedelta(minutes=3)))
            self.job("document", doc_id, p.uid)
        return doc_id, med_ids

    def medication(self, p: Patient, doc_id: str | None, name: str, strength: str, created: datetime) -> str:
        mid = self.uuid()
        self.core("medications", id=mid, patient_id=p.patient_id, document_id=doc_id, name=name, strength=strength,
                  form="tablet", frequency=self.rng.choice(["once daily", "twice daily", "as needed"]), route="oral",
                  duration_days=30, start_date=created.date(), reminders_enabled=self.rng.random() < 0.5,
                  created_at=created)
        return mid

    def appointment(self, p: Patient, *, patient_ref: str | None = None, status: str | None = None) -> str:
        aid = self.uuid()
        created = self.ago(5, 400)
        status = status or self.rng.choice(["booked", "completed", "completed", "cancelled"])
        self.core("appointments", id=aid, patient_id=patient_ref or p.user_id, doctor_id=self.rng.choice(self.doctors)[0],
                  type=self.rng.choice(["video", "in_person"]), status=status,
                  scheduled_at=created + timedelta(days=self.rng.randrange(1, 20)), created_at=created)
        return aid

    def prescription(self, p: Patient, appointment_id: str, *, sync: str = "yes") -> str:
        """sync: yes | no | wrong_type (a Supabase document with the same URL but another type)."""
        pid = self.uuid()
        created = self.ago(1, 200)
        name = f"prescriptions/{pid}.pdf"
        url = f"{PUBLIC_PREFIX}{name}"
        drugs = self.rng.sample(DRUGS, 2)
        summary = {"medications": [{"name": n, "strength": s} for n, s in drugs]}
        self.core("prescriptions", id=pid, appointment_id=appointment_id, pdf_url=url, summary_json=json.dumps(summary),
                  created_at=created)
        if sync == "no":
            self.job("prescription", pid, p.uid, "succeeded")
            return pid
        self.document(p, status="processed", meds=0, doc_type="prescription" if sync == "yes" else "lab_report",
                      object_name=name)
        self.job("prescription", pid, p.uid)
        return pid

    def connection(self, patient_uid: str, doctor_uid: str | None, *, active: bool, expires: datetime,
                   token: str | None = None, created: datetime | None = None) -> str:
        cid = self.uuid()
        created = created or min(expires - timedelta(days=30), self.now - timedelta(hours=1))
        if doctor_uid is not None:
            if (patient_uid, doctor_uid) in self._pairs:
                doctor_uid = next(d for _, d in self.doctors if (patient_uid, d) not in self._pairs)
            self._pairs.add((patient_uid, doctor_uid))
        self.supa("public.patient_doctor_connections", id=cid, patient_firebase_uid=patient_uid,
                  doctor_firebase_uid=doctor_uid, access_token=token or self.token(), token_expires_at=expires,
                  is_active=active, created_at=created,
                  used_at=created + timedelta(hours=2) if doctor_uid else None)
        return cid

    def conversation(self, column: str, connection: str, psid: str, status: str, last: datetime) -> str:
        cid = "conv_" + self.uuid().replace("-", "")[:20]
        row: dict[str, str | None] = {c: None for c in ("pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId")}
        row[column] = connection
        self.core("conversations", id=cid, psid=psid, status=status, lastMessageAt=last,
                  createdAt=last - timedelta(hours=self.rng.randrange(1, 48)), **row)
        return cid

    # ------------------------------------------------------------------ the whole data set
    def build(self) -> DemoData:
        n_doctors = max(5, self.d.n // 40)
        for _ in range(n_doctors):
            self.doctors.append(self.doctor())
        for _ in range(2):  # admins: a core user and a Firebase user without a role claim
            p = self.person()
            self.core("users", id=p.user_id, firebase_uid=p.uid, email=f"admin.{p.email}", phone=None, role="ADMIN",
                      verified=True, created_at=p.created, updated_at=p.created)
            self.d.firebase_users.append({"uid": p.uid, "email": f"admin.{p.email}", "phone": None,
                                          "display_name": "Admin", "email_verified": True, "claims": None})
        for i in range(self.d.n):
            p = self.person(email=i % 20 != 7, phone=i % 12 != 5)
            self.add_patient(p, core_email="" if p.email is None and i % 40 == 7 else "same")
            self.normal.append(p)
            for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
                self.document(p)
            for _ in range(self.rng.choice([0, 1, 2])):
                aid = self.appointment(p)
                if self.rng.random() < 0.4:
                    self.prescription(p, aid)
            for _ in range(self.rng.choice([0, 0, 1])):
                self.core("session_notes", id=self.uuid(), patient_id=p.patient_id,
                          doctor_id=self.rng.choice(self.doctors)[0], note="Follow-up in two weeks.",
                          created_at=self.ago(1, 200))
            self.normal_connections(p)
        self.normal_conversations()
        for day in range(5):
            self.core("webhook_log", received_at=self.ago(day, day + 1), source="firebase",
                      payload=json.dumps({"event": "user.created"}))
        if not self.d.clean:
            self.plant_all()
        for check, keys in SCHEMA_PLANTS.items():
            if not self.d.clean:
                self.d.planted[check].extend(keys)
        if not self.d.clean:
            self.plant_anomalies()
        return self.d

    def normal_connections(self, p: Patient) -> None:
        doctors = self.rng.sample(self.doctors, 2)
        r = self.rng.random()
        if r < 0.45:
            self.connection(p.uid, doctors[0][1], active=True, expires=self.ahead(3, 60))
        elif r < 0.6:
            self.connection(p.uid, doctors[0][1], active=False, expires=self.ago(5, 100))
            self.connection(p.uid, doctors[1][1], active=True, expires=self.ahead(3, 60))
        elif r < 0.7:
            self.connection(p.uid, None, active=True, expires=self.ahead(3, 30))  # shared, not used yet

    def normal_conversations(self) -> None:
        cols = ["pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId"]
        for i in range(max(20, self.d.n // 2)):
            col = cols[i % 4]
            self.conversation(col, f"{col[:4]}_{i % 7}", f"psid{i:07d}",
                              self.rng.choice(["OPEN", "SNOOZED", "CLOSED", "CLOSED"]), self.ago(0.1, 60))

    # ------------------------------------------------------------------ plants
    def plant_all(self) -> None:
        k = self.k
        rng = self.rng
        victims = list(self.normal)
        rng.shuffle(victims)

        def victim() -> Patient:
            return victims.pop()

        # sync.firebase_user_missing_in_core: Firebase patients that never reached core
        for _ in range(k):
            p = self.person()
            self.add_patient(p, core=False, supabase="none")
            self.plant("sync.firebase_user_missing_in_core", p.uid)
        # must not count: a Firebase doctor, and a user without a role claim, with no core user
        self.doctor(core=False)
        p = self.person()
        self.d.firebase_users.append({"uid": p.uid, "email": p.email, "phone": None, "display_name": "No role",
                                      "email_verified": False, "claims": None})

        # sync.core_user_missing_in_firebase: core patients (and a doctor) whose Firebase user is gone
        for _ in range(k):
            p = self.person()
            self.add_patient(p, firebase=False)
            self.plant("sync.core_user_missing_in_firebase", p.uid)
        _, duid = self.doctor(firebase=False)
        self.plant("sync.core_user_missing_in_firebase", duid)

        # sync.patient_missing_in_supabase: no Supabase user, or only a deleted one
        for mode in ("none", "deleted"):
            for _ in range(k):
                p = self.person()
                self.add_patient(p, supabase=mode)
                self.plant("sync.patient_missing_in_supabase", p.uid)

        # sync.supabase_user_unknown: an unknown firebase_uid, or the wrong postgres_id
        for _ in range(k):
            p = self.person()
            sid = self.supabase_user(p, email=p.email, phone=p.phone, postgres_id=self.uuid())
            self.plant("sync.supabase_user_unknown", sid)
            p = self.person()
            self.add_patient(p, postgres_id=self.uuid())
            self.plant("sync.supabase_user_unknown", self.d.supabase["auth.users"][-1][0])
        # must not count: a deleted Supabase user nobody knows
        p = self.person()
        self.supabase_user(p, email=None, phone=None, postgres_id=None, deleted=True)

        # sync.profile_missing
        for _ in range(k):
            p = self.person()
            self.add_patient(p, firestore=False)
            self.plant("sync.profile_missing", p.uid)

        # sync.field_drift (one finding per uid, field and pair of stores holding a value)
        def drift(uid: str, fld: str, changed: str, new: str, others: dict[str, str]) -> None:
            order = ["firebase_auth", "firestore", "core", "supabase"]
            for store, val in others.items():
                a, b = sorted([(changed, new), (store, val)], key=lambda sv: order.index(sv[0]))
                self.plant("sync.field_drift", f"{uid}|{fld}|{a[0]}={a[1]}|{b[0]}={b[1]}")

        for _ in range(k):
            p = self.person()  # a real email change in core
            new = f"new.{p.email}"
            self.add_patient(p, core_email=new)
            assert p.email is not None
            drift(p.uid, "email", "core", new, {"firebase_auth": p.email, "firestore": p.email, "supabase": p.email})
            p = self.person()  # a real phone change in Firestore
            assert p.phone is not None
            new = p.phone[:-4] + f"{(int(p.phone[-4:]) + 1) % 10000:04d}"
            self.add_patient(p, fs_phone=new)
            drift(p.uid, "phone", "firestore", new, {"firebase_auth": p.phone, "core": p.phone, "supabase": p.phone})
            p = self.person()  # Supabase email changed, Firestore has none
            new = f"other.{p.email}"
            self.add_patient(p, sb_email=new, fs_email=None)
            assert p.email is not None
            drift(p.uid, "email", "supabase", new, {"firebase_auth": p.email, "core": p.email})
            # must not count: the same phone in other formats, an email in another case, a missing value
            p = self.person()
            assert p.phone is not None and p.email is not None
            national = f"({p.phone[2:5]}) {p.phone[5:8]}-{p.phone[8:]}"
            self.add_patient(p, core_phone=national, sb_phone=f"+1 {p.phone[2:5]}-{p.phone[5:8]}-{p.phone[8:]}",
                             sb_email=f"  {p.email.upper()} ", fs_phone=None)

        # sync.document_missing_in_core / _in_supabase
        for _ in range(k):
            doc_id, _ = self.document(victim(), core=False)
            self.plant("sync.document_missing_in_core", doc_id)
            doc_id, _ = self.document(victim(), supabase=False)
            self.plant("sync.document_missing_in_supabase", doc_id)
            # must not count here (not processed yet); weeks old, they are pulse.documents_unprocessed
            for status in ("processing", "uploaded"):
                doc_id, _ = self.document(victim(), core=False, status=status)
                self.plant("pulse.documents_unprocessed", doc_id)

        # sync.prescription_missing_in_supabase: never synced, or synced as another type
        for sync in ("no", "wrong_type"):
            for _ in range(k):
                p = victim()
                pid = self.prescription(p, self.appointment(p, status="completed"), sync=sync)
                self.plant("sync.prescription_missing_in_supabase", pid)

        # sync.jobs_failed / sync.jobs_stuck
        for i in range(2 * k):
            p = victim()
            jid = self.job(rng.choice(["user", "profile", "document", "prescription"]), self.uuid(), p.uid, "failed",
                           error=JOB_ERRORS[i % len(JOB_ERRORS)], updated=self.ago(0.1, 6), attempts=3)
            self.plant("sync.jobs_failed", str(jid))
        for status, lo, hi in (("pending", 1 / 24, 5 / 24), ("running", 30 / 1440, 90 / 1440)):
            for _ in range(k):
                jid = self.job("document", self.uuid(), victim().uid, status, updated=self.ago(lo, hi))
                self.plant("sync.jobs_stuck", str(jid))

        # dup.core_users_email: the same person registered twice (a group of 3 counts 2)
        for group in [2] * k + [3]:
            a = victim()
            while a.email is None:
                a = victim()
            for j in range(group - 1):
                b = self.person(email=False)
                variant = [a.email.upper(), f" {a.email} ", a.email.capitalize()][j % 3]
                b.created = a.created + timedelta(days=1 + j)
                self.add_patient(b, core_email=variant)
                self.plant("dup.core_users_email", b.user_id)
        # dup.core_users_phone: the same number written otherwise
        for _ in range(k):
            a = victim()
            while a.phone is None:
                a = victim()
            b = self.person(phone=False)
            b.created = a.created + timedelta(days=2)
            self.add_patient(b, core_phone=f"+1 ({a.phone[2:5]}) {a.phone[5:8]}-{a.phone[8:]}")
            self.plant("dup.core_users_phone", b.user_id)

        # dup.open_conversations: all but the newest OPEN/SNOOZED per (connection, psid)
        def conv_group(col: str, statuses: list[str], counted: bool) -> None:
            psid = f"dup{self.uuid()[:8]}"
            conn = f"{col[:4]}_dup"
            times = sorted((self.ago(0.01, 30) for _ in statuses), reverse=True)
            ids = [self.conversation(col, conn, psid, st, t) for st, t in zip(statuses, times, strict=True)]
            if counted:
                live = [i for i, st in zip(ids, statuses, strict=True) if st in ("OPEN", "SNOOZED")]
                for cid in live[1:]:
                    self.plant("dup.open_conversations", cid)

        for _ in range(k):
            conv_group("pageConnectionId", ["OPEN", "OPEN"], True)
            conv_group("instagramConnectionId", ["SNOOZED", "OPEN", "CLOSED"], True)
            conv_group("pageConnectionId", ["OPEN", "CLOSED", "CLOSED"], True)  # must not count
        conv_group("widgetConfigId", ["OPEN", "OPEN", "SNOOZED"], True)

        # dup.access_tokens: every connection but the oldest sharing a token
        for group in [2] * k + [3]:
            tok = self.token()
            base = self.ago(20, 60)
            for j in range(group):
                cid = self.connection(victim().uid, rng.choice(self.doctors)[1], active=True,
                                      expires=self.ahead(5, 40), token=tok, created=base + timedelta(hours=j))
                if j:
                    self.plant("dup.access_tokens", cid)

        # dup.medications: the document sync ran twice
        for _ in range(k):
            p = victim()
            doc_id, meds = self.document(p, meds=2)
            for m in self.d.core["medications"][-2:]:
                name = m[3] if self.rng.random() < 0.5 else m[3].upper()
                mid = self.medication(p, doc_id, name, m[4], m[11] + timedelta(minutes=10))
                self.plant("dup.medications", mid)
            n0, s0 = DRUGS[0]
            self.medication(p, doc_id, n0, "1000 mg", self.ago(1, 2))  # another strength: must not count
        # dup.supabase_users_firebase_uid
        for _ in range(k):
            p = self.person()
            self.add_patient(p)
            sid = self.supabase_user(p, email=p.email, phone=p.phone, postgres_id=p.user_id,
                                     created=p.created + timedelta(days=3))
            self.plant("dup.supabase_users_firebase_uid", sid)
        p = self.person()  # a deleted second user must not count
        self.add_patient(p)
        self.supabase_user(p, email=p.email, phone=p.phone, postgres_id=p.user_id, deleted=True,
                           created=p.created + timedelta(days=3))

        # orphan.documents_patient / orphan.session_notes_patient (rows left behind by deleted patients; some carry the user id)
        for ref in ("user", "nowhere"):
            for _ in range(k):
                p = victim()
                doc_id, _ = self.document(p, core_patient_id=p.user_id if ref == "user" else self.uuid())
                self.plant("orphan.documents_patient", doc_id)
                nid = self.uuid()
                self.core("session_notes", id=nid, patient_id=p.user_id if ref == "user" else self.uuid(),
                          doctor_id=self.doctors[0][0], note="Written during the outage.", created_at=self.ago(1, 30))
                self.plant("orphan.session_notes_patient", nid)
        # orphan.appointments_patient (appointments written with the wrong patient key): the patients.id instead of the user id, or nowhere
        for i in range(2 * k):
            p = victim()
            aid = self.appointment(p, patient_ref=p.patient_id)
            self.plant("orphan.appointments_patient", aid)
            if i % 2 == 0:
                self.prescription(p, aid)
        for _ in range(k):
            aid = self.appointment(victim(), patient_ref=self.uuid())
            self.plant("orphan.appointments_patient", aid)
        # orphan.prescriptions_appointment
        for _ in range(k):
            pid = self.prescription(victim(), self.uuid())
            self.plant("orphan.prescriptions_appointment", pid)
        # orphan.medications_document
        for _ in range(k):
            p = victim()
            mid = self.medication(p, self.uuid(), "Warfarin", "5 mg", self.ago(1, 20))
            self.plant("orphan.medications_document", mid)
            self.medication(p, None, "Vitamin D", "1000 IU", self.ago(1, 20))  # no document: must not count
        # orphan.rag_chunks_document
        for _ in range(2 * k):
            p = victim()
            chunk = self.rag_chunk(p.uid, self.uuid(), "chunk of a deleted document", self.ago(1, 50))
            self.plant("orphan.rag_chunks_document", str(chunk))
        # orphan.supabase_documents_patient: an upload by a uid Firebase does not know
        for _ in range(k):
            ghost = self.person()
            doc_id, _ = self.document(ghost, core=False, status="failed")
            self.plant("orphan.supabase_documents_patient", doc_id)
        # orphan.connections_patient
        for _ in range(k):
            cid = self.connection(self.fuid(), rng.choice(self.doctors)[1], active=True, expires=self.ahead(10, 60))
            self.plant("orphan.connections_patient", cid)
        # orphan.storage_objects (and a file in another bucket, which must not count)
        for _ in range(k):
            name = f"{victim().uid}/{self.uuid()}.pdf"
            self.storage_object(name, self.ago(1, 100))
            self.plant("orphan.storage_objects", name)
        self.storage_object(f"{self.normal[0].uid}/avatar.png", self.ago(1, 100), bucket="avatars")
        # orphan.documents_file_missing
        for _ in range(k):
            doc_id, _ = self.document(victim(), file=False)
            self.plant("orphan.documents_file_missing", doc_id)

        # tokens (sharing tokens left active past their expiry)
        for _ in range(k):
            cid = self.connection(victim().uid, rng.choice(self.doctors)[1], active=True, expires=self.ago(1, 30))
            self.plant("token.expired_active", cid)
            cid = self.connection(victim().uid, None, active=True, expires=self.ago(1, 30))
            self.plant("token.expired_active", cid)
            self.plant("token.unused_expired", cid)
            cid = self.connection(victim().uid, None, active=False, expires=self.ago(1, 30))
            self.plant("token.unused_expired", cid)
            cid = self.connection(victim().uid, rng.choice(self.doctors)[1], active=True,
                                  expires=self.now + timedelta(hours=rng.uniform(2, 20)))
            self.plant("token.expiring_soon", cid)
            # must not count: inactive and expired but used, active expiring in three days
            self.connection(victim().uid, rng.choice(self.doctors)[1], active=False, expires=self.ago(1, 30))
            self.connection(victim().uid, rng.choice(self.doctors)[1], active=True, expires=self.ahead(3, 4))

        # pulse.sync_lag: jobs that succeeded in the last hour, long after they were created
        for _ in range(k):
            jid = self.job("document", self.uuid(), victim().uid, updated=self.now - timedelta(minutes=rng.randint(1, 5)),
                           took=timedelta(minutes=rng.randint(11, 45)))
            self.plant("pulse.sync_lag", str(jid))
        # must not count: one that succeeded 9 minutes after its creation, one that lagged but 2 hours ago
        self.job("document", self.uuid(), victim().uid, updated=self.now - timedelta(minutes=2),
                 took=timedelta(minutes=9))
        self.job("document", self.uuid(), victim().uid, updated=self.now - timedelta(hours=2),
                 took=timedelta(minutes=30))
        # pulse.documents_unprocessed: the OCR worker stopped a few hours ago; a backlog of uploads
        # (the generated history has a quarter of today's count: pulse.count_anomaly counts it)
        for _ in range(OCR_BACKLOG):
            doc_id, _ = self.document(victim(), core=False, status="uploaded",
                                      created=self.now - timedelta(minutes=rng.randint(60, 180)))
            self.plant("pulse.documents_unprocessed", doc_id)
        # must not count: processing for 15 minutes, uploaded 5 minutes ago (under 30 minutes)
        self.document(victim(), core=False, status="processing", created=self.now - timedelta(minutes=15))
        self.document(victim(), core=False, status="uploaded", created=self.now - timedelta(minutes=5))

        self.plant_disabled()

    def plant_disabled(self) -> None:
        """identity.disabled_live_in_supabase / token.active_for_disabled_patient: patients who closed
        their account (their Firebase Auth user is disabled) whose Supabase user is still live and
        whose doctors' connections are still active; near misses next to them."""
        for _ in range(self.k):
            p = self.person()  # live Supabase user, two active connections: counts in both
            self.add_patient(p, disabled=True, signed_in=self.ago(3, 30))
            self.plant("identity.disabled_live_in_supabase", p.uid)
            for _ in range(2):
                cid = self.connection(p.uid, self.rng.choice(self.doctors)[1], active=True, expires=self.ahead(5, 40))
                self.plant("token.active_for_disabled_patient", cid)
            # must not count there: an inactive unexpired connection, an active expired one (which
            # is token.expired_active)
            self.connection(p.uid, self.rng.choice(self.doctors)[1], active=False, expires=self.ahead(5, 40))
            cid = self.connection(p.uid, self.rng.choice(self.doctors)[1], active=True, expires=self.ago(1, 20))
            self.plant("token.expired_active", cid)
            p = self.person()  # a ban that has run out: live again, counts
            self.add_patient(p, disabled=True, banned_until=self.ago(1, 10))
            self.plant("identity.disabled_live_in_supabase", p.uid)
            # must not count: the Supabase user is deleted (then no live user: sync.patient_missing_in_supabase)
            p = self.person()
            self.add_patient(p, disabled=True, supabase="deleted")
            self.plant("sync.patient_missing_in_supabase", p.uid)
            # must not count: banned until a future date
            p = self.person()
            self.add_patient(p, disabled=True, banned_until=self.ahead(20, 60))

    def plant_anomalies(self) -> None:
        """pulse.count_anomaly: the checks the rule finds far above the generated history that
        lib.review writes for this manifest (the OCR backlog above, and whatever else the rule finds)."""
        from lib.review import expected_anomalies

        self.d.planted["pulse.count_anomaly"] = expected_anomalies(self.d.manifest())


def build(n: int = 2000, seed: int = 7, clean: bool = False, anchor: datetime | None = None) -> DemoData:
    """Generate the demo data set; `anchor` is "now" for every relative timestamp."""
    if n < 100:
        raise ValueError("the demo needs at least 100 patients")
    anchor = anchor or datetime.now(UTC).replace(second=0, microsecond=0)
    return _Builder(n, seed, clean, anchor).build()
