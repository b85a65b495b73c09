"""PHI masking: what the role `support` sees of emails, phones, names and dates of birth.

Who sees PHI masked is lib.roles.MASK_ROLES: `oncall` and `admin` see values in full; `support`
sees `j•••@example.com`, `•••• 2345`, `J••• D•••`, `••••-••-••`, everywhere: tables, keys of
check results (sync.field_drift keys carry the values), free text (emails and phone numbers found
in error messages), CSV exports. One patient may be
unmasked with a stated reason (lib.audit.unmask records it); the functions here take the Firebase
UID unmasked, if any, and leave that patient's values whole.

Values are recognised by the column (or dictionary key) they are in, by the `field` of a
comparison row, by the field of a drift key, and, in any other text, by their shape (emails and
phone numbers).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from lib.roles import MASK_ROLES, ROLES

DOT = "•"
KINDS = ("email", "phone", "name", "dob")

_NAME_KEYS = {"name", "full_name", "display_name", "fullname", "displayname", "patient_name", "doctor_name",
              "first_name", "last_name"}
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# E.164 (+14158672345) and the usual written forms ((415) 867-2345, 415-867-2345, 415 867 2345)
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+\d{7,15}|\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4})(?![\w])")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# a URL (scheme://…) up to its query string or fragment, then the query string and fragment
# (punctuation that ends a sentence after the URL stays)
_URL_SECRET_RE = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*?(?=[.,;:!?)\]]*(?:[\s\"'<>]|$))")


def masks(role: str | None) -> bool:
    """True when this role sees PHI masked (lib.roles.MASK_ROLES, or no known role: the safe side)."""
    return role is None or role in MASK_ROLES or role not in ROLES


def kind_of(name: Any) -> str | None:
    """The PHI kind of a column / key / field name: email, phone, name, dob or None."""
    n = str(name).strip().lower().replace(" ", "_")
    if "email" in n:
        return "email"
    if "phone" in n:
        return "phone"
    if n in _NAME_KEYS:
        return "name"
    if n in ("date_of_birth", "dob", "birth_date", "birthdate", "dateofbirth"):
        return "dob"
    return None


# ------------------------------------------------------------------ single values
def mask_email(v: str) -> str:
    local, at, domain = v.strip().partition("@")
    if not at:
        return mask_text(v)
    return (local[:1] or DOT) + DOT * 3 + "@" + domain


def mask_phone(v: str) -> str:
    digits = re.sub(r"\D", "", v)
    if len(digits) < 5:
        return DOT * 4
    return DOT * 4 + " " + digits[-4:]


def mask_name(v: str) -> str:
    words = v.split()
    return " ".join(w[:1] + DOT * 3 for w in words) if words else v


def mask_dob(v: str) -> str:
    return "••••-••-••" if _DATE_RE.match(v.strip()) else DOT * 4


_BY_KIND = {"email": mask_email, "phone": mask_phone, "name": mask_name, "dob": mask_dob}


def mask_value(kind: str | None, v: Any) -> Any:
    """`v` masked as a value of `kind`; dates and other non-text values become text when masked.
    Empty values stay as they are (an empty cell says something true and reveals nothing)."""
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA or v is pd.NaT:
        return v
    if kind is None:
        return mask_text(v) if isinstance(v, str) else v
    s = v.isoformat() if hasattr(v, "isoformat") else str(v)
    if not s.strip() or s in ("—", "(missing)"):
        return v
    return _BY_KIND[kind](s)


def mask_text(text: Any) -> Any:
    """Emails and phone numbers found in free text, masked; other text unchanged."""
    if not isinstance(text, str) or not text:
        return text
    text = _EMAIL_RE.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_key(key: Any) -> Any:
    """A check's finding key. sync.field_drift's `uid|field|storeA=valueA|storeB=valueB` keeps its
    uid, field and store names; the values are masked as the field's kind. Any other key: mask_text."""
    if not isinstance(key, str):
        return key
    parts = key.split("|")
    if len(parts) >= 3 and (kind := kind_of(parts[1])) is not None:
        out = parts[:2]
        for p in parts[2:]:
            store, eq, value = p.partition("=")
            out.append(f"{store}={mask_value(kind, value)}" if eq else mask_text(p))
        return "|".join(out)
    return mask_text(key)


def mask_keys_text(text: Any) -> Any:
    """A comma-separated list of keys (a table cell such as `sample` or `keys`)."""
    if not isinstance(text, str) or "|" not in text:
        return mask_text(text)
    return ", ".join(mask_key(k) for k in text.split(", "))


# ------------------------------------------------------------------ structures
def mask_record(obj: Any, kind: str | None = None) -> Any:
    """Dictionaries (by key), lists, dataclasses and text, masked recursively. A dictionary with a
    `field` naming a PHI kind (a comparison or drift row) has its values masked as that kind."""
    if isinstance(obj, Mapping):
        row_kind = kind_of(obj.get("field")) if isinstance(obj.get("field"), str) else None
        out = {}
        for k, v in obj.items():
            if k in ("field", "stores", "differs", "odd", "check"):
                out[k] = v
            else:
                out[k] = mask_record(v, kind_of(k) or row_kind or kind)
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(mask_record(v, kind) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: mask_record(getattr(obj, f.name), kind_of(f.name) or kind)
                   for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, str):
        return mask_key(obj) if kind is None else mask_value(kind, obj)
    if kind is not None and obj is not None and not isinstance(obj, (bool, int, float)):
        return mask_value(kind, obj)  # dates, datetimes
    return obj


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` with every PHI column masked by its kind and every other text column's emails,
    phone numbers and drift keys masked; an index of PHI field names (a side-by-side table) masks
    its rows by that field."""
    out = df.copy()
    index_kinds = [kind_of(i) for i in out.index] if _texty(out.index) else []
    for col in out.columns:
        kind = kind_of(col)
        series = out[col]
        if kind is not None:
            out[col] = series.map(lambda v, k=kind: mask_value(k, v)).astype(object)
        elif any(index_kinds):
            out[col] = [mask_value(k, v) if k else mask_text(v) for k, v in zip(index_kinds, series, strict=True)]
        elif _texty(series):
            out[col] = series.map(mask_keys_text)
    return out


def _texty(values: Any) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def for_role(obj: Any, role: str | None, *, uid: str | None = None, unmasked: str | None = None) -> Any:
    """`obj` as the role may see it: unchanged for oncall and admin, or when `uid` (the patient it
    is about) is the one patient unmasked; masked otherwise (frames, records, dataclasses, text)."""
    if not masks(role) or (uid is not None and unmasked is not None and uid == unmasked):
        return obj
    if isinstance(obj, pd.DataFrame):
        return mask_frame(obj)
    return mask_record(obj)


# ------------------------------------------------------------------ URLs: the query string is a secret
def without_url_secrets(obj: Any) -> Any:
    """`obj` (text, dictionaries, lists, dataclasses, recursively) with every URL cut before its query
    string and fragment. A signed storage URL's `?token=…` is a bearer credential that would skip the
    audited unmask: it is a secret, not data, for every role. Text that holds no URL is unchanged."""
    if isinstance(obj, str):
        return _URL_SECRET_RE.sub(r"\1", obj) if "://" in obj else obj
    if isinstance(obj, Mapping):
        return {k: without_url_secrets(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(without_url_secrets(v) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: without_url_secrets(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    return obj
