"""What the monitoring pages make of a check run: areas and their worst finding, the failing checks
with their trend since the previous run, links to the report pages, the patient page and the fixes,
and each check's count over time from the history. Plain Python over lib.checks and lib.history:
no page computes a count of its own.

Status words are shared by every page (one colour language): ``error``, ``warn``, ``info`` for the
worst finding, ``ok`` for none, ``unknown`` when a check could not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from lib import history
from lib.checks.ids import AREA_PAGE, BY_ID, CHECKS, SEVERITY_RANK, STORE_OF_PART

if TYPE_CHECKING:
    from lib.checks.runner import CheckResult, CheckRun
    from lib.stores import Stores

AREAS: tuple[str, ...] = ("sync", "duplicates", "orphans", "tokens", "access", "constraints", "pulse")
AREA_TITLES = {"sync": "Sync", "duplicates": "Duplicates", "orphans": "Orphans", "tokens": "Tokens",
               "access": "Access", "constraints": "Constraints", "pulse": "Pulse"}
STATUS_RANK = {"error": 0, "warn": 1, "info": 2, "unknown": 3, "ok": 4}
# Expected indexes (shown, not counted) that a fix creates.
INDEX_FIXES: dict[tuple[str, str], str] = {
    ("core", "conversations"): "open_conversation_index",
    ("supabase", "patient_doctor_connections"): "active_connection_index",
}


# ---------------------------------------------------------------------------------- links
def fix_link(fix: str | None) -> str | None:
    """The Fixes page preselected on `fix` (relative, so that a base URL path keeps working)."""
    return f"fixes?fix={quote(fix)}" if fix else None


def report_link(check_id: str) -> str:
    return AREA_PAGE[BY_ID[check_id].area]


def patient_query(check_id: str, key: str) -> str | None:
    """What to look a finding's key up with on the Patient page, or None when the key names no
    patient or row there (constraint names, drift keys carry their uid first)."""
    area = BY_ID[check_id].area if check_id in BY_ID else ""
    if area == "constraints" or not key:
        return None
    if check_id == "sync.field_drift":
        return key.split("|", 1)[0]
    if check_id == "orphan.storage_objects":  # "<uid>/<file>": the folder is the patient's uid
        return key.split("/", 1)[0] if "/" in key else None
    return key


def patient_link(check_id: str, key: str) -> str | None:
    q = patient_query(check_id, key)
    return f"patient?q={quote(q, safe='')}" if q else None


def constraint_fix(check_id: str, key: str) -> str | None:
    """The fix that resolves a constraint finding whose key is `store.table.name` (or `store.table`):
    the check's own fix when its entry names one (constraint.not_valid), else the fix whose header
    verifies that table's constraints (lib.fixes.constraint_fixes); the advisor lints have none."""
    if not check_id.startswith("constraint."):
        return None
    info = BY_ID.get(check_id)
    if info is not None and info.fix:
        return info.fix
    from lib.fixes import constraint_fixes

    store, _, rest = key.partition(".")
    table = rest.split(".", 1)[0]
    return constraint_fixes().get((store, table))


# ---------------------------------------------------------------------------------- status
def status_of(results: Iterable[CheckResult]) -> str:
    """The worst finding among `results`: error | warn | info | ok, or unknown when a check could
    not run and none has a finding."""
    worst = "ok"
    for r in results:
        if r.count is None:
            state = "unknown"
        elif r.count > 0:
            state = r.severity
        else:
            continue
        if STATUS_RANK[state] < STATUS_RANK[worst]:
            worst = state
    return worst


@dataclass(frozen=True)
class AreaSummary:
    area: str
    status: str
    checks: int  # checks of the area
    failing: int  # checks with a finding
    findings: int  # sum of the counts
    unknown: int  # checks that could not run
    previous: int | None = None  # the sum of the counts in the previous run (None: no previous run)

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.findings - self.previous


def areas(run: CheckRun, previous: Mapping[str, int | None] | None = None) -> list[AreaSummary]:
    """One summary per area; `previous` is the counts of the previous run ({check: count})."""
    out = []
    for area in AREAS:
        rs = [r for r in run.results if BY_ID[r.id].area == area]
        out.append(AreaSummary(
            area=area,
            status=status_of(rs),
            checks=len(rs),
            failing=sum(1 for r in rs if (r.count or 0) > 0),
            findings=sum(r.count or 0 for r in rs),
            unknown=sum(1 for r in rs if r.count is None),
            previous=None if previous is None else sum(previous.get(r.id) or 0 for r in rs),
        ))
    return out


def overall_status(run: CheckRun) -> str:
    return status_of(run.results)


# ---------------------------------------------------------------------------------- history
def previous_run(stores: Stores, run: CheckRun) -> dict[str, Any] | None:
    """The run of the history just before `run`: {id, started_at, generated, counts: {check: count}}."""
    rows = stores.ops.rows("run_before", {"before": run.started_at, "exclude": run.run_id or -1})
    if not rows:
        return None
    prev = rows[0]
    counts = {r["check_id"]: r["count"] for r in history.results(stores, int(prev["id"]))}
    return {"id": int(prev["id"]), "started_at": prev["started_at"], "generated": bool(prev["generated"]),
            "counts": counts}


