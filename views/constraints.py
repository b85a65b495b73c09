"""Constraints: the live constraints and indexes of core and Supabase against the expected file."""

import streamlit as st

from lib import reports, web

web.page_header("Constraints", "Each store's live constraints and indexes, with their drift from what the backend "
                "expects highlighted, and the fix that resolves it.")
stores = web.get_stores()
run = web.check_run(stores)
web.checked_caption(run)

prev = web.previous_run(stores, run).value  # None: no earlier run, or the history cannot be read
ids = reports.area_checks("constraints")
summary = reports.checks_frame(run, ids, prev["counts"] if prev else None)
findings = reports.constraint_findings_frame(run)
if findings.empty and summary["count"].notna().all():
    st.success("All good: every expected constraint is there and valid, none forbidden is, and the advisor has "
               "nothing to say.", icon=web.STATUS_ICONS["ok"])
st.dataframe(web.styled(summary.drop(columns=["trend", "stores"])), hide_index=True, width="stretch",
             key="con_summary", placeholder="per finding, below", column_config={
                 "fix": web.link_column("Fix", r"fix=(.*)$"), **web.hidden_if_empty(summary, "error"),
                 "change": st.column_config.NumberColumn("Since last run", format="%+d")})
if not findings.empty:
    st.subheader("Drift")
    st.dataframe(web.styled(findings), hide_index=True, width="stretch", key="con_findings", placeholder="—",
                 column_order=["check", "severity", "store", "table", "name", "fix"],
                 column_config={"fix": web.link_column("Fix", r"fix=(.*)$")})

only_drift = st.toggle("Only rows with drift", value=False, key="con_only_drift")
link = {"fix": web.link_column("Fix", r"fix=(.*)$")}
for tab, name in zip(st.tabs([web.STORE_LABELS[n] for n in ("core", "supabase")]), ("core", "supabase"), strict=True):
    with tab:
        read = web.schema(stores, name)
        if not read.ok:
            read.show("info", icon=":material/block:")
            continue
        desc = read.value
        st.caption(f"Expected definitions from `{desc['expected_file']}`; schemas {', '.join(desc['schemas'])}.")
        frames = reports.schema_frames(desc)
        if not frames["missing"].empty:
            st.markdown("**Expected but missing**")
            st.dataframe(frames["missing"], hide_index=True, width="stretch", key=f"con_missing_{name}",
                         column_config=link, placeholder="—")
        tables = sorted(set(frames["tables"]["table"]) | set(frames["constraints"]["table"]))
        picked = st.multiselect("Tables", tables, key=f"con_tables_{name}", placeholder="All tables")
        for kind in ("constraints", "indexes"):
            df = frames[kind]
            if picked:
                df = df[df["table"].isin(picked)]
            if only_drift:
                df = df[df["drift"] != ""]
            st.markdown(f"**{kind.capitalize()}** ({len(df):,})")
            first = ["table", "name", "drift", "fix"]
            st.dataframe(web.highlight_rows(df), hide_index=True, width="stretch", key=f"con_{kind}_{name}",
                         column_config=link, placeholder="—",
                         column_order=first + [c for c in df.columns if c not in first])
        st.markdown("**Expected indexes**")
        st.dataframe(frames["expected_indexes"], hide_index=True, width="stretch", key=f"con_expidx_{name}",
                     column_config=link, placeholder="—")

web.runbook_entries(ids)
