# Arm 5: JMH micro-benchmarks of the hot pure code, run here (never in `mvn verify`). Short runs:
# one fork, few iterations. Sourced by run.sh.

arm5() {
  log "arm 5: JMH micro-benchmarks"
  mvn -B -q -f "$ROOT/pom.xml" -pl benchmarks -am -Pjmh -DskipTests package >"$WORK/jmh-build.log" 2>&1 \
    || { tail -30 "$WORK/jmh-build.log" >&2; die "building the JMH benchmarks failed"; }
  java -jar "$BENCH_DIR/target/sluice-benchmarks.jar" -f 1 -wi 2 -w 1s -i 3 -r 1s -tu ns \
    -rf csv -rff "$WORK/jmh.csv" >"$WORK/jmh.log" 2>&1 || { tail -30 "$WORK/jmh.log" >&2; die "JMH failed"; }
  # JMH CSV: "Benchmark","Mode","Threads","Samples","Score","Score Error (99.9%)","Unit"[,params]
  python3 - "$WORK/jmh.csv" >> "$CSV" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
for r in rows[1:]:
    name = r[0].rsplit(".", 2)[-2] + "." + r[0].rsplit(".", 1)[-1]
    params = ";".join(f"{h.replace('Param: ', '')}={v}" for h, v in zip(head[7:], r[7:]) if v)
    if params:
        name += "[" + params + "]"
    print(f"arm5,{name},{float(r[4]):.3f},{r[6]}")
PY
}
