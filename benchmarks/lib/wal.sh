# Arms 8 and 9: change capture from the write-ahead log (issue 15), on two clusters side by side in
# one run: the tuned cluster (`sluicewal`: sluicebench's settings) and a stock one (`sluicestock`:
# Debian's defaults), both with wal_level=logical. Each cluster gets its own src/dst databases and
# `bench` table of $ROWS rows; every figure is emitted as arm8|arm9,<cluster>_<name>.
#
# Arm 8, writers' latency on the migrating table itself: pgbench at a fixed rate updates (4 in 5) and
# inserts (1 in 5) rows of `bench`, in three phases of $PHASE_SECS: no migration, Sluice (its defaults)
# migrating `bench` with capture.mode trigger, then with capture.mode logical. One agent per phase,
# started before the window: the window opens when it logs its first copy, so the trigger (or slot)
# is in place and its JVM start-up is not counted; it covers the copy and, if that ends first, the job
# in sync with capture on. The agent is stopped (SIGTERM) when the window closes, and the job's
# objects (schema sluice, triggers, publication, slot) are dropped outside the window.
#
# Arm 9, the applier unpaced: an agent (foreground control off, no pace) migrates `bench` with capture
# mode trigger, then logical, and waits for the job in sync and its final pass done. Then one statement
# updates $BENCH_WAL_BURST keys at once (the capture is as far behind as it can be), and the ledger is
# polled until the applier has applied them all (`sluice.jobs.changes_applied`); in logical mode also
# the changelog's newest entry id (the WAL reader's progress, when it records keys there: since the
# reader hands them to its agent's applier in memory, the changelog stays empty in this arm), and
# /metrics once a second for the reader's keys/s and lag. The drain's CPU is also split by kind of
# process (lib/cpu_by_process.py). Sourced by run.sh.

BENCH_WAL_CLUSTERS=${BENCH_WAL_CLUSTERS:-tuned,stock}
BENCH_WAL_RATE=${BENCH_WAL_RATE:-200}
BENCH_WAL_CLIENTS=${BENCH_WAL_CLIENTS:-4}
BENCH_WAL_BURST=${BENCH_WAL_BURST:-200000}
BENCH_WAL_HTTP_PORT=${BENCH_WAL_HTTP_PORT:-18491}
# BENCH_WAL_BATCH_ROWS: arm 9's capture.batchRows (the agent's default when unset).
# BENCH_WAL_PROFILE=1: profile arm 9's drains (PROFILE.md): pg_stat_statements loaded in the clusters
# (the statements' server time during each drain, into the scratch directory), the agent under Flight
# Recorder, and `perf record -a` (whole machine) from the burst until the drain ends.
BENCH_WAL_PROFILE=${BENCH_WAL_PROFILE:-0}
# BENCH_WAL_AFTER_COPY=1: arm 8's capture phases start the writers once the job is in sync (copy and
# final pass done): what capture and the applier alone cost the writers, without the copy.
BENCH_WAL_AFTER_COPY=${BENCH_WAL_AFTER_COPY:-0}

# Points the pg helpers at cluster $1 (tuned | stock), configured with wal_level=logical, and loads
# the dataset into its src database.
wal_cluster() {
  if [ "$1" = tuned ]; then
    BENCH_PG_STOCK=0 BENCH_PG_CLUSTER=sluicewal BENCH_PG_PORT=55442
  else
    BENCH_PG_STOCK=1 BENCH_PG_CLUSTER=sluicestock BENCH_PG_PORT=55472
  fi
  BENCH_PG_LOGICAL=1 PGPORT=$BENCH_PG_PORT PG_DATA=/var/lib/postgresql/$BENCH_PG_VERSION/$BENCH_PG_CLUSTER
  export PGPORT
  BENCH_PG_EXTRA_CONF=""
  [ "$BENCH_WAL_PROFILE" = 1 ] && BENCH_PG_EXTRA_CONF="shared_preload_libraries = 'pg_stat_statements'"
  pg_setup
  [ "$(q1 postgres 'SHOW wal_level')" = logical ] || die "cluster $BENCH_PG_CLUSTER: wal_level is not logical"
  q1 postgres "SELECT 'pg_setting_$1,' || name || ',' || replace(current_setting(name), ',', ';') || ','
               FROM pg_settings WHERE source IN ('configuration file', 'command line') ORDER BY name" >> "$CSV"
  emit "wal_$1" postgres "$(q1 postgres 'SHOW server_version' | cut -d' ' -f1)" ""
  emit "wal_$1" cluster "$BENCH_PG_CLUSTER:$BENCH_PG_PORT" ""
  log "cluster $1 ($BENCH_PG_CLUSTER): dataset of $ROWS rows"
  for db in src dst; do q postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"; done
  q src -v tbl=bench -v rows="$ROWS" -f "$BENCH_DIR/lib/dataset.sql"
}

