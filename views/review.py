"""Weekly review: the latest run against the one a week earlier (or any two), trends, acknowledgements."""

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from lib import review, web

web.page_header("Weekly review", "What is new since last week, what got worse, what was resolved.")
stores = web.get_stores()
hist = web.review_runs(stores).or_stop(lead="The check history cannot be read: ")
runs, (before, after) = hist["runs"], hist["pair"]
if not runs:
    st.info("The history holds no check run yet: run the checks (Health → Run checks now).")
    st.stop()
if st.toggle("Pick the two runs", key="review_pick"):
    c1, c2 = st.columns(2)
    after = c2.selectbox("Later run", runs, format_func=lambda r: r.label, key="review_after")
    older = [r for r in runs if r.started_at < after.started_at] or [r for r in runs if r.id != after.id]
    if not older:
        st.info("The history holds one run only: there is nothing to compare it with yet.")
        st.stop()
    at = next((i for i, r in enumerate(older) if before is not None and r.id == before.id), 0)
    before = c1.selectbox("Earlier run", older, index=at, format_func=lambda r: r.label, key="review_before")
if before is None:
    st.info("The history holds one run only: there is nothing to compare it with yet.")
    st.stop()
st.caption(f"Comparing {before.label} with {after.label} ({(after.started_at - before.started_at).days} days apart).")

changes = web.review_compare(stores, before.id, after.id).or_stop()
acks = web.review_acks(stores).or_show([])
now = datetime.now(UTC)
cov = review.coverage(changes, acks, now)
counts = review.counts_by_status(changes)
failing = [c for c in changes if c.after]
for col, label in zip(st.columns(6), ("new", "worse", "better", "resolved", "still failing", "acknowledged"), strict=True):
    value = {"still failing": len(failing), "acknowledged": len(cov)}.get(label, counts.get(label, 0))
    col.metric(label.capitalize(), value, border=True)
if not failing and counts["unknown"] == 0:
    st.success(f"All good: no check has a finding in run #{after.id}.", icon=web.STATUS_ICONS["ok"])
frame = review.comparison_frame(changes, cov)
st.dataframe(web.styled(frame), hide_index=True, width="stretch", key="review_table",
             column_config={"change": st.column_config.NumberColumn("Change", format="%+d")})
d1, d2 = st.columns(2)
with d1:
    web.csv_download("Summary (CSV)", frame, f"review_{before.id}_{after.id}.csv", key="review_csv")
with d2:
    web.text_download("Summary (Markdown)", review.summary_markdown(before, after, changes, cov, acks, now),
                      f"review_{before.id}_{after.id}.md", key="review_md")

st.subheader("Trend over the weeks")
trend = web.weekly_trend(stores).or_show(None)
if trend is not None:
    labels = {"week": "Week (last run of each)", "count": "Findings", "area": "Area", "check": "Check"}
    by_area = trend.groupby(["week", "area"], as_index=False)["count"].sum()
    st.plotly_chart(web.figure("line", by_area, x="week", y="count", color="area", markers=True,
                               title="Findings per area, weekly", labels=labels,
                               color_discrete_sequence=web.CATEGORY_COLORS), key="review_trend")
    options = sorted(trend["check"].unique())
    picked = st.multiselect("Checks to plot", options, key="review_checks", default=[
        c.check for c in changes if c.status in ("new", "worse", "resolved") and c.check in options][:6])
    if picked:
        st.plotly_chart(web.figure("line", trend[trend["check"].isin(picked)], x="week", y="count", color="check",
                                   markers=True, title="Findings per check, weekly", labels=labels,
                                   color_discrete_sequence=web.CATEGORY_COLORS), key="review_check_trend")

st.subheader("Acknowledged findings")
st.caption("An acknowledgement never hides a finding: it is counted above and listed here, apart, until it expires.")
for state in ("active", "expired"):
    mine = [a for a in acks if a.state(now) == state]
    if mine:
        st.markdown(f"**{state.capitalize()}** ({len(mine)})")
        st.dataframe([{"state": state, "check": a.check_id, "finding": a.scope, "comment": a.comment,
                       "until": a.expires_at, "by": a.created_by} for a in mine], hide_index=True, width="stretch")
if failing:
    c1, c2 = st.columns(2)
    check = c1.selectbox("Acknowledge a finding of", [c.check for c in failing], key="ack_check")
    # a reader who sees PHI masked sees masked keys: they acknowledge a whole check, never a masked key
    keys = [] if web.masks_phi() else next(c.after_keys for c in failing if c.check == check)
    key = c2.selectbox("Finding", [None, *keys], key="ack_key", format_func=lambda k: k or "(every finding of the check)")
    with st.form("ack_form", clear_on_submit=True):
        comment = st.text_area("Comment", key="ack_comment", placeholder="Why this finding can wait")
        until = st.date_input("Expires on", value=date.today() + timedelta(days=14), key="ack_until")
        by = st.text_input("Your name", value=web.actor().who, key="ack_by")
        if st.form_submit_button("Acknowledge", icon=":material/done:"):
            try:
                review.acknowledge(stores, check, comment, until, key=key, by=by)
            except review.ReviewError as exc:
                web.show_error(exc)
            else:
                web.clear("acks")
                st.rerun()
