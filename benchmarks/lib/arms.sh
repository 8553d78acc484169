# Arms 1, 2 and 4: throughput and memory, each arm's contenders interleaved in one run (the
# machine is shared, so only side-by-side figures are comparable). Sourced by run.sh.

# A copy job: no change capture, no final verification pass (each segment is still verified: its
# target range read back and compared with what the copy read). The baseline jar runs this one.
COPY_JOB='"capture": { "enabled": false }, "verify": { "finalPass": false },'
# Copy only, like the COPY pipe and pgcopydb: no per-segment read-back either.
COPY_ONLY_JOB='"capture": { "enabled": false }, "verify": { "finalPass": false, "perSegment": false },'

# CPU seconds of one arm-1 run: the client (agent, psql pair, pgcopydb) and PostgreSQL's backends.
emit_cpu() {
  emit arm1 "$1_client_cpu_rep$2" "$3" s
  emit arm1 "$1_pg_cpu_rep$2" "$4" s
}

reset_cross_target() {
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench; } | q dst
  q src -c "CHECKPOINT" && q dst -c "CHECKPOINT"
}

cross_sluice() {
  reset_cross_target
  sluice_config "$WORK/cross.json" src dst bench bench cross "$COPY_JOB"
  sluice_run "$WORK/cross.json" "$WORK/cross-sluice-$1.log"
  check_rows dst bench "$ROWS"
  A1_SLUICE+=" $RUN_SECS"
  emit arm1 "sluice_secs_rep$1" "$RUN_SECS" s
  emit_cpu sluice "$1" "$RUN_CPU" "$RUN_PG_CPU"
}

cross_sluice_only() {
  reset_cross_target
  sluice_config "$WORK/cross-only.json" src dst bench bench only "$COPY_ONLY_JOB"
  sluice_run "$WORK/cross-only.json" "$WORK/cross-only-$1.log"
  check_rows dst bench "$ROWS"
  A1_ONLY+=" $RUN_SECS"
  A1_HWM+=" $RUN_HWM_KB"
  emit arm1 "sluice_only_secs_rep$1" "$RUN_SECS" s
  emit_cpu sluice_only "$1" "$RUN_CPU" "$RUN_PG_CPU"
}

# Sluice with every default: change capture (triggers on the source) until in sync, and the final
# verification pass over the whole table after the copy.
cross_sluice_full() {
  reset_cross_target
  sluice_config "$WORK/cross-full.json" src dst bench bench full
  sluice_run "$WORK/cross-full.json" "$WORK/cross-full-$1.log"
  check_rows dst bench "$ROWS"
  A1_FULL+=" $RUN_SECS"
  A1_HWM+=" $RUN_HWM_KB"
  emit arm1 "sluice_full_secs_rep$1" "$RUN_SECS" s
  emit_cpu sluice_full "$1" "$RUN_CPU" "$RUN_PG_CPU"
  emit arm4 "sluice_${ROWS}_hwm_kb_rep$1" "$RUN_HWM_KB" kB
}

copy_pipe() {
  psql -X -v ON_ERROR_STOP=1 -d src -c "\\copy bench TO STDOUT" | psql -X -v ON_ERROR_STOP=1 -d dst -c "\\copy bench FROM STDIN"
}

cross_pipe() {
  reset_cross_target
  LAST_LOG="$WORK/cross-pipe-$1.log" timed copy_pipe
  check_rows dst bench "$ROWS"
  A1_PIPE+=" $TIMED_SECS"
  emit arm1 "copy_pipe_secs_rep$1" "$TIMED_SECS" s
  emit_cpu copy_pipe "$1" "$TIMED_CPU" "$TIMED_PG_CPU"
}

# Count and hash of a whole table in SQL, on both sides at once: what a pipe needs to be checked.
checksum_both() {
  local sql="SELECT count(*), sum(hashtextextended(t::text, 0)) FROM bench t"
  q1 src "$sql" > "$WORK/sum-src" & local a=$!
  q1 dst "$sql" > "$WORK/sum-dst" & local b=$!
  wait $a && wait $b
  cmp -s "$WORK/sum-src" "$WORK/sum-dst" || { echo "checksums differ"; return 1; }
}

pipe_and_checksum() { copy_pipe && checksum_both; }

cross_pipe_checksum() {
  reset_cross_target
  LAST_LOG="$WORK/cross-pipe-sum-$1.log" timed pipe_and_checksum
  check_rows dst bench "$ROWS"
  A1_PIPESUM+=" $TIMED_SECS"
  emit arm1 "pipe_checksum_secs_rep$1" "$TIMED_SECS" s
  emit_cpu pipe_checksum "$1" "$TIMED_CPU" "$TIMED_PG_CPU"
}

