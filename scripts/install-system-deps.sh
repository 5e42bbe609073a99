#!/usr/bin/env bash
# Debian packages the tests use as real peers: Mosquitto (second broker), its clients (mosquitto_pub),
# and Chromium (the dashboard is checked in a real headless browser).
# Idempotent: installs only what is missing. Needs root (or sudo) on a Debian machine.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The package enables a system mosquitto service on 1883 where systemd runs; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  $SUDO systemctl stop mosquitto || true
  $SUDO systemctl disable mosquitto >/dev/null 2>&1 || true
fi
echo "system packages: installed ${need[*]}"
