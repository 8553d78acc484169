# Arm 3: foreground impact. pgbench at a fixed rate against the source, in three phases of equal
# length: idle, a big-bang copy (the psql COPY pipe, looped), Sluice with its default settings
# (looped); with BENCH_IMPACT_NICE=N two more: Sluice with sessions.nice N, and the same with the
# foreground control off. Latency is taken from pgbench's per-transaction log, from the scheduled start.
# Then, with pgbench stopped ("when the database has room"), two timed copies of the table: Sluice
# with its defaults, and Sluice with the foreground control off (its unpaced rate).
# Sourced by run.sh.

# One copy of bench to dst by $1 (pipe | sluice), from an empty target.
impact_copy_once() {
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench; } | q dst
  if [ "$1" = pipe ]; then
    copy_pipe
  else
    sluice_config "$WORK/impact-$1.json" src dst bench bench impact
    # sluicenice: sessions.nice (the agent's threads and its sessions' backends at a lower CPU and I/O
    # priority); sluicenicefree: the same with the foreground control off.
    local patch=''
    case $1 in
      sluicenice) patch='{"sessions": {"nice": '"$BENCH_IMPACT_NICE"'}}' ;;
      sluicenicefree) patch='{"sessions": {"nice": '"$BENCH_IMPACT_NICE"'}, "health": {"foreground": {"enabled": false}}}' ;;
    esac
    [ -z "$patch" ] || python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c.update(json.loads(sys.argv[2])); json.dump(c,open(sys.argv[1],"w"))' \
      "$WORK/impact-$1.json" "$patch"
    SLUICE_JAR="$SLUICE_JAR" SLUICE_JAVA_OPTS="$BENCH_JAVA_OPTS" exec "$ROOT/bin/sluice" run --config "$WORK/impact-$1.json" --until-done
  fi
}

# Repeats copies by $1 until $WORK/stop-load exists; then stops the one in flight (SIGTERM: Sluice
# stops after its current batch, a COPY rolls back) and writes the rows moved to $WORK/moved-$1.
impact_load() {
  local kind=$1 moved=0 it
  rm -f "$WORK/stop-load"
  while [ ! -e "$WORK/stop-load" ]; do
    impact_copy_once "$kind" >>"$WORK/impact-$kind.log" 2>&1 &
    it=$!
    while kill -0 "$it" 2>/dev/null && [ ! -e "$WORK/stop-load" ]; do sleep 0.1; done
    if kill -0 "$it" 2>/dev/null; then
      pkill -TERM -P "$it" 2>/dev/null || true
      kill -TERM "$it" 2>/dev/null || true
      wait "$it" 2>/dev/null || true
      moved=$(( moved + $(q1 dst "SELECT count(*) FROM bench") ))
    else
      wait "$it" || { tail -20 "$WORK/impact-$kind.log" >&2; echo "$moved" > "$WORK/moved-$kind"; return 1; }
      moved=$(( moved + ROWS ))
    fi
  done
  echo "$moved" > "$WORK/moved-$kind"
}

# How many copies by $1 have begun copying so far (the agent's "copying (" log line), 0 without a log.
copies_started() {
  local n
  n=$(grep -c ': copying (' "$WORK/impact-$1.log" 2>/dev/null || true)
  echo "${n:-0}"
}

impact_phase() {
  local phase=$1 kind=$2 lp=$WORK/pgbench-$1 loadpid=""
  rm -f "$lp".*
  q src -c "CHECKPOINT" && q dst -c "CHECKPOINT"
  local started
  started=$(copies_started "$kind")
  [ "$kind" = none ] || { impact_load "$kind" & loadpid=$!; }
  # A sidecar starts once, not per phase: the measured window opens when the agent is copying, so
  # its JVM start-up (class loading and JIT on the database's two cores) is not counted as copying.
  if [ "$kind" != none ] && [ "$kind" != pipe ]; then
    for _ in $(seq 600); do
      [ "$(copies_started "$kind")" -gt "$started" ] && break
      sleep 0.1
    done
  fi
  pgbench -n -c "$BENCH_PGBENCH_CLIENTS" -j 2 -R "$BENCH_PGBENCH_RATE" -T "$PHASE_SECS" \
    --latency-limit="$BENCH_LATENCY_LIMIT_MS" -l --log-prefix="$lp" src >"$WORK/pgbench-out-$phase.txt" 2>&1 \
    || { cat "$WORK/pgbench-out-$phase.txt" >&2; die "pgbench failed in phase $phase"; }
  local moved=0
  if [ -n "$loadpid" ]; then
    touch "$WORK/stop-load"
    wait "$loadpid" || die "arm 3: the $kind load failed (log: $WORK/impact-$kind.log)"
    moved=$(cat "$WORK/moved-$kind")
  fi
  python3 "$BENCH_DIR/lib/latency.py" "$phase" "$BENCH_LATENCY_LIMIT_MS" "$lp".* >> "$CSV"
  emit arm3 "${phase}_rows_moved" "$moved" rows
  emit arm3 "${phase}_rows_per_sec" "$(awk -v m="$moved" -v t="$PHASE_SECS" 'BEGIN {printf "%.0f", m / t}')" rows/s
  log "arm 3 phase $phase: $(grep -E "^arm3,${phase}_p99_ms" "$CSV" | cut -d, -f3) ms p99, $moved rows moved"
}

