#!/usr/bin/env bash
# Set up the project on a fresh machine: a .venv in the project root with the pinned Python
# packages (runtime, test and benchmark), and firebase-tools from npm (for the Firebase Auth
# emulator). Idempotent and quick when nothing changed. Needs Python 3.11+, Node.js 20 + npm and Java 17+ (the Firestore emulator).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is missing: $2" >&2; exit 1; }; }
need python3 "install Python 3.11 or newer"
need node "install Node.js 20 (the Firebase Auth emulator runs on it)"
need npm "install npm (it comes with Node.js)"
need java "install Java 17 or newer (Debian: openjdk-17-jre-headless) for the Firestore emulator"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt requirements-bench.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt -r requirements-bench.txt
  echo "$want" > "$stamp"
fi
nstamp=node_modules/.lock.sha
nwant=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$nstamp" 2>/dev/null)" != "$nwant" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$nwant" > "$nstamp"
fi
