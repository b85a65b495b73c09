"""Checks: run every check now and show what each one found."""

import streamlit as st

from lib import web

web.page_header(
    "Checks", "Every check of the dashboard against the three stores; counts come from one run of the checks."
)
stores = web.get_stores()

ran = web.run_checks_now(stores, key="run_checks")
run = ran if ran is not None else web.check_run(stores)

results = web.check_results_frame(run)
found = results[results["count"].fillna(0) > 0]
c1, c2, c3 = st.columns(3)
c1.metric("Checks with findings", f"{len(found)} of {len(results)}")
c2.metric("Errors with findings", int((found["severity"] == "error").sum()))
c3.metric("Could not run", int(results["count"].isna().sum()))
st.caption(f"Run {run.run_id or '(not saved)'} finished at {run.finished_at:%Y-%m-%d %H:%M:%S} UTC.")
for name, s in run.stores.items():
    if s.get("configured", True) and not s["ok"]:
        st.error(f"{web.STORE_LABELS.get(name, name)} is down: {web.plain(web.redact(s['error']))}")
if run.history_error:
    st.warning(web.plain(web.redact(run.history_error)))
st.dataframe(
    results,
    hide_index=True,
    width="stretch",
    column_config={
        "check": st.column_config.TextColumn("Check"),
        "severity": st.column_config.TextColumn("Severity"),
        "count": st.column_config.NumberColumn("Count"),
        "sample": st.column_config.TextColumn("Sample (first keys)"),
        "error": st.column_config.TextColumn("Error"),
    },
)
web.runbook_entries(results["check"])
