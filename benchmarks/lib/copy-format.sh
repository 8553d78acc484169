#!/bin/bash
# Binary vs text COPY on the benchmark cluster (docs/scaling.md, "Text, not binary"): the segment query of 1M rows
# piped into COPY FROM STDIN both ways, 3 repetitions: wall s, PostgreSQL CPU s, and COPY TO alone with its bytes.
# Run as root after run.sh created the cluster: benchmarks/lib/copy-format.sh
set -e
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WORK=${BENCH_WORK:-/tmp/sluice-bench}/copy-format; mkdir -p "$WORK"
. lib/common.sh; . lib/pg.sh
CSV=/dev/null
if [ "$(q1 postgres "SELECT count(*) FROM pg_database WHERE datname = 'fsrc'")" = 0 ]; then
  q postgres -c "CREATE DATABASE fsrc" -c "CREATE DATABASE fdst"
  q fsrc -v tbl=bench -v rows=1000000 -f lib/dataset.sql
fi
COLS="id, account_id, label, qty, amount, note, created_at"
SEL="SELECT id, account_id, label, qty, amount, note, created_at FROM bench WHERE id >= 1 AND id < 1000001 ORDER BY id"
pipe() { psql -X -q -d fsrc -c "COPY ($SEL) TO STDOUT $1" | psql -X -q -d fdst -c "COPY bench ($COLS) FROM STDIN $1"; }
outonly() { psql -X -q -d fsrc -c "COPY ($SEL) TO STDOUT $1" | wc -c > $WORK/bytes; }
for rep in 1 2 3; do
  for fmt in "" "(FORMAT binary)"; do
    { create_empty bench; } | q fdst
    q fdst -c CHECKPOINT
    LAST_LOG=$WORK/log timed pipe "$fmt"
    p=$TIMED_SECS; pc=$TIMED_PG_CPU
    LAST_LOG=$WORK/log timed outonly "$fmt"
    echo "rep $rep format ${fmt:-text}: pipe ${p}s pg_cpu ${pc}s; COPY TO only ${TIMED_SECS}s pg_cpu ${TIMED_PG_CPU}s, $(cat $WORK/bytes) bytes"
  done
done
