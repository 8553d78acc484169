#!/usr/bin/env bash
# Sluice benchmarks: one entry point. Sets up a dedicated local PostgreSQL 15 cluster, generates
# the dataset, builds the jar if needed, runs every arm, and writes benchmarks/RESULTS.md and
# benchmarks/results.csv. Every figure in RESULTS.md comes from this command.
#
#   benchmarks/run.sh [ROWS] [--with-10m] [--arms 1,2,3,4,5,6,7,8,9]
#
# Arms 8 and 9 (change capture from the WAL: writers' latency, applier throughput) run on two clusters
# of their own, side by side (lib/wal.sh); a run of only those writes benchmarks/results-wal.csv
# (RESULTS.md shows it as its own section) and leaves results.csv as it was.
#
# ROWS: rows in the benchmark table (default 1000000). --with-10m: also measure the agent's peak
# RSS migrating 10,000,000 rows (arm 4; slow, run it once). Knobs (environment): BENCH_REPS (3),
# BENCH_PHASE_SECONDS (45), BENCH_PGBENCH_RATE (200), BENCH_READ_ROWS (100000), BENCH_READ_SECONDS (15), BENCH_COLD_ROWS (200000), BENCH_COLD_COPY_SECONDS (40),
# BENCH_COLD_WRITE_RATE (400),
# BENCH_WAL_CLUSTERS (tuned,stock), BENCH_WAL_RATE (200), BENCH_WAL_CLIENTS (4), BENCH_WAL_BURST (200000),
# BENCH_WAL_HTTP_PORT (18491), BENCH_WAL_BATCH_ROWS (arm 9's capture.batchRows), BENCH_WAL_PROFILE=1 (arm 9 profiled), BENCH_WAL_AFTER_COPY=1 (arm 8 with capture alone), BENCH_WAL_NICE=N (arm 8: a fourth phase, logical capture with sessions.nice N), BENCH_IMPACT_NICE=N (arm 3: two more phases with sessions.nice N),
# BENCH_JAVA_OPTS (-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1), BENCH_JFR=1
# (record the arm-1 Sluice runs with Flight Recorder into the work dir).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
ARGS="$*"
# The knobs given in the environment, to print the exact command in RESULTS.md.
GIVEN_ENV=$(for v in $(compgen -v BENCH_ | grep -vx BENCH_DIR); do printf '%s=%q ' "$v" "${!v}"; done)
ROWS=1000000
WITH_10M=0
ARMS=1,2,3,4,5,6,7
while [ $# -gt 0 ]; do
  case $1 in
    --with-10m) WITH_10M=1 ;;
    --arms) ARMS=$2; shift ;;
    [0-9]*) ROWS=$1 ;;
    *) echo "usage: $0 [ROWS] [--with-10m] [--arms 1,2,3,4,5,6,7,8,9]" >&2; exit 2 ;;
  esac
  shift
done
REPS=${BENCH_REPS:-3}
PHASE_SECS=${BENCH_PHASE_SECONDS:-45}
BENCH_PGBENCH_RATE=${BENCH_PGBENCH_RATE:-200}
BENCH_PGBENCH_CLIENTS=${BENCH_PGBENCH_CLIENTS:-4}
BENCH_PGBENCH_SCALE=${BENCH_PGBENCH_SCALE:-10}
BENCH_LATENCY_LIMIT_MS=${BENCH_LATENCY_LIMIT_MS:-50}
# A small heap and the serial collector: a sidecar on a small machine (the JVM picks serial itself
# below 2 CPUs or 1792 MB); G1 at this heap size spent more CPU and RSS for nothing here. C1 only:
# the agent shuttles packed pages and computes little; C2 cost ~45 MB of peak RSS (PROFILE.md).
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:--Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
# BENCH_SLUICE_JAR: run that jar (a copy, so a build in the worktree cannot replace it mid-run) instead of building agent/target/sluice.jar.
SLUICE_JAR="${BENCH_SLUICE_JAR:-$ROOT/agent/target/sluice.jar}"
WORK=${BENCH_WORK:-/tmp/sluice-bench}
# BENCH_CSV: another file name for this run's figures (e.g. results-copy-stock.csv: its own section of RESULTS.md).
arm() { [[ ",$ARMS," == *",$1,"* ]]; }
# Arms 1 to 7 use the main cluster (sluicebench) and its dataset; 8 and 9 bring their own.
MAIN_ARMS=0
for a in 1 2 3 4 5 6 7; do if arm $a; then MAIN_ARMS=1; fi; done
if [ $MAIN_ARMS = 0 ]; then CSV="$BENCH_DIR/${BENCH_CSV:-results-wal.csv}"; else CSV="$BENCH_DIR/${BENCH_CSV:-results.csv}"; fi

