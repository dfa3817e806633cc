#!/usr/bin/env bash
# Evidence for proposals/deduct-batched.lua: runs services/PackagesLedger/Scripts/deduct.lua and the
# proposal on two fresh redis-servers with the same packages (free and purchased, one expired, one
# not yet valid, small sizes so they exhaust and raise alerts) and the same random batches (repeated
# request ids, non-billable codes, a second label that has no package, records before the
# activation), then compares the replies and every key (values, fields, TTLs rounded to the hour;
# stream entries without their ids).
#   tests/Benchmarks/proposals/check-equivalence.sh [seeds (default 10)] [records per batch (default 150)]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
HERE="$ROOT/tests/Benchmarks/proposals"
SEEDS=${1:-10} N=${2:-150}
WORK=$(mktemp -d /tmp/deduct-equivalence.XXXXXX)
PA=$((20000 + RANDOM % 20000)); PB=$((PA + 1))
cleanup() { redis-cli -p $PA shutdown nosave >/dev/null 2>&1 || true; redis-cli -p $PB shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

# The deduction script as RedisScript loads it (includes expanded).
source <(sed -n '/^expand_script()/,/^}/p' "$ROOT/tests/Benchmarks/run.sh")

dump() {
  local p=$1 k t
  for k in $(redis-cli -p $p --scan | sort); do
    t=$(redis-cli -p $p type "$k")
    case $t in
      string) echo "$k = $(redis-cli -p $p get "$k") ttl_h=$(( ($(redis-cli -p $p pttl "$k") + 1800000) / 3600000 ))" ;;
      hash) echo "$k = $(redis-cli -p $p hgetall "$k" | paste -d' ' - - | sort | paste -sd' ') ttl_h=$(( ($(redis-cli -p $p pttl "$k") + 1800000) / 3600000 ))" ;;
      zset) echo "$k = $(redis-cli -p $p zrange "$k" 0 -1 withscores | paste -sd' ') ttl_h=$(( ($(redis-cli -p $p pttl "$k") + 1800000) / 3600000 ))" ;;
      stream) echo "$k = $(redis-cli -p $p xrange "$k" - + | grep -v '^[0-9]*-[0-9]*$' | paste -sd' ')" ;;
    esac
  done
}

failed=0
for seed in $(seq 1 "$SEEDS"); do
  for p in $PA $PB; do
    redis-cli -p $p shutdown nosave >/dev/null 2>&1 || true
    redis-server --port $p --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --daemonize yes --logfile "$WORK/redis-$p.log"
  done
  for p in $PA $PB; do for _ in $(seq 1 50); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.1; done; done
  SA=$(ROOT="$ROOT" expand_script deduct.lua | redis-cli -p $PA -x script load)
  SB=$(redis-cli -p $PB -x script load <"$HERE/deduct-batched.lua")
  now=$(date +%s%3N)
  day=$(date -u -d "@$((now / 1000 + 28800))" +%Y%m%d)
  for p in $PA $PB; do
    redis-cli -p $p hset '{acct:A}:svc' kind main state opened activated_at $((now - 86400000)) price_book 2021-06 >/dev/null
    # id:group:size:expires:purchased:valid_from
    for spec in "f1:0:5:$((now + 100000000)):$((now - 5000)):$((now - 86400000))" \
                "f2:0:7:$((now + 120000000)):$((now - 6000)):$((now - 86400000))" \
                "f3:0:3:$((now - 3600000)):$((now - 7000)):$((now - 3 * 86400000))" \
                "p1:1:3:$((now + 200000000)):$((now - 4000)):$((now - 86400000))" \
                "p2:1:4:$((now + 300000000)):$((now - 3000)):$((now - 86400000))" \
                "p3:1:4:$((now + 150000000)):$((now - 2000)):$((now + 50000))"; do
      IFS=: read -r id g size exp pur vf <<<"$spec"
      m="$g|$(printf %013d $exp)|$(printf %013d $pur)|$id"
      redis-cli -p $p hset "{acct:A}:pkg:$id" label basic_authoritative size $size used 0 valid_from $vf status active expires_iso X ordkey "$m" >/dev/null
      redis-cli -p $p zadd '{acct:A}:avail:basic_authoritative' 0 "$m" >/dev/null
    done
  done
  RANDOM=$seed
  args=()
  for i in $(seq 1 "$N"); do
    t=$((now - (RANDOM % 200000) * 1000 + (RANDOM % 3) * 60000)); rid="r$i"; bill=1; label=basic_authoritative
    [ $((RANDOM % 10)) = 0 ] && rid="r$((RANDOM % i + 1))"
    [ $((RANDOM % 10)) = 0 ] && bill=0
    [ $((RANDOM % 7)) = 0 ] && label=basic_self_photo
    [ $((RANDOM % 50)) = 0 ] && t=$((now - 2 * 86400000))
    args+=("$rid" "$label" "$(printf %013d $t)" ISO "$day" $bill "" ACCESS_MODE_SAAS 0 691200000)
  done
  common=('{acct:A}:svc' '{acct:A}:outbox' '{acct:A}' A tp ts "$now" NOWISO t1 y1 t2 y2 "$N")
  # Two batches in a row, so the second starts from the state the first left.
  for half in 1 2; do
    redis-cli -p $PA evalsha "$SA" 2 "${common[@]}" "${args[@]}" >"$WORK/a$half"
    redis-cli -p $PB evalsha "$SB" 2 "${common[@]}" "${args[@]}" >"$WORK/b$half"
  done
  dump $PA >"$WORK/ka"; dump $PB >"$WORK/kb"
  if cmp -s "$WORK/a1" "$WORK/b1" && cmp -s "$WORK/a2" "$WORK/b2" && cmp -s "$WORK/ka" "$WORK/kb"; then
    echo "seed $seed: identical ($(grep -c . "$WORK/a1") reply lines, $(wc -l <"$WORK/ka") keys, $(grep -c '^new' "$WORK/a1") new, $(grep -c '^dup' "$WORK/a1") dup in the first batch)"
  else
    failed=1
    echo "seed $seed: DIFFERENT"
    diff "$WORK/a1" "$WORK/b1" | head -5 || true
    diff "$WORK/ka" "$WORK/kb" | head -10 || true
  fi
done
exit $failed
