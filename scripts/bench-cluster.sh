#!/usr/bin/env bash
# Compares asyncredis-bench --cluster with redis-benchmark --cluster on a private local Redis
# Cluster (3 masters, 3 replicas), as issue 12 asks: GET and SET over --keyspace keys, so over
# every slot, redis-benchmark with -P 16 -c 16 against asyncredis with 256 in flight; rounds
# interleaved, the median of each.
#
#   scripts/bench-cluster.sh [--rounds 3] [--keyspace 100000] [--duration 5] [--build-dir DIR]
#                            [--through-changes]
#
# --through-changes: afterwards, one more SET run of 20 s with --tolerate-errors while 1000
# slots are resharded (redis-cli --cluster reshard) and then a replica takes over its master
# (CLUSTER FAILOVER); it fails unless that run ends with 0 errors.
#
# Needs asyncredis-bench built (cmake --build --preset default) and redis-server, redis-cli and
# redis-benchmark on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
keyspace=100000
duration=5
build_dir=build/default
through_changes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --keyspace) keyspace=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --through-changes) through_changes=1; shift ;;
    *) echo "usage: $0 [--rounds N] [--keyspace N] [--duration S] [--build-dir DIR]" \
         "[--through-changes]" >&2; exit 2 ;;
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
# Every node says ok and knows the five others: the final configuration has spread by gossip.
settled() {
  for p in "${ports[@]}"; do
    info=$(redis-cli -p "$p" cluster info | tr -d '\r')
    grep -qx 'cluster_state:ok' <<<"$info" && grep -qx 'cluster_known_nodes:6' <<<"$info" ||
      return 1
  done
}
until settled; do sleep 0.1; done

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

[ "$through_changes" = 1 ] || exit 0
# The node ids and roles as the first node sees them: "<id> <port> master|slave".
nodes() {
  redis-cli -p "${ports[0]}" cluster nodes |
    awk '{split($2, a, "[:@]"); role = ($3 ~ /master/) ? "master" : "slave"; print $1, a[2], role}'
}
"$bench" --cluster --url "redis://127.0.0.1:${ports[0]}" --command set --keyspace "$keyspace" \
  --inflight 256 --duration 20 --tolerate-errors --json >"$work/changes.json" &
bench_pid=$!
# The changes start once the run is under way: its connections are up on the first node.
until [ "$(redis-cli -p "${ports[0]}" info clients | tr -d '\r' |
           awk -F: '$1 == "connected_clients" {print $2}')" -gt 1 ]; do sleep 0.05; done
read -r from_id _ < <(nodes | awk '$3 == "master"' | sed -n 1p)
read -r to_id _ < <(nodes | awk '$3 == "master"' | sed -n 2p)
redis-cli --cluster reshard "127.0.0.1:${ports[0]}" --cluster-from "$from_id" \
  --cluster-to "$to_id" --cluster-slots 1000 --cluster-yes >/dev/null
read -r _ replica_port _ < <(nodes | awk '$3 == "slave"' | sed -n 1p)
# A manual failover gives up by itself when the replica does not catch up in time (the
# master is busy; it has 5 s): ask again, for at most 60 s.
promoted=0
for _ in $(seq 12); do
  redis-cli -p "$replica_port" cluster failover >/dev/null
  for _ in $(seq 50); do
    if redis-cli -p "$replica_port" role | head -1 | grep -qx master; then promoted=1; break 2; fi
    sleep 0.1
  done
done
wait "$bench_pid"
[ "$promoted" = 1 ] || { echo "the replica on $replica_port was not promoted" >&2; exit 1; }
python3 - "$work/changes.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"SET through a resharding of 1000 slots and a planned failover: {r['ops_per_s']:.0f} ops/s, "
      f"{r['errors']} errors")
sys.exit(1 if r["errors"] else 0)
PY
