"""What the pages draw with: the page header and the down notice, the shared colour language
(badges, tiles, styled tables), downloads (role checked, PHI masked, audited), link columns, the
fixes' card, result and apply dialog, and the runbook entry of a check (lib.runbook).

One colour language for every page: the worst finding of a check, an area or a run is error
(red), warn (orange), info (blue); none is ok (green); a check that could not run is unknown (grey).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from lib.checks.ids import BY_ID, SEVERITY_RANK
from lib.config import Settings
from lib.errors import OpsError
from lib.stores import Stores
from lib.web.access import UNMASK_STATE, actor, demo_role_picker
from lib.web.actions import fix_apply
from lib.web.alert_reads import maintenance_now, watch_heartbeat
from lib.web.frame import STORE_LABELS, get_settings, get_stores, plain, redact, show_error
from lib.web.reads import ping

DEMO_BANNER = (
    "**Demo** — nothing is configured, so these are the dashboard's own demo stores holding "
    "generated HealBridge data with planted defects. No real patient is shown."
)
STATUS_COLORS = {"error": "red", "warn": "orange", "info": "blue", "ok": "green", "unknown": "gray"}
STATUS_ICONS = {"error": ":material/error:", "warn": ":material/warning:", "info": ":material/info:",
                "ok": ":material/check_circle:", "unknown": ":material/help:"}
STATUS_WORDS = {"error": "Error", "warn": "Warning", "info": "Info", "ok": "All good", "unknown": "Could not run"}
_CELL_COLORS = {"error": "#F8D7DA", "warn": "#FFE5C2", "info": "#DCEBFA", "ok": "#D5EFDD", "unknown": "#E4E7EA",
                "new": "#F8D7DA", "worse": "#FFE5C2", "better": "#DCEBFA", "resolved": "#D5EFDD"}
CHART_COLORS = {"error": "#C62828", "warn": "#EF6C00", "info": "#1565C0", "ok": "#2E7D32", "unknown": "#78909C"}
# categories that are no status (areas, job kinds): hues kept clear of the status colours
CATEGORY_COLORS = ["#2F6F73", "#7E57C2", "#8D6E63", "#546E7A", "#827717", "#AD8A00", "#00897B"]


# ---------------------------------------------------------------------- every page
def page_header(title: str, caption: str | None = None) -> Settings:
    """The page title, its caption, and in the demo the demo banner. Returns the settings.
    Outside the demo a reader who is not signed in with a role gets no page (actor() stops it)."""
    actor()
    if get_settings().demo:
        demo_role_picker()  # on every page (drawn here: the pages' own sidebar, seen by AppTest too)
    st.title(title)
    if caption:
        st.caption(caption)
    settings = get_settings()
    if settings.demo:
        from lib.demo import read_manifest

        text = DEMO_BANNER
        manifest = read_manifest(settings)
        if manifest:
            text += f" ({manifest['patients']:,} generated patients.)"
        st.warning(text, icon=":material/science:")
    stores = get_stores()
    maintenance_banner(stores)
    down_notice(stores)
    return settings


def maintenance_banner(stores: Stores) -> None:
    """On every page while a maintenance window lasts (lib.web.alert_reads.maintenance_now, cached a few
    seconds; it goes away by itself at the window's end): until when, why, who started it."""
    for w in maintenance_now(stores):
        st.warning(f"**Maintenance window** until {w['ends_at']:%Y-%m-%d %H:%M} UTC: {plain(w['reason'])} "
                   f"(started by {plain(w['created_by'])}). No alert is sent while it lasts.",
                   icon=":material/construction:")


def down_notice(stores: Stores) -> None:
    """On every page: which configured store is unreachable now (the cached ping), so that what is
    missing below is explained; it goes away by itself once the store answers again."""
    down = [f"{STORE_LABELS.get(n, n)} ({plain(redact(p.get('error'), stores.settings)) or 'no answer'})"
            for n, p in (ping(stores).value or {}).items() if p.get("configured") and not p.get("ok")]
    if down:
        st.warning("Unreachable now: " + "; ".join(down) + ". What needs it is shown as down or not run below; "
                   "the page recovers by itself once it answers.", icon=":material/cloud_off:")


# ---------------------------------------------------------------------- the watcher and its alerts
def watcher_status(stores: Stores) -> None:
    """The watcher's heartbeat (lib.watch.heartbeat): its last scheduled run and the next one, or a
    red "Watcher not running" (no run yet, or the last older than two intervals) and how to start it.
    Coloured text, not a badge or an alert box: those are the checks' and the stores' colour language."""
    from lib.alerts.decide import duration_text

    read = watch_heartbeat(stores)
    if not read.ok:
        st.caption(f"The watcher's heartbeat cannot be read: {plain(read.error)}")
        return
    hb = read.value or {}
    now = datetime.now(UTC)
    start = ("Start it with `python -m lib watch`" + (" (`./run.sh` starts it beside the dashboard in the demo)"
                                                       if get_settings().demo else "") + ".")
    last, nxt, every = hb.get("last_run_at"), hb.get("next_run_at"), hb.get("interval_s")
    if last is None:
        st.markdown(f":red[:material/error: **Watcher not running**]: no scheduled run of the checks yet. {start}")
        return
    ago = duration_text((now - last).total_seconds())
    run = f"run #{hb['last_run_id']}, " if hb.get("last_run_id") else ""
    interval = duration_text(float(every)) if every else "?"
    if not hb.get("running"):
        st.markdown(f":red[:material/error: **Watcher not running**]: the last scheduled run was at "
                    f"{last:%Y-%m-%d %H:%M:%S} UTC ({run}{ago} ago), more than two intervals of {interval}. {start}")
        return
    when = f"{nxt:%H:%M:%S} UTC" if nxt is not None else "—"
    st.markdown(f":green[:material/schedule:] **Watcher running**: last scheduled run at {last:%H:%M:%S} UTC "
                f"({run}{ago} ago), next at {when}, every {interval}.")


def alerts_flash() -> None:
    """What the last alert action did (lib.web.actions: a test alert, a maintenance window), once."""
    from lib.web.actions import ALERTS_FLASH

    got = st.session_state.pop(ALERTS_FLASH, None)
    if got is not None:
        kind, text = got
        {"success": st.success, "error": st.error, "info": st.info}[kind](plain(text))


# ---------------------------------------------------------------------- the colour language, tables, tiles
def status_badge(status: str, label: str | None = None) -> None:
    st.badge(label or STATUS_WORDS.get(status, status), color=STATUS_COLORS.get(status, "gray"),  # type: ignore[arg-type]
             icon=STATUS_ICONS.get(status))


_FIGURES = {"bar": "bar", "line": "line"}


@st.cache_resource(max_entries=64, show_spinner=False)
def _figure(kind: str, frame: pd.DataFrame, spec: str, now: datetime | None) -> Any:
    import plotly.express as px

    fig = getattr(px, _FIGURES[kind])(frame, **json.loads(spec))
    if now is not None:
        fig.add_vline(x=now, line_dash="dash", line_color="#555", annotation_text="now")
    return fig


def figure(kind: str, frame: pd.DataFrame, now: datetime | None = None, **spec: Any) -> Any:
    """A plotly express `kind` ("bar", "line") chart of `frame`, built once per distinct frame and
    spec for the whole server (building one costs ~50-250 ms of a rerun; every session of a run
    draws the same chart); `now` adds a dashed "now" line at that time. The figure is shared: draw
    it, never change it."""
    return _figure(kind, frame, json.dumps(spec, sort_keys=True, default=str), now)


def styled(df: pd.DataFrame, columns: tuple[str, ...] = ("severity", "status")) -> Any:
    """`df` with its status-like columns coloured in the shared colour language (a pandas Styler)."""
    subset = [c for c in columns if c in df.columns]
    if df.empty or not subset:
        return df
    return df.style.map(lambda v: f"background-color: {_CELL_COLORS[v]}" if v in _CELL_COLORS else "", subset=subset)


def hidden_if_empty(df: pd.DataFrame, *columns: str) -> dict[str, None]:
    """Column settings that hide the `columns` of `df` holding nothing (e.g. no check failed to run)."""
    return {c: None for c in columns if c in df.columns and df[c].isna().all()}


def highlight_rows(df: pd.DataFrame, column: str = "drift") -> Any:
    """`df` with the rows whose `column` is non-empty highlighted (warn colour)."""
    if df.empty:
        return df
    return df.style.apply(lambda row: [f"background-color: {_CELL_COLORS['warn']}" if row[column] else ""] * len(row),
                          axis=1)


def tile(title: str, status: str, value: int, caption: str | None = None, page: str | None = None,
         delta: int | None = None) -> None:
    """A bordered tile: title, a badge in the status colour, the findings (with their change since
    the previous run), a caption, a link to its report page."""
    with st.container(border=True):
        st.markdown(f"**{title}**")  # the pages' own words (titles, counts): never a store's value
        status_badge(status)
        st.metric("Findings", f"{value:,}", delta=delta, delta_color="inverse")
        if caption:
            st.caption(caption)
        if page:
            st.page_link(f"views/{page}.py", label="Report", icon=":material/arrow_forward:")


def csv_download(label: str, df: pd.DataFrame | Callable[[], pd.DataFrame], file_name: str, key: str,
                 uid: str | None = None, rows: int | None = None) -> None:
    """A CSV download of `df` as the reader may see it (lib.audit.csv_later: role checked now, PHI
    masked for support); the file is built when it is clicked, not on every rerun; the click is
    recorded in the audit log (lib.audit.record_export). `df` may be a function that reads the
    frame when the download is clicked; `rows` then says how many rows it holds, for the record."""
    from lib import audit

    who = actor()
    n = len(df) if isinstance(df, pd.DataFrame) else rows
    if n is None:
        raise TypeError("csv_download: say how many rows a CSV read on click holds (rows=)")
    try:
        data, was_masked = audit.csv_later(who, df, uid=uid, unmasked=st.session_state.get(UNMASK_STATE))
    except OpsError as exc:
        show_error(exc)
        return

    def record() -> None:
        try:
            audit.record_export(get_stores(), who, file_name, n, was_masked)
        except Exception as exc:  # noqa: BLE001 - shown, the download itself is already in the browser
            show_error(exc)

    st.download_button(label, data, file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:", on_click=record)


def text_download(label: str, text: str, file_name: str, key: str, mime: str = "text/markdown") -> None:
    """A download of a text the page already shows as the reader may see it (masked upstream for
    support); the click is recorded in the audit log like every export."""
    from lib import audit, phi

    who = actor()

    def record() -> None:
        try:
            audit.record_export(get_stores(), who, file_name, text.count("\n"), phi.masks(who.role))
        except Exception as exc:  # noqa: BLE001 - shown, the download itself is already in the browser
            show_error(exc)

    st.download_button(label, text.encode(), file_name=file_name, mime=mime, key=key,
                       icon=":material/download:", on_click=record)


def link_column(label: str, pattern: str | None = None) -> Any:
    """A table column of relative links (`fixes?fix=…`, `patient?q=…`); `pattern` shows the capture."""
    return st.column_config.LinkColumn(label, display_text=pattern)


def check_results_frame(run: Any, sample_keys: int = 3) -> pd.DataFrame:
    """One row a check: id, severity, count (empty when it could not run), the first keys of its
    sample, error; sorted by severity, then by count (largest first, those that could not run last)."""
    rows = []
    for r in run.results:
        sample = ", ".join(r.sample[:sample_keys])
        if len(r.keys) > sample_keys:
            sample += ", …"
        rows.append(
            {
                "check": r.id,
                "severity": r.severity,
                "count": r.count,
                "sample": sample,
                "error": redact(r.error) if r.error else None,
            }
        )
    df = pd.DataFrame(rows, columns=["check", "severity", "count", "sample", "error"])
    df["count"] = df["count"].astype("Int64")
    df["_sev"] = df["severity"].map(SEVERITY_RANK).fillna(9)
    df = df.sort_values(["_sev", "count", "check"], ascending=[True, False, True], na_position="last", kind="stable")
    return df.drop(columns="_sev").reset_index(drop=True)


# ---------------------------------------------------------------------- fixes
def report_link(check_or_key: str) -> str:
    """The relative URL of the report page of a check id (or of a constraint key: Constraints)."""
    from lib import reports

    return reports.report_link(check_or_key) if check_or_key in BY_ID else "constraints"


def fixes_frame(status: list[Any]) -> pd.DataFrame:
    """One row a fix, for the overview table: link, store, needed, its checks' counts, blockers."""
    rows = []
    for s in status:
        blocked = ", ".join(f"{k} = {v}" for k, v in s.blocked_text().items())
        rows.append({
            "fix": f"fixes?fix={s.fix.id}",
            "title": s.fix.title,
            "store": ", ".join(s.fix.stores),
            "needed": "?" if s.needed is None else ("yes" if s.needed else "no"),
            "counts": ", ".join(f"{k} = {v}" for k, v in s.counts.items()),
            "blocked by": blocked or ("—" if not s.error else redact(s.error)),
            "report": report_link(next(iter(s.blocked))) if s.blocked else None,
            "reviewed": "yes" if s.fix.is_reviewed else "NO",
        })
    return pd.DataFrame(rows, columns=["fix", "title", "store", "needed", "counts", "blocked by", "report", "reviewed"])


def fix_card(s: Any) -> None:
    """What a fix does, its risk, whether it is needed and what blocks it (linked to the report)."""
    f = s.fix
    st.subheader(f.title)  # the reviewed fix file's own text, not a store's
    st.markdown(f"`{f.id}` on **{', '.join(STORE_LABELS[x] for x in f.stores)}**. {f.what}")
    st.caption(f"Risk: {f.risk}")
    if s.error:
        st.error(plain(redact(s.error)))
    elif s.needed:
        st.warning("Needed now: " + (", ".join(f"{k} = {v}" for k, v in s.counts.items()) or "its post-condition "
                                     "does not hold"), icon=":material/build:")
    else:
        st.success("Nothing to do now: its verification already holds.", icon=":material/check_circle:")
    for k, v in s.blocked_text().items():
        st.error(f"Blocked by [{plain(k)} = {plain(v)}]({report_link(k)}): fix that first.", icon=":material/block:")
    if not f.is_reviewed:
        st.error("This file is not the reviewed one (checksum): the runner refuses it.", icon=":material/gpp_bad:")
    with st.expander(f"The reviewed SQL ({f.checksum[:19]}…)"):
        st.code(f.file.text, language="sql")


def show_fix_result(r: Any) -> None:
    """A plan's or an apply's result: outcome, rows, counts before and after, each step's rows."""
    label = plain(redact(f"{r.action.capitalize()} of {r.fix}: {r.outcome} ({r.rows} rows, {r.duration_ms:,.0f} ms, "
                         f"audit #{r.audit_id})"))
    if r.refused or r.error:
        st.error(label, icon=":material/block:")
    elif r.applied:
        st.success(label, icon=":material/check_circle:")
    else:
        st.info(label, icon=":material/info:")
    keys = list(dict.fromkeys([*r.before, *r.after, *r.verify]))
    if keys:
        counts = pd.DataFrame([{"check": k, "before": r.before.get(k, (r.verify.get(k) or {}).get("before")),
                                "after": r.after.get(k, (r.verify.get(k) or {}).get("after"))} for k in keys])
        counts["before"] = counts["before"].astype("Int64")
        counts["after"] = counts["after"].astype("Int64")
        st.dataframe(counts, hide_index=True, width="stretch")
    if r.also_affects:
        st.caption("May also move (checks across stores, not counted inside the transaction): "
                   + plain(", ".join(r.also_affects)))
    for v in r.violations:
        st.warning(plain(f"{v.key}: {v.count} rows violate it ({v.definition}), e.g. {', '.join(v.sample[:5])}"))
    for step in r.steps:
        rows = "—" if step.rows is None else f"{step.rows:,} rows"
        st.markdown(f"**{step.title}** ({STORE_LABELS.get(step.store, step.store)}): {rows}")
        if step.sample:
            st.dataframe(pd.DataFrame(step.sample), hide_index=True, width="stretch")


def _close_fix_dialog() -> None:
    st.session_state.pop("fixes.dialog", None)


@st.dialog("Apply a fix", width="large", on_dismiss=_close_fix_dialog)
def apply_dialog(stores: Stores, actor: Any, fix_id: str) -> None:
    """Type the fix id and the planned row count back, give a reason; the runner does the rest
    (role, checksum, lock, precondition, verification, the same row count, audit)."""
    last = st.session_state.get("fixes.result")
    planned = last.rows if last is not None and last.fix == fix_id and last.action == "plan" else None
    st.markdown(f"Applying **{plain(fix_id)}** as **{plain(actor.role)}** changes the store in one transaction." + (
        f" The plan touched **{planned}** rows." if planned is not None else " Plan it first to see the rows."))
    typed_id = st.text_input("Type the fix id", key="fixes.confirm_id")
    typed_rows = st.text_input("Type the row count of the plan", key="fixes.confirm_rows")
    reason = st.text_area("Reason (kept in the audit log)", key="fixes.reason")
    if st.button("Apply now", type="primary", key="fixes.confirm", icon=":material/build:"):
        if typed_id.strip() != fix_id:
            st.error(f"Type {plain(fix_id)} exactly to confirm.")
        elif not typed_rows.strip().isdigit():
            st.error("Type the row count as a whole number.")
        elif planned is not None and int(typed_rows) != planned:
            st.error(f"The plan touched {planned} rows, not {plain(typed_rows)}.")
        elif not reason.strip():
            st.error("Give a reason: it goes to the audit log.")
        else:
            st.session_state["fixes.result"] = fix_apply(stores, actor, fix_id, reason, int(typed_rows))
            _close_fix_dialog()
            st.rerun()



# ---------------------------------------------------------------------- the runbook
def runbook_entry(check: str, path: Path | None = None) -> None:
    """The runbook section of `check` (lib.runbook: docs/checks.md, or `path`; our own text, so
    rendered as Markdown) and where it is (file#anchor); a check without a section says so."""
    from lib import runbook

    path = path or runbook.RUNBOOK
    entry = runbook.entry(check, path)
    if entry is None:
        st.caption(f"`{runbook.where(path)}` has no section `## {check}` yet.")
    else:
        st.markdown(entry.text)
        st.caption(f"`{entry.link}`")


def _runbook_about(path: Path | None) -> str:
    from lib import runbook

    return (f"Each check's entry in `{runbook.where(path or runbook.RUNBOOK)}`: what it counts, how it happens, "
            "how to verify it by hand, and the fix that resolves it.")


def runbook_picker(checks: Iterable[str], key: str, path: Path | None = None) -> None:
    """Under a "Runbook" heading, one check's runbook_entry, the check chosen in a select box of
    `checks` (the first by default): for a page that lists many checks, where an expander each
    would be drawn on every rerun."""
    ids = list(dict.fromkeys(checks))
    if not ids:
        return
    st.subheader("Runbook")
    check = st.selectbox("Runbook of the check", ids, key=key, help=_runbook_about(path))
    runbook_entry(check or ids[0], path)


def runbook_entries(checks: Iterable[str], path: Path | None = None) -> None:
    """Under a "Runbook" heading, an expander "Runbook: <id>" per check with its runbook_entry."""
    ids = list(dict.fromkeys(checks))
    if not ids:
        return
    st.subheader("Runbook")
    st.caption(_runbook_about(path))
    for check in ids:
        with st.expander(f"Runbook: {check}", icon=":material/menu_book:"):
            runbook_entry(check, path)
