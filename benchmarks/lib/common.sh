# Small helpers shared by the benchmark scripts. Sourced by run.sh.

log() { printf '%s [bench] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# Appends one figure to the results CSV: section, name, value, unit.
emit() { printf '%s,%s,%s,%s\n' "$1" "$2" "${3//,/;}" "$4" >> "$CSV"; }

# CPU seconds PostgreSQL's backends used so far: the postmaster's reaped children (user + system).
# Backends count once their connection has closed; the background writers are not counted.
pg_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($16 + $17) / hz}' "/proc/$(head -1 "$PG_DATA/postmaster.pid")/stat"
}

# CPU seconds PostgreSQL used so far, live backends included: the postmaster's reaped children plus
# every child still running (user + system). A backend that exits moves its time from the second sum
# to the first, so the total only grows: the difference of two readings is what the cluster's
# processes (backends, WAL senders, autovacuum, background writers) used between them.
pg_cpu_live() {
  local pm hz
  pm=$(head -1 "$PG_DATA/postmaster.pid")
  hz=$(getconf CLK_TCK)
  { cat "/proc/$pm/stat"; for c in $(pgrep -P "$pm"); do cat "/proc/$c/stat" 2>/dev/null || true; done; } \
    | awk -v hz="$hz" 'NR == 1 {t = $14 + $15 + $16 + $17; next} {t += $14 + $15} END {printf "%.2f", t / hz}'
}

# CPU seconds a process and its children used so far (user + system; live children and reaped ones).
tree_cpu() {
  local hz
  hz=$(getconf CLK_TCK)
  { cat "/proc/$1/stat" 2>/dev/null || true; for c in $(pgrep -P "$1"); do cat "/proc/$c/stat" 2>/dev/null || true; done; } \
    | awk -v hz="$hz" '{t += $14 + $15 + (NR == 1 ? $16 + $17 : 0)} END {printf "%.2f", t / hz}'
}

# A backend's CPU counts once the postmaster has reaped it, a moment after its client left: without
# this wait a short run's only backend (a psql INSERT .. SELECT) was often not counted at all.
pg_reaped() { sleep 0.3; }

# Wall time of a command in seconds (3 decimals), its CPU (TIMED_CPU: user + system of it and its
# children) and PostgreSQL's CPU meanwhile (TIMED_PG_CPU); the command's output goes to $LAST_LOG.
timed() {
  local t0 rc=0 pg0
  t0=$(date +%s%N)
  pg0=$(pg_cpu)
  ( rc=0; "$@" >"$LAST_LOG" 2>&1 || rc=$?; times > "$WORK/times"; exit $rc ) || rc=$?
  TIMED_SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  pg_reaped
  TIMED_PG_CPU=$(awk -v a="$pg0" -v b="$(pg_cpu)" 'BEGIN {printf "%.2f", b - a}')
  # `times`, second line: the children's user and system time, as 0m1.234s 0m0.100s.
  TIMED_CPU=$(awk 'NR == 2 {t = 0; for (i = 1; i <= 2; i++) {split($i, p, /[ms]/); t += p[1] * 60 + p[2]}; printf "%.2f", t}' "$WORK/times")
  [ $rc -eq 0 ] || { tail -20 "$LAST_LOG" >&2; die "$* exited $rc (log: $LAST_LOG)"; }
}

# The benchmark table's DDL with its primary key: an empty target ($1 = table name).
create_empty() {
  cat <<SQL
DROP TABLE IF EXISTS $1;
CREATE TABLE $1 (id bigint PRIMARY KEY, account_id bigint NOT NULL, label text NOT NULL, qty int NOT NULL,
  amount numeric(12, 2) NOT NULL, note text, created_at timestamptz NOT NULL);
SQL
}

# Fails unless table $2 in db $1 holds exactly $3 rows.
check_rows() {
  local n
  n=$(q1 "$1" "SELECT count(*) FROM $2")
  [ "$n" = "$3" ] || die "$1.$2 holds $n rows, expected $3"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

# Every process of the cluster at this moment (for cpu_by_process.py): the postmaster's own CPU and
# its reaped children's, then each live child's pid, CPU ticks and title. Written to file $1.
pg_cpu_snapshot() {
  local pm
  pm=$(head -1 "$PG_DATA/postmaster.pid")
  { echo "postmaster $(awk '{print $14 + $15, $16 + $17}' "/proc/$pm/stat")"
    for c in $(pgrep -P "$pm"); do
      echo "$c $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null) $(tr '\0' ' ' < "/proc/$c/cmdline" 2>/dev/null | cut -c1-80)"
    done; } > "$1"
}
