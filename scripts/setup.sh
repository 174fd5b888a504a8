#!/usr/bin/env bash
# One-time machine setup for the test suite (Debian 12, as root or with sudo):
# the real consumers the tests check rendered output against.
#   - ruby-foreman: `foreman check` / `foreman start` on rendered Procfiles
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v foreman >/dev/null 2>&1 || need+=(ruby-foreman)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
echo "setup: foreman $(foreman --version 2>/dev/null || echo MISSING)"
