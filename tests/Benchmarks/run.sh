#!/usr/bin/env bash
# The FaceIdPlatform hot-path benchmark (docs/benchmarks.md).
#
#   tests/Benchmarks/run.sh            full run (~28 minutes)
#   tests/Benchmarks/run.sh --quick    smoke run (~1-2 minutes, short windows, fewer configurations)
#   options: --no-build (use the existing Release binaries), --keep (keep the work directory),
#            --wait-idle (first wait, up to 30 minutes, until the machine is idle: other work skews every number),
#            --replica (afterwards: a replica attached, unary and open loop again through a second Metering
#            that waits for it, Redis:ReplicaAcks=1, and through the first one, phases replica-wait / replica-nowait;
#            then batch (5000 records, 4 and 8 in flight) in interleaved rounds: replica detached, attached with
#            WAIT, attached without)
#
# Builds Release, starts its own redis-server on a free loopback port with the local run's
# persistence (./faceid: AOF, appendfsync always, no RDB) and Onboarding, Packages and Metering on
# free ports, opens accounts through the public APIs, then runs each scenario with
# tests/Benchmarks/FaceId.LoadGen and the Redis ceiling with redis-benchmark, twice: with
# appendfsync always and with appendfsync everysec. Raw results: results/latest.jsonl; the table:
# results/latest.md. Exit code 1 when any call failed (a non-OK gRPC status or a wrong outcome).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/tests/Benchmarks"
CONFIG=Release
QUICK=0 BUILD=1 KEEP=0 WAIT_IDLE=0 REPLICA=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --wait-idle) WAIT_IDLE=1 ;;
    --replica) REPLICA=1 ;;
    *) echo "usage: $0 [--quick] [--no-build] [--keep] [--wait-idle] [--replica]" >&2; exit 2 ;;
  esac
done

RESULTS="$BENCH/results"
JSONL="$RESULTS/latest.jsonl"
REPORT="$RESULTS/latest.md"
WORK="$(mktemp -d /tmp/faceid-bench.XXXXXX)"
mkdir -p "$RESULTS" "$WORK"/{logs,data}
: >"$JSONL"
FAILED=0
PIDS=()

# shellcheck source=common.sh
source "$BENCH/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

env_line() { printf '{"kind":"env","key":"%s","value":"%s"}\n' "$1" "$(printf '%s' "$2" | sed 's/\\/\\\\/g; s/"/\\"/g')" >>"$JSONL"; }

# ---------------------------------------------------------------------------------------- build
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
  echo "redis-server and redis-benchmark are required (apt-get install -y redis-server)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is required (apt-get install -y jq)" >&2; exit 1; }
PROJECTS=(services/Onboarding/FaceId.Onboarding.csproj services/Packages/FaceId.Packages.csproj
  services/Metering/FaceId.Metering.csproj tests/Benchmarks/FaceId.LoadGen/FaceId.LoadGen.csproj)
if [ $BUILD = 1 ]; then
  for p in "${PROJECTS[@]}"; do
    say "Building $p ($CONFIG)"
    dotnet build "$ROOT/$p" -c $CONFIG -nologo -v q >"$WORK/logs/build.log" 2>&1 \
      || { tail -30 "$WORK/logs/build.log"; echo "build failed" >&2; exit 1; }
  done
fi
cp -r "$BENCH/FaceId.LoadGen/bin/$CONFIG/net10.0" "$WORK/bin-loadgen"
# Metering runs with the GC budget ./faceid and deploy/k8s give it (gc_env in ./faceid: why); the
# load generator too, which builds and reads whole batches the same way.
GC_ENV=DOTNET_GCgen0size=0x8000000
LG=(env "$GC_ENV" dotnet "$WORK/bin-loadgen/FaceId.LoadGen.dll")

if [ $WAIT_IDLE = 1 ]; then
  for _ in $(seq 1 600); do
    busy=$(machine_busy)
    [ "$busy" -le 10 ] && break
    say "The machine is ${busy}% busy with other work; waiting for it to be idle"
    sleep 2
  done
fi
IDLE_BEFORE=$(machine_busy)

# ---------------------------------------------------------------------------------------- start
# A token signing key for this run (as ./faceid run makes one): the services validate the load
# generator's bearer tokens with it — on Ping as on the real methods.
Auth__SigningKey="$(head -c 32 /dev/urandom | base64)"
export Auth__SigningKey

RP=$(free_port)
say "Starting redis-server on 127.0.0.1:$RP (AOF, appendfsync always, no RDB — as ./faceid run; automatic AOF rewrite off)"
start_redis "$WORK/redis" "$RP"
REDIS_PID=$STARTED_PID
R() { redis-cli -p "$RP" "$@"; }

declare -A GRPC_PORT SVC_PID H2_PATH
for s in onboarding:Onboarding packages:Packages metering:Metering; do
  IFS=: read -r app project <<<"$s"
  GRPC_PORT[$app]=$(free_port)
  say "Starting $app (gRPC 127.0.0.1:${GRPC_PORT[$app]})"
  start_service "$app" "$project" "127.0.0.1:$RP" "${GRPC_PORT[$app]}" $( [ "$app" = metering ] && echo "$GC_ENV" )
  SVC_PID[$app]=$STARTED_PID
