"""Tokens: the patient-doctor sharing tokens of Supabase, by state and by expiry."""

import streamlit as st

from lib import reports, web
from lib.checks.ids import BY_ID

web.page_header("Tokens", "The patient-doctor connection tokens: which are live, expired, expiring or never used. "
                "The token values themselves are never shown.")
stores = web.get_stores()
run = web.check_run(stores)
web.checked_caption(run)
rep = web.token_report(stores, run).or_stop(icon=web.STATUS_ICONS["error"])

by_id = run.by_id()
if all(by_id[c].count == 0 for c in ("token.expired_active", "token.expiring_soon", "token.unused_expired")):
    st.success("All good: no expired token is still active, none expires soon, none expired unused.",
               icon=web.STATUS_ICONS["ok"])
st.caption(f"{rep['total']:,} connections, {rep['inactive']:,} of them inactive.")
for col, s in zip(st.columns(3) + st.columns(3), rep["states"], strict=True):
    n = rep["counts"][s.id]
    status = "unknown" if n is None else (BY_ID[s.check].severity if s.check and n else "ok" if s.check else "")
    with col, st.container(border=True):
        st.metric(s.label, "—" if n is None else f"{n:,}", help=s.help + (f" (check {s.check})" if s.check else ""))
        if status:
            web.status_badge(status, s.check)

timeline = rep["timeline"]
if timeline.empty:
    st.info("No active token expires between 30 days ago and 60 days ahead.")
else:
    fig = web.figure("bar", timeline, now=run.started_at, x="day", y="tokens", color="state",
                     title="Active tokens by day of expiry",
                     labels={"day": "Expiry day (UTC)", "tokens": "Active tokens", "state": "State"},
                     color_discrete_map={"expired, still active": web.CHART_COLORS["error"], "valid": web.CHART_COLORS["ok"]})
    st.plotly_chart(fig, key="token_timeline")

for tab, s in zip(st.tabs([s.label for s in rep["states"]]), rep["states"], strict=True):
    rows = rep["rows"][s.id]
    with tab:
        st.caption(s.help + (f"; the keys of {s.check} in the check run." if s.check else "."))
        st.dataframe(rows, hide_index=True, width="stretch", key=f"tokens_{s.id}")
        listed = rep["listed"][s.id]
        if (rep["counts"][s.id] or 0) > len(rows):
            st.caption(f"The first {len(rows):,} of {rep['counts'][s.id]:,} rows here; the CSV holds {listed:,}.")
        web.csv_download("CSV", web.token_rows_later(stores, run, s.id), f"tokens_{s.id}.csv",
                         key=f"tokens_csv_{s.id}", rows=listed)

web.runbook_entries(reports.area_checks("tokens"))
