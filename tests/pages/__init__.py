"""The page tests: one file per page of app.py (and app.py's router), run with Streamlit's AppTest."""

from __future__ import annotations