run_pgcopydb() {
  rm -rf "$WORK/pgcopydb"
  pgcopydb copy table-data --source "$(pg_url src)" --target "$(pg_url dst)" --dir "$WORK/pgcopydb" \
    --filters "$WORK/pgcopydb-filters.ini" --table-jobs "${BENCH_PGCOPYDB_JOBS:-4}"
}

cross_pgcopydb() {
  reset_cross_target
  printf '[include-only-table]\npublic.bench\n' > "$WORK/pgcopydb-filters.ini"
  LAST_LOG="$WORK/cross-pgcopydb-$1.log" timed run_pgcopydb
  check_rows dst bench "$ROWS"
  A1_PGCOPYDB+=" $TIMED_SECS"
  emit arm1 "pgcopydb_secs_rep$1" "$TIMED_SECS" s
  emit_cpu pgcopydb "$1" "$TIMED_CPU" "$TIMED_PG_CPU"
}

# Optional fourth contender: another Sluice jar (e.g. a build from before a change), same config.
cross_baseline() {
  [ -n "${BENCH_BASELINE_JAR:-}" ] || return 0
  reset_cross_target
  sluice_config "$WORK/cross.json" src dst bench bench cross "$COPY_JOB"
  SLUICE_JAR="$BENCH_BASELINE_JAR" sluice_run "$WORK/cross.json" "$WORK/cross-baseline-$1.log"
  check_rows dst bench "$ROWS"
  A1_BASELINE+=" $RUN_SECS"
  emit arm1 "baseline_jar_secs_rep$1" "$RUN_SECS" s
  emit_cpu baseline_jar "$1" "$RUN_CPU" "$RUN_PG_CPU"
}

# With BENCH_BASELINE_JAR, the other jar copy only as well: a copy-path change measured like with like.
cross_baseline_only() {
  [ -n "${BENCH_BASELINE_JAR:-}" ] || return 0
  reset_cross_target
  sluice_config "$WORK/cross-only.json" src dst bench bench only "$COPY_ONLY_JOB"
  SLUICE_JAR="$BENCH_BASELINE_JAR" sluice_run "$WORK/cross-only.json" "$WORK/cross-baseline-only-$1.log"
  check_rows dst bench "$ROWS"
  A1_BASELINE_ONLY+=" $RUN_SECS"
  emit arm1 "baseline_jar_only_secs_rep$1" "$RUN_SECS" s
  emit_cpu baseline_jar_only "$1" "$RUN_CPU" "$RUN_PG_CPU"
}

