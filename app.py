"""HealBridge Ops: the router. Each page lives in views/ and draws through lib.web. Not in pages/:
with that folder Streamlit runs a page's file on its own, without this router and its sign-in gate,
for every request until some session has run this script (tests/e2e/test_navigation.py)."""

import streamlit as st

from lib import web

st.set_page_config(page_title="HealBridge Ops", page_icon=":material/monitor_heart:", layout="wide")

PAGES = {
    "Monitor": [
        st.Page("views/health.py", title="Health", icon=":material/monitor_heart:", url_path="health", default=True),
        st.Page("views/stores.py", title="Stores", icon=":material/database:"),
        st.Page("views/checks.py", title="Checks", icon=":material/checklist:"),
        st.Page("views/duplicates.py", title="Duplicates & orphans", icon=":material/content_copy:", url_path="duplicates"),
        st.Page("views/tokens.py", title="Tokens", icon=":material/key:", url_path="tokens"),
        st.Page("views/constraints.py", title="Constraints", icon=":material/rule:", url_path="constraints"),
        st.Page("views/alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    ],
    "Investigate": [
        st.Page("views/patient.py", title="Patient", icon=":material/person_search:", url_path="patient"),
    ],
    "Fix": [
        st.Page("views/fixes.py", title="Fixes", icon=":material/build:", url_path="fixes"),
    ],
    "Review": [
        st.Page("views/review.py", title="Weekly review", icon=":material/event_note:", url_path="review"),
        st.Page("views/audit.py", title="Audit", icon=":material/policy:", url_path="audit"),
    ],
}

# Outside the demo nobody gets past this without signing in with a role (lib.web.gate shows the
# sign-in page and stops); in the demo it draws the role picker.
web.gate()
web.navigate(PAGES)
