#!/usr/bin/env bash
# A/B of the deduction script: today's deduct.lua against the one of git revision OLD (default 8c656ca,
# before the typed script contracts), on a private redis-server (AOF everysec), alternating, batches of
# 1,000 records by EVALSHA from redis-benchmark. It reports redis-server CPU time per record (INFO cpu),
# which other load on the machine skews far less than throughput does (docs/benchmarks.md).
#   tests/Benchmarks/deduct-ab.sh [rounds (default 3)] [old revision (default 8c656ca)]
# Each side's script is the text its load generator prints (FaceId.LoadGen script deduct: generated constants,
# includes), and today's call is the one DeductScript binds (FaceId.LoadGen script deduct-call). The old
# revision's load generator is built once from `git archive` into /tmp/deduct-ab-<revision>; a revision
# without `script deduct-call` is called in the argument layout of 8c656ca (the last one before the contracts).
# Today's load generator: built by tests/Benchmarks/run.sh or dotnet build tests/Benchmarks/FaceId.LoadGen -c Release.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS=${1:-3} OLD_REV=${2:-8c656ca}
NEW_GEN="$ROOT/tests/Benchmarks/FaceId.LoadGen/bin/Release/net10.0/FaceId.LoadGen.dll"
OLD_DIR="/tmp/deduct-ab-$OLD_REV"
OLD_GEN="$OLD_DIR/bin/FaceId.LoadGen.dll"
if [ ! -f "$OLD_GEN" ]; then
  echo "building the load generator of $OLD_REV in $OLD_DIR (once)" >&2
  rm -rf "$OLD_DIR"; mkdir -p "$OLD_DIR/src"
  git -C "$ROOT" archive "$OLD_REV" | tar -x -C "$OLD_DIR/src"
  dotnet build "$OLD_DIR/src/tests/Benchmarks/FaceId.LoadGen" -c Release -nologo -v q -o "$OLD_DIR/bin" >&2
fi

WORK=$(mktemp -d /tmp/deduct-ab.XXXXXX)
P=$((20000 + RANDOM % 20000))
redis-server --port $P --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --dir "$WORK" \
  --daemonize no --logfile "$WORK/redis.log" </dev/null >/dev/null 2>&1 &
RPID=$!
trap 'kill $RPID 2>/dev/null; sleep 0.5; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do redis-cli -p $P ping >/dev/null 2>&1 && break; sleep 0.1; done
R() { redis-cli -p $P "$@"; }

OLD=$(dotnet "$OLD_GEN" script deduct | R -x script load)
NEW=$(dotnet "$NEW_GEN" script deduct | R -x script load)

now=$(date +%s%3N); iso=$(date -u -d "@$((now / 1000))" +%Y-%m-%dT%H:%M:%S.000Z); t13=$(printf '%013d' "$now")
day=$(date -u -d "@$((now / 1000 + 28800))" +%Y%m%d)
# One package of 10^9 calls per account, in today's layout (docs/redis-keys.md): account A runs the old
# script, account B today's.
exp=$((now + 300 * 86400000)) pur=$((now - 1000))
group="1|$(printf %013d $exp)|$(date -u -d "@$((pur / 1000 + 28800))" +%Y%m%d)"
for a in A B; do
  R hset "{acct:$a}:svc" kind main state opened activated_at $((now - 86400000)) price_book 2021-06 >/dev/null
  # "pkg_1" is not of the form pkg_<hex>: its record lives in bucket 0.
  R hset "{acct:$a}:pk:0" pkg_1 "basic_authoritative|1000000000|0|0|0|$pur|$exp|2021-06|active||0||" >/dev/null
  R zadd "{acct:$a}:avail:basic_authoritative" 0 "$group" >/dev/null
  R rpush "{acct:$a}:avail:basic_authoritative:$group" pkg_1 >/dev/null
done
cpu() { R info cpu | awk -F: '/used_cpu_(sys|user):/{s+=$2} END{printf "%.3f", s}'; }

# The call of 1,000 records (unique request ids from redis-benchmark) per side: numkeys, keys, arguments.
call_of() { # call_of <load generator> <account>
  if dotnet "$1" script deduct-call --account "$2" --now "$now" --records 1000 2>/dev/null; then return; fi
  # 8c656ca's layout: header, one class (label, day, billable, the event group's members), id, time and class
  # per record, then the trace context.
  printf '%s\n' 2 "{acct:$2}:svc" "{acct:$2}:outbox" "{acct:$2}" "$2" "$now" "$iso" faceid.usage.charged.v1 faceid.events.v1.UsageCharged faceid.packages.alert.v1 faceid.events.v1.PackageAlert 1000 1 basic_authoritative "$day" 1 \
    "\"accountId\":\"$2\",\"label\":\"basic_authoritative\",\"accessMode\":\"ACCESS_MODE_SAAS\",\"returnCode\":\"0\",\"billable\":true"
  for i in $(seq 1 1000); do printf '%s\n' "n-__rand_int__-__rand_int__-$i" "$t13" 1; done
  printf '%s\n' "" ""
}
mapfile -t OLD_CALL < <(call_of "$OLD_GEN" A)
mapfile -t NEW_CALL < <(call_of "$NEW_GEN" B)

# run old|new CALLS: CALLS calls of 1,000 records.
run() {
  local which=$1 calls=$2 c0 c1
  if [ "$which" = old ]; then set -- EVALSHA "$OLD" "${OLD_CALL[@]}"; else set -- EVALSHA "$NEW" "${NEW_CALL[@]}"; fi
  c0=$(cpu)
  redis-benchmark -p $P -n "$calls" -c 2 -r 2000000000 -q "$@" >/dev/null 2>&1
  c1=$(cpu)
  R del "{acct:A}:outbox" "{acct:B}:outbox" >/dev/null
  echo "$c0 $c1 $calls"
}
report() { awk -v s="$1" '{cpu += $2 - $1; rec += $3 * 1000} END {printf "%-4s %7.2f µs of redis-server CPU per record (%6.0f records/s per Redis core)\n", s, cpu * 1e6 / rec, rec / cpu}'; }
# A sanity check first: both sides charge (one call each, the package's used count grows by 1,000).
run old 1 >/dev/null; run new 1 >/dev/null
for a in A B; do
  used=$(R hget "{acct:$a}:pk:0" pkg_1 | cut -d'|' -f3)
  [ "$used" = 1000 ] || { echo "account $a: the script did not charge (used = $used)" >&2; exit 1; }
done
for round in $(seq 1 "$ROUNDS"); do
  # The order flips every round.
  if [ $((round % 2)) = 1 ]; then old=$(for _ in 1 2 3 4; do run old 25; done); new=$(for _ in 1 2 3 4; do run new 25; done)
  else new=$(for _ in 1 2 3 4; do run new 25; done); old=$(for _ in 1 2 3 4; do run old 25; done); fi
  echo "round $round:"
  echo "$old" | report old
  echo "$new" | report new
done
