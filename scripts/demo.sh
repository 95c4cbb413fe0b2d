#!/usr/bin/env bash
# Builds the quickstart example and runs it against a private redis-server on a free port
# (never a system Redis: the demo writes keys). Everything is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
export CCACHE_DIR=${CCACHE_DIR:-$root/build/ccache}

bash scripts/setup.sh
say "building the quickstart example"
cmake --preset default >/dev/null
cmake --build --preset default --target quickstart

work=$(mktemp -d "${TMPDIR:-/tmp}/asyncredis-demo.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A random port below the kernel's ephemeral range; if it is taken the server exits at once
# and another port is tried.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port=
for _ in $(seq 1 20); do
  candidate=$((20000 + RANDOM % (ephemeral_low > 21000 ? ephemeral_low - 20000 : 10000)))
  redis-server --port "$candidate" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --daemonize no --logfile "$work/redis.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    # Ours only if the answering server reports our pid (not another process on that port).
    if info=$(redis-cli -p "$candidate" INFO server 2>/dev/null) &&
      [[ $info == *"process_id:$server_pid"* ]]; then
      port=$candidate
      break 2
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
done
[[ -n $port ]] || { cat "$work/redis.log" >&2 || true; die "could not start redis-server"; }

say "redis-server $server_pid on 127.0.0.1:$port"
rc=0
REDIS_URL="redis://127.0.0.1:$port/0" build/default/examples/quickstart || rc=$?
say "stopping redis-server"
kill -TERM "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=
((rc == 0)) || die "quickstart exited with status $rc"
say "done"
