"""The comparison rules of system.md: emails trimmed and case-folded, phones in E.164, names with
white space collapsed and case folded; empty and missing are the same (None)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SPACES = re.compile(r"\s+")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return None
    s = str(value).strip()
    return s or None


def email(value: Any) -> str | None:
    s = _text(value)
    return s.casefold() if s else None


@lru_cache(maxsize=1 << 20)
def _phone(s: str, region: str) -> str:
    if _E164.match(s):
        return s
    try:
        return phonenumbers.format_number(phonenumbers.parse(s, region), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", s)
        return ("+" + digits) if s.startswith("+") else digits


def phone(value: Any, region: str = "US") -> str | None:
    """E.164 form: `+1 (415) 867-2345` and `+14158672345` are the same number."""
    s = _text(value)
    return (_phone(s, region) or None) if s else None


def name(value: Any) -> str | None:
    s = _text(value)
    return _SPACES.sub(" ", s).casefold() if s else None