def trends(stores: Stores, checks: Iterable[str], *, unit: str = "day", days: int = 42,
           now: datetime | None = None) -> pd.DataFrame:
    """Each check's count in the last run of every `unit` ('day' or 'week') of the last `days` days:
    columns check, period, run_id, started_at, generated, count (oldest first)."""
    if unit not in ("day", "week"):
        raise ValueError("unit must be 'day' or 'week'")
    since = (now or datetime.now().astimezone()) - timedelta(days=days)
    rows = stores.ops.rows("check_history", {"checks": sorted(set(checks)), "unit": unit, "since": since})
    cols = ["check", "period", "run_id", "started_at", "generated", "count"]
    df = pd.DataFrame([{**r, "check": r["check_id"]} for r in rows], columns=[*cols, "check_id"])[cols]
    df["count"] = df["count"].astype("Int64")
    return df.sort_values(["check", "period"], kind="stable").reset_index(drop=True)


def sparklines(trend: pd.DataFrame, checks: Iterable[str], exclude_run: int | None = None) -> dict[str, list[int]]:
    """{check: [count, …]} oldest first, from a `trends` frame, without the run `exclude_run` (the
    current run, which checks_frame appends itself); runs a check could not run are left out."""
    out: dict[str, list[int]] = {c: [] for c in checks}
    for check, count, run_id in zip(trend["check"], trend["count"], trend["run_id"], strict=True):
        if check in out and not pd.isna(count) and run_id != exclude_run:
            out[check].append(int(count))
    return out


# ---------------------------------------------------------------------------------- tables
def _change(count: int | None, before: int | None) -> int | None:
    return None if count is None or before is None else count - before


