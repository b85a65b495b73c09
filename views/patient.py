"""Patient: one search box, one patient, every store (Firebase Auth, Firestore, core, Supabase)."""

from urllib.parse import quote

import streamlit as st

from lib import patient, web

web.page_header("Patient", "Find a patient by Firebase UID, email, phone, core user or patient id, or name: "
                "the patient in every store side by side, their data across the sync points, their findings.")
stores = web.get_stores()

# The URL carries the Firebase UID of the one patient shown, never what was typed (an email or a
# phone would go to the browser history and proxy logs). A link such as patient?q=<uid> fills the
# box. What is searched is cut one character past the longest identifier, so that longer input
# (100,000 pasted characters) gets its one sentence (lib.patient.TOO_LONG), never silence.
LIMIT = patient.MAX_CHARS + 1
if "patient_q" not in st.session_state:
    st.session_state["patient_q"] = st.query_params.get("q", "")[:LIMIT]


def _link(uid: str | None) -> None:
    if uid is None:
        st.query_params.pop("q", None)
    elif st.query_params.get("q") != uid:
        st.query_params["q"] = uid


box, refresh = st.columns([6, 1], vertical_alignment="bottom")
query = box.text_input("Search", key="patient_q",
                       placeholder="Firebase UID, email, phone, core user or patient id, or part of a name")[:LIMIT]
if refresh.button("Refresh", key="patient_refresh", icon=":material/refresh:"):
    web.clear("patient")
if not query.strip():
    _link(None)
    st.info("Type a Firebase UID, an email, a phone number (any format), a core user or patient id, or part of a name.")
    st.stop()

found = web.patient_search(stores, query).or_stop()
for part, err in found.down.items():
    st.error(f"{patient.PART_LABELS[part]} is down: {web.plain(web.redact(err))}", icon=":material/cancel:")
if found.message:
    _link(None)
    st.info(web.plain(found.message[0].upper() + found.message[1:] + "."), icon=":material/person_search:")
    st.stop()

uid = found.uids[0]
if len(found.candidates) > 1:
    more = f" (the first {patient.MAX_MATCHES}: type more of the name)" if found.truncated else ""
    st.markdown(f"**{len(found.candidates)} patients match**{more}")
    st.dataframe(patient.candidates_frame(found).assign(open=[f"patient?q={quote(u, safe='')}" for u in found.uids]),
                 hide_index=True, width="stretch", column_config={"open": web.link_column("Open", r"q=(.*)$")})
    by_label = {f"{c.name or '(no name)'} · {c.email or '—'} · {c.uid}": c.uid for c in found.candidates}
    picked = st.selectbox("Patient", list(by_label), index=None, key="patient_pick", placeholder="Pick a patient")
    if picked is None:
        _link(None)
        st.stop()
    uid = by_label[picked]
_link(uid)

view = web.patient_view(stores, uid, found.down).or_stop()
st.subheader(web.plain(view.name or uid))
st.caption(f"Firebase UID {web.plain(uid)} · link to this patient: {web.plain(f'patient?q={uid}')} · searched every "
           f"store in {found.ms:,.0f} ms")
if (flag := patient.access_flag(view)) is not None:  # disabled in Firebase Auth: at the top, with its fixes
    fix_links = " · ".join(f"[{fix}]({link})" for fix, link in flag.fixes)
    (st.error if flag.severity == "error" else st.info)(
        web.plain(flag.text) + (f"  \nFixes: {fix_links}" if fix_links else ""), icon=":material/block:")
web.unmask_widget(stores, uid)  # support: masked values, unmasked one patient at a time with a reason (audited)

for col, part in zip(st.columns(len(patient.PARTS)), patient.PARTS, strict=True):
    with col, st.container(border=True):
        st.markdown(f"**{patient.PART_LABELS[part]}**")
        state = view.state(part)
        if state == "present":
            st.success("Present", icon=":material/check_circle:")
        elif state == "missing":
            st.error("Missing", icon=":material/person_off:")
        else:
            st.warning(f"Down: {web.plain(web.redact(view.down[part]))}", icon=":material/cloud_off:")
        if part == "supabase" and len(view.supabase_users) > 1:
            st.caption(web.plain("; ".join(f"{u['id'][:8]}…: {u['state']}" for u in view.supabase_users)))

st.markdown("**Side by side** (values that differ after the comparison rules are highlighted)")
st.dataframe(patient.comparison_styler(view), width="stretch")

st.markdown("**Findings about this patient**")
findings = patient.findings_frame(view)
if findings.empty and view.down:
    st.info("No finding in the stores that answered (" + ", ".join(patient.PART_LABELS[p] for p in view.down)
            + " down).", icon=":material/help:")
elif findings.empty:
    st.success("No check finds anything about this patient.", icon=":material/verified:")
else:
    st.dataframe(web.styled(findings), hide_index=True, width="stretch",
                 column_config={"fix": web.link_column("Fix", r"fix=(.*)$")})

SECTIONS = {"documents": "Documents", "medications": "Medications", "prescriptions": "Prescriptions",
            "connections": "Connections & tokens", "appointments": "Appointments", "session_notes": "Session notes",
            "sync_jobs": "Sync jobs", "supabase_users": "Supabase users"}
for tab, (section, title) in zip(st.tabs([f"{t} ({len(getattr(view, s))})" for s, t in SECTIONS.items()]),
                                 SECTIONS.items(), strict=True):
    with tab:
        if section == "sync_jobs" and (fig := patient.jobs_figure(view)) is not None:
            st.plotly_chart(fig, width="stretch", key="patient_jobs_chart")
            for job in patient.job_errors_frame(view).head(20).itertuples():
                st.caption(f"Job #{job.job} · {web.plain(job.kind)} · {web.plain(job.status)} · {job.attempts} "
                           f"attempts · {web.plain(job.updated_at)}")
                st.code(job.error or "", language=None, wrap_lines=True)
        frame = patient.section_frame(view, section)
        if frame.empty:
            st.caption(f"No {title.lower()}.")
        else:
            st.dataframe(frame, hide_index=True, width="stretch",
                         column_config={"last_error": st.column_config.TextColumn("last_error", width="large")})
