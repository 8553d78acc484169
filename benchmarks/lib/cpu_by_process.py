"""The cluster's CPU between two pg_cpu_snapshot files, by kind of process, per key.

Usage: cpu_by_process.py BEFORE AFTER KEYS PREFIX -> CSV lines `arm9,PREFIX_cpu_<kind>_us_per_key,<value>,us`
for the kinds: src (backends of database src), dst (of dst), walsender, exited (children reaped in
between: the harness's psql polls, autovacuum workers), other (checkpointer, writers, the postmaster).
"""
import re
import sys


def load(path):
    procs, reaped, own = {}, 0, 0
    for line in open(path):
        parts = line.split(None, 2)
        if parts[0] == 'postmaster':
            own, reaped = int(parts[1]), int(parts[2])
        elif len(parts) >= 2 and parts[1].isdigit():
            procs[parts[0]] = (int(parts[1]), parts[2].strip() if len(parts) > 2 else '')
    return procs, reaped, own


def kind(title):
    if 'walsender' in title:
        return 'walsender'
    m = re.search(r': \S+ (src|dst) ', title + ' ')
    return m.group(1) if m else 'other'


def main():
    before, after, keys, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    p0, reaped0, own0 = load(before)
    p1, reaped1, own1 = load(after)
    sums = {'src': 0, 'dst': 0, 'walsender': 0, 'exited': reaped1 - reaped0, 'other': own1 - own0}
    for pid, (ticks, title) in p1.items():
        sums[kind(title)] += ticks - p0.get(pid, (0, ''))[0]
    hz = 100.0
    for k, v in sums.items():
        print(f"arm9,{prefix}_cpu_{k}_us_per_key,{v / hz * 1e6 / keys:.1f},us")


if __name__ == '__main__':
    main()
