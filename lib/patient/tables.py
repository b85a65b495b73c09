"""What the Patient page shows of a lookup: the frames (side by side with the differing cells
highlighted, findings, each section's rows, the failed and stuck jobs, the candidates of a name
search) and the plotly timeline of the patient's sync jobs. Values stay text (lib.plain).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lib import plain
from lib.patient.drift import FIELDS
from lib.patient.query import PART_LABELS, PARTS
from lib.patient.resolve import Search
from lib.patient.view import PatientView


# ---------------------------------------------------------------------- what the page shows
def comparison_frame(view: PatientView) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The side-by-side table (a row per field, a column per store; "—" where the store holds no
    such field, "(missing)" / "(down)" for a store without the patient) and a same-shaped boolean
    frame: True where the value differs, after the comparison rules, from what the other stores
    agree on (every differing value when they do not agree)."""
    cols = [PART_LABELS[p] for p in PARTS]
    values, marks = [], []
    for row in view.comparison:
        vals, mk = [], []
        for p in PARTS:
            state = view.state(p)
            if state != "present":
                vals.append(f"({state})")
            else:
                vals.append(row[p] if row[p] is not None else "—" if p not in FIELDS[row["field"]][1] else "")
            mk.append(p in row["odd"])
        values.append(vals)
        marks.append(mk)
    index = [r["field"] for r in view.comparison]
    return pd.DataFrame(values, index=index, columns=cols), pd.DataFrame(marks, index=index, columns=cols)


def comparison_styler(view: PatientView) -> Any:
    """The side-by-side table with differing values highlighted (a pandas Styler)."""
    frame, marks = comparison_frame(view)
    css = marks.replace({True: "background-color: #ffd6d6; color: #8a0000; font-weight: 600", False: ""})
    return frame.style.apply(lambda _: css, axis=None)


def findings_frame(view: PatientView, max_keys: int = 5) -> pd.DataFrame:
    """One row a finding; `fix` is the link to its fix on the Fixes page (fixes?fix=<id>), if any."""
    rows = [{"check": f.check, "severity": f.severity, "what": f.title, "count": len(f.keys),
             "keys": ", ".join(f.keys[:max_keys]) + (", …" if len(f.keys) > max_keys else ""),
             "fix": f"fixes?fix={f.fix}" if f.fix else None} for f in view.findings]
    return pd.DataFrame(rows, columns=["check", "severity", "what", "count", "keys", "fix"])


SECTION_COLUMNS: dict[str, list[str]] = {
    "documents": ["state", "type", "status", "in_supabase", "in_core", "file_in_storage", "rag_chunks", "created_at",
                  "id", "core_patient_id"],
    "medications": ["name", "strength", "frequency", "duplicate", "document_missing", "document_id", "start_date",
                    "created_at", "id"],
    "prescriptions": ["state", "reached_supabase", "appointment_ok", "medications", "created_at", "appointment_id",
                      "id"],
    "connections": ["state", "notes", "doctor_firebase_uid", "token", "token_expires_at", "is_active", "used_at",
                    "created_at", "id"],
    "appointments": ["status", "type", "scheduled_at", "doctor", "patient_ok", "carries", "created_at", "id"],
    "session_notes": ["note", "doctor", "patient_ok", "carries", "created_at", "id"],
    "sync_jobs": ["id", "kind", "status", "stuck", "attempts", "source", "target", "entity_id", "last_error",
                  "created_at", "updated_at"],
    "supabase_users": ["state", "id", "email", "phone", "postgres_id", "created_at", "deleted_at", "last_sign_in_at"],
}


def section_frame(view: PatientView, section: str) -> pd.DataFrame:
    cols = SECTION_COLUMNS[section]
    rows: list[dict[str, Any]] = getattr(view, section)
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def job_errors_frame(view: PatientView) -> pd.DataFrame:
    """The patient's failed and stuck sync jobs, newest first, with the whole error text."""
    rows = [{"job": j["id"], "kind": j["kind"], "status": "stuck" if j["stuck"] else j["status"],
             "attempts": j["attempts"], "entity_id": j["entity_id"], "updated_at": j["updated_at"],
             "error": j["last_error"] or ("no progress since the last update" if j["stuck"] else None)}
            for j in view.sync_jobs if j["status"] == "failed" or j["stuck"]]
    return pd.DataFrame(rows, columns=["job", "kind", "status", "attempts", "entity_id", "updated_at", "error"])


def candidates_frame(s: Search) -> pd.DataFrame:
    rows = [{"name": c.name, "email": c.email, "firebase_uid": c.uid, "found by": "; ".join(c.found)}
            for c in s.candidates]
    return pd.DataFrame(rows, columns=["name", "email", "firebase_uid", "found by"])


JOB_COLORS = {"succeeded": "#2e9e5b", "failed": "#d62728", "pending": "#f0a202", "running": "#1f77b4"}


def jobs_figure(view: PatientView) -> Any:
    """The patient's sync_jobs as a plotly timeline (a bar from created_at to updated_at per job, one
    row per kind, coloured by status, the error in the hover); None without jobs."""
    import plotly.express as px

    if not view.sync_jobs:
        return None
    df = pd.DataFrame(view.sync_jobs)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    df["updated_at"] = pd.to_datetime(df["updated_at"], utc=True)
    span = max(df["updated_at"].max() - df["created_at"].min(), pd.Timedelta(hours=1))
    min_width = max(span / 150, pd.Timedelta(minutes=1))
    df["end"] = df[["updated_at"]].assign(m=df["created_at"] + min_width).max(axis=1)
    # store values are text, never plotly markup (it renders <a href>, <b>, <br> and entities)
    df["error"] = df["last_error"].fillna("").map(lambda e: "<br>".join(plain.chart(line) for line in _wrap(e, 80)))
    for col in ("kind", "status", "entity_id", "source", "target"):
        df[col] = df[col].map(lambda v: None if v is None else plain.chart(v))
    df["job"] = df["id"].map(lambda i: f"#{i}")
    fig = px.timeline(df, x_start="created_at", x_end="end", y="kind", color="status",
                      color_discrete_map=JOB_COLORS, hover_name="job",
                      hover_data={"entity_id": True, "attempts": True, "source": True, "target": True,
                                  "error": True, "end": False, "updated_at": True})
    fig.update_layout(height=160 + 40 * df["kind"].nunique(), margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend_title_text="Status", title="Sync jobs of this patient, created to last attempt")
    fig.update_yaxes(title="Kind")
    fig.update_xaxes(title="Time (UTC)")
    return fig


def _wrap(s: str, width: int) -> list[str]:
    words, lines, line = s.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return lines

