#!/usr/bin/env bash
# One command to run the system: installs the npm dependencies (and builds) when needed, then starts
# broker, ingest, store, accounting, HTTP API and dashboard with the demo fleet. Settings: see README.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
[ -f dist/cli/main.js ] || npm run build
exec node bin/netzero.js start
