# Arm 6: the read API. Requests/s and latency of GET /api/jobs/{job}/rows/{key} under wrk on
# loopback, for random keys of a migrated table, two sides interleaved:
#   cached:   the row cache enabled and warmed with every row ("warm": "all"): served from memory;
#   uncached: the same config with "cache.enabled": false: each read is one query to the target
#             (the row and its segment's verified check together).
# Both sides: the job completed (every segment verified), every key cohort on the target
# ("reads.targetPercent": 100), a read token, the agent kept running (no --until-done), a fresh
# agent each time. Sourced by run.sh.

# The table's rows: its whole key space fits the cache under BENCH_JAVA_OPTS' small heap (about
# 400 heap bytes a cached row); the 1M-row table of the other arms would not.
READ_ROWS=${BENCH_READ_ROWS:-100000}
# 2 wrk threads (one a core), 16 connections: 4x the agent's read pool (Agent.READ_POOL_SIZE), so the
# uncached side always has queries waiting and both sides run at what the agent can serve.
READ_WRK_OPTS=${BENCH_READ_WRK_OPTS:--t2 -c16}
READ_SECS=${BENCH_READ_SECONDS:-15}
# A discarded run first: the JIT compiles the read path before the measured one starts.
READ_WARMUP_SECS=${BENCH_READ_WARMUP_SECONDS:-5}
# Throwaway: the agent listens on 127.0.0.1 only, for the length of one run.
READ_TOKEN=sluice-bench-read-token
READ_JOB=reads

reads_config() {
  cat > "$1" <<JSON
{
  "source": { "url": "$(pg_url src)", "poolSize": ${BENCH_SLUICE_POOL:-8} },
  "target": { "url": "$(pg_url dst)", "poolSize": ${BENCH_SLUICE_POOL:-8} },
  "http": { "enabled": true, "host": "127.0.0.1", "port": 0, "readToken": "$READ_TOKEN" },
  "jobs": [ { $COPY_JOB
    "name": "$READ_JOB",
    "source": { "table": "public.reads", "key": ["id"] },
    "target": { "table": "public.reads", "create": false },
    "cache": { "enabled": $2, "maxEntries": $(( READ_ROWS * 2 )), "maxBytes": $(( READ_ROWS * 1024 )),
               "warm": "all", "warmRowsPerSecond": 1000000, "warmBatchRows": 10000 },
    "reads": { "targetPercent": 100 }
  } ]
}
JSON
}

