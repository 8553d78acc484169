# Arm 7: hot segments last. A skewed writer (pgbench, fixed rate: 90% of its updates in a hot range
# of 5% of the keys, at BENCH_COLD_HOT_AT percent of the key space (30: key order copies it in the
# first third), the rest anywhere) runs against the source while Sluice
# copies the table with change capture on, once with `"order": "key"` and once with
# `"order": "cold-first"`, interleaved (key, cold-first, cold-first, key, ...). Figure: captured keys
# re-applied to the target (the ledger's changes_applied) until the job is in sync, per 1,000 writes
# the writer made meanwhile. Sourced by run.sh.

BENCH_COLD_ROWS=${BENCH_COLD_ROWS:-200000}
BENCH_COLD_COPY_SECONDS=${BENCH_COLD_COPY_SECONDS:-40}
BENCH_COLD_WRITE_RATE=${BENCH_COLD_WRITE_RATE:-400}
# Where the hot range starts, in percent of the keys. A job's first claims (its first second or two)
# go in key order, before the ranking has 100 captured changes to go by: a hot range in the very first
# segments is copied before cold-first can know it is hot (10 here loses that race about half the time).
BENCH_COLD_HOT_AT=${BENCH_COLD_HOT_AT:-30}

# The hot range: 5% of the keys, starting at BENCH_COLD_HOT_AT% of the key space.
cold_skew_script() {
  cat > "$WORK/skew.sql" <<'SQL'
\set r random(1, 100)
\if :r <= 90
\set id random(:hot_lo, :hot_hi)
\else
\set id random(1, :rows)
\endif
UPDATE bench_cold SET qty = qty + 1 WHERE id = :id;
SQL
}

# One run: $1 order (key | cold-first), $2 repetition. Emits arm7 <order>_*_rep<N>.
cold_run() {
  local order=$1 rep=$2 cfg=$WORK/cold-$1-$2.json logf=$WORK/cold-$1-$2.log pid wpid t0 state writes applied q0
  local rate=$(( BENCH_COLD_ROWS / BENCH_COLD_COPY_SECONDS ))
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty bench_cold; } | q dst
  sluice_config "$cfg" src dst bench_cold bench_cold cold "\"order\": \"$order\", \"segment\": {\"rows\": $(( BENCH_COLD_ROWS / 40 ))}, \"pace\": {\"rowsPerSecond\": $rate}, \"capture\": {\"inSyncRows\": 200},"
  # The writer is the users: the foreground control would rightly slow Sluice whenever it runs, which
  # is arm 3's subject, not this one's. Off here, so both orders copy at the same pace.
  python3 - "$cfg" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p)); c["health"] = {"foreground": {"enabled": False}}; json.dump(c, open(p, "w"), indent=2)
