"""Alerts: what the watcher sent and where, what is open and since when, what silences it
(acknowledgements, maintenance windows), and a test alert per channel."""

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from lib import web
from lib.alerts import ALERT_ROLES
from lib.roles import ROLES

web.page_header("Alerts", "Notifications on state changes of the checks (opened, worse, resolved), where they went, "
                          "and what silences them.")
stores = web.get_stores()
who = web.actor()
may = who.role in ALERT_ROLES  # lib.alerts checks it again where the work is done
needs = f"needs the role {' or '.join(r for r in ROLES if r in ALERT_ROLES)}"
web.alerts_flash()
web.watcher_status(stores)

st.subheader("Notifications")
st.caption("Newest first; a channel is named by its scheme and host only. A failed message is retried with backoff.")
log = web.alert_log(stores).or_show(None, lead="The alert log cannot be read: ")
if log is not None:
    if log.empty:
        st.info("No notification yet: the watcher sends one when a check opens, gets worse or resolves.",
                icon=":material/notifications_off:")
    else:
        failed = log[log["status"].str.startswith("failed")]
        if not failed.empty:
            st.warning(f"{len(failed)} of the last {len(log)} notifications were not delivered; the latest error: "
                       f"{web.plain(failed['error'].dropna().iloc[0] if failed['error'].notna().any() else '—')}",
                       icon=":material/error:")
        st.dataframe(log, hide_index=True, width="stretch", key="alerts_log", column_config={
            "when": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
            "changes": st.column_config.TextColumn("Changes", width="large"),
            "error": st.column_config.TextColumn("Error (redacted)", width="medium"),
            "last attempt": st.column_config.DatetimeColumn("Last attempt", format="YYYY-MM-DD HH:mm:ss"),
            **web.hidden_if_empty(log, "error", "last attempt")})
        with st.expander("Delivery attempts of one notification"):
            oid = st.selectbox("Notification", list(log["id"]), key="alerts_attempts_of",
                               format_func=lambda i: f"#{i}: {log.set_index('id').loc[i, 'changes']}"[:120])
            tries = web.alert_attempts(stores, int(oid)).or_show(None)
            if tries is not None:
                if tries.empty:
                    st.caption("No attempt: a message to the dashboard's own alert log is not sent anywhere.")
                else:
                    st.dataframe(tries, hide_index=True, width="stretch")

st.subheader("Open checks")
opened = web.open_checks(stores).or_show(None, lead="The open checks cannot be read: ")
if opened is not None:
    if opened.empty and not (web.watch_heartbeat(stores).value or {}).get("last_run_at"):
        st.info("Nothing known yet: open checks are what the watcher's runs find.", icon=":material/info:")
    elif opened.empty:
        st.success("Nothing is open: the watcher's last run found no check with a finding.",
                   icon=web.STATUS_ICONS["ok"])
    else:
        st.dataframe(opened, hide_index=True, width="stretch", key="alerts_open", column_config={
            "open since": st.column_config.DatetimeColumn("Open since", format="YYYY-MM-DD HH:mm"),
            "report": web.link_column("Report", r"^(\w+)")})

st.subheader("What silences alerts")
now = datetime.now(UTC)
acks = [a for a in web.review_acks(stores).or_show([]) if a.state(now) == "active"]
st.markdown(f"**Acknowledgements** ({len(acks)} active, from the Weekly review)")
if acks:
    st.dataframe(pd.DataFrame([{"check": a.check_id, "finding": a.scope, "comment": a.comment, "until": a.expires_at,
                                "by": a.created_by} for a in acks]), hide_index=True, width="stretch")
else:
    st.caption("None active: acknowledge a check on the Weekly review to silence it until a date.")

windows = web.maintenance_windows(stores).or_show([], lead="The maintenance windows cannot be read: ")
st.markdown(f"**Maintenance windows** ({sum(w['state'] == 'active' for w in windows)} active; "
            "no alert is sent while one lasts)")
if windows:
    st.dataframe(pd.DataFrame([{"id": w["id"], "state": w["state"], "starts": w["starts_at"], "ends": w["ends_at"],
                                "reason": w["reason"], "by": w["created_by"], "ended": w["ended_at"],
                                "ended by": w["ended_by"]} for w in windows]), hide_index=True, width="stretch")
for w in windows:
    if w["state"] in ("active", "scheduled") and st.button(
            f"End maintenance window #{w['id']} now", key=f"alerts_end_{w['id']}", icon=":material/stop_circle:",
            disabled=not may, help=None if may else f"Ending a maintenance window {needs}."):
        web.end_maintenance(stores, who, int(w["id"]))
with st.form("alerts_maintenance", clear_on_submit=True):
    st.markdown("Start a maintenance window now" + ("" if may else f" ({needs}: read-only for you)"))
    reason = st.text_input("Reason (kept in the audit log)", key="alerts_reason", disabled=not may)
    c1, c2 = st.columns(2)
    end = now + timedelta(hours=2)
    day = c1.date_input("Ends on (UTC)", value=end.date(), key="alerts_end_day", disabled=not may)
    at = c2.time_input("at (UTC)", value=end.time().replace(second=0, microsecond=0), key="alerts_end_time",
                             disabled=not may)
    if st.form_submit_button("Start maintenance", icon=":material/construction:", key="alerts_start",
                             disabled=not may):
        if isinstance(day, date) and isinstance(at, time):
            web.start_maintenance(stores, who, reason, datetime.combine(day, at, UTC))
        else:
            st.error("Pick the day and the time the maintenance window ends.")

st.subheader("Channels")
channels = web.alert_channels(stores).or_show([], lead="The alert channels cannot be read: ")
if not channels:
    st.info("No channel is configured, so alerts go to the dashboard's own alert log (above). Set ALERT_URLS "
            "(apprise URLs; ALERT_URLS_ERROR, _WARN, _INFO, _DIGEST for one kind) to send them out.",
            icon=":material/info:")
for ch in channels:
    c1, c2 = st.columns([3, 1])
    c1.markdown(f"**{web.plain(ch['channel'])}** (from {ch['setting']})")
    if c2.button("Send test alert", key=f"alerts_test_{ch['index']}", icon=":material/send:", disabled=not may,
                 help=None if may else f"Sending a test alert {needs}."):
        web.send_test_alert(stores, who, int(ch["index"]))
