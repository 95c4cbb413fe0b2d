#!/usr/bin/env bash
# The README's first command: builds the HTTP demo service (examples/http_service), starts a
# private redis-server on a free port with a random password (never a system Redis: the demo
# writes keys) and the service, and walks through it with curl: a cache miss then a hit, login,
# /me, logout, a burst ending in 429, and Redis going away. Everything is stopped and removed
# on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# One compiler cache per user, with paths taken relative to the checkout: a fresh clone in
# another folder (CI) reuses what earlier builds compiled. On a new machine it starts cold.
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

bash scripts/setup.sh
command -v curl >/dev/null || die "curl is missing (scripts/setup.sh installs it)"
say "building the HTTP demo service"
cmake --preset default >/dev/null
cmake --build --preset default --target http_service

work=$(mktemp -d "${TMPDIR:-/tmp}/asyncredis-demo.XXXXXX")
server_pid=
service_pid=
cleanup() {
  if [[ -n $service_pid ]]; then
    kill -KILL "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  if [[ -n $server_pid ]]; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server has a password, as a production one would: the service's start-up line shows it
# as *** (checked at the end). It goes through a file and the environment, never a command
# line, which any user can read in ps.
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && printf 'requirepass %s\n' "$password" >"$work/redis.conf")
export REDISCLI_AUTH=$password

# A random port below the kernel's ephemeral range; if it is taken the server exits at once
# and another port is tried.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port=
for _ in $(seq 1 20); do
  candidate=$((20000 + RANDOM % (ephemeral_low > 21000 ? ephemeral_low - 20000 : 10000)))
  redis-server "$work/redis.conf" --port "$candidate" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$work" --daemonize no --logfile "$work/redis.log" &
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

say "redis-server $server_pid on 127.0.0.1:$port, with a password"

rate_limit=10
REDIS_URL="redis://:$password@127.0.0.1:$port/0" build/default/examples/http_service/http_service \
  --port 0 --rate-limit "$rate_limit" --rate-window 60 >"$work/service.log" 2>&1 &
service_pid=$!
http_port=
for _ in $(seq 1 100); do
  http_port=$(sed -n 's|.*listening on http://[0-9.]*:\([0-9]*\).*|\1|p' "$work/service.log")
  [[ -n $http_port ]] && break
  kill -0 "$service_pid" 2>/dev/null || { cat "$work/service.log" >&2; die "http_service exited"; }
  sleep 0.1
done
[[ -n $http_port ]] || die "http_service did not start"
base="http://127.0.0.1:$http_port"
say "http_service $service_pid on $base (rate limit $rate_limit per 60 s)"

# Shows one request: the command, then the status line, the interesting headers, the body and
# how long the answer took.
step() {
  local title=$1
  shift
  printf '\n--- %s\n$ curl %s\n' "$title" "$*"
  curl -sS -i -w '\n(answered in %{time_total} s)\n' "$@" | tr -d '\r' |
    grep -E '^(HTTP/|X-Cache|X-RateLimit-Remaining|Retry-After|Set-Cookie|\{|\(answered)' || true
}

ada=3f2b8c1e-5d4a-4b6f-9e7d-1a2b3c4d5e6f
step "a user, first time: a miss (the gateway takes ~50 ms)" "$base/users/$ada"
step "the same user again: a hit from Redis" "$base/users/$ada"
step "update the user: the cached entry is invalidated" -X PUT "$base/users/$ada" \
  -d '{"name": "Ada King", "email": "ada@king.example"}'
step "read it again: a miss, with the new name" "$base/users/$ada"
cookies="$work/cookies"
step "log in" -c "$cookies" -X POST "$base/login" -d "{\"user_id\": \"$ada\"}"
step "who am I (with the session cookie)" -b "$cookies" "$base/me"
step "log out" -b "$cookies" -X POST "$base/logout"
step "who am I now: 401" -b "$cookies" "$base/me"
printf '\n--- a burst until the rate limit answers 429\n'
for i in $(seq 1 "$rate_limit"); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/me")
  printf '%s ' "$code"
  [[ $code == 429 ]] && break
done
printf '\n'
step "over the limit" "$base/me"

printf '\n--- Redis goes away (redis-server killed); the service keeps to its own deadline\n'
kill -KILL "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=
step "a user: from the database, the cache bypassed" "$base/users/$ada"
step "log in: 503 within the deadline, no internals in the body" -X POST "$base/login" \
  -d "{\"user_id\": \"$ada\"}"

say "the service's log:"
sed 's/^/  /' "$work/service.log"
if grep -qF "$password" "$work/service.log"; then die "the service's log shows the Redis password"; fi
say "stopping http_service"
kill -TERM "$service_pid" 2>/dev/null || true
wait "$service_pid" 2>/dev/null || true
service_pid=
say "done"
