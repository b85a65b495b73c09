"""The reads of the pages: each returns a lib.web.cache.Read (`.value`, or `.error`: one sentence,
secrets removed), masked for the reader; none draws anything or ends the page (the page decides,
with Read.or_stop / or_show / value).

Each cached read is a private `_x` (`@cached`: st.cache_data, registered under its groups, keyed on
lib.web.frame.stores_key) and a public `x(stores, …)` that keys it, masks the value and adds what
must not be cached (the audit of a lookup). The check run itself is not cached here: the server
holds it (lib.checks.latest, lib.web.actions.check_run).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from lib.errors import OpsError, safe_message
from lib.stores import STORE_NAMES, Stores
from lib.web.access import UNMASK_STATE, actor, masked, masks_phi, record_lookup
from lib.web.cache import PING_TTL_S, REFRESH_SECONDS, Read, Uncached, cached, failed
from lib.web.frame import STORE_LABELS, known_secrets, redact, stores_key

_BUILT_ON_DATA = ("monitor", "fix")  # built on the check run / the history / the stores' data


def run_stamp(run: Any) -> str:
    """What a read built on a check run is cached by: the run's id and start (a run not saved has no id)."""
    return f"{run.run_id}:{run.started_at.isoformat()}"


# ---------------------------------------------------------------------- stores
@cached(ttl=PING_TTL_S, groups=("stores",), show_spinner="Pinging the stores…")
def _ping(key: str, _stores: Stores) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    out = _stores.ping(STORE_NAMES)
    for info in out.values():
        info["checked_at"] = now
        if info.get("error"):
            info["error"] = redact(info["error"], _stores.settings)
    return out


def ping(stores: Stores) -> Read[dict[str, dict[str, Any]]]:
    """{store: {ok, configured, latency_ms, version, error, checked_at, (parts)}}, cached PING_TTL_S:
    the one source of "reachable now" for every page (Stores, the down notice, Health's tiles)."""
    return _ping(stores_key(stores), stores)


# Above this many rows (the planner's estimate) a SQL table's count on the Stores page is that
# estimate: count(*) reads the whole table (seconds a table at millions of rows).
ESTIMATE_ABOVE = 200_000
# The check run's listings the Stores page takes instead of listing Firebase again (part → label).
LISTED_LABELS = {"fb_users": "auth users", "fs_profiles": "patients (Firestore)"}


