#!/usr/bin/env bash
# Set up, then start the dashboard. With no store configured it runs the demo: its own embedded
# PostgreSQL and Firebase emulators, filled with generated data (see README).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
