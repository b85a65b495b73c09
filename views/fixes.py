"""Fixes: every vetted fix, whether it is needed now and what blocks it; plan, apply, the audit log."""

import streamlit as st

from lib import web

web.page_header("Fixes", "Reviewed SQL files run by one runner: plan (rolled back), apply (one transaction, "
                "verified), every attempt in the audit log. `?fix=<id>` opens one.")
actor = web.role_picker()
stores = web.get_stores()

held = web.latest_run(stores)  # its SQL checks' keys, not counted again; plan and apply always count
status = web.fix_status(stores, held).or_stop()
if held.run is not None and not held.from_history:
    st.caption(f"Check counts as of run {web.run_label(held.run)} at "
               f"{held.run.finished_at:%H:%M:%S} UTC; catalog checks and the fixes' own queries read now. "
               "Plan and apply count again inside their transaction.")
st.dataframe(web.fixes_frame(status), hide_index=True, width="stretch", column_config={
    "fix": web.link_column("Fix", r"fixes\?fix=(.*)"),
    "report": web.link_column("Report"),
})

ids = [s.fix.id for s in status]
wanted = st.query_params.get("fix")
if wanted is not None and wanted not in ids:  # a link to a fix that does not exist: say so, select none
    st.error(f"No fix {web.plain(wanted)} exists: pick one below or in the table.", icon=":material/search_off:")


def _pick() -> None:
    if st.session_state.get("fixes.choice") is not None:
        st.query_params["fix"] = st.session_state["fixes.choice"]


choice = st.selectbox("Fix", ids, index=ids.index(wanted) if wanted in ids else None if wanted else 0,
                      key="fixes.choice", on_change=_pick, placeholder="Pick a fix",
                      format_func=lambda i: f"{i} — {next(s.fix.title for s in status if s.fix.id == i)}")
if choice is None:
    st.stop()
st.query_params["fix"] = choice
current = next(s for s in status if s.fix.id == choice)
web.fix_card(current)

can_apply = web.may_apply()
left, right, _ = st.columns([1, 1, 4])
if left.button("Plan", key="fixes.plan", icon=":material/science:", help="Run it in a transaction that is rolled back"):
    st.session_state["fixes.result"] = web.fix_plan(stores, actor, choice)
right.button("Apply…", key="fixes.apply", type="primary", icon=":material/build:", disabled=not can_apply,
             on_click=lambda: st.session_state.update({"fixes.dialog": choice}),
             help="Needs the oncall or admin role" if not can_apply else "Asks for a typed confirmation and a reason")
if not can_apply:
    st.caption(f"The role {web.plain(actor.role)} may plan, not apply (the runner refuses it too).")
if st.session_state.get("fixes.dialog") == choice:
    web.apply_dialog(stores, actor, choice)

result = st.session_state.get("fixes.result")
if result is not None and result.fix == choice:
    web.show_fix_result(result)

st.subheader("Audit log")
audit = web.fix_audit(stores)
if audit.ok:
    st.dataframe(audit.value, hide_index=True, width="stretch")
else:
    audit.show()