def failing_frame(run: CheckRun, previous: Mapping[str, int | None] | None = None) -> pd.DataFrame:
    """The checks with a finding or that could not run, worst first: check, title, area, severity,
    count, previous, change, report (page), fix (link), error."""
    prev = previous or {}
    rows = []
    for r in run.results:
        if r.count == 0:
            continue
        info = BY_ID[r.id]
        before = prev.get(r.id) if previous is not None else None
        rows.append({
            "check": r.id, "title": info.title, "area": info.area, "severity": r.severity, "count": r.count,
            "previous": before, "change": _change(r.count, before), "report": report_link(r.id),
            "fix": fix_link(r.fix), "error": r.error,
        })
    cols = ["check", "title", "area", "severity", "count", "previous", "change", "report", "fix", "error"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("count", "previous", "change"):
        df[c] = df[c].astype("Int64")
    df["_rank"] = [SEVERITY_RANK.get(s, 9) if pd.notna(n) else 8 for s, n in zip(df["severity"], df["count"], strict=True)]
    df = df.sort_values(["_rank", "count", "check"], ascending=[True, False, True], na_position="last", kind="stable")
    return df.drop(columns="_rank").reset_index(drop=True)


def checks_frame(run: CheckRun, ids: Iterable[str], previous: Mapping[str, int | None] | None = None,
                 trend: Mapping[str, list[int]] | None = None) -> pd.DataFrame:
    """One row per check of `ids` (all of them, passes included): check, title, severity, stores,
    count, change (since the previous run), trend (counts over time), fix, error."""
    by_id = run.by_id()
    rows = []
    for cid in ids:
        r = by_id.get(cid)
        if r is None:
            continue
        info = BY_ID[cid]
        before = previous.get(cid) if previous is not None else None
        rows.append({
            "check": cid, "title": info.title, "severity": r.severity,
            "stores": ", ".join(sorted({STORE_OF_PART[p] for p in info.stores})),
            "count": r.count, "change": _change(r.count, before),
            "trend": list((trend or {}).get(cid, [])) + ([r.count] if r.count is not None else []),
            "fix": fix_link(r.fix), "error": r.error,
        })
    df = pd.DataFrame(rows, columns=["check", "title", "severity", "stores", "count", "change", "trend", "fix", "error"])
    df["count"] = df["count"].astype("Int64")
    df["change"] = df["change"].astype("Int64")
    return df


def keys_frame(result: CheckResult, *, limit: int | None = None) -> pd.DataFrame:
    """A check's keys (all of them, or the first `limit`) with the Patient page link of each."""
    keys = result.keys if limit is None else result.keys[:limit]
    return pd.DataFrame(
        {"check": [result.id] * len(keys), "severity": [result.severity] * len(keys), "key": keys,
         "patient": [patient_link(result.id, k) for k in keys]},
        columns=["check", "severity", "key", "patient"],
    )


def could_not_run(run: CheckRun, ids: Iterable[str]) -> dict[str, list[str]]:
    """{error: [check, …]} for the checks of `ids` that could not run, grouped by their error."""
    wanted = set(ids)
    out: dict[str, list[str]] = {}
    for r in run.results:
        if r.id in wanted and r.count is None:
            out.setdefault(r.error or "unknown error", []).append(r.id)
    return out


def area_checks(*areas_: str) -> list[str]:
    return [c.id for c in CHECKS if c.area in areas_]


def check_stores(check_id: str) -> set[str]:
    return {STORE_OF_PART[p] for p in BY_ID[check_id].stores}


# ---------------------------------------------------------------------------------- constraints
def _drift_text(drift: list[dict[str, Any]]) -> str:
    return "; ".join(f"{d['check']}: {d['text']}" if d.get("check") else str(d["text"]) for d in drift)


def _drift_checks(drift: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({str(d["check"]) for d in drift if d.get("check")}))


def _fix_for(store: str, table: str, drift: list[dict[str, Any]]) -> str | None:
    for d in sorted(drift, key=lambda d: d.get("check") == "constraint.not_valid"):  # recreate before validate
        fix = constraint_fix(str(d.get("check") or ""), f"{store}.{table}")
        if fix:
            return fix_link(fix)
    return None


def schema_frames(desc: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The Constraints page's tables from lib.checks.constraints.describe_schema():
    constraints (table, name, kind, definition, validated, expected, drift, findings, fix),
    indexes (table, name, definition, unique, partial, valid, constraint, drift, findings, fix),
    missing expected constraints (table, name, kind, expected, note, source, fix), expected
    indexes (table, definition, present, index, source, fix) and tables (table, primary key, drift)."""
    store = str(desc["store"])
    con = pd.DataFrame(
        [{"table": c["table"], "name": c["name"], "kind": c["kind"], "definition": c["definition"],
          "validated": c["validated"], "expected": "; ".join(c["expected"]), "drift": _drift_text(c["drift"]),
          "findings": _drift_checks(c["drift"]), "fix": _fix_for(store, c["table"], c["drift"])}
         for c in desc["constraints"]],
        columns=["table", "name", "kind", "definition", "validated", "expected", "drift", "findings", "fix"],
    )
    idx = pd.DataFrame(
        [{"table": i["table"], "name": i["name"], "definition": i["definition"], "unique": i["unique"],
          "partial": i["partial"], "valid": i["valid"], "constraint": i["constraint"] or "",
          "drift": _drift_text(i["drift"]), "findings": _drift_checks(i["drift"]),
          "fix": _fix_for(store, i["table"], i["drift"])}
         for i in desc["indexes"]],
        columns=["table", "name", "definition", "unique", "partial", "valid", "constraint", "drift", "findings", "fix"],
    )
    missing = pd.DataFrame(
        [{"table": m["table"], "name": m["name"], "kind": m["kind"], "expected": m["expected"], "note": m["note"],
          "source": m["source"], "fix": fix_link(constraint_fix("constraint.missing", m["key"]))}
         for m in desc["missing"]],
        columns=["table", "name", "kind", "expected", "note", "source", "fix"],
    )
    exp_idx = pd.DataFrame(
        [{"table": e["table"], "definition": e["definition"], "present": e["present"], "index": e["index"] or "",
          "source": e["source"],
          "fix": None if e["present"] else fix_link(INDEX_FIXES.get((store, e["table"])))}
         for e in desc["expected_indexes"]],
        columns=["table", "definition", "present", "index", "source", "fix"],
    )
    tables = pd.DataFrame(
        [{"table": t["table"], "primary key": t["has_primary_key"], "drift": _drift_text(t["drift"])}
         for t in desc["tables"] if not t["extension_owned"]],
        columns=["table", "primary key", "drift"],
    )
    return {"constraints": con, "indexes": idx, "missing": missing, "expected_indexes": exp_idx, "tables": tables}


def constraint_findings_frame(run: CheckRun) -> pd.DataFrame:
    """Every key the constraint and advisor checks found in the run: check, severity, store, table,
    name, fix (link)."""
    rows = []
    # a constraint defined otherwise and NOT VALID is resolved by recreating it, not by validating it
    mismatched = set(run.by_id()["constraint.mismatch"].keys) if "constraint.mismatch" in run.by_id() else set()
    for r in run.results:
        if BY_ID[r.id].area != "constraints":
            continue
        for key in r.keys:
            fix = constraint_fix("constraint.mismatch" if key in mismatched else r.id, key)
            store, _, rest = key.partition(".")
            parts = rest.rsplit(".", 1)
            table, name = (rest, "") if r.id == "advisor.no_primary_key" or len(parts) < 2 else (parts[0], parts[1])
            rows.append({"check": r.id, "severity": r.severity, "store": store, "table": table, "name": name,
                         "key": key, "fix": fix_link(fix)})
    df = pd.DataFrame(rows, columns=["check", "severity", "store", "table", "name", "key", "fix"])
    df["_s"] = df["severity"].map(SEVERITY_RANK).fillna(9)
    return df.sort_values(["_s", "check", "key"], kind="stable").drop(columns="_s").reset_index(drop=True)
