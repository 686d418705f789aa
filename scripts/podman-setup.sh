#!/bin/sh
# Make a podman engine answer the Docker API for smp-compat's container runner (README.md, "Tools that run as container images").
#
# Idempotent. Installs podman + runc (+ busybox-static for the test images) with apt when
# missing, writes the containers.conf of docs/ecosystem.md §7 (runc, lowered ulimits:
# crun cannot setrlimit without CAP_SYS_RESOURCE and refuses hybrid cgroups; host network: the
# fake AWS listens on 127.0.0.1), starts `podman system service` on a unix socket unless one
# already answers, and prints the line to eval:   eval "$(scripts/podman-setup.sh)"
#
#   scripts/podman-setup.sh          install if needed, start, print `export DOCKER_HOST=...`
#   scripts/podman-setup.sh --stop   stop the service this script started (by its pid file)
set -eu

cache="${XDG_CACHE_HOME:-$HOME/.cache}/smp-compat/podman"
conf="$cache/containers.conf"
sock="$cache/podman.sock"
pidfile="$cache/service.pid"
mkdir -p "$cache"

if [ "${1:-}" = "--stop" ]; then
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")"
    fi
    rm -f "$pidfile" "$sock"
    exit 0
fi

need=""
command -v podman >/dev/null 2>&1 || need="$need podman"
command -v runc >/dev/null 2>&1 || need="$need runc"
[ -x /bin/busybox ] || need="$need busybox-static"
# The relay is built with `gcc -static`: it needs the static libc of libc6-dev too.
command -v gcc >/dev/null 2>&1 || need="$need gcc"
dpkg -s libc6-dev >/dev/null 2>&1 || need="$need libc6-dev"
if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "podman-setup: missing:$need; install them as root (apt-get install$need)" >&2
        exit 1
    fi
    echo "podman-setup: apt-get install$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    apt-get install -y -qq --no-install-recommends $need >&2
fi

cat > "$conf.tmp" <<'CONF'
# Written by smp-compat scripts/podman-setup.sh (docs/ecosystem.md §7).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "host"
[engine]
runtime = "runc"
CONF
mv "$conf.tmp" "$conf"
export CONTAINERS_CONF="$conf"

ping() {
    python3 - "$sock" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
sys.exit(0 if b"OK" in s.recv(4096) else 1)
PY
}

if ! ping; then
    rm -f "$sock"
    nohup podman system service --time=0 "unix://$sock" >"$cache/service.log" 2>&1 &
    echo $! >"$pidfile"
    i=0
    until ping; do
        i=$((i + 1))
        if [ "$i" -gt 100 ]; then
            echo "podman-setup: the service did not answer on $sock; see $cache/service.log" >&2
            exit 1
        fi
        sleep 0.1
    done
fi
echo "export DOCKER_HOST=unix://$sock CONTAINERS_CONF=$conf"
