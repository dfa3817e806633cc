#!/usr/bin/env bash
# Server CPU per call, RecordUsage (a new request id per call) against Ping, and nothing else: the
# CPU-per-call step of run.sh (docs/benchmarks.md, round 2) repeated ROUNDS times, Ping and RecordUsage
# alternating at c=64 over 4 connections, each run's Metering + redis-server CPU (/proc utime+stime)
# over its calls. A shared machine moves every absolute figure: compare the ratios of adjacent runs.
#
#   tests/Benchmarks/cpu-per-call.sh [--no-build] [--keep] [--rounds 3] [--seconds 5] [--metering-env VAR=value]...
#       [--against-env VAR=value]... [--against-bin DIR]
#   --metering-env: an environment variable for Metering, to try a runtime setting. --against-env / --against-bin:
#   a second Metering ("B", on the same redis-server) with that variable or the Release binaries in DIR (e.g. a
#   copy of services/Metering/bin/Release/net10.0 of another revision); every round then runs Ping and
#   RecordUsage through both, alternating, so the two compare under the same load of the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/tests/Benchmarks"
CONFIG=Release
BUILD=1 KEEP=0 ROUNDS=3 SECONDS_PER_RUN=5 METERING_ENV=() AGAINST_ENV=() AGAINST_BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --metering-env) METERING_ENV+=("$2"); shift ;;
    --against-env) AGAINST_ENV+=("$2"); shift ;;
    --against-bin) AGAINST_BIN=$2; shift ;;
    *) echo "usage: $0 [--no-build] [--keep] [--rounds N] [--seconds S] [--metering-env VAR=value]... [--against-env VAR=value]... [--against-bin DIR]" >&2; exit 2 ;;
  esac
  shift
done
WORK="$(mktemp -d /tmp/faceid-cpu.XXXXXX)"
mkdir -p "$WORK"/{logs,data}
JSONL="$WORK/cpu.jsonl"
PIDS=()
# shellcheck source=common.sh
source "$BENCH/common.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

build_and_load_generator

RP=$(free_port)
start_redis "$WORK/redis" "$RP"
REDIS_PID=$STARTED_PID
R() { redis-cli -p "$RP" "$@"; }
declare -A PORT SVC_PID
for s in onboarding:Onboarding packages:Packages metering:Metering; do
  IFS=: read -r app project <<<"$s"
  PORT[$app]=$(free_port)
  if [ "$app" = metering ]; then start_service "$app" "$project" "127.0.0.1:$RP" "${PORT[$app]}" "$GC_ENV" "${METERING_ENV[@]}"
  else start_service "$app" "$project" "127.0.0.1:$RP" "${PORT[$app]}"; fi
  SVC_PID[$app]=$STARTED_PID
