# Shared by the benchmark scripts (run.sh, capacity.sh, cpu-per-call.sh): sourced, not run. Expects WORK, KEEP and
# PIDS (processes to stop on exit) to be set by the script.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

cleanup() {
  stop_pids "${PIDS[@]}"
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK" >&2; fi
}

# A loopback port nothing listens on, below the kernel's ephemeral range (a port in it may be the local end of an
# outgoing connection, which no probe sees and which makes the later bind fail), and not one handed out before in
# this run (WORK/.ports: a port is only bound some time after it is chosen).
free_port() {
  local p low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 21000 ] || low=30000
  while true; do
    p=$((20000 + RANDOM % (low - 20000)))
    grep -qx "$p" "$WORK/.ports" 2>/dev/null && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p" >>"$WORK/.ports"; echo "$p"; return; }
  done
}

# Percentage of both cores busy over 3 seconds (from /proc/stat).
machine_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat); sleep 3
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); printf "%.0f", 100*(y[1]-x[1])/((y[2]-x[2])>0?(y[2]-x[2]):1)}'
}

# CPU time (utime + stime, clock ticks) of a process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The persistence of the local run (./faceid: AOF, appendfsync always, no RDB), automatic AOF rewrite off.
REDIS_OPTS=(--bind 127.0.0.1 --appendonly yes --appendfsync always --save "" --auto-aof-rewrite-percentage 0
  --hash-max-listpack-value 192 --lazyfree-lazy-expire yes --daemonize no)

# start_redis DIR PORT [more redis-server options]: starts redis-server, waits for PONG; its pid in STARTED_PID.
start_redis() {
  local dir=$1 port=$2; shift 2
  mkdir -p "$dir"
  redis-server --port "$port" --dir "$dir" "${REDIS_OPTS[@]}" --logfile "$dir/redis.log" "$@" </dev/null >/dev/null 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis-server on port $port did not start (see $dir/redis.log)" >&2; return 1
}

# start_service NAME PROJECT REDIS_CONNECTION GRPC_PORT [VAR=value...]: starts a service from a
# private copy of its Release binaries (a concurrent build of the tree cannot change them mid-run);
# its pid in STARTED_PID.
start_service() {
  local name=$1 project=$2 redis=$3 grpc=$4 http; shift 4
  http=$(free_port)
  [ -d "$WORK/bin-$project" ] || cp -r "$ROOT/services/$project/bin/$CONFIG/net10.0" "$WORK/bin-$project"
  (cd "$WORK/bin-$project" && \
    Redis__ConnectionString="$redis" Ports__Grpc="$grpc" Ports__Http="$http" \
    Documents__Directory="$WORK/data/documents" Notifications__SinkDirectory="$WORK/data/notifications" \
    DOTNET_ENVIRONMENT=Production exec env "$@" dotnet "FaceId.$project.dll" </dev/null >"$WORK/logs/$name.log" 2>&1) &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

# build_and_load_generator: builds the services a platform run starts and the load generator (unless BUILD=0),
# copies the load generator's binaries, and sets GC_ENV (Metering's and the load generator's gen0 budget, as
# ./faceid gives Metering), LG (the load generator's command) and a token signing key for the run (as
# ./faceid run makes one). Expects ROOT, BENCH, CONFIG, BUILD and WORK.
build_and_load_generator() {
  local p projects=(services/Onboarding/FaceId.Onboarding.csproj services/Packages/FaceId.Packages.csproj
    services/Metering/FaceId.Metering.csproj tests/Benchmarks/FaceId.LoadGen/FaceId.LoadGen.csproj)
  if [ "$BUILD" = 1 ]; then
    for p in "${projects[@]}"; do
      say "Building $p ($CONFIG)"
      dotnet build "$ROOT/$p" -c "$CONFIG" -nologo -v q >"$WORK/logs/build.log" 2>&1 || { tail -30 "$WORK/logs/build.log"; exit 1; }
    done
  fi
  cp -r "$BENCH/FaceId.LoadGen/bin/$CONFIG/net10.0" "$WORK/bin-loadgen"
  GC_ENV=DOTNET_GCgen0size=0x8000000
  LG=(env "$GC_ENV" dotnet "$WORK/bin-loadgen/FaceId.LoadGen.dll")
  Auth__SigningKey="$(head -c 32 /dev/urandom | base64)"
  export Auth__SigningKey
}
