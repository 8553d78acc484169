"""RESULTS.md's section for arms 8 and 9 (change capture from the WAL), from benchmarks/results-wal.csv.
Used by report.py."""
import csv
import os


def wal_run(base, w, load):
    """load: report.load. Arms 8 and 9 (issue 15: change capture from the WAL), both clusters, from results.csv when it
    has them, else from results-wal.csv next to it when that exists; then arm 9 against a baseline jar
    (results-applier.csv, BENCH_CSV) when that exists."""
    # A run of every arm keeps them in results.csv; a run of only 8 and 9 in results-wal.csv.
    with open(base) as fh:
        in_base = any(line.startswith(("arm8,", "arm9,")) for line in fh)
    path = base if in_base else os.path.join(os.path.dirname(base), "results-wal.csv")
    if os.path.exists(path):
        wal_section(path, w, load, "Change capture from the WAL: arms 8 and 9, tuned and stock cluster")
    side = os.path.join(os.path.dirname(base), "results-applier.csv")
    if os.path.exists(side):
        wal_section(side, w, load, "The applier against a baseline jar: arm 9 side by side")


def wal_section(path, w, load, title):
    figs, _ = load(path)
    with open(path) as fh:
        rows = list(csv.reader(fh))[1:]
    v = lambda s, n, d="n/a": figs.get((s, n), (d, ""))[0]

    def f(s, n):
        try:
            return float(v(s, n))
        except ValueError:
            return None

    def goal(ok):
        return "n/a (not run)" if ok is None else ("**met**" if ok else "**missed**")

    clusters = v("run", "wal_clusters", "").split(";")
    names = {"tuned": "tuned (`sluicewal`)", "stock": "stock (`sluicestock`)"}
    w(f"\n## {title}\n")
    w(f"Produced by `{v('run', 'command').replace(';', ',').strip()}` (`benchmarks/{os.path.basename(path)}`), started "
      f"{v('run', 'started_utc')}, finished {v('run', 'finished_utc')}, Sluice commit {v('run', 'commit')}, "
      f"{int(v('run', 'rows', '0')):,} rows in `bench`; load average {v('machine', 'loadavg_start').replace(';', ' ')} at the start, "
      f"{v('machine', 'loadavg_end').replace(';', ' ')} at the end. Both clusters are PostgreSQL "
      f"{v('wal_tuned', 'postgres', v('wal_stock', 'postgres'))} with `wal_level=logical`; **tuned** has the benchmark "
      "cluster's settings (shared_buffers 1GB, max_wal_size 8GB, ...), **stock** Debian's defaults. One cluster runs at a time, "
      "same machine, same run.\n")
    for cl in clusters:
        st = [(n, val) for s, n, val, *_ in rows if s == f"pg_setting_{cl}" and n in
              ("shared_buffers", "max_wal_size", "wal_level", "checkpoint_timeout", "work_mem")]
        if st:
            w(f"- {names.get(cl, cl)}: " + ", ".join(f"`{n}={val}`" for n, val in st))
    if any(("arm8", f"{cl}_none_p99_ms") in figs for cl in clusters):
        w(f"\n### Arm 8: writers on the migrating table\n")
        w(f"pgbench `{v('run', 'wal_pgbench')}` (4 in 5 transactions update a random row of `bench`, 1 in 5 insert a new one), "
          "latency from each transaction's scheduled start, three phases one after the other: no migration; Sluice "
          "(its defaults, one agent) migrating `bench` itself with `capture.mode: trigger`; the same with `capture.mode: logical`. "
          "The window opens once the agent logs its first copy (trigger or slot in place, JVM started) and covers the copy and, "
          "if that ends first, the job in sync with capture on. Copy rows/s: the table's rows over the time the job took to leave "
          "`copying` within the window (or the rows in the target over the window when the copy was not done).\n")
        w("| cluster | phase | tx | p50 ms | p99 ms | max ms | late (> limit) | copy s | rows/s moved |\n|---|---|---|---|---|---|---|---|---|")
        for cl in clusters:
            for m in ("none", "trigger", "logical", "logicalnice"):
                k = f"{cl}_{m}"
                if ("arm8", k + "_p99_ms") not in figs:
                    continue
                w(f"| {cl} | {m} | {v('arm8', k + '_transactions')} | {v('arm8', k + '_p50_ms')} | {v('arm8', k + '_p99_ms')} | "
                  f"{v('arm8', k + '_max_ms')} | {v('arm8', k + '_late_over_limit')} | {v('arm8', k + '_copy_secs') if m != 'none' else ''} | "
                  f"{v('arm8', k + '_rows_per_sec') if m != 'none' else ''} |")
        w("")
        for cl in clusters:
            lg, tr = f("arm8", f"{cl}_ratio_logical_p99_vs_none"), f("arm8", f"{cl}_ratio_trigger_p99_vs_none")
            w(f"- {names.get(cl, cl)}: writers' p99 with logical capture / no migration: **{v('arm8', cl + '_ratio_logical_p99_vs_none')}x** "
              f"(goal <= 1.25): {goal(None if lg is None else lg <= 1.25)}; with trigger capture: {v('arm8', cl + '_ratio_trigger_p99_vs_none')}x")
            ln = f("arm8", f"{cl}_ratio_logicalnice_p99_vs_none")
            if ln is not None:
                w(f"- {names.get(cl, cl)}: with logical capture and `sessions.nice: {v('arm8', 'nice')}` (phase `logicalnice`): "
                  f"**{v('arm8', cl + '_ratio_logicalnice_p99_vs_none')}x** (goal <= 1.25): {goal(ln <= 1.25)}")
        w("\nOne phase each, one after the other, on a machine shared with other builds and test suites: every transaction "
          "commits with an fsync (`synchronous_commit = on`), so the p99 of 200 tx/s is set by the disk's worst flushes, which "
          "other processes share. A logical phase below the no-migration one is that noise, not a gain; read the p50 and the late "
          "counts with the p99, and [PROFILE.md](PROFILE.md#change-capture-from-the-wal-issue-15-what-the-writers-and-the-applier-pay) "
          "for what this run does and does not show.")
    if any(("arm9", f"{cl}_trigger_burst_keys") in figs for cl in clusters):
        w(f"\n### Arm 9: the applier, unpaced, after a burst\n")
        w(f"An agent (foreground control off, no pace, `capture.batchRows` at its default) migrates `bench`; once the job is in sync "
          f"and its final pass is done, one statement updates {int(v('run', 'wal_burst', '0')):,} keys "
          "(`UPDATE bench SET qty = qty + 1 WHERE id <= N`): the capture is then as far behind as it gets. The ledger is polled every "
          "0.2 s or so (`sluice.jobs.changes_applied`, the applier's own count); in logical mode also the changelog's newest entry "
          "id (the WAL reader's progress) and, about every 1.5 s, `/metrics` (`sluice_capture_wal_keys_per_second`, "
          "`sluice_capture_wal_lag_seconds`). The statement's own time shows the trigger's cost to that writer. After the drain "
          "the target is checked equal to the source (row count and `sum(qty)`).\n")
        if v("run", "baseline_jar", ""):
            w(f"Rows `<cluster>_base` ran the baseline jar `{v('run', 'baseline_jar')}` on the same cluster right before this "
              "build's row of the same mode (`BENCH_BASELINE_JAR`).\n")
        w("| cluster | capture | burst statement s | catch-up s | end-to-end keys/s | applier keys/s | reader s | reader keys/s | /metrics keys/s max | /metrics lag s max | agent CPU s | drain: PostgreSQL CPU s | drain: agent CPU s | drain: CPU µs a key |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for cl in [c for cl in clusters for c in (cl + "_base", cl)]:
            for m in ("trigger", "logical"):
                k = f"{cl}_{m}"
                if ("arm9", k + "_burst_keys") not in figs:
                    continue
                lm = m == "logical"
                rs, n = f("arm9", k + "_reader_secs"), f("arm9", k + "_burst_keys")
                rk = f"{n / rs:.0f}" if lm and rs and n else ""
                r0 = lambda name: (f"{f('arm9', k + name):.0f}" if f("arm9", k + name) is not None else v("arm9", k + name)) if lm else ""
                w(f"| {cl} | {m} | {v('arm9', k + '_burst_statement_secs')} | {v('arm9', k + '_catch_up_secs')} | "
                  f"{v('arm9', k + '_end_to_end_keys_per_sec')} | {v('arm9', k + '_applier_keys_per_sec')} | "
                  f"{v('arm9', k + '_reader_secs') if lm else ''} | {rk} | "
                  f"{r0('_metrics_wal_keys_per_sec_max')} | {r0('_metrics_wal_lag_secs_max')} | "
                  f"{v('arm9', k + '_agent_cpu_secs')} | {v('arm9', k + '_drain_pg_cpu_secs', '')} | "
                  f"{v('arm9', k + '_drain_agent_cpu_secs', '')} | {v('arm9', k + '_drain_cpu_us_per_key', '')} |")
        w("\n**catch-up**: from the burst's commit until the applier has applied all N keys; **end-to-end keys/s**: N / catch-up. "
          "**applier keys/s**: N over the applier's own drain, from the moment it can start (trigger: the commit, every entry is "
          "in the changelog then; logical: the reader's first entry, or the first key applied when the reader hands its keys to "
          "the applier in memory and records none) to the last key applied. **reader s**: from the commit until "
          "the WAL reader has recorded all N entries in the changelog (empty when it recorded none); **reader keys/s**: N / reader s. /metrics maxima are the "
          "agent's per-second gauges sampled about every 1.5 s (a cross-check, they can miss a short peak). The polls start a "
          "`psql` per figure: about a tenth of the machine's CPU during a drain (perf, PROFILE.md), so these rates are a "
          "little understated. **drain**: CPU over the catch-up (from the burst's commit to the last key applied), of the whole "
          "cluster (source and target share it: backends, WAL sender, autovacuum; the polls' own backends included) and of the "
          "agent; **CPU µs a key**: the two over N. The machine's other load moves CPU per key much less than wall time: on two "
          "cores, 50,000 keys/s leaves at most 40 µs of CPU a key for everything. What bounds the applier: PROFILE.md.")
        w("")
        for cl in clusters:
            for m in ("trigger", "logical"):
                a = f("arm9", f"{cl}_{m}_applier_keys_per_sec")
                w(f"- {names.get(cl, cl)}, {m}: applier **{v('arm9', cl + '_' + m + '_applier_keys_per_sec')} keys/s** "
                  f"(goal >= 50,000): {goal(None if a is None else a >= 50000)}")
                b = f("arm9", f"{cl}_base_{m}_applier_keys_per_sec")
                if a is not None and b:
                    w(f"- {names.get(cl, cl)}, {m}: this build / the baseline jar, applier keys/s: **{a / b:.2f}x**")
    w("")
