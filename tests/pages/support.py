"""What the page tests share: the app run once signed in as an admin (`_app`) or as a given reader
(`_app_as`), the finders of a page's tables, metrics and charts, and the demo values that must not
leak. The helpers keep the names the tests were written with, so each test moved unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from lib.checks.ids import CHECK_IDS
from lib.services import EmbeddedServices
from tests import apptest_support
from tests.apptest_support import APP, rendered

TIMEOUT = 180
DUP_ORPHAN = [c for c in CHECK_IDS if c.startswith(("dup.", "orphan."))]
CONSTRAINT_IDS = [c for c in CHECK_IDS if c.startswith(("constraint.", "advisor."))]
STORES = ("core", "supabase", "firebase")
PAGES = ["views/health.py", "views/stores.py", "views/checks.py", "views/duplicates.py", "views/tokens.py",
         "views/constraints.py", "views/patient.py", "views/fixes.py", "views/review.py", "views/alerts.py",
         "views/audit.py"]  # the Audit page last: admin's only


def _app(page: str | None = None) -> AppTest:
    return apptest_support.app(page, timeout=TIMEOUT)


def _app_as(page: str, *, user: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None,
            role: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(page)
    if user is not None:
        at.user = user
    if secrets is not None:
        at.secrets = secrets
    if role is not None:
        at.session_state["healbridge.role"] = role
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run(timeout=TIMEOUT)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# st.dataframe without selections carries no key: each table of the pages is recognised by the tab
# it is in and a column only it has there (or a column value).
TABLES: dict[str, tuple[str, str | None]] = {
    "health_failing": ("report", None), "health_errors": ("last_error", None), "health_failures": ("per_day", None),
    "dup_summary": ("trend", None),
    "con_summary": ("title", None), "con_findings": ("key", None), "review_table": ("status", None),
}


def _tables(at: AppTest, key: str) -> list[pd.DataFrame]:
    where: Any = at
    value: tuple[str, str] | None = None
    if key in TABLES:
        column = TABLES[key][0]
    elif key.startswith("keys_"):
        column, value = "key", ("check", key[5:])
    elif key.startswith("acks_"):
        column, value = "state", ("state", key[5:])
    elif key.startswith("tokens_"):
        from lib.tokens import states

        label = next(s.label for s in states() if s.id == key[7:])
        where, column = next(t for t in at.tabs if t.label == label), "id"
    else:  # con_<kind>_<store>
        kind, store = key[4:].rsplit("_", 1)
        label = {"core": "Core PostgreSQL", "supabase": "Supabase"}[store]
        where = next(t for t in at.tabs if t.label == label)
        column = {"missing": "note", "constraints": "validated", "indexes": "partial"}[kind]
    out = []
    for df in where.dataframe:
        v = df.value
        if column in v.columns and (value is None or (value[0] in v.columns and (v[value[0]] == value[1]).any())):
            out.append(v)
    return out


def _frame(at: AppTest, key: str) -> pd.DataFrame:
    found = _tables(at, key)
    assert found, f"no table {key!r}"
    return found[0]


def _counts(df: pd.DataFrame, col: str = "count") -> dict[str, int | None]:
    return {str(c): (None if pd.isna(n) else int(n)) for c, n in zip(df["check"], df[col], strict=True)}


def _metric(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def _plotly(at: AppTest, key: str) -> dict[str, Any]:
    charts = [c for c in at.get("plotly_chart") if key in c.proto.id]
    assert charts, f"no chart {key!r}"
    return json.loads(charts[0].proto.spec)


def _total(trace: dict[str, Any]) -> int:
    """The sum of a plotly trace's y values (a list, or plotly's typed-array encoding)."""
    ys = trace["y"]
    if isinstance(ys, dict):
        ys = np.frombuffer(base64.b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
    return int(sum(ys))


def _planted(manifest: dict[str, Any], ids: list[str] | tuple[str, ...] = CHECK_IDS) -> dict[str, int]:
    return {c: manifest["planted"][c]["count"] for c in ids}


def _uris(demo: Any) -> dict[str, str]:
    return EmbeddedServices(demo.settings).state.raw["postgres"]["uris"]


def _frame_counts(df: pd.DataFrame) -> dict[str, int | None]:
    return {str(t): (None if pd.isna(n) else int(n)) for t, n in zip(df["table"], df["rows"], strict=True)}


def _demo_values(stores: Any, n: int = 400) -> list[str]:
    """Emails, phones and names of the demo's patients (long enough to be unmistakable)."""
    with stores.core.read() as conn:
        rows = conn.execute(text("SELECT u.email, u.phone, p.full_name FROM users u JOIN patients p ON p.user_id = u.id "
                                 "ORDER BY u.firebase_uid LIMIT :n"), {"n": n}).all()
    vals = {v.strip() for r in rows for v in r if v and len(v.strip()) >= 8}
    return sorted(vals)


def _leaks(at: AppTest, values: list[str]) -> list[str]:
    shown = rendered(at, frames=True)
    return [v for v in values if v in shown]
