"""Foreground latency of one pgbench phase, from its per-transaction logs (pgbench -l with -R).

Latency is measured from each transaction's scheduled start (what pgbench logs under -R), as a
fixed-rate client sees it. Prints CSV rows: arm3,<phase>_<figure>,<value>,<unit>.
usage: latency.py PHASE LIMIT_MS LOGFILE...
"""
import sys


def main():
    phase, limit_ms, files = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    lat = []
    skipped = 0
    for f in files:
        with open(f) as fh:
            for line in fh:
                p = line.split()
                if len(p) < 6:
                    continue
                if p[2] == "skipped":
                    skipped += 1
                    continue
                # With -R, pgbench logs the time from the scheduled start (schedule lag included).
                lat.append(int(p[2]) / 1000.0)
    lat.sort()
    n = len(lat)

    def pct(q):
        return lat[min(n - 1, int(q * n))] if n else float("nan")

    late = sum(1 for x in lat if x > limit_ms)
    rows = [
        ("transactions", n, "tx"),
        ("p50_ms", round(pct(0.50), 2), "ms"),
        ("p99_ms", round(pct(0.99), 2), "ms"),
        ("max_ms", round(lat[-1], 2) if n else "nan", "ms"),
        ("mean_ms", round(sum(lat) / n, 2) if n else "nan", "ms"),
        ("late_over_limit", late, "tx"),
        ("skipped_late", skipped, "tx"),
    ]
    for name, value, unit in rows:
        print(f"arm3,{phase}_{name},{value},{unit}")


if __name__ == "__main__":
    main()
