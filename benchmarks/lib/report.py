"""Writes benchmarks/RESULTS.md from the CSV that run.sh produced: every figure comes from there.
usage: report.py results.csv RESULTS.md
"""
import csv
import sys

from report_wal import wal_run


def load(path):
    figs, settings = {}, []
    with open(path) as fh:
        for row in list(csv.reader(fh))[1:]:
            section, name, value, unit = (row + ["", "", "", ""])[:4]
            if section == "pg_setting":
                settings.append((name, value, unit))
            else:
                figs[(section, name)] = (value, unit)
    return figs, settings


def arm1(figs, w):
    """Arm 1's table, ratios and goals from one run's figures (contenders absent from the run are left out)."""
    def v(section, name, default="n/a"):
        return figs.get((section, name), (default, ""))[0]

    def f(section, name):
        try:
            return float(v(section, name))
        except ValueError:
            return None

    def goal(ok):
        return "n/a (not run)" if ok is None else ("**met**" if ok else "**missed**")

    rows = int(v("run", "rows", "0"))
    w("Every contender copies `src.bench` into the same target state: an empty `dst.bench` with its primary key. "
      "Sluice runs as `sluice run --until-done` (JVM start, planning and ledger included): **copy only** "
      "(`capture.enabled: false`, `verify.finalPass: false`, `verify.perSegment: false`: what the pipe and pgcopydb do), "
      "**copy job** (the same with per-segment verification: each segment's target range read back and compared with what "
      "the copy read), and with **every default** (change capture until in sync, then a final verification pass over the "
      "whole table). The COPY pipe is `psql \\copy bench to stdout | psql \\copy bench from stdin`; **pipe + checksum** is "
      "that pipe followed by `SELECT count(*), sum(hashtextextended(t::text, 0)) FROM bench t` on both sides at once, "
      "compared; pgcopydb is `pgcopydb copy table-data` limited to the table (it has no per-table parallelism at this "
      "version, and no compare command).\n")
    w("| contender | seconds (median) | each repetition | rows/s | client CPU s (each) | PostgreSQL CPU s (each) |\n|---|---|---|---|---|---|")
    contenders = [("Sluice (copy only)", "sluice_only_secs"), ("Sluice (copy job, per-segment verification)", "sluice_secs"),
                  ("Sluice (every default)", "sluice_full_secs"), ("COPY pipe", "copy_pipe_secs"),
                  ("COPY pipe + checksum", "pipe_checksum_secs"), ("pgcopydb", "pgcopydb_secs"),
                  ("Sluice, baseline jar (copy job)", "baseline_jar_secs"), ("Sluice, baseline jar (copy only)", "baseline_jar_only_secs")]
    for label, key in contenders:
        if ("arm1", f"{key}_median") not in figs and ("arm1", f"{key}_rep1") not in figs:
            continue
        reps = [v("arm1", f"{key}_rep{i}") for i in range(1, 20) if ("arm1", f"{key}_rep{i}") in figs]
        med = f("arm1", f"{key}_median")
        rate = f"{rows / med:,.0f}" if med else "n/a"
        base = key[:-len("_secs")]
        cpu = [v("arm1", f"{base}_client_cpu_rep{i}") for i in range(1, 20) if ("arm1", f"{base}_client_cpu_rep{i}") in figs]
        pgc = [v("arm1", f"{base}_pg_cpu_rep{i}") for i in range(1, 20) if ("arm1", f"{base}_pg_cpu_rep{i}") in figs]
        w(f"| {label} | {v('arm1', key + '_median')} | {', '.join(reps)} | {rate} | {', '.join(cpu)} | {', '.join(pgc)} |")
    w("\nCPU: the client's user + system seconds (the agent's JVM included), and what PostgreSQL's backends "
      "used meanwhile (counted when their connections close; background writers not counted). With two shared cores, "
      "CPU seconds are what bounds the wall time.\n")
    if ("arm1", "ratio_sluice_only_vs_copy_pipe") in figs:
        r1, r2 = f("arm1", "ratio_sluice_only_vs_copy_pipe"), f("arm1", "ratio_sluice_only_vs_pgcopydb")
        r3, r4 = f("arm1", "ratio_sluice_vs_pipe_checksum"), f("arm1", "ratio_pg_cpu_sluice_only_vs_copy_pipe")
        r5 = f("arm1", "ratio_sluice_full_vs_copy_pipe")
        w(f"- Sluice copy only / COPY pipe: **{v('arm1', 'ratio_sluice_only_vs_copy_pipe')}x** (goal <= 1.0): {goal(None if r1 is None else r1 <= 1.0)}")
        w(f"- Sluice copy only / pgcopydb: **{v('arm1', 'ratio_sluice_only_vs_pgcopydb')}x** (goal <= 1.0): {goal(None if r2 is None else r2 <= 1.0)}")
        w(f"- Sluice copy job (per-segment verification) / COPY pipe + checksum: **{v('arm1', 'ratio_sluice_vs_pipe_checksum')}x** "
          f"(goal <= 1.0): {goal(None if r3 is None else r3 <= 1.0)}")
        w(f"- PostgreSQL CPU-s per million rows, copy only: Sluice {v('arm1', 'sluice_only_pg_cpu_per_mrow')}, pipe "
          f"{v('arm1', 'copy_pipe_pg_cpu_per_mrow')}: **{v('arm1', 'ratio_pg_cpu_sluice_only_vs_copy_pipe')}x** (goal <= 1.3): "
          f"{goal(None if r4 is None else r4 <= 1.3)}")
        w(f"- Sluice with every default / COPY pipe: **{v('arm1', 'ratio_sluice_full_vs_copy_pipe')}x** (goal <= 1.5): "
          f"{goal(None if r5 is None else r5 <= 1.5)}")
    else:
        r1, r2 = f("arm1", "ratio_sluice_vs_copy_pipe"), f("arm1", "ratio_sluice_vs_pgcopydb")
        w(f"- Sluice / COPY pipe: **{v('arm1', 'ratio_sluice_vs_copy_pipe')}x** (goal <= 1.0): {goal(None if r1 is None else r1 <= 1.0)}")
        w(f"- Sluice / pgcopydb: **{v('arm1', 'ratio_sluice_vs_pgcopydb')}x** (goal < 1.0): {goal(None if r2 is None else r2 < 1.0)}")
        w(f"- Sluice with every default / COPY pipe: **{v('arm1', 'ratio_sluice_full_vs_copy_pipe')}x** (no goal)")
    if ("arm1", "ratio_sluice_vs_baseline_jar") in figs:
        w(f"- Sluice copy job / the baseline jar's (`BENCH_BASELINE_JAR`, {v('run', 'baseline_jar')}): **{v('arm1', 'ratio_sluice_vs_baseline_jar')}x**")
    if ("arm1", "ratio_sluice_only_vs_baseline_jar_only") in figs:
        w(f"- Sluice copy only / the baseline jar's copy only: **{v('arm1', 'ratio_sluice_only_vs_baseline_jar_only')}x** time, "
          f"**{v('arm1', 'ratio_pg_cpu_sluice_only_vs_baseline_jar_only')}x** PostgreSQL CPU")
    hwm = f("arm4", f"sluice_{rows}_hwm_kb")
    if hwm is not None:
        w(f"- Peak RSS of the agent (largest of the Sluice runs above, VmHWM): **{hwm / 1024:.0f} MiB** (goal <= 192 MiB): {goal(hwm <= 192 * 1024)}")
    if ("arm4", "sluice_10000000_hwm_kb") in figs:
        m10 = f("arm4", "sluice_10000000_hwm_kb")
        w(f"- Peak RSS at 10M rows (every default, {v('arm4', 'sluice_10000000_secs')} s): **{m10 / 1024:.0f} MiB** (goal <= 192 MiB): {goal(m10 <= 192 * 1024)}")


