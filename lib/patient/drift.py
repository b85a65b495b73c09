"""Side by side and drift: one row per field with each store's value (`compare`), the stores to
highlight, and the drift of the fields sync.field_drift does not compare, by the same rule (two
different non-empty values after normalisation). Email and phone drift come from the check itself
(lib.patient.findings runs sync.drift_rows on the patient's rows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from itertools import combinations
from typing import Any

from lib import normalize
from lib.patient.query import PARTS
from lib.patient.view import PatientView

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


def compare(view: PatientView, drift: list[dict[str, Any]], region: str) -> tuple[list[dict[str, Any]],
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