# Leaves no trace of job $1 on either side: the slot (ending a reader still attached), the
# publication, schema sluice (changelog, triggers' function, ledger), and an empty target table.
wal_reset() {
  local job=$1 i
  for i in $(seq 1 50); do
    q1 src "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sluice_$job' AND active_pid IS NOT NULL" >/dev/null
    q1 src "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sluice_$job' AND NOT active" >/dev/null 2>&1 || true
    [ "$(q1 src "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sluice_$job'")" = 0 ] && break
    sleep 0.2
  done
  q src -c "DROP PUBLICATION IF EXISTS sluice_$job" -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench; } | q dst
}

# Config $1 for job $2 in capture mode $3; $4 a JSON object of top-level fields merged in; $5 more
# fields of the job's capture object.
wal_config() {
  local extra=${4:-}
  [ -n "$extra" ] || extra='{}'
  sluice_config "$1" src dst bench bench "$2" "\"capture\": {\"mode\": \"$3\"${5:+, $5}},"
  python3 - "$1" "$extra" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p)); c.update(json.loads(sys.argv[2])); json.dump(c, open(p, "w"), indent=2)
PY
}

wal_scripts() {
  cat > "$WORK/wal-update.sql" <<'SQL'
\set id random(1, :rows)
UPDATE bench SET qty = qty + 1, amount = amount + 0.01 WHERE id = :id;
SQL
  # New keys above the dataset's, spread so that two clients almost never pick the same one.
  cat > "$WORK/wal-insert.sql" <<'SQL'
\set id random(:rows + 1, 1000000000000)
INSERT INTO bench VALUES (:id, :id % 1000003, 'new-' || :id, 1, 1.00, NULL, now()) ON CONFLICT (id) DO NOTHING;
SQL
}

# Job state from the ledger ('' before it exists).
wal_state() { q1 dst "SELECT state FROM sluice.jobs WHERE name = '$1'" 2>/dev/null || true; }
now_ns() { date +%s%N; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) / 1e9}'; }

