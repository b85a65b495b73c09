"""HealBridge Ops: the router. Each page lives in pages/ and draws through lib.web."""

import streamlit as st

st.set_page_config(page_title="HealBridge Ops", page_icon=":material/monitor_heart:", layout="wide")

PAGES = {
    "Monitor": [
        st.Page("pages/stores.py", title="Stores", icon=":material/database:", default=True),
        st.Page("pages/checks.py", title="Checks", icon=":material/checklist:"),
    ],
}

st.navigation(PAGES).run()
