#!/usr/bin/env bash
# One command to run the whole test suite on a fresh Debian machine: installs the real peers the
# integration tests talk to (Mosquitto, mosquitto_pub), the npm dependencies, builds, and runs vitest.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
npm run typecheck
npm run lint
npm test
