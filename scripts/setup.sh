#!/usr/bin/env bash
# Installs what bot-platform-dr needs on a fresh Debian/Ubuntu machine with Node 20:
# PostgreSQL and Redis server binaries and openssl (only when missing) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if ! command -v redis-server >/dev/null 2>&1; then need+=(redis-server); fi
# openssl: the TLS tests make throw-away CAs and server certificates with it.
if ! command -v openssl >/dev/null 2>&1; then need+=(openssl); fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The distribution's own clusters/services are not used (the project starts its own on free ports).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
