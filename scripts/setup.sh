#!/usr/bin/env bash
# One-time machine setup for the test suite (Debian 12, as root or with sudo): the real
# consumers the tests check rendered output against.
#   ruby-foreman     `foreman check` / `foreman start` on rendered Procfiles
#   docker.io        a real Docker engine for OCI builds and Compose runs (started here)
#   docker-compose   Compose v1 (Debian's), used when no `docker compose` v2 plugin exists
#   busybox-static   the only userland of the FROM-scratch test images (no registry is reachable)
#   nix-bin          `nix-instantiate --parse/--eval` on generated Nix
#   systemd          `systemd-analyze verify` and `systemd --test` on generated units
#   curl             the http/tcp health probes of generated systemd units
#   iproute2         `ip netns` for the second swarm node of manage-swarm's tests (run as root)
# kubectl ships with the machine; it is checked below.
# Idempotent: installs only what is missing, starts dockerd only when no engine answers.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v foreman >/dev/null 2>&1 || need+=(ruby-foreman)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx wget || need+=(busybox-static)
command -v nix-instantiate >/dev/null 2>&1 || need+=(nix-bin)
{ command -v systemd-analyze >/dev/null 2>&1 && [ -x /lib/systemd/systemd ]; } || need+=(systemd)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# A Docker engine: reuse one that answers, else start Debian's dockerd in the background.
if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd (log: /tmp/nix2dream-dockerd.log)"
  $SUDO sh -c 'nohup dockerd >/tmp/nix2dream-dockerd.log 2>&1 & echo $! >/tmp/nix2dream-dockerd.pid'
  for _ in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /tmp/nix2dream-dockerd.log" >&2; exit 1; }
fi

echo "setup: foreman $(foreman --version 2>/dev/null || echo MISSING)"
echo "setup: docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo MISSING)"
echo "setup: $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /' || echo 'docker-compose MISSING')"
echo "setup: $(nix-instantiate --version 2>/dev/null || echo 'nix-instantiate MISSING')"
echo "setup: $(systemd-analyze --version 2>/dev/null | head -1 || echo 'systemd-analyze MISSING')"
echo "setup: $(kubectl version --client 2>/dev/null | head -1 || echo 'kubectl MISSING')"
