"""Checks: run every check now and show what each one found."""

import streamlit as st

from lib import web

web.page_header(
    "Checks", "Every check of the dashboard against the three stores; counts come from one run of the checks."
)
stores = web.get_stores()

if st.button("Run checks now", key="run_checks", type="primary", icon=":material/play_arrow:"):
    with st.status("Running the checks…", expanded=True) as status:
        status.write(f"Pinging the stores, then running {web.check_count()} checks")
        run = web.check_run(stores, fresh=True)
        seconds = (run.finished_at - run.started_at).total_seconds()
        failed = sum(r.count is None for r in run.results)
        status.write(f"{len(run.results)} checks finished in {seconds:.1f} s")
        status.update(
            label=f"Checks finished in {seconds:.1f} s" + (f", {failed} could not run" if failed else ""),
            state="error" if failed else "complete",
            expanded=False,
        )
    st.session_state["checks.last_run"] = run

run = st.session_state.get("checks.last_run")
if run is None:
    st.info("No run yet in this session: press **Run checks now**.")
    st.stop()

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
