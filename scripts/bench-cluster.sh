#!/usr/bin/env bash
# Compares asyncredis-bench --cluster with redis-benchmark --cluster on a private local Redis
# Cluster (3 masters, 3 replicas), as issue 12 asks: GET and SET over --keyspace keys, so over
# every slot, redis-benchmark with -P 16 -c 16 against asyncredis with 256 in flight; rounds
# interleaved, the median of each.
#
#   scripts/bench-cluster.sh [--rounds 3] [--keyspace 100000] [--duration 5] [--build-dir DIR]
#
# Needs asyncredis-bench built (cmake --build --preset default) and redis-server, redis-cli and
# redis-benchmark on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
keyspace=100000
duration=5
build_dir=build/default
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --keyspace) keyspace=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--keyspace N] [--duration S] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
bench="$build_dir/bench/asyncredis-bench"
[ -x "$bench" ] || { echo "no $bench: build the default preset first" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Six ports whose cluster bus port (+10000) is free too, below the ephemeral range.
ports=()
port=21000
while [ ${#ports[@]} -lt 6 ]; do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
     ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; then
    ports+=("$port")
  fi
  port=$((port + 1))
done
for p in "${ports[@]}"; do
  mkdir -p "$work/$p"
  redis-server --port "$p" --bind 127.0.0.1 --dir "$work/$p" --save '' --appendonly no \
    --cluster-enabled yes --cluster-config-file "$work/$p/nodes.conf" \
    --cluster-node-timeout 2000 --daemonize no --logfile "$work/$p/log" &
  pids+=($!)
done
for p in "${ports[@]}"; do
  until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.05; done
done
addresses=()
for p in "${ports[@]}"; do addresses+=("127.0.0.1:$p"); done
redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
until [ "$(redis-cli -p "${ports[0]}" cluster info | tr -d '\r' | grep cluster_state)" = \
        "cluster_state:ok" ]; do sleep 0.1; done
sleep 1  # the other nodes learn the final configuration by gossip

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for cmd in get set; do
  ours=()
  theirs=()
  for _ in $(seq "$rounds"); do
    ours+=("$("$bench" --cluster --url "redis://127.0.0.1:${ports[0]}" --command "$cmd" \
      --keyspace "$keyspace" --inflight 256 --duration "$duration" --json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["ops_per_s"])')")
    theirs+=("$(redis-benchmark --cluster -h 127.0.0.1 -p "${ports[0]}" -t "$cmd" \
      -r "$keyspace" -P 16 -c 16 -n 1000000 -q --csv | tail -1 |
      python3 -c 'import csv,sys; print(list(csv.reader(sys.stdin))[0][1])')")
  done
  a=$(printf '%s\n' "${ours[@]}" | median)
  r=$(printf '%s\n' "${theirs[@]}" | median)
  printf '%s: redis-benchmark --cluster -P 16 -c 16: %.0f ops/s; asyncredis 256 in flight: %.0f ops/s; ratio %.2f\n' \
    "${cmd^^}" "$r" "$a" "$(python3 -c "print($a / $r)")"
done