@cached(ttl=30, groups=("stores",), show_spinner="Counting rows…")
def _row_counts(key: str, names: tuple[str, ...], stamp: str | None, _stores: Stores,
                _listed: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from lib.stores.postgres import PgStore

    def one(name: str) -> dict[str, Any]:
        store = _stores.get(name)
        how: dict[str, str] = {}
        if store is None:
            return {"counts": {}, "how": how, "error": None}
        try:
            if isinstance(store, PgStore):
                counts = store.row_counts(ESTIMATE_ABOVE)  # type: ignore[attr-defined]
                how = {t: "estimate" for t in counts.estimated}
            elif name == "firebase":
                taken = {LISTED_LABELS[p]: v for p, v in _listed.items() if p in LISTED_LABELS}
                counts = store.row_counts({label: v["rows"] for label, v in taken.items()})
                how = {label: f"listed {v['at']}" for label, v in taken.items()}
            else:
                counts = store.row_counts()
            return {"counts": dict(counts), "how": how, "error": None}
        except Exception as exc:  # noqa: BLE001 - one store failing leaves the others shown
            return {"counts": {}, "how": how, "error": safe_message(exc, known_secrets(_stores.settings))}

    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def row_counts(stores: Stores, names: tuple[str, ...] = STORE_NAMES) -> Read[dict[str, dict[str, Any]]]:
    """{store: {counts: {table: rows or None}, how: {table: "estimate" | "listed <ISO time>"}, error}}
    for `names` (one store's error is its own), cached 30 s. Exact counts, except a SQL table above
    ESTIMATE_ABOVE rows (the planner's estimate) and Firebase when the server holds a check run (the
    size of its listings, as of when they were read: Auth has no count)."""
    from lib.checks.latest import service

    held = service(stores_key(stores)).held()
    listed = dict(held.listed) if held is not None else {}
    stamp = None if held is None else run_stamp(held)
    return _row_counts(stores_key(stores), tuple(names), stamp, stores, listed)


def count_note(how: str | None) -> str:
    """The Stores page's "counted" cell for one table (row_counts' `how`)."""
    if how is None:
        return "count"
    if how == "estimate":
        return "≈ planner estimate"
    at = datetime.fromisoformat(how.removeprefix("listed "))
    return f"check run's listing, {at:%H:%M:%S} UTC"


def count_legend(name: str) -> str:
    if name == "firebase":
        return ("Firebase Auth has no count: the sizes are those of the latest check run's listings, as of "
                "when they were read, instead of listing every user again.")
    return (f"Tables the planner puts above {ESTIMATE_ABOVE:,} rows show its estimate (as of the last ANALYZE): "
            "an exact count(*) reads the whole table.")


@cached(ttl=300, groups=("stores",), show_spinner=False)
def _lookup_indexes(key: str, names: tuple[str, ...], _stores: Stores) -> dict[str, dict[str, Any]]:
    from lib.patient.indexes import missing

    return missing(_stores, names)


def lookup_indexes(stores: Stores, names: tuple[str, ...] = STORE_NAMES) -> Read[dict[str, dict[str, Any]]]:
    """{store: {missing: [{table, serves, statement, rows, cost, needs}] or None, error}}: the
    recommended lookup indexes each SQL store among `names` lacks (lib.patient.indexes), cached 5 min."""
    return _lookup_indexes(stores_key(stores), tuple(names), stores)


# ---------------------------------------------------------------------- the history and the reports
@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _previous_run(key: str, stamp: str, _stores: Stores, _run: Any) -> Any:
    from lib.reports import previous_run

    return previous_run(_stores, _run)


def previous_run(stores: Stores, run: Any) -> Read[dict[str, Any] | None]:
    """The history's run before `run` ({id, started_at, generated, counts}); value None when there is none."""
    return _previous_run(stores_key(stores), run_stamp(run), stores, run)


@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _trends(key: str, checks: tuple[str, ...], unit: str, days: int, _stores: Stores) -> pd.DataFrame:
    from lib.reports import trends as history_trends

    return history_trends(_stores, checks, unit=unit, days=days)


def trends(stores: Stores, checks: tuple[str, ...], unit: str = "day", days: int = 42) -> Read[pd.DataFrame]:
    """lib.reports.trends, cached."""
    return _trends(stores_key(stores), tuple(checks), unit, days, stores)


@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _sync_jobs(key: str, days: int, _stores: Stores) -> dict[str, Any]:
    from lib import syncjobs

    if _stores.core is None:
        raise OpsError("Core PostgreSQL is not configured.")
    out = {"by_kind": syncjobs.by_kind(syncjobs.failures_by_day(_stores.core, days), days),
           "errors": syncjobs.top_errors(_stores.core)}
    out["errors"]["last_error"] = [redact(e, _stores.settings) for e in out["errors"]["last_error"]]
    return out


def sync_jobs(stores: Stores, days: int = 14) -> Read[dict[str, pd.DataFrame]]:
    """{by_kind: DataFrame(kind, failed, per_day, last_day), errors: DataFrame(last_error, jobs, kinds,
    last_seen)}; cached like the check run."""
    return _sync_jobs(stores_key(stores), days, stores).map(lambda out: {k: masked(v) for k, v in out.items()})


@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _token_report(key: str, stamp: str, hours: int, days: int, _stores: Stores, _keys: dict[str, list[str]]) -> Any:
    from lib import tokens

    if _stores.supabase is None:
        raise OpsError("Supabase is not configured.")
    return tokens.report(_stores.supabase, _keys, hours=hours, days=days)


def _token_keys(run: Any) -> dict[str, list[str]]:
    return {r.id: r.keys for r in run.results if r.id.startswith("token.") and r.count is not None}


def token_report(stores: Stores, run: Any, days: int = 7) -> Read[dict[str, Any]]:
    """lib.tokens.report (the first rows of each state) for the token checks of `run`, cached with it."""
    hours = stores.settings.token_expiring_hours
    out = _token_report(stores_key(stores), run_stamp(run), hours, days, stores, _token_keys(run))
    return out.map(lambda rep: {**rep, "rows": {k: masked(v) for k, v in rep["rows"].items()}})


def token_rows_later(stores: Stores, run: Any, state: str, days: int = 7) -> Callable[[], pd.DataFrame]:
    """The whole table of one token state (lib.tokens.rows), read when the returned function is
    called: a CSV download's click, in a thread of the server with no page around it (csv_download
    masks what it returns for the reader)."""
    from lib import tokens

    keys, hours = _token_keys(run), stores.settings.token_expiring_hours

    def read() -> pd.DataFrame:
        if stores.supabase is None:
            raise OpsError("Supabase is not configured.")
        return tokens.rows(stores.supabase, state, keys, hours=hours, days=days)
    return read


@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _schema(key: str, name: str, _stores: Stores) -> dict[str, Any]:
    from lib.checks.constraints import describe_schema
    from lib.stores.postgres import PgStore

    store = _stores.get(name)
    if store is None:
        raise OpsError(f"{STORE_LABELS[name]} is not configured.")
    if not isinstance(store, PgStore):
        raise OpsError(f"{STORE_LABELS[name]} is reached through its HTTP API, which offers no catalog: set "
                       "SUPABASE_DB_URL to see its constraints and indexes.")
    return describe_schema(store)


def schema(stores: Stores, name: str) -> Read[dict[str, Any]]:
    """lib.checks.constraints.describe_schema of one store, cached like the check run."""
    return _schema(stores_key(stores), name, stores)


# ---------------------------------------------------------------------- weekly review
@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _review_runs(key: str, _stores: Stores) -> dict[str, Any]:
    from lib import review

    pair = review.default_pair(_stores)
    return {"runs": review.pickable_runs(_stores, include=pair), "pair": pair}


def review_runs(stores: Stores) -> Read[dict[str, Any]]:
    """{runs: [RunInfo] the reader may pick, newest first, pair: (before, latest)}."""
    return _review_runs(stores_key(stores), stores)


@cached(ttl=3600, show_spinner=False)  # in no group: saved runs never change
def _review_compare(key: str, before: int, after: int, _stores: Stores) -> Any:
    from lib import review

    return review.compare_runs(_stores, before, after)


def review_compare(stores: Stores, before: int, after: int) -> Read[Any]:
    """lib.review.compare_runs, cached (saved runs never change)."""
    return _review_compare(stores_key(stores), before, after, stores).map(masked)


@cached(ttl=REFRESH_SECONDS, groups=("acks",), show_spinner=False)
def _review_acks(key: str, _stores: Stores) -> Any:
    from lib import review

    return review.acknowledgements(_stores)


def review_acks(stores: Stores) -> Read[Any]:
    """Every acknowledgement (lib.review.acknowledgements), cached."""
    return _review_acks(stores_key(stores), stores).map(masked)


@cached(ttl=REFRESH_SECONDS, groups=_BUILT_ON_DATA, show_spinner=False)
def _weekly_trend(key: str, weeks: int, _stores: Stores) -> pd.DataFrame:
    from lib import review

    return review.weekly_trend(_stores, weeks)


def weekly_trend(stores: Stores, weeks: int = 8) -> Read[pd.DataFrame]:
    """lib.review.weekly_trend, cached."""
    return _weekly_trend(stores_key(stores), weeks, stores)


# ---------------------------------------------------------------------- patient lookup (the Patient page)
@cached(ttl=30, groups=("patient",), max_entries=200, show_spinner="Looking in every store…")
def _patient_search(key: str, query: str, _stores: Stores) -> Any:
    from lib.patient import search

    found = search(_stores, query)
    if found.down:
        raise Uncached(found)
    return found


def patient_search(stores: Stores, query: str) -> Read[Any]:
    """lib.patient.search: the query resolved to Firebase UIDs in every store at once, cached 30 s
    (a store that is down is in the result's `down`). The lookup is audited (no audit: an error)."""
    found = _patient_search(stores_key(stores), query, stores)
    if found.error is not None or found.value is None:
        return found
    try:
        record_lookup(stores, found.value)
    except OpsError as exc:
        return failed(exc)
    uids = found.value.uids
    unmasked = st.session_state.get(UNMASK_STATE)
    if masks_phi() and unmasked is not None and len(uids) == 1 and uids[0] == unmasked:
        return found
    return found.map(masked)


@cached(ttl=30, groups=("patient",), max_entries=200, show_spinner="Reading the patient from every store…")
def _patient_view(key: str, uid: str, down: tuple[tuple[str, str], ...], _stores: Stores) -> Any:
    from lib.patient import load

    view = load(_stores, [uid], dict(down))[0]
    if view.down:
        raise Uncached(view)
    return view


def patient_view(stores: Stores, uid: str, down: dict[str, str] | None = None) -> Read[Any]:
    """lib.patient.load of one Firebase UID (a PatientView), cached 30 s; `down`: the parts the
    search found down (not asked again)."""
    view = _patient_view(stores_key(stores), uid, tuple(sorted((down or {}).items())), stores)
    return view.map(lambda v: masked(v, uid=uid))


# ---------------------------------------------------------------------- fixes and the audit log
@cached(ttl=REFRESH_SECONDS, groups=("fix",), show_spinner="Checking which fixes are needed…")
def _fix_status(key: str, stamp: str | None, _stores: Stores, _run: Any) -> Any:
    from lib import fixes

    return fixes.status(_stores, run=_run)


def fix_status(stores: Stores, latest: Any = None) -> Read[list[Any]]:
    """lib.fixes.status (needed now, blocked by what), cached like the check run. `latest` (the
    held run, web.latest_run): its SQL checks' keys are taken instead of counted again, and the
    cache follows the run; a run from the history (samples only) is not used."""
    run = None if getattr(latest, "from_history", False) else getattr(latest, "run", None)
    stamp = None if run is None else run_stamp(run)
    return _fix_status(stores_key(stores), stamp, stores, run)


@cached(ttl=10, groups=("fix", "audit"), show_spinner=False)
def _fix_audit(key: str, fix: str | None, limit: int, _stores: Stores) -> pd.DataFrame:
    from lib import fixes

    rows = fixes.audit_log(_stores, fix=fix, limit=limit)
    cols = ["id", "at", "who", "role", "fix", "action", "outcome", "rows", "reason", "duration_ms", "checksum"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def fix_audit(stores: Stores, fix: str | None = None, limit: int = 100) -> Read[pd.DataFrame]:
    """The fixes' audit log (newest first) as a DataFrame; cached 10 s."""
    return _fix_audit(stores_key(stores), fix, limit, stores).map(masked)


def audit_log(stores: Stores, **filters: Any) -> Read[pd.DataFrame]:
    """lib.audit.log for the reader, never cached (admin only: anybody else gets the one sentence)."""
    from lib import audit

    try:
        return Read(audit.log(stores, actor(), **filters))
    except Exception as exc:  # noqa: BLE001
        return failed(exc)
