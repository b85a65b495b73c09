"""Duplicates & orphans: every dup.* and orphan.* check with its count, trend and keys."""

import streamlit as st

from lib import reports, web
from lib.checks.ids import BY_ID

web.page_header("Duplicates & orphans", "Rows that exist twice, and rows that point nowhere, in every store.")
stores = web.get_stores()
run = web.check_run(stores)
web.checked_caption(run)

c1, c2 = st.columns(2)
chosen_stores = c1.multiselect("Stores", list(web.STORE_LABELS), default=list(web.STORE_LABELS),
                               format_func=web.STORE_LABELS.get, key="dup_stores")
chosen_severity = c2.pills("Severity", ["error", "warn", "info"], selection_mode="multi",
                           default=["error", "warn", "info"], key="dup_severity")
ids = [c for c in reports.area_checks("duplicates", "orphans")
       if reports.check_stores(c) & set(chosen_stores) and BY_ID[c].severity in chosen_severity]
if not ids:
    st.info("No check matches these filters.")
    st.stop()

prev = web.previous_run(stores, run).value  # None: no earlier run, or the history cannot be read
trend = web.trends(stores, tuple(ids)).value  # None: no sparklines when the history cannot be read
frame = reports.checks_frame(run, ids, prev["counts"] if prev else None,
                             reports.sparklines(trend, ids, run.run_id) if trend is not None else None)
with_findings = frame[frame["count"].fillna(0) > 0]
if with_findings.empty and frame["count"].notna().all():
    st.success(f"All good: none of these {len(frame)} checks finds a duplicate or an orphan.", icon=web.STATUS_ICONS["ok"])
st.dataframe(web.styled(frame), hide_index=True, width="stretch", key="dup_summary", placeholder="—",
             height=36 * (len(frame) + 1) + 2, column_config={
                 "trend": st.column_config.LineChartColumn("Trend (daily, from the history)", y_min=0),
                 "change": st.column_config.NumberColumn("Since last run", format="%+d"),
                 "fix": web.link_column("Fix", r"fix=(.*)$"), **web.hidden_if_empty(frame, "error")})

by_id = run.by_id()
for error, checks in reports.could_not_run(run, ids).items():
    st.warning(f"{len(checks)} could not run ({', '.join(checks)}): {web.plain(web.redact(error))}",
               icon=web.STATUS_ICONS["unknown"])
for row in frame.itertuples():
    r = by_id[row.check]
    if not r.count:
        continue
    with st.expander(f"{r.id} · {r.count:,} · {row.title}", icon=web.STATUS_ICONS[r.severity]):
        keys = web.derived(run, f"keys:{r.id}", lambda r=r: reports.keys_frame(r))
        st.dataframe(web.derived(run, f"keys500:{r.id}", lambda keys=keys: keys.head(500)), hide_index=True, width="stretch", key=f"keys_{r.id}", column_config={
            "patient": web.link_column("Patient page", r"q=(.*)$")})
        if len(keys) > 500:
            st.caption(f"The first 500 of {len(keys):,} keys; the CSV holds them all.")
        web.csv_download("CSV of this report", keys, f"{r.id}.csv", key=f"csv_{r.id}")
        st.markdown(f"**Runbook: {r.id}**")  # in the check's own expander (expanders do not nest)
        web.runbook_entry(r.id)
