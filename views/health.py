"""Health, the landing page: is sync healthy, and what broke. Refreshes itself with the check run."""

from datetime import UTC, datetime

import streamlit as st

from lib import reports, web
from lib.checks.ids import AREA_PAGE

web.page_header("Health", "Is sync healthy, and what broke: every number here comes from one run of the checks.")
stores = web.get_stores()
web.run_checks_now(stores, key="health_run")


@st.fragment(run_every=web.REFRESH_SECONDS)
def health() -> None:
    run = web.check_run(stores)
    prev = web.previous_run(stores, run).value  # None: no earlier run, or the history cannot be read
    web.checked_caption(run)
    web.watcher_status(stores)
    status = reports.overall_status(run)
    counts = prev["counts"] if prev else None
    since = prev["id"] if prev else None
    failing = web.derived(run, f"failing:{since}", lambda: reports.failing_frame(run, counts))
    found = int((failing["count"] > 0).sum())
    if status == "ok":
        st.success(f"All good: none of the {len(run.results)} checks has a finding.", icon=web.STATUS_ICONS["ok"])
    elif status == "error":
        errors = int(((failing["severity"] == "error") & (failing["count"] > 0)).sum())
        st.error(f"{found} of {len(run.results)} checks have findings, {errors} of them errors.", icon=web.STATUS_ICONS["error"])
    else:
        st.warning(f"{found} of {len(run.results)} checks have findings; {len(failing) - found} could not run.",
                   icon=web.STATUS_ICONS[status])

    now = web.ping(stores).value or {}  # reachable now, as on every page; the run's own view of the stores is in its results
    for col, name in zip(st.columns(len(run.stores)), [n for n in web.STORE_LABELS if n in run.stores], strict=True):
        s = now.get(name) or run.stores[name]
        with col, st.container(border=True):
            st.markdown(f"**{web.STORE_LABELS.get(name, name)}**")
            if not s.get("configured", True):
                web.status_badge("unknown", "Not configured")
                continue
            web.status_badge("ok" if s["ok"] else "error", "Reachable" if s["ok"] else "Down")
            st.caption("—" if s["latency_ms"] is None else f"Latency {s['latency_ms']:,.0f} ms")
            if name == "firebase":
                age = (datetime.now(UTC) - run.started_at).total_seconds() + (run.firebase_reused_s or 0)
                st.caption(f"Users and profiles listed {age:,.0f} s ago"
                           + (" (reused: Run checks now lists them again)" if run.firebase_reused_s else ""))
            if not s["ok"]:
                st.caption(web.plain(web.redact(s.get("error"))))

    for col, a in zip(st.columns(len(reports.AREAS)), web.derived(run, f"areas:{since}", lambda: reports.areas(run, counts)), strict=True):
        with col:
            web.tile(reports.AREA_TITLES[a.area], a.status, a.findings,
                     f"{a.failing} of {a.checks} checks with findings" + (f", {a.unknown} could not run" if a.unknown else ""),
                     AREA_PAGE[a.area], a.change)

    st.subheader("Failing checks")
    since = "no earlier run in the history" if prev is None else (
        f"change since run #{prev['id']} of {prev['started_at']:%Y-%m-%d %H:%M} UTC" + (" (generated)" if prev["generated"] else ""))
    st.caption(f"Worst first; {since}.")
    if failing.empty:
        st.info("No check has a finding.", icon=web.STATUS_ICONS["ok"])
    else:
        st.dataframe(web.styled(failing), hide_index=True, width="stretch", key="health_failing", placeholder="—",
                     column_config={"report": web.link_column("Report", r"^(\w+)"), "fix": web.link_column("Fix", r"fix=(.*)$"),
                                    "previous": st.column_config.NumberColumn("Previous"),
                                    "change": st.column_config.NumberColumn("Change", format="%+d"),
                                    **web.hidden_if_empty(failing, "error")})
        web.runbook_picker(failing["check"], key="health_runbook")

    st.subheader("Sync jobs")
    by_id = run.by_id()
    c1, c2 = st.columns(2)
    for col, cid, label in ((c1, "sync.jobs_failed", "Failed"), (c2, "sync.jobs_stuck", "Stuck")):
        r = by_id.get(cid)
        before = prev["counts"].get(cid) if prev else None
        col.metric(label, "—" if r is None or r.count is None else r.count, border=True, delta_color="inverse",
                   delta=None if r is None or r.count is None or before is None else r.count - before)
    read = web.sync_jobs(stores)
    if not read.ok:
        read.show("warning")
        return
    jobs = read.value
    if jobs["by_kind"].empty:
        st.info("No sync job failed in the last 14 days.", icon=web.STATUS_ICONS["ok"])
    else:  # a table with a bar per day: drawn on the table's canvas, a fraction of a chart's cost in the browser
        st.markdown("**Failed sync jobs by kind, last 14 days**")
        st.dataframe(jobs["by_kind"], hide_index=True, width="stretch", key="health_failures", column_config={
            "kind": "Kind", "failed": st.column_config.NumberColumn("Failed jobs"),
            "per_day": st.column_config.BarChartColumn("Per day of the last attempt, oldest first", y_min=0),
            "last_day": st.column_config.DateColumn("Last failed", format="YYYY-MM-DD")})
    st.markdown("**Top `last_error` messages of failed jobs**")
    st.dataframe(jobs["errors"], hide_index=True, width="stretch", key="health_errors", column_config={
        "last_error": st.column_config.TextColumn("Message", width="large"), "jobs": "Failed jobs", "kinds": "Kinds",
        "last_seen": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD HH:mm")})


health()
