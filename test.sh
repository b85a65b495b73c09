#!/usr/bin/env bash
# Set up, then run every test (they start their own demo stores and stop them at the end).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