arm1() {
  log "arm 1: cross-database copy of $ROWS rows, $REPS interleaved repetitions"
  A1_SLUICE="" A1_PIPE="" A1_PGCOPYDB="" A1_HWM="" A1_BASELINE="" A1_FULL="" A1_ONLY="" A1_PIPESUM="" A1_BASELINE_ONLY=""
  local order=(cross_sluice_only cross_pipe cross_sluice cross_pgcopydb cross_pipe_checksum cross_sluice_full cross_baseline)
  [ -n "${BENCH_BASELINE_JAR:-}" ] && order+=(cross_baseline_only)
  local n=${#order[@]} i
  for r in $(seq 1 "$REPS"); do
    # Rotate the order so no contender always runs first (or last) in the machine's noise.
    for i in $(seq 0 $((n - 1))); do "${order[$(( (i + (r - 1) * 3) % n ))]}" "$r"; done
    log "arm 1 rep $r: sluice copy only ${A1_ONLY##* }s, pipe ${A1_PIPE##* }s, pgcopydb ${A1_PGCOPYDB##* }s, sluice verified ${A1_SLUICE##* }s, pipe + checksum ${A1_PIPESUM##* }s"
  done
  local s p g o ps
  s=$(echo "$A1_SLUICE" | median); p=$(echo "$A1_PIPE" | median); g=$(echo "$A1_PGCOPYDB" | median)
  o=$(echo "$A1_ONLY" | median); ps=$(echo "$A1_PIPESUM" | median)
  emit arm1 sluice_secs_median "$s" s
  emit arm1 sluice_only_secs_median "$o" s
  emit arm1 copy_pipe_secs_median "$p" s
  emit arm1 pipe_checksum_secs_median "$ps" s
  emit arm1 pgcopydb_secs_median "$g" s
  emit arm1 ratio_sluice_only_vs_copy_pipe "$(ratio "$o" "$p")" x
  emit arm1 ratio_sluice_only_vs_pgcopydb "$(ratio "$o" "$g")" x
  emit arm1 ratio_sluice_vs_pipe_checksum "$(ratio "$s" "$ps")" x
  # PostgreSQL CPU seconds per million rows, median of the repetitions: copy only vs the pipe.
  local pgo pgp
  pgo=$(for i in $(seq 1 "$REPS"); do grep "^arm1,sluice_only_pg_cpu_rep$i," "$CSV" | cut -d, -f3; done | tr '\n' ' ' | median)
  pgp=$(for i in $(seq 1 "$REPS"); do grep "^arm1,copy_pipe_pg_cpu_rep$i," "$CSV" | cut -d, -f3; done | tr '\n' ' ' | median)
  emit arm1 sluice_only_pg_cpu_per_mrow "$(awk -v c="$pgo" -v n="$ROWS" 'BEGIN {printf "%.2f", c * 1e6 / n}')" s
  emit arm1 copy_pipe_pg_cpu_per_mrow "$(awk -v c="$pgp" -v n="$ROWS" 'BEGIN {printf "%.2f", c * 1e6 / n}')" s
  emit arm1 ratio_pg_cpu_sluice_only_vs_copy_pipe "$(ratio "$pgo" "$pgp")" x
  if [ -n "$A1_BASELINE" ]; then
    emit arm1 baseline_jar_secs_median "$(echo "$A1_BASELINE" | median)" s
    emit arm1 ratio_sluice_vs_baseline_jar "$(ratio "$s" "$(echo "$A1_BASELINE" | median)")" x
  fi
  if [ -n "$A1_BASELINE_ONLY" ]; then
    emit arm1 baseline_jar_only_secs_median "$(echo "$A1_BASELINE_ONLY" | median)" s
    emit arm1 ratio_sluice_only_vs_baseline_jar_only "$(ratio "$o" "$(echo "$A1_BASELINE_ONLY" | median)")" x
    local pgb
    pgb=$(for i in $(seq 1 "$REPS"); do grep "^arm1,baseline_jar_only_pg_cpu_rep$i," "$CSV" | cut -d, -f3; done | tr '\n' ' ' | median)
    emit arm1 ratio_pg_cpu_sluice_only_vs_baseline_jar_only "$(ratio "$pgo" "$pgb")" x
  fi
  emit arm1 sluice_full_secs_median "$(echo "$A1_FULL" | median)" s
  emit arm1 sluice_rows_per_sec "$(awk -v n="$ROWS" -v t="$s" 'BEGIN {printf "%.0f", n / t}')" rows/s
  emit arm1 ratio_sluice_vs_copy_pipe "$(ratio "$s" "$p")" x
  emit arm1 ratio_sluice_vs_pgcopydb "$(ratio "$s" "$g")" x
  emit arm1 ratio_sluice_full_vs_copy_pipe "$(ratio "$(echo "$A1_FULL" | median)" "$p")" x
  # Arm 3 runs Sluice with every default: its unpaced rate is the full-defaults contender's.
  SLUICE_UNPACED_RATE=$(awk -v n="$ROWS" -v t="$(echo "$A1_FULL" | median)" 'BEGIN {printf "%.0f", n / t}')
  emit arm1 sluice_full_rows_per_sec "$SLUICE_UNPACED_RATE" rows/s
  emit arm4 "sluice_${ROWS}_hwm_kb" "$(echo "$A1_HWM" | tr ' ' '\n' | sort -n | tail -1)" kB
}

reset_same_target() {
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench_copy; } | q src
  q src -c "CHECKPOINT"
}

same_sluice() {
  reset_same_target
  sluice_config "$WORK/same.json" src src bench bench_copy same "$COPY_JOB"
  sluice_run "$WORK/same.json" "$WORK/same-sluice-$1.log"
  grep -q "server-side" "$WORK/same-sluice-$1.log" || die "arm 2: Sluice did not pick server-side mode"
  check_rows src bench_copy "$ROWS"
  A2_SLUICE+=" $RUN_SECS"
  emit arm2 "sluice_server_side_secs_rep$1" "$RUN_SECS" s
  sluice_split "$WORK/same-sluice-$1.log" "$RUN_T0"
  A2_START+=" $SPLIT_START" A2_COPY+=" $SPLIT_COPY"
  emit arm2 "sluice_start_secs_rep$1" "$SPLIT_START" s
  emit arm2 "sluice_copy_phase_secs_rep$1" "$SPLIT_COPY" s
  emit arm2 "sluice_client_cpu_rep$1" "$RUN_CPU" s
  emit arm2 "sluice_pg_cpu_rep$1" "$RUN_PG_CPU" s
}