done
ONB="http://127.0.0.1:${GRPC_PORT[onboarding]}"
PKG="http://127.0.0.1:${GRPC_PORT[packages]}"
MET="http://127.0.0.1:${GRPC_PORT[metering]}"
"${LG[@]}" wait --targets "$ONB,$PKG,$MET" --timeout-seconds 90 \
  || { tail -n 20 "$WORK"/logs/*.log >&2; echo "the services did not start" >&2; exit 1; }

PROFILE_PIDS="redis=$REDIS_PID,metering=${SVC_PID[metering]},packages=${SVC_PID[packages]},onboarding=${SVC_PID[onboarding]}"

# ---------------------------------------------------------------------------------------- environment
env_line "date" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
env_line "mode" "$([ $QUICK = 1 ] && echo quick || echo full)"
env_line "machine" "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)"
env_line "redis" "$(redis-server --version | awk '{print $3}' | cut -d= -f2), loopback TCP, appendonly yes, save \"\", auto-aof-rewrite off"
env_line ".NET" "$(dotnet --version) SDK, services and load generator built $CONFIG"
env_line "other load" "machine ${IDLE_BEFORE}% busy just before the services started; per-run CPU of other processes in \"Where the time goes\""
env_line "commit" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"

# ---------------------------------------------------------------------------------------- helpers
# Waits until every registered outbox is empty (the relays caught up), then drops the usage
# topic (no consumer runs in the benchmark), so one scenario's background work ends before the next.
outbox_backlog() {
  local pending=0 key
  for key in $(R smembers outbox:registry); do pending=$((pending + $(R xlen "$key"))); done
  echo $pending
}
quiesce() {
  local start=$SECONDS pending
  while true; do
    pending=$(outbox_backlog)
    [ "$pending" = 0 ] && break
    if [ $((SECONDS - start)) -gt 600 ]; then echo "outboxes still hold $pending entries after 600 s" >&2; break; fi
    sleep 0.5
  done
  R xtrim faceid.usage.charged.v1 MAXLEN 0 >/dev/null
  echo $((SECONDS - start))
}

used_memory() { R info memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r'; }
# Memory held by keys: MEMORY STATS total.allocated minus client, AOF and script buffers (which
# come and go with the load, not with the data).
data_memory() {
  R memory stats | paste - - | awk -F'\t' '$1=="total.allocated"{t=$2} $1~/^(clients\.normal|clients\.slaves|aof\.buffer|lua\.caches|replication\.backlog)$/{b+=$2} END{printf "%.0f\n", t-b}'
}

PHASE=always
# run_lg METHOD ROLE NAME [loadgen options...]
run_lg() {
  local method=$1 role=$2 name=$3; shift 3
  local rc=0 drain busy
  if [ $WAIT_IDLE = 1 ]; then
    # Other work on the machine skews every number: start each run in a quiet moment (at most 3 minutes' wait).
    for _ in $(seq 1 45); do busy=$(machine_busy); [ "$busy" -le 15 ] && break; done
  fi
  "${LG[@]}" "$method" --target "$MET" --json-out "$JSONL" --phase "$PHASE" --role "$role" --name "$name" \
    --redis-port "$RP" --pids "$PROFILE_PIDS" "$@" || rc=$?
  [ $rc = 0 ] || { FAILED=1; echo "  !! $name failed (exit $rc)" >&2; }
  local backlog
  backlog=$(outbox_backlog)
  drain=$(quiesce)
  printf '{"kind":"drain","name":"%s","phase":"%s","backlog":%s,"seconds":%s}\n' "$name" "$PHASE" "$backlog" "$drain" >>"$JSONL"
  [ "$drain" -gt 1 ] && echo "  (the relays needed ${drain}s to empty the outboxes after $name: $backlog entries)" >&2
  return 0
}

# deduct_args ACCOUNT RECORDS SHA ID: fills DEDUCT_ARGS with EVALSHA's arguments for deduct.lua —
# RECORDS records per call, each with the request id ID-<n> (ID alone for one record), as DeductScript
# binds them (the load generator prints its call: the one place that knows the positions), with the
# events going to an outbox of the benchmark's own and a traceparent like the services send.
deduct_args() {
  local acct=$1 records=$2 sha=$3 id=$4 call
  mapfile -t call < <("${LG[@]}" script deduct-call --account "$acct" --now "$(date +%s%3N)" --records "$records" --id "$id")
  [ "${call[0]:-}" = 2 ] || { echo "deduct-call printed no call of two keys" >&2; exit 1; }
  call[2]="{acct:$acct}:outbox:redis-benchmark"
  call[${#call[@]}-2]="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  DEDUCT_ARGS=("$sha" "${call[@]}")
}

# redis_ceiling ACCOUNT PIPELINE CLIENTS REQUESTS [RECORDS]: deduct.lua by EVALSHA with RECORDS
# records per call (1 by default), each with a unique request id (two __rand_int__ placeholders).
redis_ceiling() {
  local acct=$1 pipeline=$2 clients=$3 requests=$4 records=${5:-1} sha=${6:-$DEDUCT_SHA} script=${7:-deduct.lua}
  local tag="{acct:$acct}" csv
  deduct_args "$acct" "$records" "$sha" "rb-__rand_int__-__rand_int__"
  csv=$(redis-benchmark -p "$RP" -n "$requests" -c "$clients" -P "$pipeline" -r 2000000000 --csv EVALSHA "${DEDUCT_ARGS[@]}" 2>&1 | tail -1)
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  # (counted from the end: the test name, the command line, holds quotes and commas of the event JSON)
  IFS=, read -r rps avg _ p50 _ p99 max <<<"$(printf '%s' "$csv" | tr -d '"' | awk -F, '{print $(NF-6)","$(NF-5)","$(NF-4)","$(NF-3)","$(NF-2)","$(NF-1)","$NF}')"
  printf '{"kind":"redis-benchmark","script":"%s","phase":"%s","pipeline":%s,"clients":%s,"requests":%s,"recordsPerCall":%s,"rps":%s,"avgMs":%s,"p50Ms":%s,"p99Ms":%s,"maxMs":%s}\n' \
    "$script" "$PHASE" "$pipeline" "$clients" "$requests" "$records" "$rps" "$avg" "$p50" "$p99" "$max" >>"$JSONL"
  printf '  redis-benchmark EVALSHA %s, %4s record(s)/call, -P %-2s -c %-3s %9.0f calls/s = %9.0f records/s  p50 %s ms  p99 %s ms\n' \
    "$script" "$records" "$pipeline" "$clients" "$rps" "$(awk -v a="$rps" -v b="$records" 'BEGIN{printf "%.0f", a*b}')" "$p50" "$p99" >&2
  R del "$tag:outbox:redis-benchmark" >/dev/null
}

# open_loop PERCENT RATE: Ping, RecordUsage and the Redis floor (deduct.lua alone, one record per
# call) at the same fixed arrival rate, latency from each call's intended send time.
open_loop() {
  local pct=$1 rate=$2 rc=0
  local shape=(--rate "$rate" --percent "$pct" --concurrency 64 --connections 4 --warmup $WARMUP --duration $OPEN_DURATION)
  run_lg ping open-ping "open-ping-$pct" "${shape[@]}"
  run_lg unary open-unary "open-unary-$pct" --accounts "$ACC_MAIN" "${shape[@]}"
  deduct_args "$ACC_RB" 1 "$DEDUCT_SHA" __id__
  printf '%s\n' "${DEDUCT_ARGS[@]}" >"$WORK/floor.args"
  "${LG[@]}" floor --redis-port "$RP" --args "$WORK/floor.args" --rate "$rate" --percent "$pct" --warmup $WARMUP --duration $OPEN_DURATION \
    --name "open-floor-$pct" --role open-floor --phase "$PHASE" --json-out "$JSONL" || rc=$?
  [ $rc = 0 ] || { FAILED=1; echo "  !! open-floor-$pct failed (exit $rc)" >&2; }
  R del "{acct:$ACC_RB}:outbox:redis-benchmark" >/dev/null
}

# h2load_run ROLE NAME BODY PATH SECONDS: h2load at H2_CLIENTS connections × H2_STREAMS streams,
# one gRPC body sent again and again; records calls/s and the CPU Metering and redis-server used.
h2load_run() {
  local role=$1 name=$2 body=$3 path=$4 secs=$5 out m0 r0 m1 r1 t0 t1 rps done_ failed
  m0=$(cpu_ticks "${SVC_PID[metering]}"); r0=$(cpu_ticks "$REDIS_PID"); t0=$(date +%s%N)
  out=$(h2load -c "$H2_CLIENTS" -m "$H2_STREAMS" -t 1 -D "$secs" -d "$body" \
    -H 'content-type: application/grpc' -H 'te: trailers' -H "authorization: Bearer $TOKEN" "$MET$path" 2>&1) || true
  t1=$(date +%s%N); m1=$(cpu_ticks "${SVC_PID[metering]}"); r1=$(cpu_ticks "$REDIS_PID")
  rps=$(printf '%s\n' "$out" | awk '/^finished in/{gsub(",",""); print $4}')
  # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
  done_=$(printf '%s\n' "$out" | awk '/^requests:/{print $6}')
  failed=$(printf '%s\n' "$out" | awk '/^requests:/{print $10 + $12 + $14}')
  if [ -z "$rps" ] || [ -z "$done_" ] || [ "$failed" != 0 ]; then
    FAILED=1; echo "  !! $name: h2load failed: $(printf '%s' "$out" | tail -5)" >&2; rps=${rps:-0}; done_=${done_:-0}
  fi
  [ "$role" = warm-up ] && return 0
  printf '{"kind":"h2load","name":"%s","role":"%s","phase":"%s","shape":"%s","calls":%s,"rps":%s,"seconds":%s,"meteringCpuSec":%s,"redisCpuSec":%s}\n' \
    "$name" "$role" "$PHASE" "-c $H2_CLIENTS -m $H2_STREAMS" "$done_" "$rps" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')" \
    "$(awk -v a="$m0" -v b="$m1" 'BEGIN{printf "%.2f", (b-a)/100}')" "$(awk -v a="$r0" -v b="$r1" 'BEGIN{printf "%.2f", (b-a)/100}')" >>"$JSONL"
  printf '  h2load %-22s %9.0f calls/s  server CPU per call %s µs\n' "$name" "$rps" \
    "$(awk -v m=$((m1 - m0)) -v r=$((r1 - r0)) -v n="$done_" 'BEGIN{printf "%.1f", (n > 0 ? (m + r) * 1e4 / n : 0)}')" >&2
  quiesce >/dev/null
}

memory_line() { printf '{"kind":"memory","name":"%s","bytes":%s,"method":"%s","headline":"%s"}\n' "$1" "$2" "$3" "${4:-false}" >>"$JSONL"; }

# ---------------------------------------------------------------------------------------- scale
if [ $QUICK = 1 ]; then
  WARMUP=1; DURATION=3; MAIN_PACKAGES=5; PKG_COUNT=10000; PKG_ROUNDS=2; MEM_RECORDS=100000; UNARY_ROUNDS=1; JIT_WARMUP=2
  UNARY_CONC=(64 512); BATCH_CONFIGS=(5000:4); RB_REQUESTS=20000
  OPEN_DURATION=4; H2_SECONDS=3; H2_ROUNDS=1
  EVERYSEC_BATCH=(5000:4); REPLICA_ROUNDS=2; REPLICA_DURATION=8
else
  WARMUP=3; DURATION=15; MAIN_PACKAGES=60; PKG_COUNT=10000; PKG_ROUNDS=3; MEM_RECORDS=200000; UNARY_ROUNDS=2; JIT_WARMUP=8
  UNARY_CONC=(16 64 128 256 512); BATCH_CONFIGS=(1000:2 1000:4 1000:8 2000:4 5000:2 5000:4 5000:8); RB_REQUESTS=300000
  OPEN_DURATION=15; H2_SECONDS=10; H2_ROUNDS=2
  EVERYSEC_BATCH=(1000:4 5000:4); REPLICA_ROUNDS=3; REPLICA_DURATION=15
fi
H2_CLIENTS=4; H2_STREAMS=16

# ---------------------------------------------------------------------------------------- accounts
say "Opening accounts (Onboarding → approval → trial) and buying packages"
ACC_MAIN=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name main --size 1000000 --purchases $MAIN_PACKAGES)
# Each batch configuration runs on an account of its own, as the package runs below do: every
# configuration then meets an empty request-id hash, not one that the configurations before it
# filled with millions of ids (a bigger hash costs Redis more per record, whatever the batch shape).
declare -A BATCH_ACC
for key in $(printf 'always:%s ' "${BATCH_CONFIGS[@]}") $(printf 'everysec:%s ' "${EVERYSEC_BATCH[@]}") \
    $([ $REPLICA = 1 ] && printf 'replica-%s:5000:4 ' none wait nowait); do
  BATCH_ACC[$key]=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name batch --size 1000000 --purchases 6)
done
# One account per 1-package run, so every run stays within its single package of 1,000,000 calls.
ONE_PKG=()
for _ in $(seq 1 $((2 * PKG_ROUNDS))); do
  ONE_PKG+=("$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name one-package --size 1000000 --purchases 1)")
done
ACC_RB=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name redis-benchmark --size 1000000 --purchases 10)
ACC_MEM=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name memory --size 1000000 --purchases 1)
ACC_10K=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name many-packages --size 1000000 --purchases 0)
quiesce >/dev/null
say "Buying $PKG_COUNT packages for $ACC_10K"
MEM0=$(data_memory); KEYS0=$(R dbsize)
"${LG[@]}" buy --packages "$PKG" --account "$ACC_10K" --size 1000000 --purchases $PKG_COUNT --parallel 32
quiesce >/dev/null
MEM1=$(data_memory); KEYS1=$(R dbsize)

# Memory per package: the ledger's own structures (MEMORY USAGE), and everything the platform
# keeps per purchase (INFO used_memory delta: + event-bus dedupe keys, notices, streams).
TAG10K="{acct:$ACC_10K}"
# sum_memory PATTERN: total MEMORY USAGE (SAMPLES 0: exact) and number of the keys matching it.
sum_memory() {
  local total=0 count=0 key
  while IFS= read -r key; do
    [ -n "$key" ] || continue
    total=$((total + $(R memory usage "$key" samples 0))); count=$((count + 1))
  done < <(R --scan --pattern "$1")
  echo "$total $count"
}
read -r PK_BYTES PK_KEYS < <(sum_memory "$TAG10K:pk:*")
PKG_N=0
while IFS= read -r key; do [ -n "$key" ] && PKG_N=$((PKG_N + $(R hlen "$key"))); done < <(R --scan --pattern "$TAG10K:pk:*")
PK_ENCODING=$(R object encoding "$(R --scan --pattern "$TAG10K:pk:*" | head -n 1)")
read -r AVAIL_BYTES AVAIL_KEYS < <(sum_memory "$TAG10K:avail:*")
read -r DAY_BYTES DAY_KEYS < <(sum_memory "$TAG10K:day:*")
DAY_BYTES=$((DAY_BYTES + $(R memory usage "$TAG10K:days" samples 0)))
PK_SHARE=$((PK_BYTES / PKG_N)) AVAIL_SHARE=$((AVAIL_BYTES / PKG_N)) DAY_SHARE=$((DAY_BYTES / PKG_N))
# ledger:schedule holds one member per account and purchase day: its share per package is its size
# over every package of every account (they were all bought today).
SCHED_N=$(R zcard ledger:schedule)
ALL_PKGS=0
while IFS= read -r key; do [ -n "$key" ] && ALL_PKGS=$((ALL_PKGS + $(R llen "$key"))); done < <(R --scan --pattern '{acct:*}:day:*')
SCHED_SHARE=$(( $(R memory usage ledger:schedule samples 0) / (ALL_PKGS > 0 ? ALL_PKGS : 1) ))
LEDGER_PER_PKG=$((PK_SHARE + AVAIL_SHARE + DAY_SHARE + SCHED_SHARE))
memory_line "package: ledger total (records + index + days + schedule)" $LEDGER_PER_PKG "MEMORY USAGE SAMPLES 0 over the ledger's structures of the $PKG_N packages of one account" true
memory_line "package: record in {acct}:pk:<bucket> ($PK_KEYS buckets, $PK_ENCODING)" "$PK_SHARE" "MEMORY USAGE of the buckets / packages"
memory_line "package: share of {acct}:avail:<label> index and lists ($AVAIL_KEYS keys)" "$AVAIL_SHARE" "MEMORY USAGE / packages"
memory_line "package: share of {acct}:days and {acct}:day:<d> lists ($DAY_KEYS days)" "$DAY_SHARE" "MEMORY USAGE / packages"
memory_line "package: share of ledger:schedule ($SCHED_N members for $ALL_PKGS packages)" "$SCHED_SHARE" "MEMORY USAGE / packages of all accounts"
memory_line "package: whole platform per purchase" $(((MEM1 - MEM0) / PKG_COUNT)) \
  "MEMORY STATS delta over $PKG_COUNT purchases after the relays drained ($((KEYS1 - KEYS0)) new keys; includes the delivered events kept in their topic stream, consumers' dedupe keys and notices)"

# The 10,000-package runs, like the 1-package runs, each start on an account of their own: every run
# then meets request-id buckets as empty as the other's (ids accumulate per account, and fuller
# buckets cost Redis more per record, whatever the number of packages).
TEN_K=("$ACC_10K")
for _ in $(seq 2 $((2 * PKG_ROUNDS))); do
  acc=$("${LG[@]}" prepare --onboarding "$ONB" --packages "$PKG" --name many-packages --size 1000000 --purchases 0)
  "${LG[@]}" buy --packages "$PKG" --account "$acc" --size 1000000 --purchases $PKG_COUNT --parallel 32 >&2
  TEN_K+=("$acc")
done
quiesce >/dev/null

# ---------------------------------------------------------------------------------------- the deduction script
# deduct.lua exactly as Metering loads it (generated constants, includes): printed by the load generator.
DEDUCT_SHA=$("${LG[@]}" script deduct | R -x script load)
env_line "deduct.lua" "sha1 $DEDUCT_SHA"

# ---------------------------------------------------------------------------------------- JIT warm-up
# The services start cold: tiered compilation keeps recompiling the hot paths for the first tens
# of seconds of load. One unmeasured pass over every path first, so no timed window pays for it.
say "Warm-up (not measured): Ping, RecordUsage, RecordUsageBatch, replays"
for _ in 1 2; do
  "${LG[@]}" ping --target "$MET" --concurrency 64 --connections 4 --warmup 0 --duration $JIT_WARMUP >/dev/null || true
  "${LG[@]}" unary --target "$MET" --accounts "$ACC_MAIN" --concurrency 64 --connections 4 --warmup 0 --duration $JIT_WARMUP >/dev/null || true
  "${LG[@]}" batch --target "$MET" --accounts "$ACC_MAIN" --batch-size 1000 --concurrency 2 --connections 2 --warmup 0 --duration $JIT_WARMUP >/dev/null || true
done
"${LG[@]}" unary --target "$MET" --accounts "$ACC_MAIN" --replay --replay-set 5000 --concurrency 64 --connections 4 --warmup 0 --duration $JIT_WARMUP >/dev/null || true
quiesce >/dev/null

# ---------------------------------------------------------------------------------------- phases
for PHASE in always everysec; do
  R config set appendfsync $PHASE >/dev/null
  say "appendfsync $PHASE"

  say "Redis ceiling: redis-benchmark EVALSHA deduct.lua, one record per call"
  redis_ceiling "$ACC_RB" 1 64 $RB_REQUESTS
  redis_ceiling "$ACC_RB" 16 16 $((RB_REQUESTS * 2))
  redis_ceiling "$ACC_RB" 1 2 $((RB_REQUESTS / 1000)) 1000

  if [ $PHASE = always ]; then
    concs=("${UNARY_CONC[@]}"); batches=("${BATCH_CONFIGS[@]}")
  else
    concs=(64); batches=("${EVERYSEC_BATCH[@]}")
  fi
  say "gRPC ceiling (Ping) and unary RecordUsage, alternating, $UNARY_ROUNDS round(s)"
  for c in "${concs[@]}"; do
    conns=$(( c / 16 > 0 ? (c / 16 > 8 ? 8 : c / 16) : 1 ))
    for round in $(seq 1 $UNARY_ROUNDS); do
      run_lg ping ping "ping-c$c-r$round" --concurrency "$c" --connections $conns --warmup $WARMUP --duration $DURATION
      run_lg unary unary "unary-c$c-r$round" --accounts "$ACC_MAIN" --concurrency "$c" --connections $conns --warmup $WARMUP --duration $DURATION
    done
  done
  say "RecordUsageBatch"
  for bc in "${batches[@]}"; do
    IFS=: read -r size c <<<"$bc"
    run_lg batch batch "batch-b$size-c$c" --accounts "${BATCH_ACC[$PHASE:$bc]}" --batch-size "$size" --concurrency "$c" --connections "$c" --warmup $WARMUP --duration $DURATION
  done

  if [ $PHASE = always ]; then
    say "Replays (every request id already recorded: duplicate answers)"
    run_lg unary unary-replay "unary-replay-c64" --replay --replay-set 20000 --accounts "$ACC_MAIN" --concurrency 64 --connections 4 --warmup $WARMUP --duration $DURATION
    run_lg batch batch-replay "batch-replay-b5000-c4" --replay --replay-set 20000 --accounts "$ACC_MAIN" --batch-size 5000 --concurrency 4 --connections 4 --warmup $WARMUP --duration $DURATION

    say "Open loop: Ping, RecordUsage and the Redis floor at 25 / 50 / 75 % of RecordUsage's measured maximum"
    # The maximum: RecordUsage's best pooled rate at any concurrency of this phase (as in the report).
    MAX_UNARY=$(jq -s '[.[] | select(.kind == "grpc" and .role == "unary" and .phase == "always")] | group_by(.concurrency)
      | map((map(.calls) | add) / (map(.seconds) | add)) | max // 0 | floor' "$JSONL")
    env_line "open loop" "rates are 25/50/75 % of $MAX_UNARY calls/s, RecordUsage's best closed-loop rate of this run"
    for pct in 25 50 75; do open_loop $pct $((MAX_UNARY * pct / 100)); done

    say "Cost per call: h2load ($H2_CLIENTS connections × $H2_STREAMS streams) and server CPU per call"
    if ! command -v h2load >/dev/null; then
      { [ "$(id -u)" = 0 ] && apt-get install -y nghttp2-client >"$WORK/logs/apt.log" 2>&1; } \
        || { command -v sudo >/dev/null && sudo -n apt-get install -y nghttp2-client >"$WORK/logs/apt.log" 2>&1; } || true
    fi
    if command -v h2load >/dev/null; then
      TOKEN=$("${LG[@]}" token)
      for kind in ping replay invalid; do
        H2_PATH[$kind]=$("${LG[@]}" h2body --kind $kind --target "$MET" --account "$ACC_MAIN" --out "$WORK/h2-$kind.bin")
        h2load_run warm-up "h2-$kind-warm-up" "$WORK/h2-$kind.bin" "${H2_PATH[$kind]}" 2
      done
      for round in $(seq 1 $H2_ROUNDS); do
        for kind in ping replay invalid; do
          h2load_run "h2-$kind" "h2-$kind-r$round" "$WORK/h2-$kind.bin" "${H2_PATH[$kind]}" $H2_SECONDS
        done
      done
    else
      echo "  h2load not found and nghttp2-client could not be installed (apt-get install -y nghttp2-client): the bad-input ratio and h2load CPU per call are skipped" >&2
      env_line "h2load" "not installed: bad-input ratio and CPU per call against h2load's Ping skipped"
    fi
    # A new RecordUsage needs a fresh request id per call, which h2load cannot send: the C# load
    # generator drives it, and only the server's CPU counts. Ping too, to compare the two clients.
    # Two rounds, the order flipped in the second (the server's CPU per call drifts during a run).
    cpu_run() { # cpu_run ping|unary ROUND
      local extra=(); [ "$1" = unary ] && extra=(--accounts "$ACC_MAIN")
      run_lg "$1" "cpu-$1" "cpu-$1-c64-r$2" "${extra[@]}" --concurrency 64 --connections 4 --warmup $WARMUP --duration $H2_SECONDS
    }
    cpu_run ping 1; cpu_run unary 1; cpu_run unary 2; cpu_run ping 2

    say "1 package vs $PKG_COUNT packages on one account, alternating, $PKG_ROUNDS round(s) (each run stays below 1,000,000 records)"
    # The order flips every round (1 then 10,000, then 10,000 then 1): Redis gets slower per record
    # over a long run whatever the account (a dataset and AOF that only grow), which would otherwise
    # always count against the second of a pair.
    pkg_run() { # pkg_run unary|batch 1|10k ROUND ACCOUNT
      local accounts=("${ONE_PKG[@]}") shape=(--concurrency 64 --connections 4) suffix=c64
      [ "$2" = 10k ] && accounts=("${TEN_K[@]}")
      [ "$1" = batch ] && shape=(--batch-size 5000 --concurrency 4 --connections 4) suffix=b5000-c4
      run_lg "$1" "pkg$2-$1" "pkg$2-$1-$suffix-r$3" --accounts "${accounts[$4]}" "${shape[@]}" --warmup $WARMUP --duration $DURATION --max-records 950000
    }
    k=0
    for round in $(seq 1 $PKG_ROUNDS); do
      for method in unary batch; do
        slot=$k; [ $method = batch ] && slot=$((k + 1))
        if [ $((round % 2)) = 1 ]; then
          pkg_run $method 1 $round $slot; pkg_run $method 10k $round $slot
        else
          pkg_run $method 10k $round $slot; pkg_run $method 1 $round $slot
        fi
      done
      k=$((k + 2))
    done

    say "Memory per idempotency key"
    R xtrim faceid.usage.charged.v1 MAXLEN 0 >/dev/null
    M0=$(data_memory); K0=$(R dbsize)
    "${LG[@]}" batch --target "$MET" --accounts "$ACC_MEM" --batch-size 5000 --concurrency 1 --connections 1 --warmup 0 --duration 300 \
      --max-records $MEM_RECORDS --name "memory-$MEM_RECORDS" >&2 || FAILED=1
    quiesce >/dev/null
    M1=$(data_memory); K1=$(R dbsize)
    NEWKEYS=$((K1 - K0))
    # Request ids live as fields of one {acct}:rid:g<generation> hash: memory per recorded id.
    RID_KEYS=0 RID_BYTES=0 RID_FIELDS=0
    while IFS= read -r key; do
      [ -n "$key" ] || continue
      RID_KEYS=$((RID_KEYS + 1)); RID_BYTES=$((RID_BYTES + $(R memory usage "$key" samples 0))); RID_FIELDS=$((RID_FIELDS + $(R hlen "$key")))
    done < <(R --scan --pattern "{acct:$ACC_MEM}:rid:*" | head -n 200)
    memory_line "idempotency key (request id in {acct}:rid:g<generation>)" $(((M1 - M0) / MEM_RECORDS)) \
      "MEMORY STATS delta (allocated minus client/AOF/script buffers) / $MEM_RECORDS recorded calls ($NEWKEYS new keys), after the relays drained and the usage topic was trimmed; includes the key and expiry entries of the generation's hash" true
    # Each id's value is its outcome, '#' and its call's fingerprint (docs/redis-keys.md): name the id and value lengths measured.
    RID_SAMPLE_KEY=$(R --scan --pattern "{acct:$ACC_MEM}:rid:*" | head -n 1)
    RID_SAMPLE=$(R hrandfield "$RID_SAMPLE_KEY" 1 withvalues | tr '\n' ' ')
    memory_line "idempotency key: MEMORY USAGE of the generation hashes / their fields" "$((RID_FIELDS > 0 ? RID_BYTES / RID_FIELDS : 0))" \
      "MEMORY USAGE SAMPLES 0 over $RID_KEYS hash(es) holding $RID_FIELDS ids ($(R object encoding "$RID_SAMPLE_KEY") encoded; a sample id and its value with the call's fingerprint: $RID_SAMPLE)"

    say "Billing's memory per applied call"
    # No Billing process runs here: the load generator applies $MEM_RECORDS postpaid records (36-character
    # ids) through Billing's apply-usage contract, as Billing does for each UsageCharged event.
    B0=$(data_memory)
    "${LG[@]}" billing-ids --redis-port "$RP" --account "$ACC_MEM" --records $MEM_RECORDS || FAILED=1
    B1=$(data_memory)
    BIL_KEYS=0 BIL_BYTES=0 BIL_FIELDS=0
    while IFS= read -r key; do
      [ -n "$key" ] || continue
      BIL_KEYS=$((BIL_KEYS + 1)); BIL_BYTES=$((BIL_BYTES + $(R memory usage "$key" samples 0))); BIL_FIELDS=$((BIL_FIELDS + $(R hlen "$key")))
    done < <(R --scan --pattern "{acct:$ACC_MEM}:bil:rid:*")
    memory_line "billing request id ({acct}:bil:rid:g<generation>, kept 8 to 12 days)" "$((BIL_FIELDS > 0 ? BIL_BYTES / BIL_FIELDS : 0))" \
      "MEMORY USAGE SAMPLES 0 over $BIL_KEYS hash(es) holding $BIL_FIELDS ids of postpaid records (36-character ids, each kept as its 14-byte digest; $(((B1 - B0) / MEM_RECORDS)) bytes per record by MEMORY STATS delta, with the day counters)" true
  fi
done

# ---------------------------------------------------------------------------------------- acknowledged after replication
if [ $REPLICA = 1 ]; then
  # The same machine, the same master (appendfsync always), now with a replica (appendfsync always too): RecordUsage,
  # RecordUsageBatch and the open loop through a Metering that answers after WAIT 1 (Redis:ReplicaAcks=1,
  # docs/reliability.md) and, for the replication stream's own cost, through the first Metering (no WAIT). The
  # phase "always" above is the no-replica figure of the same run.
  R config set appendfsync always >/dev/null
  RP_REPLICA=$(free_port)
  say "Starting a replica of the benchmark's Redis on 127.0.0.1:$RP_REPLICA (AOF, appendfsync always)"
  # replica_synced: returns once the replica's link is up and its full sync is over; a full run's dataset (millions
  # of request ids) takes minutes to copy, so up to 10 minutes.
  replica_synced() {
    for _ in $(seq 1 6000); do
      redis-cli -p "$RP_REPLICA" info replication | grep -q 'master_link_status:up' \
        && [ "$(redis-cli -p "$RP_REPLICA" info replication | tr -d '\r' | awk -F: '/^master_sync_in_progress:/{print $2}')" = 0 ] && return 0
      sleep 0.1
    done
    echo "the replica did not attach within 10 minutes" >&2; exit 1
  }
  start_redis "$WORK/replica" "$RP_REPLICA" --replicaof 127.0.0.1 "$RP"
  replica_synced
  GRPC_PORT[metering-wait]=$(free_port)
  say "Starting metering-wait (gRPC 127.0.0.1:${GRPC_PORT[metering-wait]}, Redis__ReplicaAcks=1)"
  # shellcheck disable=SC2046
  start_service metering-wait Metering "127.0.0.1:$RP" "${GRPC_PORT[metering-wait]}" Redis__ReplicaAcks=1 Redis__ReplicaAckTimeoutMs=1000 $GC_ENV
  MET_NOWAIT=$MET MET_WAIT="http://127.0.0.1:${GRPC_PORT[metering-wait]}"
  "${LG[@]}" wait --targets "$MET_WAIT" --timeout-seconds 90 || { tail -n 20 "$WORK/logs/metering-wait.log" >&2; exit 1; }
  "${LG[@]}" unary --target "$MET_WAIT" --accounts "$ACC_MAIN" --concurrency 64 --connections 4 --warmup 0 --duration $JIT_WARMUP >/dev/null || true
  env_line "replica" "phases replica-wait (Redis:ReplicaAcks=1: answered after the replica confirmed) and replica-nowait: the same master with one replica (loopback, appendfsync always); replica-none: the replica detached. The batch target compares $REPLICA_ROUNDS interleaved rounds of the three"
  for PHASE in replica-wait replica-nowait; do
    MET=$MET_NOWAIT; [ $PHASE = replica-wait ] && MET=$MET_WAIT
    say "$PHASE: RecordUsage and the open loop at 50 % of the no-replica maximum"
    run_lg ping ping "ping-c64" --concurrency 64 --connections 4 --warmup $WARMUP --duration $DURATION
    run_lg unary unary "unary-c64" --accounts "$ACC_MAIN" --concurrency 64 --connections 4 --warmup $WARMUP --duration $DURATION
    open_loop 50 $((MAX_UNARY * 50 / 100))
  done
  # Batch throughput with and without the replica, interleaved so that the machine's state (other load, the
  # dataset's size) is the same for the three: detached (REPLICAOF NO ONE), then attached again (a resync) with and
  # without WAIT, the order turned round every round.
  replica_attach() {
    redis-cli -p "$RP_REPLICA" replicaof 127.0.0.1 "$RP" >/dev/null
    replica_synced
  }
  for round in $(seq 1 "$REPLICA_ROUNDS"); do
    ORDER=(replica-none replica-wait replica-nowait); [ $((round % 2)) = 0 ] && ORDER=(replica-nowait replica-wait replica-none)
    for PHASE in "${ORDER[@]}"; do
      if [ $PHASE = replica-none ]; then redis-cli -p "$RP_REPLICA" replicaof no one >/dev/null; else replica_attach; fi
      MET=$MET_NOWAIT; [ $PHASE = replica-wait ] && MET=$MET_WAIT
      say "round $round, $PHASE: RecordUsageBatch"
      for conc in 4 8; do
        run_lg batch batch-replica "batch-b5000-c$conc-r$round" --accounts "${BATCH_ACC[$PHASE:5000:4]}" --batch-size 5000 --concurrency $conc --connections 4 --warmup $WARMUP --duration $REPLICA_DURATION
      done
    done
  done
  MET=$MET_NOWAIT
fi

# ---------------------------------------------------------------------------------------- checks and report
for phase in always everysec; do
  grep -q "\"phase\":\"$phase\"" "$JSONL" || { echo "no results for appendfsync $phase: the run stopped early" >&2; FAILED=1; }
done
grep -q '"kind":"memory","name":"idempotency key' "$JSONL" || { echo "no idempotency-key memory result" >&2; FAILED=1; }
grep -q '"kind":"memory","name":"billing request id' "$JSONL" || { echo "no Billing memory result" >&2; FAILED=1; }
SERVICE_SHA_LOADED=$(R script exists "$DEDUCT_SHA")
env_line "script check" "$([ "$SERVICE_SHA_LOADED" = 1 ] && echo "the expanded deduct.lua redis-benchmark ran has the SHA1 Metering loaded (identical text)" || echo "WARNING: the expanded script differs from the one Metering loaded")"
env_line "redis-server CPU, whole run" "$(R info cpu | awk -F: '/used_cpu_(sys|user):/{s+=$2} END{printf "%.0f s", s}')"
env_line "relay" "outboxes drained after every run before the next one (see docs/benchmarks.md)"

"${LG[@]}" report --in "$JSONL" --out "$REPORT" --svg "$RESULTS/latency.svg" >/dev/null
cat "$REPORT"
say "Results: $REPORT (raw: $JSONL)"
[ $FAILED = 0 ] || { echo "SOME RUNS FAILED (non-OK gRPC statuses or wrong outcomes): see above" >&2; exit 1; }