# One phase of arm 8 on cluster $1: $2 none | trigger | logical.
wal_writers_phase() {
  local cl=$1 mode=$2 job=walw lp=$WORK/wal-pgbench-$1-$2 logf=$WORK/wal-writers-$1-$2.log pid="" t0 tc="" st moved=0 i
  rm -f "$lp".*
  wal_reset "$job"
  q src -c "CHECKPOINT" && q dst -c "CHECKPOINT"
  if [ "$mode" = logicalnice ]; then
    # Logical capture with the agent and its sessions' backends at sessions.nice BENCH_WAL_NICE.
    wal_config "$WORK/wal-writers.json" "$job" logical "{\"sessions\": {\"nice\": $BENCH_WAL_NICE}}"
  elif [ "$mode" != none ]; then
    wal_config "$WORK/wal-writers.json" "$job" "$mode"
    SLUICE_JAR="$SLUICE_JAR" SLUICE_JAVA_OPTS="$BENCH_JAVA_OPTS" "$ROOT/bin/sluice" run --config "$WORK/wal-writers.json" >"$logf" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    pid=$!
    WAL_AGENT=$pid
    # The agent logs "copying (" and then sets the capture up ("change capture: <mode>"): both first.
    for i in $(seq 900); do
      grep -q ': copying (' "$logf" 2>/dev/null && grep -q ': change capture: ' "$logf" 2>/dev/null && break
      kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "arm 8: the agent exited before copying (log: $logf)"; }
      sleep 0.1
    done
    grep -q ": change capture: ${mode%nice}" "$logf" || { tail -20 "$logf" >&2; die "arm 8: the job did not get capture mode $mode (log: $logf)"; }
    if [ "$BENCH_WAL_AFTER_COPY" = 1 ]; then
      # Capture alone: the writers start once the copy and the final pass are done (the job in sync).
      for i in $(seq 1200); do
        grep -q 'final verification: ' "$logf" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "arm 8: the agent exited before the job was in sync (log: $logf)"; }
        sleep 0.25
      done
      [ "$(wal_state "$job")" = in_sync ] || die "arm 8: job $(wal_state "$job"), not in sync after its final pass (log: $logf)"
    fi
  fi
  t0=$(now_ns)
  pgbench -n -c "$BENCH_WAL_CLIENTS" -j 2 -R "$BENCH_WAL_RATE" -T "$PHASE_SECS" --latency-limit="$BENCH_LATENCY_LIMIT_MS" \
    -f "$WORK/wal-update.sql@4" -f "$WORK/wal-insert.sql@1" -D rows="$ROWS" -l --log-prefix="$lp" src \
    >"$WORK/wal-pgbench-out-$cl-$mode.txt" 2>&1 &
  local wpid=$!
  # The job's state twice a second: when the copy ended (catching_up or later) inside the window.
  while kill -0 "$wpid" 2>/dev/null; do
    if [ -n "$pid" ] && [ -z "$tc" ]; then
      st=$(wal_state "$job")
      case $st in catching_up|in_sync|completed) tc=$(now_ns) ;; esac
    fi
    sleep 0.5
  done
  wait "$wpid" || { cat "$WORK/wal-pgbench-out-$cl-$mode.txt" >&2; die "arm 8: pgbench failed in phase $cl/$mode"; }
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    moved=$(q1 dst "SELECT count(*) FROM bench")
  fi
  python3 "$BENCH_DIR/lib/latency.py" "${cl}_$mode" "$BENCH_LATENCY_LIMIT_MS" "$lp".* | sed 's/^arm3,/arm8,/' >> "$CSV"
  [ "$mode" = none ] && return 0
  emit arm8 "${cl}_${mode}_rows_moved" "$moved" rows
  if [ -n "$tc" ]; then
    emit arm8 "${cl}_${mode}_copy_secs" "$(secs_between "$t0" "$tc")" s
    emit arm8 "${cl}_${mode}_rows_per_sec" "$(awk -v m="$ROWS" -v t="$(secs_between "$t0" "$tc")" 'BEGIN {printf "%.0f", m / t}')" rows/s
  else
    emit arm8 "${cl}_${mode}_copy_secs" "unfinished" ""
    emit arm8 "${cl}_${mode}_rows_per_sec" "$(awk -v m="$moved" -v t="$PHASE_SECS" 'BEGIN {printf "%.0f", m / t}')" rows/s
  fi
  log "arm 8 $cl $mode: $(grep -E "^arm8,${cl}_${mode}_p99_ms" "$CSV" | cut -d, -f3) ms p99, $moved rows moved"
}

