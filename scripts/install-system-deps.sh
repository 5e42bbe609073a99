#!/usr/bin/env bash
# Debian packages the tests use as real peers: Mosquitto (second broker), its clients (mosquitto_pub),
# InfluxDB 1.6 (the production store; the tests start their own on a free port), and Chromium (the
# dashboard is checked in a real headless browser, and prints the annual report to PDF), the Noto CJK fonts
# (Chinese glyphs in that PDF) and poppler-utils (pdftotext, pdftoppm: the tests read the PDF back).
# Idempotent: installs only what is missing. Needs root (or sudo) on a Debian machine.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The annual report's PDF (lib/html-to-pdf.ts): Chinese glyphs need a CJK font, and the tests read the PDF back with poppler.
# (grep reads all of fc-list's output: with -q it would stop early and pipefail would see fc-list's SIGPIPE)
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# The Modbus tests' device (test/helpers/sunspec_server.py) is Debian's pymodbus; its server module imports
# pyserial-asyncio (only "Recommended" by python3-pymodbus, and recommends are not installed here).
/usr/bin/python3 -c 'import pymodbus' >/dev/null 2>&1 || need+=(python3-pymodbus)
/usr/bin/python3 -c 'import serial_asyncio' >/dev/null 2>&1 || need+=(python3-serial-asyncio)
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
