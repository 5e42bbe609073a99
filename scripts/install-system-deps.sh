#!/usr/bin/env bash
# Debian packages the tests use as real peers: Mosquitto (second broker), its clients (mosquitto_pub),
# InfluxDB 1.6 (the production store; the tests start their own on a free port), and Chromium (the
# dashboard is checked in a real headless browser).
# Idempotent: installs only what is missing. Needs root (or sudo) on a Debian machine.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
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
# The packages enable system services (mosquitto on 1883, influxdb on 8086) where systemd runs; the
# tests start their own on free ports.
for unit in mosquitto influxdb; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
    $SUDO systemctl stop "$unit" || true
    $SUDO systemctl disable "$unit" >/dev/null 2>&1 || true
  fi
done
echo "system packages: installed ${need[*]}"
