#!/usr/bin/env python3
"""Compile-time benchmark: gapi's generated crates against google-apis-rs's.

Builds, in one scratch Cargo workspace, gapi's generated tasks v1, drive v3 and
compute v1 crates and google-apis-rs's google-tasks1 7.0.0, google-drive3 7.0.0
and google-compute1 6.0.0 from crates.io. Dependencies are built first; then
each crate alone is rebuilt (debug) several times, alternating between the two
sides, and the median wall time and the peak RSS of the compiler are reported.
Lines of generated code per method are counted too.

Usage: python3 bench/compile.py [--runs N] [--out BENCHMARKS-compile.md]
Needs ../shared/discovery-docs for compute.v1 (tasks and drive come from the
repo's discovery-docs/).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench-compile"
SHARED = ROOT.parent / "shared" / "discovery-docs"

PAIRS = [
    ("tasks v1", "gapi-tasks-v1", "tasks.v1.json", "google-tasks1", "7.0.0"),
    ("drive v3", "gapi-drive-v3", "drive.v3.json", "google-drive3", "7.0.0"),
    ("compute v1", "gapi-compute-v1", "compute.v1.json", "google-compute1", "6.0.0"),
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def find_doc(name):
    for d in (ROOT / "discovery-docs", SHARED):
        p = d / name
        if p.exists():
            return p
    sys.exit(f"missing discovery document {name} (looked in discovery-docs/ and {SHARED})")


def setup():
    gen_out = WORK / "gapi"
    if gen_out.exists():
        shutil.rmtree(gen_out)
    gen_out.mkdir(parents=True)
    docs = [str(find_doc(p[2])) for p in PAIRS]
    run(["cargo", "build", "--release", "-q", "-p", "gapi-gen"], cwd=ROOT)
    run([str(ROOT / "target/release/gapi-gen"), "generate", "--out", str(gen_out),
         "--runtime-path", str(ROOT / "runtime"), "--standalone-workspace", *docs])
    members = []
    deps = []
    for _, ours, _, peer, ver in PAIRS:
        crate_dir = next(d for d in gen_out.iterdir() if (d / "Cargo.toml").read_text().find(f'name = "{ours}"') >= 0)
        # strip the standalone [workspace] table: these crates join ours
        toml = (crate_dir / "Cargo.toml").read_text()
        (crate_dir / "Cargo.toml").write_text(re.sub(r"(?m)^\[workspace\]\s*$", "", toml))
        members.append(str(crate_dir))
        deps.append(f'{peer} = "={ver}"')
    peer_dir = WORK / "peers"
    (peer_dir / "src").mkdir(parents=True, exist_ok=True)
    (peer_dir / "src/lib.rs").write_text("")
    (peer_dir / "Cargo.toml").write_text(
        '[package]\nname = "peers"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n' + "\n".join(deps) + "\n")
    members.append(str(peer_dir))
    (WORK / "Cargo.toml").write_text(
        "[workspace]\nresolver = \"2\"\nmembers = [\n" + "".join(f'  "{m}",\n' for m in members) + "]\n")
    run(["cargo", "build", "-q", "--workspace"], cwd=WORK)
    return gen_out


def time_crate(pkg):
    run(["cargo", "clean", "-q", "-p", pkg], cwd=WORK)
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "cargo", "build", "-q", "-p", pkg],
                       cwd=WORK, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"building {pkg} failed:\n{r.stderr}")
    peak_kb = int(r.stderr.strip().splitlines()[-1])
    return dt, peak_kb / 1024


def lines_per_method(crate_src):
    total = 0
    for p in Path(crate_src).rglob("*.rs"):
        total += sum(1 for _ in p.open(errors="ignore"))
    return total


def registry_src(pkg, ver):
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    for d in (home / "registry/src").glob(f"*/{pkg}-{ver}*"):
        return d
    return None


def count_methods(doc_path):
    import json
    doc = json.loads(Path(doc_path).read_text())
    n = 0

    def walk(r):
        nonlocal n
        n += len(r.get("methods", {}))
        for sub in r.get("resources", {}).values():
            walk(sub)
    walk(doc)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    gen_out = setup()
    results = {}
    for i in range(a.runs):
        for label, ours, _, peer, _ in PAIRS:
            for pkg in (ours, peer):  # alternate sides within each round
                results.setdefault(pkg, []).append(time_crate(pkg))
                print(f"run {i + 1}: {pkg}: {results[pkg][-1][0]:.1f} s, {results[pkg][-1][1]:.0f} MiB", file=sys.stderr)
    rows = ["| API | gapi (s) | google-apis-rs (s) | ratio | gapi peak MiB | peer peak MiB | gapi lines/method | peer lines/method |",
            "|---|---|---|---|---|---|---|---|"]
    for label, ours, doc, peer, ver in PAIRS:
        o = statistics.median(t for t, _ in results[ours])
        p = statistics.median(t for t, _ in results[peer])
        om = max(m for _, m in results[ours])
        pm = max(m for _, m in results[peer])
        ours_dir = next(d for d in gen_out.iterdir() if f'name = "{ours}"' in (d / "Cargo.toml").read_text())
        n = count_methods(find_doc(doc))
        ol = lines_per_method(ours_dir / "src") / max(n, 1)
        psrc = registry_src(peer, ver)
        # the peer crate may be older than our document: count its own methods
        pn = sum(f.read_text(errors="ignore").count("fn doit(") for f in (psrc / "src").rglob("*.rs")) if psrc else 0
        pl = (lines_per_method(psrc / "src") / max(pn, 1)) if psrc else float("nan")
        rows.append(f"| {label} | {o:.1f} | {p:.1f} | {o / p:.2f} | {om:.0f} | {pm:.0f} | {ol:.0f} | {pl:.0f} |")
    table = "\n".join(rows)
    print(table)
    if a.out:
        Path(a.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
