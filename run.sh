#!/usr/bin/env bash
# Set up, then start the dashboard. With no store configured it runs the demo: its own embedded
# PostgreSQL and Firebase emulators, filled with generated data (see README). In the demo the
# watcher (`python -m lib watch`) runs beside the dashboard, so that alerts arrive in the
# dashboard's own alert log; it waits for the demo to be up and stops with the dashboard.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if .venv/bin/python -c "import sys; from lib.config import load_settings; sys.exit(0 if load_settings().demo else 1)" 2>/dev/null; then
    .venv/bin/python -m lib watch &
    watch_pid=$!
    trap 'kill "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true' EXIT INT TERM
    .venv/bin/streamlit run app.py "$@"
else
    exec .venv/bin/streamlit run app.py "$@"
fi
