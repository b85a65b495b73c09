"""Audit: who signed in, looked up, unmasked, exported, planned and applied what (admin only)."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from lib import audit, web

web.page_header("Audit", "The append-only access log: sign-ins, patient lookups, unmasks, exports, fix plans and "
                "applies. Only admin may read it.")
stores = web.get_stores()

c1, c2, c3, c4 = st.columns([2, 2, 3, 1])
who = c1.text_input("Who (part of)", key="audit_who")
action = c2.selectbox("Action", [None, *audit.ACTIONS, "fix."], key="audit_action",
                      format_func=lambda a: "every action" if a is None else ("fix plan and apply" if a == "fix." else a))
today = datetime.now(UTC).date()
period = c3.date_input("Period (UTC)", value=(today - timedelta(days=7), today), key="audit_period")
limit = c4.number_input("Rows", min_value=10, max_value=audit.MAX_ROWS, value=500, step=100, key="audit_limit")
since = until = None
if isinstance(period, tuple) and len(period) == 2:
    since = datetime.combine(period[0], time.min, UTC)
    until = datetime.combine(period[1] + timedelta(days=1), time.min, UTC)

log = web.audit_log(stores, who=who or None, action=action, since=since, until=until, limit=int(limit)).or_stop()
st.caption(f"{len(log):,} events, newest first" + (" (the limit: narrow the filters)" if len(log) >= limit else "") + ".")
st.dataframe(log, hide_index=True, width="stretch", key="audit_table",
             column_config={"at": st.column_config.DatetimeColumn("At (UTC)", format="YYYY-MM-DD HH:mm:ss")})
web.csv_download("CSV", log, "audit_log.csv", key="audit_csv")
