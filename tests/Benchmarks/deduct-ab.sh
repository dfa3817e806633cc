#!/usr/bin/env bash
# A/B of the deduction script: today's services/PackagesLedger/Scripts/deduct.lua against the
# one-record-at-a-time script before the redesign (git revision OLD, default 5d420e9), on a private
# redis-server (AOF everysec), alternating, batches of 1,000 records by EVALSHA from
# redis-benchmark. It reports redis-server CPU time per record (INFO cpu), which other load on the
# machine skews far less than throughput does (docs/benchmarks.md).
#   tests/Benchmarks/deduct-ab.sh [rounds (default 3)] [old revision (default 5d420e9)]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS=${1:-3} OLD_REV=${2:-5d420e9}
WORK=$(mktemp -d /tmp/deduct-ab.XXXXXX)
P=$((20000 + RANDOM % 20000))
redis-server --port $P --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --dir "$WORK" \
  --daemonize no --logfile "$WORK/redis.log" </dev/null >/dev/null 2>&1 &
RPID=$!
trap 'kill $RPID 2>/dev/null; sleep 0.5; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do redis-cli -p $P ping >/dev/null 2>&1 && break; sleep 0.1; done
R() { redis-cli -p $P "$@"; }

# A script as RedisScript loads it: "-- #include x.lua" replaced by x.lua (from the same source), recursively.
expand() { # expand <cat command for a file name> [file name]
  local get=$1 line
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" == "-- #include "* ]]; then expand "$get" "$(echo "${line#-- #include }" | tr -d '[:space:]')"; echo; else printf '%s\n' "$line"; fi
  done < <($get "${2:-deduct.lua}")
}
cat_old() { git -C "$ROOT" show "$OLD_REV:services/PackagesLedger/Scripts/$1"; }
OLD=$(expand cat_old | R -x script load)
# Today's script as Metering loads it (generated constants, includes), printed by the load generator
# (built by tests/Benchmarks/run.sh or dotnet build tests/Benchmarks/FaceId.LoadGen -c Release).
NEW=$(dotnet "$ROOT/tests/Benchmarks/FaceId.LoadGen/bin/Release/net10.0/FaceId.LoadGen.dll" script deduct | R -x script load)

now=$(date +%s%3N); iso=$(date -u -d "@$((now / 1000))" +%Y-%m-%dT%H:%M:%S.000Z); t13=$(printf '%013d' "$now")
day=$(date -u -d "@$((now / 1000 + 28800))" +%Y%m%d)
# One package of 10^9 calls per account: account A in the old revision's layout (a hash per
# package, an index member per package), account B in today's (docs/redis-keys.md).
exp=$((now + 300 * 86400000)) pur=$((now - 1000))
for a in A B; do
  R hset "{acct:$a}:svc" kind main state opened activated_at $((now - 86400000)) price_book 2021-06 >/dev/null
done
m="1|$(printf %013d $exp)|$(printf %013d $pur)|pkg_1"
R hset "{acct:A}:pkg:pkg_1" label basic_authoritative size 1000000000 used 0 valid_from $((now - 86400000)) \
  purchased_at $pur expires_at $exp status active expires_iso X ordkey "$m" >/dev/null
R zadd "{acct:A}:avail:basic_authoritative" 0 "$m" >/dev/null
group="1|$(printf %013d $exp)|$(date -u -d "@$((pur / 1000 + 28800))" +%Y%m%d)"
# "pkg_1" is not of the form pkg_<hex>: its record lives in bucket 0.
R hset "{acct:B}:pk:0" pkg_1 "basic_authoritative|1000000000|0|0|0|$pur|$exp|2021-06|active||0||" >/dev/null
R zadd "{acct:B}:avail:basic_authoritative" 0 "$group" >/dev/null
R rpush "{acct:B}:avail:basic_authoritative:$group" pkg_1 >/dev/null
cpu() { R info cpu | awk -F: '/used_cpu_(sys|user):/{s+=$2} END{printf "%.3f", s}'; }

# run old|new CALLS: CALLS calls of 1,000 records, unique request ids.
run() {
  local which=$1 calls=$2 args=() i rid c0 c1
  if [ "$which" = old ]; then
    for i in $(seq 1 1000); do args+=("o-__rand_int__-__rand_int__-$i" basic_authoritative "$t13" "$iso" "$day" 1 "" ACCESS_MODE_SAAS 0 691200000); done
    set -- EVALSHA "$OLD" 2 "{acct:A}:svc" "{acct:A}:outbox" "{acct:A}" A tp "" "$now" "$iso" t1 y1 t2 y2 1000 "${args[@]}"
  else
    # One class of records (label, day, billable, the event group's members), then id, time and class per record.
    args=(1 basic_authoritative "$day" 1
      "\"accountId\":\"B\",\"label\":\"basic_authoritative\",\"accessMode\":\"ACCESS_MODE_SAAS\",\"returnCode\":\"0\",\"billable\":true")
    for i in $(seq 1 1000); do args+=("n-__rand_int__-__rand_int__-$i" "$t13" 1); done
    # Today's script takes the trace context last (OutboxScript).
    set -- EVALSHA "$NEW" 2 "{acct:B}:svc" "{acct:B}:outbox" "{acct:B}" B "$now" "$iso" t1 y1 t2 y2 1000 "${args[@]}" tp ""
  fi
  c0=$(cpu)
  redis-benchmark -p $P -n "$calls" -c 2 -r 2000000000 -q "$@" >/dev/null 2>&1
  c1=$(cpu)
  R del "{acct:A}:outbox" "{acct:B}:outbox" >/dev/null
  echo "$c0 $c1 $calls"
}
report() { awk -v s="$1" '{cpu += $2 - $1; rec += $3 * 1000} END {printf "%-4s %7.2f µs of redis-server CPU per record (%6.0f records/s per Redis core)\n", s, cpu * 1e6 / rec, rec / cpu}'; }
for round in $(seq 1 "$ROUNDS"); do
  old=$(run old 100)
  new=$(for _ in 1 2 3 4; do run new 25; done)
  echo "round $round:"
  echo "$old" | report old
  echo "$new" | report new
done
