#!/usr/bin/env python3
"""Summarises a `cargo build --timings` report: units, CPU seconds in all,
and the longest units with their start times.

    python3 bench/timings.py PROJECT_DIR [N]

PROJECT_DIR is a project built with `cargo build --timings` (the newest
report under target/cargo-timings/ is read); N units are listed (25).
bench/NOTES.md (First build) quotes its figures.
"""
import glob
import json
import re
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    reports = sorted(glob.glob(sys.argv[1] + "/target/cargo-timings/cargo-timing-*.html"))
    if not reports:
        sys.exit(f"no cargo timing report under {sys.argv[1]}/target/cargo-timings")
    m = re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(reports[-1]).read(), re.S)
    if not m:
        sys.exit(f"{reports[-1]}: no UNIT_DATA (a cargo this script does not know)")
    units = json.loads(m.group(1))
    total = sum(u["duration"] for u in units)
    print(f"{len(units)} units, {total:.1f} s of CPU in all")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    for u in sorted(units, key=lambda u: -u["duration"])[:n]:
        print(f"{u['duration']:6.2f} s  from {u['start']:6.2f} s  {u['name']} {u['version']}{u.get('target', '')}")


if __name__ == "__main__":
    main()