def side_runs(base, w):
    """The arm-1 runs of issue 13 (the COPY path), one a cluster, when their CSVs exist next to results.csv."""
    import os
    for fname, title in (("results-copy-tuned.csv", "the tuned benchmark cluster"), ("results-copy-stock.csv", "a stock PostgreSQL 15")):
        path = os.path.join(os.path.dirname(base), fname)
        if not os.path.exists(path):
            continue
        figs, settings = load(path)
        g = lambda n: figs.get(("run", n), ("?", ""))[0]
        m = lambda n: figs.get(("machine", n), ("?", ""))[0].replace(";", " ")
        w(f"\n## The COPY path: arm 1 on {title}\n")
        w(f"Produced by `{g('command').replace(';', ',').strip()}` (`benchmarks/{fname}`), started {g('started_utc')}, finished "
          f"{g('finished_utc')}, Sluice commit {g('commit')}, {g('repetitions')} interleaved repetitions (order rotated), "
          f"{int(g('rows')):,} rows; load average {m('loadavg_start')} at the start, {m('loadavg_end')} at the end "
          "(the machine is shared with other helpers' builds and tests: absolute figures are noisy, ratios of medians of "
          "contenders run side by side are what to read). PostgreSQL settings not at their defaults: "
          + ", ".join(f"`{n}={val.replace(';', ',')}`" for n, val, u in settings if n not in ("cluster_name", "external_pid_file",
              "data_directory", "hba_file", "ident_file", "unix_socket_directories", "log_line_prefix", "log_timezone",
              "lc_messages", "lc_monetary", "lc_numeric", "lc_time", "default_text_search_config", "DateStyle", "TimeZone",
              "dynamic_shared_memory_type")) + ".\n")
        arm1(figs, w)
        w("")


