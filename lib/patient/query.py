"""The patient query: what kind of identifier was typed, and its normalised value (`classify`).

Also the lookup's vocabulary shared by the other modules of lib.patient: the four parts a patient
lives in (PARTS, PART_LABELS) and the one-sentence answers to bad input (TOO_SHORT, TOO_LONG,
NOT_FOUND).
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from lib import normalize
from lib.checks.sync import DRIFT_STORES

NOT_FOUND = "not found in any store"
TOO_SHORT = "type at least 2 characters"
MIN_CHARS = 2
MAX_CHARS = 320  # no identifier is longer (an email is at most 254)
TOO_LONG = f"that is longer than any identifier: type at most {MAX_CHARS} characters"
MAX_MATCHES = 50  # a name fragment lists at most this many patients

# The four places a patient lives (the drift check's order).
PARTS: tuple[str, ...] = DRIFT_STORES  # firebase_auth, firestore, core, supabase
PART_LABELS = {"firebase_auth": "Firebase Auth", "firestore": "Firestore", "core": "Core PostgreSQL",
               "supabase": "Supabase"}

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")
_UID = re.compile(r"^[A-Za-z0-9_\-]{20,128}$")  # Firebase's are 28 letters and digits; custom ones up to 128
_TOKEN = re.compile(r"^(?=.*\d)[A-Za-z0-9_\-]{6,19}$")  # a short single token with a digit: maybe a custom UID


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
    if UUID_RE.match(compact):
        return Query(raw_s, cleaned, "id", str(uuidlib.UUID(compact)))
    if _EMAIL.match(cleaned):  # trimmed, never compacted: "jo hn@x.com" must not find john@x.com
        return Query(raw_s, cleaned, "email", cleaned.lower())
    digits = re.sub(r"\D", "", cleaned)
    if _PHONE.match(cleaned) and 7 <= len(digits) <= 15:
        return Query(raw_s, cleaned, "phone", normalize.phone(cleaned, region) or digits)
    if _UID.match(cleaned):
        return Query(raw_s, cleaned, "uid", cleaned)
    return Query(raw_s, cleaned, "name", cleaned.lower(), also_uid=bool(_TOKEN.match(cleaned)))