PY
  # Each write adds 1 to qty: the writes made are the sum's growth (pgbench stopped early prints nothing).
  q0=$(q1 src "SELECT sum(qty) FROM bench_cold")
  pgbench -n -c 2 -j 2 -R "$BENCH_COLD_WRITE_RATE" -T 900 -f "$WORK/skew.sql" -D rows="$BENCH_COLD_ROWS" \
    -D hot_lo=$(( BENCH_COLD_ROWS * BENCH_COLD_HOT_AT / 100 )) -D hot_hi=$(( BENCH_COLD_ROWS * BENCH_COLD_HOT_AT / 100 + BENCH_COLD_ROWS / 20 )) src >"$WORK/cold-pgbench-$1-$2.txt" 2>&1 &
  wpid=$!
  t0=$(date +%s%N)
  SLUICE_JAR="$SLUICE_JAR" SLUICE_JAVA_OPTS="$BENCH_JAVA_OPTS" "$ROOT/bin/sluice" run --config "$cfg" --until-done >"$logf" 2>&1 &
  pid=$!
  state=""
  for _ in $(seq 1 1200); do
    state=$(q1 dst "SELECT state FROM sluice.jobs WHERE name = 'cold'" 2>/dev/null || true)
    # With --until-done the agent completes the job as soon as it is in sync and verified.
    { [ "$state" = in_sync ] || [ "$state" = completed ]; } && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; kill -TERM "$wpid" 2>/dev/null; die "arm 7: the agent exited before the job was in sync (log: $logf)"; }
    sleep 0.5
  done
  { [ "$state" = in_sync ] || [ "$state" = completed ]; } || die "arm 7: job not in sync after 10 minutes (log: $logf)"
  # SIGTERM: a background job of a script ignores SIGINT.
  applied=$(q1 dst "SELECT changes_applied FROM sluice.jobs WHERE name = 'cold'")
  kill -TERM "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null || true
  writes=$(( $(q1 src "SELECT sum(qty) FROM bench_cold") - q0 ))
  emit arm7 "${order}_secs_to_in_sync_rep$rep" "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')" s
  # With --until-done the agent completes the job itself once in sync and verified; complete is for the other case.
  "$ROOT/bin/sluice" complete --config "$cfg" --job cold >/dev/null 2>&1 || true
  wait "$pid" || die "arm 7: the agent failed (log: $logf)"
  check_rows dst bench_cold "$(q1 src 'SELECT count(*) FROM bench_cold')"
  emit arm7 "${order}_writes_rep$rep" "${writes:-0}" transactions
  emit arm7 "${order}_keys_reapplied_rep$rep" "$applied" keys
  emit arm7 "${order}_reapplied_per_1000_writes_rep$rep" "$(awk -v a="$applied" -v w="${writes:-0}" 'BEGIN {printf "%.1f", (w > 0 ? 1000 * a / w : 0)}')" ""
  log "arm 7 $order rep $rep: $applied keys re-applied for ${writes:-?} writes"
}

arm7() {
  log "arm 7: cold-first vs key order under a skewed writer ($BENCH_COLD_ROWS rows, ${BENCH_COLD_WRITE_RATE} writes/s)"
  q src -c "DROP TABLE IF EXISTS bench_cold; CREATE TABLE bench_cold AS SELECT * FROM bench ORDER BY id LIMIT $BENCH_COLD_ROWS; \
    ALTER TABLE bench_cold ADD PRIMARY KEY (id)"
  cold_skew_script
  emit arm7 rows "$BENCH_COLD_ROWS" rows
  emit arm7 write_rate "$BENCH_COLD_WRITE_RATE" tx/s
  emit arm7 hot_at_percent "$BENCH_COLD_HOT_AT" "%"
  emit arm7 copy_rate "$(( BENCH_COLD_ROWS / BENCH_COLD_COPY_SECONDS ))" rows/s
  local i a b
  for i in $(seq 1 "$REPS"); do
    # The order rotates each repetition so neither side always runs on a warmer machine.
    if [ $((i % 2)) -eq 1 ]; then a=key; b=cold-first; else a=cold-first; b=key; fi
    cold_run "$a" "$i"
    cold_run "$b" "$i"
  done
  local side
  for side in key cold-first; do
    emit arm7 "${side}_reapplied_per_1000_writes_median" "$(for i in $(seq 1 "$REPS"); do grep "^arm7,${side}_reapplied_per_1000_writes_rep$i," "$CSV" | cut -d, -f3; done | median)" ""
    emit arm7 "${side}_keys_reapplied_median" "$(for i in $(seq 1 "$REPS"); do grep "^arm7,${side}_keys_reapplied_rep$i," "$CSV" | cut -d, -f3; done | median)" keys
  done
  emit arm7 ratio_cold_first_vs_key "$(ratio "$(grep '^arm7,cold-first_reapplied_per_1000_writes_median,' "$CSV" | cut -d, -f3)" \
    "$(grep '^arm7,key_reapplied_per_1000_writes_median,' "$CSV" | cut -d, -f3)")" ""
  q src -c "DROP TABLE bench_cold; DROP SCHEMA IF EXISTS sluice CASCADE"
  q dst -c "DROP TABLE IF EXISTS bench_cold; DROP SCHEMA IF EXISTS sluice CASCADE"
}