done
MET="http://127.0.0.1:${PORT[metering]}"
VARIANTS=(a)
declare -A TARGET=([a]="$MET") CPU_PIDS=([a]="redis=$REDIS_PID,metering=${SVC_PID[metering]}")
if [ ${#AGAINST_ENV[@]} -gt 0 ] || [ -n "$AGAINST_BIN" ]; then
  [ -z "$AGAINST_BIN" ] || cp -r "$AGAINST_BIN" "$WORK/bin-MeteringB"
  [ -n "$AGAINST_BIN" ] || cp -r "$ROOT/services/Metering/bin/$CONFIG/net10.0" "$WORK/bin-MeteringB"
  PORT[meteringb]=$(free_port)
  # As start_service, from the second copy of the binaries.
  (cd "$WORK/bin-MeteringB" && Redis__ConnectionString="127.0.0.1:$RP" Ports__Grpc="${PORT[meteringb]}" Ports__Http="$(free_port)" \
    DOTNET_ENVIRONMENT=Production exec env "$GC_ENV" "${METERING_ENV[@]}" "${AGAINST_ENV[@]}" dotnet FaceId.Metering.dll \
    </dev/null >"$WORK/logs/meteringb.log" 2>&1) &
  SVC_PID[meteringb]=$!
  PIDS+=("$!")
  VARIANTS+=(b)
  TARGET[b]="http://127.0.0.1:${PORT[meteringb]}"
  CPU_PIDS[b]="redis=$REDIS_PID,metering=${SVC_PID[meteringb]}"
fi
"${LG[@]}" wait --targets "http://127.0.0.1:${PORT[onboarding]},http://127.0.0.1:${PORT[packages]},$(IFS=,; echo "${TARGET[*]}")" --timeout-seconds 90 \
  || { tail -n 20 "$WORK"/logs/*.log >&2; echo "the services did not start" >&2; exit 1; }
ACC=$("${LG[@]}" prepare --onboarding "http://127.0.0.1:${PORT[onboarding]}" --packages "http://127.0.0.1:${PORT[packages]}" \
  --name cpu --size 1000000 --purchases 5)

# As run.sh's quiesce: the relays empty the outboxes, the usage topic is trimmed, before the next run.
quiesce() {
  local pending key
  for _ in $(seq 1 600); do
    pending=0
    for key in $(R smembers outbox:registry); do pending=$((pending + $(R xlen "$key"))); done
    [ "$pending" = 0 ] && break
    sleep 0.5
  done
  R xtrim faceid.usage.charged.v1 MAXLEN 0 >/dev/null
}

run() { # run VARIANT ping|unary NAME SECONDS
  local v=$1 method=$2 name=$3 extra=()
  [ "$method" = unary ] && extra=(--accounts "$ACC")
  "${LG[@]}" "$method" --target "${TARGET[$v]}" --json-out "$JSONL" --role "cpu-$method" --name "$name" --note "$v" --redis-port "$RP" \
    --pids "${CPU_PIDS[$v]}" --concurrency 64 --connections 4 --warmup 1 --duration "$4" "${extra[@]}" >/dev/null
  quiesce
}

say "Warming up (JIT, 16 s per Metering), then $ROUNDS round(s) of Ping and RecordUsage, ${SECONDS_PER_RUN} s each"
# Long enough for tiered compilation to finish: a short run would count the JIT's work as the calls'.
for v in "${VARIANTS[@]}"; do run "$v" ping warm-ping 8; run "$v" unary warm-unary 8; done
for r in $(seq 1 "$ROUNDS"); do
  order=("${VARIANTS[@]}"); [ $((r % 2)) = 0 ] && order=($(printf '%s\n' "${VARIANTS[@]}" | tac))
  for v in "${order[@]}"; do
    if [ $((r % 2)) = 1 ]; then run "$v" ping "ping-$v-r$r" "$SECONDS_PER_RUN"; run "$v" unary "unary-$v-r$r" "$SECONDS_PER_RUN"
    else run "$v" unary "unary-$v-r$r" "$SECONDS_PER_RUN"; run "$v" ping "ping-$v-r$r" "$SECONDS_PER_RUN"; fi
  done
done

jq -r -s --argjson rounds "$ROUNDS" '
  def us: (.meteringCpuSec + .redisCpuSec) * 1e6 / .calls;
  def r2: . * 100 | floor / 100;
  [.[] | select(.kind == "grpc" and (.name | startswith("warm") | not))] as $runs
  | ($runs[] | "\(.name)\t\(.callsPerSec | floor) calls/s\tMetering \(.meteringCpuSec * 1e6 / .calls | floor) µs + redis-server \(.redisCpuSec * 1e6 / .calls | floor) µs = \(us | floor) µs per call"),
    ([$runs[].note] | unique[]) as $v
    | ([range(1; $rounds + 1)] | map(. as $r | ($runs | map(select(.name == "unary-\($v)-r\($r)"))[0]) as $u
        | ($runs | map(select(.name == "ping-\($v)-r\($r)"))[0]) as $p | [($u | us), ($p | us)])) as $pairs
    | ($pairs | map(.[0] / .[1] | r2)) as $ratios
    | "\($v): RecordUsage / Ping per round: \($ratios | map(tostring) | join(", ")); pooled \(($pairs | map(.[0]) | add) / $rounds | floor) / \(($pairs | map(.[1]) | add) / $rounds | floor) µs = \((($pairs | map(.[0]) | add) / ($pairs | map(.[1]) | add)) | r2)×"
' "$JSONL"
