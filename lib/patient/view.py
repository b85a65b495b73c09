"""What a lookup returns: one patient as every store holds them (`PatientView`), the check
findings that involve them (`Finding`), and the JSON of both (cli.md's `patient --json`).
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lib.patient.query import PARTS


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
            "stores": {p: jsonable(self.stores.get(p)) for p in PARTS},
            "down": dict(self.down),
            "drift": jsonable(self.drift),
            "findings": self.finding_ids,
            "finding_details": [
                {"check": f.check, "severity": f.severity, "title": f.title, "fix": f.fix, "keys": f.keys}
                for f in self.findings
            ],
            "supabase_users": jsonable(self.supabase_users),
            "documents": jsonable(self.documents),
            "medications": jsonable(self.medications),
            "prescriptions": jsonable(self.prescriptions),
            "connections": jsonable(self.connections),
            "appointments": jsonable(self.appointments),
            "session_notes": jsonable(self.session_notes),
            "sync_jobs": jsonable(self.sync_jobs),
            "orphan_rag_chunks": jsonable(self.orphan_chunks),
            "orphan_files": jsonable(self.orphan_files),
        }


def jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, uuidlib.UUID):
        return str(v)
    return v