arm8() {
  local cl=$1 base m
  log "arm 8 ($cl): writers on the migrating table, pgbench -R $BENCH_WAL_RATE, phases none/trigger/logical of ${PHASE_SECS}s"
  local modes="none trigger logical"
  [ "${BENCH_WAL_NICE:-0}" -gt 0 ] && modes="$modes logicalnice" && emit arm8 nice "$BENCH_WAL_NICE" ""
  for m in $modes; do wal_writers_phase "$cl" "$m"; done
  wal_reset walw
  base=$(grep "^arm8,${cl}_none_p99_ms," "$CSV" | cut -d, -f3)
  for m in ${modes#none }; do
    emit arm8 "${cl}_ratio_${m}_p99_vs_none" "$(ratio "$(grep "^arm8,${cl}_${m}_p99_ms," "$CSV" | cut -d, -f3)" "$base")" x
  done
}

# A gauge's value from /metrics ('' when absent or NaN).
wal_metric() {
  { curl -s --max-time 2 "http://127.0.0.1:$BENCH_WAL_HTTP_PORT/metrics" 2>/dev/null || true; } \
    | awk -v m="$1" '($1 == m || index($1, m "{") == 1) && $2 != "NaN" {v = $2} END {print v}'
}

# Arm 9 on cluster $1, capture mode $2; $3 a jar to run instead of SLUICE_JAR (the baseline side),
# its figures named <cluster>_base_<mode>_...
wal_apply_run() {
  local cl=$1 mode=$2 jar=${3:-$SLUICE_JAR} job=walapply logf=$WORK/wal-apply-$1-$2${3:+-base}.log pid i st base maxid0 t0 t1 tfirst="" tdone="" rfirst="" rdone=""
  local applied maxid kps="" kpsmax=0 lagmax=0 lag tick=0 n=$BENCH_WAL_BURST pgc0 pgc1 agc0 agc1 afirst=""
  wal_reset "$job"
  wal_config "$WORK/wal-apply.json" "$job" "$mode" \
    "{\"http\": {\"enabled\": true, \"host\": \"127.0.0.1\", \"port\": $BENCH_WAL_HTTP_PORT}, \"health\": {\"foreground\": {\"enabled\": false}}}" \
    "${BENCH_WAL_BATCH_ROWS:+\"batchRows\": $BENCH_WAL_BATCH_ROWS}"
  local jopts=$BENCH_JAVA_OPTS perfpid="" cds=on
  # Flight Recorder with bin/sluice's class-data archive crashed JDK 17.0.15 at start (SIGSEGV in
  # KlassFactory::check_shared_class_file_load_hook): the profiled agent runs without the archive.
  [ "$BENCH_WAL_PROFILE" = 1 ] && jopts+=" -XX:StartFlightRecording=filename=$WORK/wal-apply-$cl-$mode.jfr,settings=profile" && cds=off
  SLUICE_CDS=$cds SLUICE_JAR="$jar" SLUICE_JAVA_OPTS="$jopts" "$ROOT/bin/sluice" run --config "$WORK/wal-apply.json" >"$logf" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  pid=$!
  WAL_AGENT=$pid
  [ -n "${3:-}" ] && cl=${cl}_base
  for i in $(seq 1200); do
    grep -q 'final verification: ' "$logf" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "arm 9: the agent exited (log: $logf)"; }
    sleep 0.25
  done
  st=$(wal_state "$job")
  [ "$st" = in_sync ] || die "arm 9: job $st, not in sync after its final pass (log: $logf)"
  [ "$(q1 dst "SELECT capture_mode FROM sluice.jobs WHERE name = '$job'")" = "$mode" ] || die "arm 9: not in capture mode $mode"
  base=$(q1 dst "SELECT changes_applied FROM sluice.jobs WHERE name = '$job'")
  maxid0=$(q1 src "SELECT coalesce(max(id), 0) FROM sluice.changes_$job")
  if [ "$BENCH_WAL_PROFILE" = 1 ]; then
    for db in src dst; do q "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null; done
    perf record -a -g -F 199 -o "$WORK/perf-$cl-$mode.data" >/dev/null 2>&1 &
    perfpid=$!
  fi
  t0=$(now_ns)
  q src -c "UPDATE bench SET qty = qty + 1 WHERE id <= $n"
  t1=$(now_ns)
  # CPU over the drain, from the burst's commit to the last key applied: the cluster's (source and
  # target share it) and the agent's. CPU per key is what the machine's other load hardly moves.
  pgc0=$(pg_cpu_live) agc0=$(tree_cpu "$pid")
  pg_cpu_snapshot "$WORK/cpu0-$cl-$mode.txt"
  for i in $(seq 1 2400); do
    applied=$(( $(q1 dst "SELECT changes_applied FROM sluice.jobs WHERE name = '$job'") - base ))
    maxid=$(( $(q1 src "SELECT coalesce(max(id), 0) FROM sluice.changes_$job") - maxid0 ))
    [ -z "$rfirst" ] && [ "$maxid" -gt 0 ] && rfirst=$(now_ns)
    [ -z "$afirst" ] && [ "$applied" -gt 0 ] && afirst=$(now_ns)
    [ -z "$rdone" ] && [ "$maxid" -ge "$n" ] && rdone=$(now_ns)
    [ "$applied" -ge "$n" ] && { tdone=$(now_ns); pgc1=$(pg_cpu_live) agc1=$(tree_cpu "$pid"); pg_cpu_snapshot "$WORK/cpu1-$cl-$mode.txt"; break; }
    if [ $((tick++ % 5)) -eq 0 ]; then
      kps=$(wal_metric sluice_capture_wal_keys_per_second)
      lag=$(wal_metric sluice_capture_wal_lag_seconds)
      [ -n "$kps" ] && kpsmax=$(awk -v a="$kpsmax" -v b="$kps" 'BEGIN {print (b > a ? b : a)}')
      [ -n "$lag" ] && lagmax=$(awk -v a="$lagmax" -v b="$lag" 'BEGIN {print (b > a ? b : a)}')
    fi
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; die "arm 9: the agent exited during the drain (log: $logf)"; }
    sleep 0.2
  done
  if [ -n "$perfpid" ]; then
    kill -INT "$perfpid" 2>/dev/null || true
    wait "$perfpid" 2>/dev/null || true
    perf report -i "$WORK/perf-$cl-$mode.data" --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' | head -30 > "$WORK/perf-$cl-$mode-comm.txt" || true
    for db in src dst; do
      q1 "$db" "SELECT calls, round(total_exec_time::numeric, 1) AS ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                ORDER BY total_exec_time DESC LIMIT 15" > "$WORK/pgss-$cl-$mode-$db.txt"
    done
  fi
  emit arm9 "${cl}_${mode}_burst_keys" "$n" keys
  emit arm9 "${cl}_${mode}_burst_statement_secs" "$(secs_between "$t0" "$t1")" s
  if [ -z "$tdone" ]; then
    emit arm9 "${cl}_${mode}_catch_up_secs" "unfinished ($applied applied in 480 s)" ""
  else
    emit arm9 "${cl}_${mode}_catch_up_secs" "$(secs_between "$t1" "$tdone")" s
    # The applier can start once entries exist: at the commit in trigger mode, at the reader's first
    # entry in logical mode (then it runs alongside the reader, so it is at most the reader's rate);
    # when the reader hands its keys over in memory (no entry), at the first key applied.
    tfirst=$t1
    if [ "$mode" = logical ]; then
      if [ -n "$rfirst" ]; then tfirst=$rfirst; elif [ -n "$afirst" ]; then tfirst=$afirst; fi
    fi
    emit arm9 "${cl}_${mode}_applier_keys_per_sec" "$(awk -v n="$n" -v t="$(secs_between "$tfirst" "$tdone")" 'BEGIN {printf "%.0f", n / t}')" keys/s
    emit arm9 "${cl}_${mode}_end_to_end_keys_per_sec" "$(awk -v n="$n" -v t="$(secs_between "$t1" "$tdone")" 'BEGIN {printf "%.0f", n / t}')" keys/s
    emit arm9 "${cl}_${mode}_drain_pg_cpu_secs" "$(awk -v a="$pgc0" -v b="$pgc1" 'BEGIN {printf "%.2f", b - a}')" s
    emit arm9 "${cl}_${mode}_drain_agent_cpu_secs" "$(awk -v a="$agc0" -v b="$agc1" 'BEGIN {printf "%.2f", b - a}')" s
    emit arm9 "${cl}_${mode}_drain_cpu_us_per_key" "$(awk -v a="$pgc0" -v b="$pgc1" -v c="$agc0" -v d="$agc1" -v n="$n" 'BEGIN {printf "%.1f", (b - a + d - c) * 1e6 / n}')" us
    # The same window by kind of process: source and target backends, the WAL sender, reaped children.
    python3 "$BENCH_DIR/lib/cpu_by_process.py" "$WORK/cpu0-$cl-$mode.txt" "$WORK/cpu1-$cl-$mode.txt" "$n" "${cl}_${mode}" >> "$CSV"
  fi
  if [ "$mode" = logical ] && [ -n "$rdone" ]; then
    emit arm9 "${cl}_${mode}_reader_secs" "$(secs_between "$t1" "$rdone")" s
    emit arm9 "${cl}_${mode}_reader_keys_per_sec" "$(awk -v n="$n" -v t="$(secs_between "$rfirst" "$rdone")" 'BEGIN {printf "%.0f", (t > 0 ? n / t : 0)}')" keys/s
    emit arm9 "${cl}_${mode}_metrics_wal_keys_per_sec_max" "$kpsmax" keys/s
    emit arm9 "${cl}_${mode}_metrics_wal_lag_secs_max" "$lagmax" s
  fi
  emit arm9 "${cl}_${mode}_agent_cpu_secs" "$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat" 2>/dev/null || echo n/a)" s
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  check_rows dst bench "$(q1 src 'SELECT count(*) FROM bench')"
  [ "$(q1 src "SELECT sum(qty) FROM bench")" = "$(q1 dst "SELECT sum(qty) FROM bench")" ] || die "arm 9 $cl $mode: target differs from source after the drain"
  log "arm 9 $cl $mode: $n keys, caught up in $(grep "^arm9,${cl}_${mode}_catch_up_secs," "$CSV" | cut -d, -f3) s"
}

