#!/usr/bin/env bash
# Compares asyncredis-bench with our hiredis reference client (bench/reference) the way
# bench/README.md prescribes: a private redis-server and the client pinned to the same CPU,
# rounds interleaved, the median of each, and the ratio.
#
#   scripts/bench-compare.sh [--rounds 5] [--build-dir build/default] [--cache | --sync]
#
# --cache compares instead what issue 3 asks of the cache: a hit through cached() against a
# plain GET of the same value, of the hit's own key and of the short reference key (all
# asyncredis, same protocol), and the time of a key build.
# --sync compares the blocking SyncClient from 1 and 16 caller threads with the reference's
# blocking loops (`--mode sync --threads T`, a connection per thread), and with asyncredis's
# own asynchronous client at the same number in flight (the facade's overhead).
#
# Needs asyncredis-bench and hiredis-reference built (cmake --build --preset default).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
build_dir=build/default
cache=false
sync=false
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --cache) cache=true; shift ;;
    --sync) sync=true; shift ;;
    *) echo "usage: $0 [--rounds N] [--build-dir DIR] [--cache | --sync]" >&2; exit 2 ;;
  esac
done

bench="$build_dir/bench/asyncredis-bench"
reference="$build_dir/bench/hiredis-reference"
for program in "$bench" "$reference"; do
  [ -x "$program" ] || { echo "no $program: build the default preset first" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'kill "$(cat "$work/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
taskset -a -p -c 0 "$(cat "$work/redis.pid")" >/dev/null

ops() { sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p'; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

requests_for() { case $1 in 1) echo 100000 ;; 16) echo 500000 ;; *) echo 1000000 ;; esac; }
ours() {  # ours COMMAND INFLIGHT N [FLAG...]: one asyncredis-bench run's ops/s
  taskset -c 0 "$bench" --url "redis://127.0.0.1:$port" --command "$1" --inflight "$2" \
    --requests "$3" "${@:4}" | ops
}

if $cache; then
  # cost: cached-hit's time per request over GET's, against a GET of the hit's own key (the
  # layer alone) and of the reference's short key (the layer and its 75-byte keys). Each
  # round's three runs are adjacent and the costs are medians of per-round ratios: the machine
  # drifts by a few percent between rounds, which a ratio of separate medians would carry.
  printf '%-10s %8s %12s %12s %12s %9s %9s\n' cmd inflight get get-same-key cached-hit \
    cost cost-short
  for inflight in 1 16 256; do
    n=$(requests_for "$inflight")
    : > "$work/get"; : > "$work/same"; : > "$work/hit"; : > "$work/cost"; : > "$work/short"
    for _ in $(seq "$rounds"); do
      get=$(ours get "$inflight" "$n")
      same=$(ours get "$inflight" "$n" --cached-key)
      hit=$(ours cached-hit "$inflight" "$n")
      echo "$get" >> "$work/get"; echo "$same" >> "$work/same"; echo "$hit" >> "$work/hit"
      echo "$same / $hit" | bc -l >> "$work/cost"
      echo "$get / $hit" | bc -l >> "$work/short"
    done
    printf '%-10s %8s %12.0f %12.0f %12.0f %9.3f %9.3f\n' CACHED-HIT "$inflight" \
      "$(median < "$work/get")" "$(median < "$work/same")" "$(median < "$work/hit")" \
      "$(median < "$work/cost")" "$(median < "$work/short")"
  done
  taskset -c 0 "$bench" --command key-build --requests 2000000
  exit 0
fi

if $sync; then
  printf '%-4s %8s %12s %12s %12s %7s %9s\n' cmd threads reference sync async ratio overhead
  for cmd in GET SET; do
    for threads in 1 16; do
      n=$(requests_for "$threads")
      : > "$work/ref"; : > "$work/sync"; : > "$work/async"
      for _ in $(seq "$rounds"); do
        taskset -c 0 "$reference" --port "$port" --mode sync --command "${cmd,,}" \
          --threads "$threads" --requests "$n" | ops >> "$work/ref"
        ours "${cmd,,}" 1 "$n" --sync --threads "$threads" >> "$work/sync"
        ours "${cmd,,}" "$threads" "$n" >> "$work/async"
      done
      ref=$(median < "$work/ref"); mine=$(median < "$work/sync"); async=$(median < "$work/async")
      # ratio: the reference's time per request over ours (>1: faster than raw hiredis);
      # overhead: the async client's rate over the sync one's at the same number in flight.
      printf '%-4s %8s %12.0f %12.0f %12.0f %7.3f %9.3f\n' "$cmd" "$threads" "$ref" "$mine" \
        "$async" "$(echo "$mine / $ref" | bc -l)" "$(echo "$async / $mine" | bc -l)"
    done
  done
  exit 0
fi

printf '%-4s %8s %12s %12s %7s\n' cmd inflight reference asyncredis ratio
for cmd in GET SET; do
  for inflight in 1 16 256; do
    n=$(requests_for "$inflight")
    : > "$work/ref"; : > "$work/ours"
    for _ in $(seq "$rounds"); do
      taskset -c 0 "$reference" --port "$port" --mode async --command "${cmd,,}" \
        --inflight "$inflight" --requests "$n" | ops >> "$work/ref"
      ours "${cmd,,}" "$inflight" "$n" >> "$work/ours"
    done
    ref=$(median < "$work/ref"); mine=$(median < "$work/ours")
    printf '%-4s %8s %12.0f %12.0f %7.3f\n' "$cmd" "$inflight" "$ref" "$mine" \
      "$(echo "$mine / $ref" | bc -l)"
  done
done
