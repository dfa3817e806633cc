#!/usr/bin/env bash
# The capacity model's measured run (docs/capacity.md): the same load on
#   A. one Metering process on one Redis master, and
#   B. two Metering processes on a three-master Redis Cluster (accounts spread over the masters),
# one after the other on this machine. Reports records/s (unary and batch), server CPU per record,
# and keys per master, into results/capacity.md and results/capacity.jsonl.
#
#   tests/Benchmarks/capacity.sh [--quick] [--no-build] [--keep]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/tests/Benchmarks"
CONFIG=Release
QUICK=0 BUILD=1 KEEP=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--quick] [--no-build] [--keep]" >&2; exit 2 ;;
  esac
done
RESULTS="$BENCH/results"
JSONL="$RESULTS/capacity.jsonl"
REPORT="$RESULTS/capacity.md"
WORK="$(mktemp -d /tmp/faceid-capacity.XXXXXX)"
mkdir -p "$RESULTS" "$WORK"/{logs,data}
: >"$JSONL"
PIDS=()
FAILED=0
# shellcheck source=common.sh
source "$BENCH/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $QUICK = 1 ]; then WARMUP=1; DURATION=4; ACCOUNTS_PER_MASTER=1; else WARMUP=3; DURATION=15; ACCOUNTS_PER_MASTER=2; fi
# The same total client load in both set-ups: 64 unary callers, 4 batch callers of 5,000 records.
UNARY_C=64; BATCH_C=4; BATCH_SIZE=5000

build_and_load_generator

line() { printf '%s\n' "$1" >>"$JSONL"; }
line "{\"kind\":\"env\",\"date\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"machine\":\"$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\",\"busyBefore\":$(machine_busy),\"commit\":\"$(git -C "$ROOT" rev-parse --short HEAD)\",\"mode\":\"$([ $QUICK = 1 ] && echo quick || echo full)\"}"

