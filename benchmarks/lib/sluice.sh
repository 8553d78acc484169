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
  if [ "$SLUICE_JAR" = "${BENCH_BASELINE_JAR:-}" ]; then
    # The baseline jar starts as main did before bin/sluice kept a class-data archive: plain java -jar.
    # shellcheck disable=SC2086
    java $BENCH_JAVA_OPTS ${BENCH_JFR_OPTS:-} -jar "$SLUICE_JAR" run --config "$cfg" --until-done >"$logf" 2>&1 &
  else
    # As users start it: bin/sluice (which execs java, so $! is the JVM), with its AppCDS archive.
    SLUICE_JAR="$SLUICE_JAR" SLUICE_JAVA_OPTS="$BENCH_JAVA_OPTS ${BENCH_JFR_OPTS:-}" "$ROOT/bin/sluice" run --config "$cfg" --until-done >"$logf" 2>&1 &
  fi
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
  RUN_T0=$t0
  RUN_SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  RUN_HWM_KB=$hwm
  RUN_CPU=$(awk -v c="$cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", c / hz}')
  pg_reaped
  RUN_PG_CPU=$(awk -v a="$pg0" -v b="$(pg_cpu)" 'BEGIN {printf "%.2f", b - a}')
  [ "$RUN_RC" -eq 0 ] || { tail -20 "$logf" >&2; die "sluice exited $RUN_RC (log: $logf)"; }
}

# bin/sluice records its class-data archive on the first `run` after a build: do that once, untimed,
# before any measured run (a user's first run pays it once, about a second here). A small
# cross-database job with every default loads what the measured runs load.
sluice_prepare() {
  q src -c "DROP TABLE IF EXISTS bench_warm; CREATE TABLE bench_warm AS SELECT * FROM bench ORDER BY id LIMIT 20000; ALTER TABLE bench_warm ADD PRIMARY KEY (id)"
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench_warm; } | q dst
  sluice_config "$WORK/warm.json" src dst bench_warm bench_warm warm
  SLUICE_JAR="$SLUICE_JAR" SLUICE_JAVA_OPTS="$BENCH_JAVA_OPTS" "$ROOT/bin/sluice" run --config "$WORK/warm.json" --until-done \
    >"$WORK/warm.log" 2>&1 || { tail -20 "$WORK/warm.log" >&2; die "warm-up run failed"; }
  # The run wrote its archive as it exited; the next start moves it into place (untimed here).
  SLUICE_JAR="$SLUICE_JAR" "$ROOT/bin/sluice" --version >/dev/null 2>&1 || die "sluice --version failed after the warm-up run"
  q src -c "DROP TABLE bench_warm; DROP SCHEMA IF EXISTS sluice CASCADE"
  q dst -c "DROP TABLE bench_warm; DROP SCHEMA IF EXISTS sluice CASCADE"
}

# Start-up and copy phase of a run from its log ($1) and its start ($2, epoch ns): SPLIT_START
# (JVM start to the "planning" line) and SPLIT_COPY (the "copying" line to "completed").
sluice_split() {
  local p c d
  p=$(grep -m1 'planning segments' "$1" | cut -c1-12); c=$(grep -m1 ': copying (' "$1" | cut -c1-12)
  d=$(grep -m1 ': completed' "$1" | cut -c1-12)
  SPLIT_START=$(awk -v a="$2" -v b="$(date -d "today $p" +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  SPLIT_COPY=$(awk -v a="$(date -d "today $c" +%s%N)" -v b="$(date -d "today $d" +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
}