# With BENCH_BASELINE_JAR, that jar's applier runs each mode right before this build's (side by side).
arm9() {
  log "arm 9 ($1): applier unpaced, a burst of $BENCH_WAL_BURST updated keys, capture trigger then logical"
  local m
  for m in trigger logical; do
    [ -n "${BENCH_BASELINE_JAR:-}" ] && wal_apply_run "$1" "$m" "$BENCH_BASELINE_JAR"
    wal_apply_run "$1" "$m"
  done
  wal_reset walapply
}

# Arms 8 and 9 on each cluster of BENCH_WAL_CLUSTERS, one after the other; each cluster is stopped after.
wal_arms() {
  local cl
  # An agent of a failed arm must not outlive the run (it would hold the lock run.sh runs under).
  WAL_AGENT=""
  trap 'rc=$?; [ $rc = 0 ] || log "exited $rc"; if [ -n "$WAL_AGENT" ]; then pkill -TERM -P "$WAL_AGENT" 2>/dev/null || true; kill -TERM "$WAL_AGENT" 2>/dev/null || true; fi; exit $rc' EXIT
  wal_scripts
  emit run wal_clusters "${BENCH_WAL_CLUSTERS//,/;}" ""
  emit run wal_pgbench "-c $BENCH_WAL_CLIENTS -j 2 -R $BENCH_WAL_RATE -T $PHASE_SECS --latency-limit=$BENCH_LATENCY_LIMIT_MS -f update@4 -f insert@1" ""
  emit run wal_burst "$BENCH_WAL_BURST" keys
  emit run wal_batch_rows "${BENCH_WAL_BATCH_ROWS:-default}" ""
  emit run wal_after_copy "$BENCH_WAL_AFTER_COPY" ""
  for cl in ${BENCH_WAL_CLUSTERS//,/ }; do
    wal_cluster "$cl"
    if arm 8; then arm8 "$cl"; fi
    if arm 9; then arm9 "$cl"; fi
    pg_ctlcluster "$BENCH_PG_VERSION" "$BENCH_PG_CLUSTER" stop
  done
}