# Optional third contender: another Sluice jar (BENCH_BASELINE_JAR), same config.
same_baseline() {
  [ -n "${BENCH_BASELINE_JAR:-}" ] || return 0
  reset_same_target
  sluice_config "$WORK/same.json" src src bench bench_copy same "$COPY_JOB"
  SLUICE_JAR="$BENCH_BASELINE_JAR" sluice_run "$WORK/same.json" "$WORK/same-baseline-$1.log"
  check_rows src bench_copy "$ROWS"
  A2_BASELINE+=" $RUN_SECS"
  emit arm2 "baseline_jar_secs_rep$1" "$RUN_SECS" s
  sluice_split "$WORK/same-baseline-$1.log" "$RUN_T0"
  A2_BSTART+=" $SPLIT_START" A2_BCOPY+=" $SPLIT_COPY"
  emit arm2 "baseline_jar_start_secs_rep$1" "$SPLIT_START" s
  emit arm2 "baseline_jar_copy_phase_secs_rep$1" "$SPLIT_COPY" s
  emit arm2 "baseline_jar_client_cpu_rep$1" "$RUN_CPU" s
  emit arm2 "baseline_jar_pg_cpu_rep$1" "$RUN_PG_CPU" s
}

same_bigbang() {
  reset_same_target
  LAST_LOG="$WORK/same-bigbang-$1.log" timed q src -c "INSERT INTO bench_copy SELECT * FROM bench"
  check_rows src bench_copy "$ROWS"
  A2_BIGBANG+=" $TIMED_SECS"
  emit arm2 "insert_select_secs_rep$1" "$TIMED_SECS" s
  emit arm2 "insert_select_client_cpu_rep$1" "$TIMED_CPU" s
  emit arm2 "insert_select_pg_cpu_rep$1" "$TIMED_PG_CPU" s
}

arm2() {
  log "arm 2: same-database copy of $ROWS rows, $REPS interleaved repetitions"
  A2_SLUICE="" A2_BIGBANG="" A2_BASELINE="" A2_START="" A2_COPY="" A2_BSTART="" A2_BCOPY=""
  for r in $(seq 1 "$REPS"); do
    case $(( r % 3 )) in
      1) same_sluice "$r"; same_bigbang "$r"; same_baseline "$r" ;;
      2) same_baseline "$r"; same_bigbang "$r"; same_sluice "$r" ;;
      0) same_bigbang "$r"; same_sluice "$r"; same_baseline "$r" ;;
    esac
    log "arm 2 rep $r: sluice ${A2_SLUICE##* }s, INSERT..SELECT ${A2_BIGBANG##* }s"
  done
  local s b
  s=$(echo "$A2_SLUICE" | median); b=$(echo "$A2_BIGBANG" | median)
  emit arm2 sluice_server_side_secs_median "$s" s
  emit arm2 insert_select_secs_median "$b" s
  emit arm2 sluice_start_secs_median "$(echo "$A2_START" | median)" s
  emit arm2 sluice_copy_phase_secs_median "$(echo "$A2_COPY" | median)" s
  if [ -n "$A2_BASELINE" ]; then
    emit arm2 baseline_jar_secs_median "$(echo "$A2_BASELINE" | median)" s
    emit arm2 baseline_jar_start_secs_median "$(echo "$A2_BSTART" | median)" s
    emit arm2 baseline_jar_copy_phase_secs_median "$(echo "$A2_BCOPY" | median)" s
    emit arm2 ratio_sluice_vs_baseline_jar "$(ratio "$s" "$(echo "$A2_BASELINE" | median)")" x
  fi
  emit arm2 ratio_sluice_vs_insert_select "$(ratio "$s" "$b")" x
  q src -c "DROP TABLE bench_copy; DROP SCHEMA IF EXISTS sluice CASCADE"
}

# Arm 4 beyond the main table: one Sluice run over a table of $1 rows (generated once, kept).
arm4_rows() {
  local n=$1 tbl="bench_$1"
  log "arm 4: peak RSS migrating $n rows"
  if [ "$(q1 src "SELECT count(*) FROM pg_class WHERE relname = '$tbl'")" = 0 ]; then
    log "generating $tbl"
    q src -v tbl="$tbl" -v rows="$n" -f "$BENCH_DIR/lib/dataset.sql"
  fi
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty "$tbl"; } | q dst
  q src -c "CHECKPOINT" && q dst -c "CHECKPOINT"
  sluice_config "$WORK/mem-$n.json" src dst "$tbl" "$tbl" "mem_$n"
  sluice_run "$WORK/mem-$n.json" "$WORK/mem-$n.log"
  check_rows dst "$tbl" "$n"
  emit arm4 "sluice_${n}_hwm_kb" "$RUN_HWM_KB" kB
  emit arm4 "sluice_${n}_secs" "$RUN_SECS" s
  q dst -c "DROP TABLE $tbl; DROP SCHEMA IF EXISTS sluice CASCADE"
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
}