. "$BENCH_DIR/lib/common.sh"
. "$BENCH_DIR/lib/pg.sh"
. "$BENCH_DIR/lib/sluice.sh"
. "$BENCH_DIR/lib/arms.sh"
. "$BENCH_DIR/lib/impact.sh"
. "$BENCH_DIR/lib/micro.sh"
. "$BENCH_DIR/lib/reads.sh"
. "$BENCH_DIR/lib/coldfirst.sh"
. "$BENCH_DIR/lib/wal.sh"

rm -rf "$WORK" && mkdir -p "$WORK"
chmod 777 "$WORK"
echo "section,name,value,unit" > "$CSV"

if [ -z "${BENCH_SLUICE_JAR:-}" ] && { [ ! -f "$SLUICE_JAR" ] || [ -n "$(find "$ROOT/agent/src/main" "$ROOT/agent/pom.xml" -newer "$SLUICE_JAR" -print -quit)" ]; }; then
  log "building $SLUICE_JAR"
  mvn -B -q -f "$ROOT/pom.xml" -pl agent -am -DskipTests package
fi
[ "${BENCH_JFR:-0}" = 1 ] && BENCH_JFR_OPTS="-XX:StartFlightRecording=filename=$WORK/,settings=profile"

[ $MAIN_ARMS = 1 ] && pg_setup
emit run started_utc "$(date -u +%FT%TZ)" ""
emit run commit "$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- agent || echo +dirty)" ""
emit run rows "$ROWS" rows
emit run repetitions "$REPS" ""
emit run arms "${ARMS//,/;}" ""
emit run java_opts "$BENCH_JAVA_OPTS" ""
emit run launcher "bin/sluice (its AppCDS archive recorded by one untimed run first)" ""
emit run command "${GIVEN_ENV}benchmarks/run.sh $ARGS" ""
[ -n "${BENCH_BASELINE_JAR:-}" ] && emit run baseline_jar "${BENCH_BASELINE_JAR_NAME:-$BENCH_BASELINE_JAR}" ""
emit run phase_secs "$PHASE_SECS" s
emit run pgbench "-c $BENCH_PGBENCH_CLIENTS -j 2 -R $BENCH_PGBENCH_RATE -T $PHASE_SECS --latency-limit=$BENCH_LATENCY_LIMIT_MS (scale $BENCH_PGBENCH_SCALE)" ""
emit machine cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo | tr ',' ';')" ""
emit machine cores "$(nproc)" ""
emit machine mem_total "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" kB
emit machine kernel "$(uname -r)" ""
emit machine java "$(java -version 2>&1 | head -1 | tr ',' ';' | tr -d '"')" ""
[ $MAIN_ARMS = 1 ] && emit machine postgres "$(q1 postgres 'SHOW server_version' | cut -d' ' -f1)" ""
emit machine pgcopydb "$(pgcopydb --version 2>/dev/null | awk '/^pgcopydb version/ {print $3}')" ""
emit machine loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ';')" ""
if [ $MAIN_ARMS = 1 ]; then
  pg_settings_csv >> "$CSV"
  log "dataset: $ROWS rows"
  for db in src dst; do q postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"; done
  q src -v tbl=bench -v rows="$ROWS" -f "$BENCH_DIR/lib/dataset.sql"
  emit dataset table_bytes "$(q1 src "SELECT pg_table_size('bench')")" bytes
  emit dataset bytes_per_row "$(q1 src "SELECT round(pg_table_size('bench')::numeric / $ROWS)")" bytes
fi

if arm 1 || arm 2 || arm 3 || arm 4; then sluice_prepare; fi
if arm 1; then arm1; fi
if arm 2; then arm2; fi
if arm 3; then arm3; fi
if arm 4; then
  # At 1M rows arm 1's Sluice runs are the 1M memory measurement (same config, same JVM options).
  if [ "$ROWS" != 1000000 ] || ! arm 1; then arm4_rows 1000000; fi
  if [ "$WITH_10M" = 1 ]; then arm4_rows 10000000; fi
fi
if arm 5; then arm5; fi
if arm 6; then arm6; fi
if arm 7; then arm7; fi
if arm 8 || arm 9; then wal_arms; fi

emit machine loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ';')" ""
emit run finished_utc "$(date -u +%FT%TZ)" ""
if [ "$WITH_10M" = 1 ]; then grep -E '^(section|run|machine),|^arm4,sluice_10000000' "$CSV" > "$BENCH_DIR/results-10m.csv"; fi
python3 "$BENCH_DIR/lib/report.py" "$BENCH_DIR/results.csv" "$BENCH_DIR/RESULTS.md"
log "wrote $BENCH_DIR/RESULTS.md and $CSV"