# start_platform SETUP REDIS_CONNECTION METERING_COUNT: Onboarding, Packages and N Metering processes.
start_platform() {
  local setup=$1 redis=$2 n=$3 i port
  port=$(free_port); start_service "$setup-onboarding" Onboarding "$redis" "$port"; ONB="http://127.0.0.1:$port"
  port=$(free_port); start_service "$setup-packages" Packages "$redis" "$port"; PKG="http://127.0.0.1:$port"
  MET=(); MET_PIDS=()
  for i in $(seq 1 "$n"); do
    port=$(free_port); start_service "$setup-metering$i" Metering "$redis" "$port" "$GC_ENV"
    MET+=("http://127.0.0.1:$port"); MET_PIDS+=("$STARTED_PID")
  done
  "${LG[@]}" wait --targets "$ONB,$PKG,$(IFS=,; echo "${MET[*]}")" --timeout-seconds 120 \
    || { tail -n 20 "$WORK"/logs/*.log >&2; echo "the services did not start" >&2; exit 1; }
}

# load SETUP KIND ACCOUNTS [ROUTING...]: KIND (unary|batch) from one load generator whose connections are
# split between the Metering processes (the same client load in both set-ups); the aggregate rate and
# the servers' CPU (all of them, idle ones included). TARGETS: the Metering processes driven. ROUTING: extra load-generator options (--route-by-account: account affinity).
load() {
  local setup=$1 kind=$2 accounts=$3 n=${#TARGETS[@]} shape t0 t1 c0 c1 rc=0
  shift 3
  if [ "$kind" = unary ]; then shape=(--concurrency $UNARY_C --connections 4)
  else shape=(--batch-size $BATCH_SIZE --concurrency $BATCH_C --connections $BATCH_C); fi
  c0=0; for p in "${SERVER_PIDS[@]}"; do c0=$((c0 + $(cpu_ticks "$p"))); done
  t0=$(date +%s%N)
  "${LG[@]}" "$kind" --target "$(IFS=,; echo "${TARGETS[*]}")" --accounts "$accounts" "${shape[@]}" "$@" --warmup $WARMUP --duration $DURATION \
    --name "$setup-$kind" --phase "$setup" --json-out "$WORK/$setup-$kind.jsonl" >"$WORK/logs/$setup-$kind.out" 2>&1 || rc=1
  t1=$(date +%s%N)
  c1=0; for p in "${SERVER_PIDS[@]}"; do c1=$((c1 + $(cpu_ticks "$p"))); done
  [ $rc = 0 ] || { FAILED=1; cat "$WORK/logs/$setup-$kind.out" >&2; }
  cat "$WORK/logs/$setup-$kind.out" >&2
  jq -c -s --arg setup "$setup" --arg kind "$kind" --argjson cpu "$(awk -v a=$c0 -v b=$c1 'BEGIN{print (b-a)/100}')" \
    --argjson wall "$(awk -v a=$t0 -v b=$t1 'BEGIN{print (b-a)/1e9}')" --argjson processes "$n" \
    '{kind:"load", setup:$setup, load:$kind, processes:$processes, recordsPerSec:(map(.recordsPerSec)|add), callsPerSec:(map(.callsPerSec)|add),
      p99Ms:(map(.p99Ms)|max), errors:(map(.errors + .invalid)|add), serverCpuSec:$cpu, wallSec:$wall}' "$WORK/$setup-$kind.jsonl" >>"$JSONL"
  tail -n 1 "$JSONL" >&2
}

# ---------------------------------------------------------------------------------------- A: one master, one Metering
say "A. One Metering process on one Redis master"
RP=$(free_port)
start_redis "$WORK/single" "$RP"; SERVER_PIDS=("$STARTED_PID")
start_platform single "127.0.0.1:$RP" 1
SERVER_PIDS+=("${MET_PIDS[@]}")
ACC=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name capacity --accounts $((3 * ACCOUNTS_PER_MASTER)) --size 1000000 --purchases 4 | paste -sd,)
for kind in unary batch; do
  "${LG[@]}" "$kind" --target "${MET[0]}" --accounts "$ACC" --concurrency 16 --batch-size 1000 --warmup 0 --duration 3 >/dev/null || true
done
TARGETS=("${MET[@]}")
load single unary "$ACC"
load single batch "$ACC"
stop_pids "${PIDS[@]}"; PIDS=()

# ---------------------------------------------------------------------------------------- B: three masters, two Metering
say "B. Two Metering processes on a three-master Redis Cluster"
NODES=()
SERVER_PIDS=()
for i in 1 2 3; do
  port=$(free_port); bus=$(free_port)
  start_redis "$WORK/node$i" "$port" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 --cluster-port "$bus"
  NODES+=("$port"); SERVER_PIDS+=("$STARTED_PID")
done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${NODES[@]}") --cluster-replicas 0 --cluster-yes >"$WORK/logs/cluster-create.log" 2>&1
for _ in $(seq 1 100); do
  ok=0; for p in "${NODES[@]}"; do redis-cli -p "$p" cluster info | grep -q cluster_state:ok && ok=$((ok + 1)); done
  [ $ok = 3 ] && break; sleep 0.2
done
start_platform cluster "$(printf '127.0.0.1:%s,' "${NODES[@]}" | sed 's/,$//')" 2
SERVER_PIDS+=("${MET_PIDS[@]}")
# Accounts spread over the masters: open accounts until each master holds ACCOUNTS_PER_MASTER of
# them (an account's keys all live in the slot of its hash tag {acct:ID}).
declare -A PER_NODE
PICKED=()
for _ in $(seq 1 60); do
  [ ${#PICKED[@]} -ge $((3 * ACCOUNTS_PER_MASTER)) ] && break
  id=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name capacity --size 1000000 --purchases 0)
  slot=$(redis-cli -p "${NODES[0]}" cluster keyslot "{acct:$id}")
  # CLUSTER NODES: "<id> 127.0.0.1:<port>@<bus> master - … connected <from>-<to> …"
  owner=$(redis-cli -p "${NODES[0]}" cluster nodes | awk -v s="$slot" '$3 ~ /master/ {
    split($2, a, "[:@]"); for (i = 9; i <= NF; i++) { n = split($i, r, "-"); if (n == 1) r[2] = r[1]; if (s >= r[1] && s <= r[2]) print a[2] } }')
  if [ "${PER_NODE[$owner]:-0}" -lt $ACCOUNTS_PER_MASTER ]; then
    PER_NODE[$owner]=$((${PER_NODE[$owner]:-0} + 1)); PICKED+=("$id")
    "${LG[@]}" buy --packages "$PKG" --account "$id" --size 1000000 --purchases 4 >&2
  fi
done
ACC=$(IFS=,; echo "${PICKED[*]}")
for kind in unary batch; do
  for m in "${MET[@]}"; do
    "${LG[@]}" "$kind" --target "$m" --accounts "$ACC" --concurrency 16 --batch-size 1000 --warmup 0 --duration 3 >/dev/null || true
  done
done
# Account affinity (each account's calls to one Metering process, as a gateway routing by account
# would), then round robin (every process sees every account).
TARGETS=("${MET[@]}")
load cluster unary "$ACC" --route-by-account
load cluster batch "$ACC" --route-by-account
load cluster-rr unary "$ACC"
load cluster-rr batch "$ACC"
# The cluster through one Metering process (the second one idle): the cluster's own cost, apart from a second process's.
TARGETS=("${MET[0]}")
load cluster-1 unary "$ACC"
load cluster-1 batch "$ACC"
# Per master: all keys, the keys and recorded request ids of the accounts the load ran on (the other
# accounts opened while picking them hold only their opening keys), and memory.
for p in "${NODES[@]}"; do
  load_keys=0 records=0
  for id in "${PICKED[@]}"; do
    while IFS= read -r key; do
      [ -n "$key" ] || continue
      load_keys=$((load_keys + 1))
      case "$key" in *":rid:g"*) records=$((records + $(redis-cli -p "$p" hlen "$key") - 1)) ;; esac
    done < <(redis-cli -p "$p" --scan --pattern "{acct:$id}:*")
  done
  account_keys=$(redis-cli -p "$p" --scan --pattern '{acct:*' | wc -l)
  line "{\"kind\":\"master\",\"port\":$p,\"accounts\":${PER_NODE[$p]:-0},\"keys\":$(redis-cli -p "$p" dbsize),\"accountKeys\":$account_keys,\"loadKeys\":$load_keys,\"records\":$records,\"usedMemory\":$(redis-cli -p "$p" info memory | awk -F: '/^used_memory:/{print $2+0}')}"
done

# ---------------------------------------------------------------------------------------- report
jq -r -s '
  def f: . * 10 | round / 10;
  (map(select(.kind == "env"))[0]) as $e
  | (map(select(.kind == "load"))) as $l
  | (map(select(.kind == "master"))) as $m
  | "# Capacity run: one Metering on one master vs two Metering on a three-master cluster\n",
    "- date \($e.date), commit \($e.commit), \($e.mode) run, \($e.machine); machine \($e.busyBefore) % busy before the run\n",
    "| set-up | load | Metering processes | records/s | calls/s | worst p99 ms | server CPU s (Metering + Redis, all processes, warm-up included) | server CPU µs per record | errors |",
    "|---|---|---|---|---|---|---|---|---|",
    ($l[] | "| \(.setup) | \(.load) | \(.processes) | \(.recordsPerSec | round) | \(.callsPerSec | round) | \(.p99Ms | f) | \(.serverCpuSec | f) | \(if .recordsPerSec > 0 then (.serverCpuSec / (.recordsPerSec * .wallSec) * 1e6 | f) else 0 end) | \(.errors) |"),
    "",
    ([ "unary", "batch" ][] as $k | ($l | map(select(.load == $k))) as $p | ($p | map(select(.setup == "single"))[0]) as $a
      | "- \($k): " + ([ $p[] | select(.setup != "single") | "\(.setup) / single = \(if $a then ((.recordsPerSec / $a.recordsPerSec) * 100 | round / 100) else "n/a" end)×" ] | join(", "))),
    "",
    "| master (port) | load accounts | keys (all) | keys of all accounts | platform keys (no account tag) | keys of the load accounts | request ids recorded | used_memory bytes |",
    "|---|---|---|---|---|---|---|---|",
    ($m[] | "| \(.port) | \(.accounts) | \(.keys) | \(.accountKeys) | \(.keys - .accountKeys) | \(.loadKeys) | \(.records) | \(.usedMemory) |"),
    "",
    "- spread over the masters, max / min: keys of the load accounts \(($m | map(.loadKeys) | max) / ([($m | map(.loadKeys) | min), 1] | max) * 100 | round / 100)×, request ids \(($m | map(.records) | max) / ([($m | map(.records) | min), 1] | max) * 100 | round / 100)×, all keys \(($m | map(.keys) | max) / ($m | map(.keys) | min) * 100 | round / 100)× (target: within 10 %; all keys include the accounts opened while picking the load accounts)"
' "$JSONL" >"$REPORT"
cat "$REPORT"
[ $FAILED = 0 ] || { echo "SOME RUNS FAILED: see above" >&2; exit 1; }
