# Running the Sluice agent for a benchmark and measuring it. Sourced by run.sh.

# Writes a one-job config: $1 file, $2 source db, $3 target db, $4 source table, $5 target table,
# $6 job name, $7 extra job JSON fields (optional, e.g. '"mode": "client",').
sluice_config() {
  cat > "$1" <<JSON
{
  "source": { "url": "$(pg_url "$2")", "poolSize": ${BENCH_SLUICE_POOL:-8} },
  "target": { "url": "$(pg_url "$3")", "poolSize": ${BENCH_SLUICE_POOL:-8} },
  "http": { "enabled": false },
  "jobs": [ { ${7:-}
    "name": "$6",
    "source": { "table": "public.$4", "key": ["id"] },
    "target": { "table": "public.$5", "create": false }
  } ]
}
JSON
}

# Runs `sluice run --until-done` with config $1, log to $2. Sets RUN_SECS (wall time, JVM start
# included), RUN_HWM_KB (peak RSS from /proc/PID/status VmHWM, polled), RUN_CPU (the agent's user +
# system seconds, polled from /proc/PID/stat: up to 50 ms short), RUN_PG_CPU and RUN_RC.
sluice_run() {
  local cfg=$1 logf=$2 t0 pid hwm line cpu=0 c pg0
  t0=$(date +%s%N)
  pg0=$(pg_cpu)
  # shellcheck disable=SC2086
  java $BENCH_JAVA_OPTS ${BENCH_JFR_OPTS:-} -jar "$SLUICE_JAR" run --config "$cfg" --until-done >"$logf" 2>&1 &
  pid=$!
  hwm=0
  while kill -0 "$pid" 2>/dev/null; do
    line=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$line" ] && [ "$line" -gt "$hwm" ] && hwm=$line
    c=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true)
    [ -n "$c" ] && cpu=$c
    sleep 0.05
  done
  RUN_RC=0
  wait "$pid" || RUN_RC=$?
  RUN_SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  RUN_HWM_KB=$hwm
  RUN_CPU=$(awk -v c="$cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", c / hz}')
  RUN_PG_CPU=$(awk -v a="$pg0" -v b="$(pg_cpu)" 'BEGIN {printf "%.2f", b - a}')
  [ "$RUN_RC" -eq 0 ] || { tail -20 "$logf" >&2; die "sluice exited $RUN_RC (log: $logf)"; }
}