HAND_BEGIN, HAND_END = "<!-- hand-written: kept when run.sh rewrites this file -->", "<!-- /hand-written -->"


def hand_written(path):
    """The sections of the current RESULTS.md between HAND_BEGIN and HAND_END (measurements made by hand or
    from several runs' CSVs, with their commands), markers included: every rewrite keeps them, in order."""
    try:
        text = open(path).read()
    except FileNotFoundError:
        return []
    kept, at = [], 0
    while True:
        b = text.find(HAND_BEGIN, at)
        if b < 0:
            return kept
        e = text.find(HAND_END, b)
        if e < 0:
            raise SystemExit(f"{path}: a '{HAND_BEGIN}' has no '{HAND_END}' after it; fix the file, nothing was written")
        kept.append(text[b:e + len(HAND_END)])
        at = e + len(HAND_END)


def main():
    kept = hand_written(sys.argv[2])
    figs, settings = load(sys.argv[1])
    # The 10M memory run is slow and run once (`--with-10m`); later runs show its figures, labelled.
    ten_m_from = None
    if ("arm4", "sluice_10000000_hwm_kb") not in figs:
        try:
            extra, _ = load(sys.argv[1].replace("results.csv", "results-10m.csv"))
            for key in (("arm4", "sluice_10000000_hwm_kb"), ("arm4", "sluice_10000000_secs")):
                if key in extra:
                    figs[key] = extra[key]
            ten_m_from = f"{extra.get(('run', 'started_utc'), ('?', ''))[0]}, commit {extra.get(('run', 'commit'), ('?', ''))[0]}"
        except FileNotFoundError:
            pass

    def v(section, name, default="n/a"):
        return figs.get((section, name), (default, ""))[0]

    def f(section, name):
        try:
            return float(v(section, name))
        except ValueError:
            return None

    def goal(ok):
        return "n/a (not run)" if ok is None else ("**met**" if ok else "**missed**")

    def sec(section):
        return [(n, val, u) for (s, n), (val, u) in figs.items() if s == section]

    rows = int(v("run", "rows", "0"))
    out = []
    w = out.append
    w("# Sluice benchmarks: results\n")
    w(f"Produced by `{v('run', 'command').replace(';', ',').strip()}` (every figure below is from that run; raw figures in "
      "`benchmarks/results.csv`). Started " + v("run", "started_utc") + ", finished " + v("run", "finished_utc")
      + f", Sluice commit {v('run', 'commit')}, arms {v('run', 'arms').replace(';', ',')}.\n")
    w("**Noise.** The machine is small and shared with other busy processes (load average "
      f"{v('machine', 'loadavg_start').replace(';', ' ')} at the start, {v('machine', 'loadavg_end').replace(';', ' ')} at the end), "
      "so absolute figures wander from run to run. Compared contenders always run in the same run, interleaved "
      f"({v('run', 'repetitions')} repetitions, the order rotated each time), and the ratios are of their medians.\n")

    w("Where the time goes, with the profiles behind the changes made and what still bounds each missed goal: "
      "[PROFILE.md](PROFILE.md) (hand-made measurements, kept out of this file).\n")
    side_runs(sys.argv[1], w)
    wal_run(sys.argv[1], w, load)
    for block in kept:
        w(block + "\n")
    w("## Machine and PostgreSQL\n")
    w("| fact | value |\n|---|---|")
    for n, val, u in sec("machine"):
        w(f"| {n} | {val.replace(';', ',')} {u} |")
    w(f"| dataset | {rows:,} rows, {v('dataset', 'bytes_per_row')} bytes/row on disk, table {int(v('dataset', 'table_bytes', '0')) // 1048576} MiB |")
    w(f"| agent JVM options | `{v('run', 'java_opts')}` |")
    if ("run", "launcher") in figs:
        w(f"| agent launcher | {v('run', 'launcher')} |")
    w("\nPostgreSQL: a dedicated Debian cluster (`sluicebench`), source and target databases `src` and `dst` "
      "on the same server (loopback). Settings not at their defaults:\n")
    w("| setting | value |\n|---|---|")
    for n, val, u in settings:
        w(f"| {n} | {val.replace(';', ',')}{(' ' + u) if u else ''} |")

    w("\n## Arm 1: cross-database copy, unpaced\n")
    arm1(figs, w)

    w("\n## Arm 2: same-database copy\n")
    w("Sluice's server-side mode (`INSERT .. SELECT` per segment, fenced, with the source hash from the same scan, "
      "then per-segment verification; a copy job: no capture, no final pass) vs one big-bang `INSERT INTO bench_copy SELECT * FROM bench`; both into an "
      "empty table with its primary key, in the source database.\n")
    w("| contender | seconds (median) | each repetition | start-up s (each) | copy phase s (each) | client CPU s (each) | PostgreSQL CPU s (each) |\n|---|---|---|---|---|---|---|")
    def each(key):
        return ", ".join(v("arm2", f"{key}_rep{i}") for i in range(1, 20) if ("arm2", f"{key}_rep{i}") in figs)
    rows2 = [("Sluice server-side", "sluice_server_side_secs", "sluice"), ("INSERT .. SELECT", "insert_select_secs", None)]
    if ("arm2", "baseline_jar_secs_median") in figs:
        rows2.append(("Sluice, baseline jar", "baseline_jar_secs", "baseline_jar"))
    for label, key, split in rows2:
        st = each(f"{split}_start_secs") if split else "-"
        cp = each(f"{split}_copy_phase_secs") if split else "-"
        cpu = key.replace("_server_side", "").replace("_secs", "")
        w(f"| {label} | {v('arm2', key + '_median')} | {each(key)} | {st} | {cp} | {each(cpu + '_client_cpu')} | {each(cpu + '_pg_cpu')} |")
    w("\nStart-up: from the launch to the agent's 'planning' log line (JVM, config, pools, inspection, ledger schema); "
      "copy phase: from its 'copying' line to 'completed' (every segment copied and verified).")
    r = f("arm2", "ratio_sluice_vs_insert_select")
    w(f"\n- Sluice / big-bang: **{v('arm2', 'ratio_sluice_vs_insert_select')}x** (goal <= 1.15): {goal(None if r is None else r <= 1.15)}")
    if ("arm2", "ratio_sluice_vs_baseline_jar") in figs:
        w(f"- Sluice / the baseline jar (`BENCH_BASELINE_JAR`, {v('run', 'baseline_jar')}, started with plain `java -jar`): "
          f"**{v('arm2', 'ratio_sluice_vs_baseline_jar')}x**")

    w("\n## Arm 3: foreground impact\n")
    w("pgbench (TPC-B-like, fixed rate `-R`, latency from each transaction's scheduled start, per-transaction log) "
      f"(`pgbench {v('run', 'pgbench').replace(';', ',')}`) against the source database, three phases of equal length, one after the other: nothing else; a big-bang copy "
      "(the COPY pipe of arm 1, repeated until the phase ends); Sluice with its default settings (repeated likewise, "
      "each time from an empty target; the phase's pgbench starts once the first agent logs 'copying': a sidecar "
      "starts once, so its JVM start-up is not counted as the copy's impact). Rows moved count what was committed in the target.\n")
    w("| phase | tx | p50 ms | p99 ms | max ms | late (> limit) | skipped (late at start) | rows moved | rows/s |")
    w("|---|---|---|---|---|---|---|---|---|")
    nice_phases = ("sluice_nice", "sluice_nice_free") if f("arm3", "ratio_sluice_nice_p99_vs_baseline") is not None else ()
    for ph in ("baseline", "bigbang", "sluice") + nice_phases:
        w(f"| {ph} | {v('arm3', ph + '_transactions')} | {v('arm3', ph + '_p50_ms')} | {v('arm3', ph + '_p99_ms')} | "
          f"{v('arm3', ph + '_max_ms')} | {v('arm3', ph + '_late_over_limit')} | {v('arm3', ph + '_skipped_late')} | "
          f"{v('arm3', ph + '_rows_moved')} | {v('arm3', ph + '_rows_per_sec')} |")
    rb, rs, rr = f("arm3", "ratio_bigbang_p99_vs_baseline"), f("arm3", "ratio_sluice_p99_vs_baseline"), f("arm3", "ratio_sluice_rate_vs_unpaced")
    w(f"\n- big-bang p99 / baseline p99: **{v('arm3', 'ratio_bigbang_p99_vs_baseline')}x**")
    w(f"- Sluice p99 / baseline p99: **{v('arm3', 'ratio_sluice_p99_vs_baseline')}x** (goal <= 1.25): {goal(None if rs is None else rs <= 1.25)}")
    if f("arm3", "ratio_sluice_nice_p99_vs_baseline") is not None:
        n = v("arm3", "nice")
        for ph, what in (("sluice_nice", f"with `sessions.nice: {n}`"), ("sluice_nice_free", f"with `sessions.nice: {n}` and the foreground control off")):
            r = f("arm3", f"ratio_{ph}_p99_vs_baseline")
            w(f"- Sluice {what}, p99 / baseline p99: **{v('arm3', f'ratio_{ph}_p99_vs_baseline')}x** (goal <= 1.25): "
              f"{goal(None if r is None else r <= 1.25)}; {v('arm3', ph + '_rows_per_sec')} rows/s moved")
    w(f"- Sluice rows/s under pgbench / its unpaced rows/s in arm 1: **{v('arm3', 'ratio_sluice_rate_vs_unpaced')}x** "
      "(no goal: with users present the foreground control slows it on purpose)")
    ri = f("arm3", "ratio_idle_sluice_vs_unpaced")
    w(f"\nWhen the database has room (pgbench stopped; one whole run each, JVM start to completed, the job of the sluice phase): "
      f"Sluice with its defaults {v('arm3', 'idle_sluice_secs')} s, **{v('arm3', 'idle_sluice_rows_per_sec')}** rows/s; with the "
      f"foreground control off (unpaced) {v('arm3', 'idle_unpaced_secs')} s, **{v('arm3', 'idle_unpaced_rows_per_sec')}** rows/s.\n")
    w(f"- defaults / unpaced on the idle source: **{v('arm3', 'ratio_idle_sluice_vs_unpaced')}x** (goal >= 0.5): "
      f"{goal(None if ri is None else ri >= 0.5)}")

    w("\n## Arm 4: memory\n")
    w("The agent's peak resident set (VmHWM from /proc, polled every 50 ms) for a whole `sluice run --until-done`, "
      f"JVM options `{v('run', 'java_opts')}`, every default job setting (at 1M rows: the largest of arm 1's 'every default' runs).\n")
    w("| rows | peak RSS MiB | seconds |\n|---|---|---|")
    m1, m10 = f("arm4", "sluice_1000000_hwm_kb"), f("arm4", "sluice_10000000_hwm_kb")
    for n, m in ((1_000_000, m1), (10_000_000, m10)):
        secs = v("arm4", f"sluice_{n}_secs", v("arm1", "sluice_full_secs_median") if n == rows else "n/a")
        w(f"| {n:,} | {'not measured in this run' if m is None else f'{m / 1024:.0f}'} | {secs} |")
    if ten_m_from:
        w(f"\nThe 10M row is from the `--with-10m` run started {ten_m_from} (`results-10m.csv`), not from this run.")
    w(f"\n- at most 256 MiB: {goal(None if m1 is None else max(m1, m10 or 0) <= 256 * 1024)}")
    w(f"- 10M within 10% of 1M: {goal(None if m1 is None or m10 is None else m10 <= 1.10 * m1)}"
      + ("" if m10 else " (run `benchmarks/run.sh --with-10m` to measure it)"))

    w("\n## Arm 5: micro-benchmarks (JMH)\n")
    w("One fork, 2 warm-up and 3 measured iterations of 1 s each: indicative, not precise.\n")
    w("| benchmark | score | unit |\n|---|---|---|")
    for n, val, u in sec("arm5"):
        w(f"| {n.replace(';', ', ')} | {val} | {u} |")

    w("\n## Arm 6: read API (`GET /rows/{key}`, cached vs uncached)\n")
    if ("arm6", "cached_rps_median") not in figs:
        w("Not run in this run (`--arms` without 6).\n")
    else:
        w(f"`wrk {v('arm6', 'wrk')}` on loopback against `GET /api/jobs/reads/rows/{{key}}` with the read token, "
          f"keys drawn at random from the whole key space of a migrated table of {int(v('arm6', 'rows', '0')):,} rows "
          "(the dataset's columns; its own table, so that every row fits the cache under the agent's small heap). "
          "Both sides run the same agent config with the job completed and every key cohort on the target "
          "(`reads.targetPercent: 100`), a fresh agent each time, interleaved; they differ in one setting: "
          "**cached** has the row cache enabled and warmed with every row (`cache.warm: all`) before wrk starts, so each "
          "read is a cache hit; **uncached** has `cache.enabled: false`, so each read is one query to the target "
          "(the row and its segment's verified check together) over the agent's read pool. The agent's own counters "
          "(`servedFrom`) are checked after each run to say the side is what it claims, and any non-2xx response or "
          "socket error fails the arm. Latency is wrk's (from each request's send; wrk does not correct for "
          "coordinated omission). wrk is closed-loop (each connection sends its next request when the previous one "
          "is answered), so both sides run at saturation and p99 is mostly queueing behind whatever else uses the "
          "cores (see PROFILE.md). No goal was set for this arm: the figures are reported, not judged.\n")
        w("| side | requests/s (median) | each repetition | p50 ms (median) | p99 ms (median) | p50 / p90 / p99 / max ms (each) | agent CPU us/request (each) |")
        w("|---|---|---|---|---|---|---|")
        sides = [("cached", "cached"), ("uncached", "uncached")]
        if ("arm6", "baseline_uncached_rps_median") in figs:
            sides.append(("uncached, baseline jar", "baseline_uncached"))
        for label, side in sides:
            reps = [i for i in range(1, 20) if ("arm6", f"{side}_rps_rep{i}") in figs]
            each = ", ".join(v("arm6", f"{side}_rps_rep{i}") for i in reps)
            lat = "; ".join(" / ".join(v("arm6", f"{side}_{p}_ms_rep{i}") for p in ("p50", "p90", "p99", "max")) for i in reps)
            cpu = ", ".join(v("arm6", f"{side}_agent_cpu_us_per_request_rep{i}") for i in reps)
            w(f"| {label} | {v('arm6', side + '_rps_median')} | {each} | {v('arm6', side + '_p50_ms_median')} | "
              f"{v('arm6', side + '_p99_ms_median')} | {lat} | {cpu} |")
        w(f"\n- requests/s, cached / uncached: **{v('arm6', 'ratio_cached_vs_uncached_rps')}x**")
        w(f"- p50, cached / uncached: **{v('arm6', 'ratio_cached_vs_uncached_p50')}x**")
        w(f"- p99, cached / uncached: **{v('arm6', 'ratio_cached_vs_uncached_p99')}x**")
        if ("arm6", "ratio_uncached_vs_baseline_jar_rps") in figs:
            w(f"- uncached, this jar / the baseline jar (`BENCH_BASELINE_JAR`, {v('run', 'baseline_jar')}): requests/s "
              f"**{v('arm6', 'ratio_uncached_vs_baseline_jar_rps')}x**, p99 **{v('arm6', 'ratio_uncached_vs_baseline_jar_p99')}x**")
        w("\nAgent CPU: the agent process's user + system time during the measured run over its requests "
          "(PostgreSQL's share on the uncached side is not in it). wrk, the agent and PostgreSQL share the machine's cores.\n")
    w("\n## Arm 7: hot segments last (cold-first vs key order under a skewed writer)\n")
    if ("arm7", "key_keys_reapplied_median") not in figs:
        w("Not run in this run (`--arms` without 7; `benchmarks/run.sh 200000 --arms 7` runs it alone).\n")
    else:
        w(f"A table of {int(v('arm7', 'rows', '0')):,} rows copied at {v('arm7', 'copy_rate')} rows/s with change capture on while "
          f"pgbench updates it at {v('arm7', 'write_rate')} transactions/s, 90% of them in a hot range of 5% of the keys "
          f"(starting at {v('arm7', 'hot_at_percent', '10')}% of the key space, so key order copies it early), the rest anywhere. The same config but "
          "`order` runs each side, interleaved; the foreground control is off on both (the writer is the users; slowing "
          "for them is arm 3's subject). Figure: captured keys re-applied to the target (the ledger's `changes_applied`) "
          "until the job is in sync, per 1,000 writes the writer made meanwhile. Fewer is better: a change to a segment "
          "not copied yet costs nothing (the copy reads it), one to a copied segment is read and written again.\n")
        w("| order | keys re-applied per 1,000 writes (median) | keys re-applied (median) | each repetition: re-applied / writes / s to in sync |")
        w("|---|---|---|---|")
        for side in ("key", "cold-first"):
            reps = [i for i in range(1, 20) if ("arm7", f"{side}_keys_reapplied_rep{i}") in figs]
            each = "; ".join(f"{v('arm7', f'{side}_keys_reapplied_rep{i}')} / {v('arm7', f'{side}_writes_rep{i}')} / "
                             f"{v('arm7', f'{side}_secs_to_in_sync_rep{i}')}" for i in reps)
            w(f"| {side} | {v('arm7', side + '_reapplied_per_1000_writes_median')} | {v('arm7', side + '_keys_reapplied_median')} | {each} |")
        w(f"\n- re-applied per 1,000 writes, cold-first / key: **{v('arm7', 'ratio_cold_first_vs_key')}x**\n")
    open(sys.argv[2], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