# Sluice alone on the idle source: one whole run (JVM start to completed, the same job as the
# sluice phase), rows/s as phase $1 (health $2, or the defaults).
impact_rate_phase() {
  local phase=$1
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench; } | q dst
  q src -c "CHECKPOINT" && q dst -c "CHECKPOINT"
  sluice_config "$WORK/impact-$phase.json" src dst bench bench impact
  [ -z "${2:-}" ] || python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["health"]=json.loads(sys.argv[2]); json.dump(c,open(sys.argv[1],"w"))' \
    "$WORK/impact-$phase.json" "$2"
  sluice_run "$WORK/impact-$phase.json" "$WORK/impact-$phase.log"
  emit arm3 "${phase}_secs" "$RUN_SECS" s
  emit arm3 "${phase}_rows_per_sec" "$(awk -v m="$ROWS" -v t="$RUN_SECS" 'BEGIN {printf "%.0f", m / t}')" rows/s
  log "arm 3 phase $phase (no pgbench): $ROWS rows in ${RUN_SECS}s"
}

arm3() {
  log "arm 3: foreground impact, pgbench -R $BENCH_PGBENCH_RATE, three phases of ${PHASE_SECS}s"
  pgbench -i -q -s "$BENCH_PGBENCH_SCALE" src >"$WORK/pgbench-init.log" 2>&1 || die "pgbench -i failed"
  q src -c "VACUUM ANALYZE"
  impact_phase baseline none
  impact_phase bigbang pipe
  impact_phase sluice sluice
  if [ "${BENCH_IMPACT_NICE:-0}" -gt 0 ]; then
    impact_phase sluice_nice sluicenice
    impact_phase sluice_nice_free sluicenicefree
  fi
  local base sl bb
  base=$(grep '^arm3,baseline_p99_ms,' "$CSV" | cut -d, -f3)
  bb=$(grep '^arm3,bigbang_p99_ms,' "$CSV" | cut -d, -f3)
  sl=$(grep '^arm3,sluice_p99_ms,' "$CSV" | cut -d, -f3)
  emit arm3 ratio_bigbang_p99_vs_baseline "$(ratio "$bb" "$base")" x
  emit arm3 ratio_sluice_p99_vs_baseline "$(ratio "$sl" "$base")" x
  if [ "${BENCH_IMPACT_NICE:-0}" -gt 0 ]; then
    emit arm3 nice "$BENCH_IMPACT_NICE" ""
    for ph in sluice_nice sluice_nice_free; do
      emit arm3 "ratio_${ph}_p99_vs_baseline" "$(ratio "$(grep "^arm3,${ph}_p99_ms," "$CSV" | cut -d, -f3)" "$base")" x
    done
  fi
  if [ -n "${SLUICE_UNPACED_RATE:-}" ]; then
    emit arm3 ratio_sluice_rate_vs_unpaced "$(ratio "$(grep '^arm3,sluice_rows_per_sec,' "$CSV" | cut -d, -f3)" "$SLUICE_UNPACED_RATE")" x
  fi
  # Unpaced first: the second run of the two came out slower each time (the first one's WAL and
  # checkpoint), so this order can only understate the defaults.
  impact_rate_phase idle_unpaced '{"foreground": {"enabled": false}}'
  impact_rate_phase idle_sluice
  emit arm3 ratio_idle_sluice_vs_unpaced "$(ratio "$(grep '^arm3,idle_sluice_rows_per_sec,' "$CSV" | cut -d, -f3)" \
    "$(grep '^arm3,idle_unpaced_rows_per_sec,' "$CSV" | cut -d, -f3)")" x
  q src -c "DROP TABLE pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers"
}