# Starts the agent with config $1, log $2; sets READ_PID and READ_PORT (port 0: the agent logs its URL).
reads_agent_start() {
  # shellcheck disable=SC2086
  java $BENCH_JAVA_OPTS -jar "$SLUICE_JAR" run --config "$1" >"$2" 2>&1 &
  READ_PID=$!
  READ_PORT=""
  for _ in $(seq 1 600); do
    READ_PORT=$(sed -n 's|.* started: .*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$2" | head -1)
    [ -n "$READ_PORT" ] && return 0
    kill -0 "$READ_PID" 2>/dev/null || { tail -20 "$2" >&2; die "arm 6: the agent exited at start (log: $2)"; }
    sleep 0.1
  done
  reads_agent_stop; die "arm 6: the agent did not start within 60 s (log: $2)"
}

# SIGTERM and wait: the agent stops its HTTP server and pools and exits.
reads_agent_stop() {
  kill -TERM "$READ_PID" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$READ_PID" 2>/dev/null || { wait "$READ_PID" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$READ_PID" 2>/dev/null || true
  die "arm 6: the agent did not stop within 30 s of SIGTERM"
}

reads_get() { curl -sf --max-time 5 "http://127.0.0.1:$READ_PORT$1"; }

# The job's read statistics as "cache target source notFound warmedRows cacheEntries".
reads_stats() {
  reads_get "/api/jobs/$READ_JOB/reads" | python3 -c 'import json, sys
d = json.load(sys.stdin); s = d["servedFrom"]
print(s["cache"], s["target"], s["source"], d["notFound"], d["warmedRows"], d["cache"]["entries"])'
}

# Waits until the job is completed and, with $1 = cached, every row is in the cache.
reads_wait_ready() {
  local state st
  for _ in $(seq 1 1200); do
    state=$(reads_get /api/jobs | python3 -c "import json, sys
print(next((j['state'] for j in json.load(sys.stdin)['jobs'] if j['name'] == '$READ_JOB'), 'none'))" 2>/dev/null || true)
    if [ "$state" = completed ]; then
      st=($(reads_stats))
      [ "$1" != cached ] || [ "${st[5]}" -ge "$READ_ROWS" ] && return 0
    fi
    kill -0 "$READ_PID" 2>/dev/null || die "arm 6: the agent exited (state $state)"
    sleep 0.25
  done
  reads_agent_stop; die "arm 6: job not completed (state $state) or cache not warmed within 300 s"
}

reads_cpu_ticks() { awk '{print $14 + $15}' "/proc/$READ_PID/stat"; }

# One wrk run of $1 seconds into $2; sets WRK_* from its summary line. Any non-2xx response or
# socket error fails the arm: a benchmark of 401s or 404s must not pass for a fast one.
reads_wrk() {
  # shellcheck disable=SC2086
  READ_KEYS=$READ_ROWS READ_PATH="/api/jobs/$READ_JOB/rows/" wrk $READ_WRK_OPTS -d"$1"s --latency \
    -s "$BENCH_DIR/lib/reads.lua" -H "Authorization: Bearer $READ_TOKEN" "http://127.0.0.1:$READ_PORT" >"$2" 2>&1 \
    || { cat "$2" >&2; reads_agent_stop; die "arm 6: wrk failed (log: $2)"; }
  local line
  line=$(grep '^SLUICE_WRK ' "$2") || { cat "$2" >&2; reads_agent_stop; die "arm 6: no summary from wrk (log: $2)"; }
  eval "$(echo "${line#SLUICE_WRK }" | tr ' ' '\n' | sed 's/^/WRK_/')"
  if [ "$WRK_non2xx" != 0 ] || [ $(( WRK_connect + WRK_read + WRK_write + WRK_timeout )) != 0 ] || [ "$WRK_requests" = 0 ]; then
    cat "$2" >&2; reads_agent_stop
    die "arm 6: $WRK_non2xx non-2xx responses, socket errors connect $WRK_connect read $WRK_read write $WRK_write timeout $WRK_timeout, of $WRK_requests requests (log: $2)"
  fi
}

# One side ($1 = cached | uncached | baseline_uncached: uncached with BENCH_BASELINE_JAR), repetition $2.
reads_side() {
  local side=$1 r=$2 cfg="$WORK/reads-$1.json" before after c0 c1 rps cpu
  # shellcheck disable=SC2034 # read by reads_agent_start
  [ "$side" = baseline_uncached ] && local SLUICE_JAR=$BENCH_BASELINE_JAR
  reads_config "$cfg" "$([ "$side" = cached ] && echo true || echo false)"
  reads_agent_start "$cfg" "$WORK/reads-$side-$r.log"
  reads_wait_ready "$side"
  reads_wrk "$READ_WARMUP_SECS" "$WORK/wrk-$side-$r-warmup.txt"
  before=($(reads_stats))
  c0=$(reads_cpu_ticks)
  reads_wrk "$READ_SECS" "$WORK/wrk-$side-$r.txt"
  c1=$(reads_cpu_ticks)
  after=($(reads_stats))
  reads_agent_stop
  # Where the rows came from, by the agent's own counters: the side must be what it claims.
  local dc=$(( after[0] - before[0] )) dt=$(( after[1] - before[1] )) ds=$(( after[2] - before[2] )) dn=$(( after[3] - before[3] ))
  if [ "$side" = cached ]; then
    [ "$dc" -ge "$WRK_requests" ] && [ "$dt" = 0 ] && [ "$ds" = 0 ] && [ "$dn" = 0 ] \
      || die "arm 6 cached: served from cache $dc, target $dt, source $ds, not found $dn, for $WRK_requests requests"
  else
    [ "$dt" -ge "$WRK_requests" ] && [ "$dc" = 0 ] && [ "$ds" = 0 ] && [ "$dn" = 0 ] \
      || die "arm 6 $side: served from cache $dc, target $dt, source $ds, not found $dn, for $WRK_requests requests"
  fi
  rps=$(awk -v n="$WRK_requests" -v us="$WRK_duration_us" 'BEGIN {printf "%.0f", n / (us / 1e6)}')
  cpu=$(awk -v t=$(( c1 - c0 )) -v hz="$(getconf CLK_TCK)" -v n="$WRK_requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  emit arm6 "${side}_requests_rep$r" "$WRK_requests" requests
  emit arm6 "${side}_rps_rep$r" "$rps" requests/s
  for p in p50 p90 p99 max; do
    local us_var="WRK_${p}_us"
    emit arm6 "${side}_${p}_ms_rep$r" "$(awk -v u="${!us_var}" 'BEGIN {printf "%.3f", u / 1000}')" ms
  done
  emit arm6 "${side}_agent_cpu_us_per_request_rep$r" "$cpu" us
  eval "A6_${side}_RPS+=\" $rps\"; A6_${side}_P50+=\" $WRK_p50_us\"; A6_${side}_P99+=\" $WRK_p99_us\"; A6_${side}_CPU+=\" $cpu\""
  log "arm 6 rep $r $side: $rps requests/s, p50 $(( WRK_p50_us / 1000 )).$(printf '%03d' $(( WRK_p50_us % 1000 ))) ms, p99 $(( WRK_p99_us / 1000 )).$(printf '%03d' $(( WRK_p99_us % 1000 ))) ms, agent CPU $cpu us/request"
}

arm6() {
  log "arm 6: read API, $READ_ROWS-row table, wrk $READ_WRK_OPTS -d${READ_SECS}s, cached vs uncached, $REPS interleaved repetitions"
  # An agent left running by a failure would hold the port and the databases: stop it on any exit.
  trap '[ -n "${READ_PID:-}" ] && kill -TERM "$READ_PID" 2>/dev/null && wait "$READ_PID" 2>/dev/null' EXIT
  command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
  command -v curl >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl; }
  emit arm6 rows "$READ_ROWS" rows
  emit arm6 wrk "$READ_WRK_OPTS -d${READ_SECS}s --latency (after a discarded ${READ_WARMUP_SECS}s run)" ""
  emit machine wrk "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" ""
  q src -c "DROP SCHEMA IF EXISTS sluice CASCADE"
  q src -v tbl=reads -v rows="$READ_ROWS" -f "$BENCH_DIR/lib/dataset.sql"
  { echo "DROP SCHEMA IF EXISTS sluice CASCADE;"; create_empty reads; } | q dst
  # The migration itself (not measured): the first agent copies and verifies; later ones find it completed.
  reads_config "$WORK/reads-migrate.json" false
  reads_agent_start "$WORK/reads-migrate.json" "$WORK/reads-migrate.log"
  reads_wait_ready uncached
  reads_agent_stop
  check_rows dst reads "$READ_ROWS"
  A6_cached_RPS="" A6_cached_P50="" A6_cached_P99="" A6_cached_CPU=""
  A6_uncached_RPS="" A6_uncached_P50="" A6_uncached_P99="" A6_uncached_CPU=""
  A6_baseline_uncached_RPS="" A6_baseline_uncached_P50="" A6_baseline_uncached_P99="" A6_baseline_uncached_CPU=""
  # With BENCH_BASELINE_JAR, a third side: that jar uncached (the read path's own changes, side by side).
  local sides="cached uncached" side
  [ -n "${BENCH_BASELINE_JAR:-}" ] && sides+=" baseline_uncached"
  for r in $(seq 1 "$REPS"); do
    if (( r % 2 )); then
      for side in $sides; do reads_side "$side" "$r"; done
    else
      for side in $(echo "$sides" | tr ' ' '\n' | tac); do reads_side "$side" "$r"; done
    fi
  done
  for side in $sides; do
    eval "local rps=\$A6_${side}_RPS p50=\$A6_${side}_P50 p99=\$A6_${side}_P99 cpu=\$A6_${side}_CPU"
    emit arm6 "${side}_rps_median" "$(awk -v x="$(echo "$rps" | median)" 'BEGIN {printf "%.0f", x}')" requests/s
    emit arm6 "${side}_p50_ms_median" "$(awk -v u="$(echo "$p50" | median)" 'BEGIN {printf "%.3f", u / 1000}')" ms
    emit arm6 "${side}_p99_ms_median" "$(awk -v u="$(echo "$p99" | median)" 'BEGIN {printf "%.3f", u / 1000}')" ms
    emit arm6 "${side}_agent_cpu_us_per_request_median" "$(echo "$cpu" | median)" us
  done
  emit arm6 ratio_cached_vs_uncached_rps "$(ratio "$(echo "$A6_cached_RPS" | median)" "$(echo "$A6_uncached_RPS" | median)")" x
  emit arm6 ratio_cached_vs_uncached_p50 "$(ratio "$(echo "$A6_cached_P50" | median)" "$(echo "$A6_uncached_P50" | median)")" x
  emit arm6 ratio_cached_vs_uncached_p99 "$(ratio "$(echo "$A6_cached_P99" | median)" "$(echo "$A6_uncached_P99" | median)")" x
  if [ -n "${BENCH_BASELINE_JAR:-}" ]; then
    emit arm6 ratio_uncached_vs_baseline_jar_rps "$(ratio "$(echo "$A6_uncached_RPS" | median)" "$(echo "$A6_baseline_uncached_RPS" | median)")" x
    emit arm6 ratio_uncached_vs_baseline_jar_p99 "$(ratio "$(echo "$A6_uncached_P99" | median)" "$(echo "$A6_baseline_uncached_P99" | median)")" x
  fi
  trap - EXIT
  q dst -c "DROP TABLE reads; DROP SCHEMA IF EXISTS sluice CASCADE"
  q src -c "DROP TABLE reads; DROP SCHEMA IF EXISTS sluice CASCADE"
}
