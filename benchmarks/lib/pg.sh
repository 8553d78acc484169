# PostgreSQL for the benchmarks: a dedicated Debian cluster (PostgreSQL 15, "sluicebench", its own
# port) so the settings are ours and nobody else's server is restarted. Sourced by run.sh.

# BENCH_PG_STOCK=1: a cluster of its own left at Debian's defaults ("sluicestock", port 55472): only
# the loopback address, the port and trust on loopback are set, as a new user's server would be.
BENCH_PG_VERSION=${BENCH_PG_VERSION:-15}
if [ "${BENCH_PG_STOCK:-0}" = 1 ]; then
  BENCH_PG_CLUSTER=${BENCH_PG_CLUSTER:-sluicestock}
  BENCH_PG_PORT=${BENCH_PG_PORT:-55472}
else
  BENCH_PG_CLUSTER=${BENCH_PG_CLUSTER:-sluicebench}
  BENCH_PG_PORT=${BENCH_PG_PORT:-55432}
fi
PGHOST=127.0.0.1
PGPORT=$BENCH_PG_PORT
PGUSER=postgres
PGOPTIONS="-c client_min_messages=warning"
export PGHOST PGPORT PGUSER PGOPTIONS

PG_DATA=/var/lib/postgresql/$BENCH_PG_VERSION/$BENCH_PG_CLUSTER

pg_url() { echo "postgresql://postgres@127.0.0.1:${BENCH_PG_PORT}/$1"; }

# Quiet psql on database $1 with the rest as arguments.
q() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# One value from one query.
q1() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"; }

pg_setup() {
  if ! command -v pg_ctlcluster >/dev/null || [ ! -x "/usr/lib/postgresql/$BENCH_PG_VERSION/bin/postgres" ]; then
    log "installing postgresql-$BENCH_PG_VERSION"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-$BENCH_PG_VERSION"
  fi
  for tool in pgcopydb pgbench; do
    command -v $tool >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgcopydb; }
  done
  if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$BENCH_PG_VERSION/$BENCH_PG_CLUSTER"; then
    log "creating cluster $BENCH_PG_VERSION/$BENCH_PG_CLUSTER on port $BENCH_PG_PORT"
    pg_createcluster "$BENCH_PG_VERSION" "$BENCH_PG_CLUSTER" --port "$BENCH_PG_PORT" >/dev/null
  fi
  local conf=/etc/postgresql/$BENCH_PG_VERSION/$BENCH_PG_CLUSTER
  # Loopback only, trust: the benchmark's throwaway server, never reachable from outside.
  cat > "$conf/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
HBA
  if [ "${BENCH_PG_STOCK:-0}" = 1 ]; then
    printf "listen_addresses = '127.0.0.1'\nport = %s\n" "$BENCH_PG_PORT" > "$conf/conf.d/sluicebench.conf"
  else
  # Sized for a small shared machine: data fits in RAM, no checkpoint storms mid-run.
  cat > "$conf/conf.d/sluicebench.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $BENCH_PG_PORT
max_connections = 100
shared_buffers = 1GB
work_mem = 16MB
maintenance_work_mem = 256MB
effective_cache_size = 4GB
max_wal_size = 8GB
min_wal_size = 1GB
checkpoint_timeout = 30min
checkpoint_completion_target = 0.9
wal_compression = off
synchronous_commit = on
fsync = on
full_page_writes = on
max_worker_processes = 8
max_parallel_workers_per_gather = 2
log_min_duration_statement = -1
track_io_timing = on
CONF
  fi
  # BENCH_PG_LOGICAL=1 (arms 8 and 9): logical decoding, for capture.mode logical. The slots and WAL
  # senders it needs are within PostgreSQL 15's defaults (10 each).
  [ "${BENCH_PG_LOGICAL:-0}" = 1 ] && echo "wal_level = logical" >> "$conf/conf.d/sluicebench.conf"
  # BENCH_PG_EXTRA_CONF: more lines (BENCH_WAL_PROFILE: pg_stat_statements).
  [ -n "${BENCH_PG_EXTRA_CONF:-}" ] && echo "$BENCH_PG_EXTRA_CONF" >> "$conf/conf.d/sluicebench.conf"
  # The server must not inherit the caller's open files (3-9): under `flock LOCK benchmarks/run.sh`
  # it would hold the lock for as long as it runs.
  if pg_lsclusters -h | awk -v v="$BENCH_PG_VERSION" -v c="$BENCH_PG_CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
    pg_ctlcluster "$BENCH_PG_VERSION" "$BENCH_PG_CLUSTER" restart 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  else
    pg_ctlcluster "$BENCH_PG_VERSION" "$BENCH_PG_CLUSTER" start 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  fi
  for _ in $(seq 1 30); do pg_isready -q && return 0; sleep 1; done
  die "PostgreSQL $BENCH_PG_VERSION/$BENCH_PG_CLUSTER did not come up"
}

# Every setting not at its built-in default, as CSV rows.
pg_settings_csv() {
  q1 postgres "SELECT 'pg_setting,' || name || ',' || replace(current_setting(name), ',', ';') || ','
               FROM pg_settings WHERE source IN ('configuration file', 'command line') ORDER BY name"
}
