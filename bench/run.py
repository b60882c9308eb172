#!/usr/bin/env python3
"""gapi benchmarks against its peers, side by side in one run.

    python3 bench/run.py                 # everything; writes BENCHMARKS.md
    python3 bench/run.py --only requests,storm --rounds 3 --no-write

Sections (each measured in alternation with its peers, medians reported):

  codegen   gapi-gen (release) on all documents of ../shared/discovery-docs,
            and on the two largest alone
  compile   debug build of one generated crate alone (deps built):
            gapi's tasks v1, drive v3, compute v1 vs google-apis-rs's
            google-tasks1 7.0.0, google-drive3 7.0.0, google-compute1 6.0.0;
            peak compiler RSS; generated lines per method
  features  the same build of gapi's compute v1 with one resource feature
            (`instances`) against all of them (`full`, the default)
  firstbuild  a newcomer's first debug build of a program listing task
            lists (fresh target, dependencies fetched): gapi with a build.rs
            client and with the committed crate vs google-tasks1 + yup-oauth2
  decode    decode and encode of a TaskLists and two Drive FileList bodies,
            gapi's types vs google-apis-rs's serde derives: instructions
            (callgrind, when valgrind is installed) and wall time
  requests  GET tasks/v1/users/@me/lists against a loopback server (its own
            process): calls/s sequential and 32-concurrent, CPU per call,
            peak RSS, for gapi, google-tasks1, google-api-python-client, raw
            reqwest (default settings and gapi's), raw hyper-util
  storm     1,000 concurrent calls on an expired token: token requests made
            by gapi (UserTokenSource) and by yup-oauth2 (google-tasks1)
  media     1 GiB upload (resumable, multipart) and download through the
            generated storage v1 client vs raw reqwest; peak RSS

Everything runs on this machine (loopback only). The bench workspace builds
into bench/target; the Python client lives in bench/.venv (created here).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET = BENCH / "target"
SHARED_DOCS = ROOT.parent / "shared" / "discovery-docs"
VENV = BENCH / ".venv"
SERVER = TARGET / "release" / "bench-server"
CLIENT = TARGET / "release" / "bench-client"
GAPI_GEN = TARGET / "release" / "gapi-gen"
COMMAND = "python3 bench/run.py"

SECTIONS = ["codegen", "compile", "features", "firstbuild", "decode", "requests", "storm", "media"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$", " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


# ------------------------------------------------------------------ machine

def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(open("/proc/meminfo").readline().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"
    commit = out(["git", "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem": mem,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "kernel": platform.release(),
        "rustc": out(["rustc", "--version"]),
        "python": platform.python_version(),
        "commit": commit + (" (with uncommitted changes in the work tree)" if dirty else ""),
    }


# ------------------------------------------------------------------ setup

def build(only):
    # the bench workspace (clients, server, peers) only for the sections that run it
    if any(s in only for s in ("decode", "requests", "storm", "media")):
        run(["cargo", "build", "--release", "--manifest-path", BENCH / "Cargo.toml"])
    # the release CLI, into the bench target dir (not the shared one)
    run(["cargo", "build", "--release", "-p", "gapi-gen", "--features", "cli", "--target-dir", TARGET], cwd=ROOT)


def venv_python():
    py = VENV / "bin" / "python"
    if not py.exists():
        run([sys.executable, "-m", "venv", VENV])
    r = subprocess.run([py, "-c", "import googleapiclient, google_auth_httplib2"], capture_output=True)
    if r.returncode != 0:
        run([py, "-m", "pip", "install", "-q", "google-api-python-client", "google-auth-httplib2"])
    return py


def pip_version(py, pkg):
    r = subprocess.run([py, "-m", "pip", "show", pkg], capture_output=True, text=True)
    m = re.search(r"^Version: (.+)$", r.stdout, re.M)
    return m.group(1) if m else "?"


class Server:
    """The loopback server in its own process."""

    def __init__(self, token_delay_ms=50):
        self.p = subprocess.Popen([SERVER, "--token-delay-ms", str(token_delay_ms)],
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.match(r"listening (\d+)", line)
        if not m:
            self.p.kill()
            sys.exit(f"bench-server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{m.group(1)}"

    def stats(self):
        with urllib.request.urlopen(self.url + "/__stats") as r:
            return json.load(r)

    def reset(self):
        req = urllib.request.Request(self.url + "/__reset", method="POST", data=b"")
        urllib.request.urlopen(req).read()

    def stop(self):
        self.p.terminate()
        self.p.wait()


def client(args, timeout=600):
    """Runs one bench-client (or Python client) process; returns its JSON."""
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    line = (r.stdout.strip().splitlines() or ["{}"])[-1]
    try:
        out = json.loads(line)
    except json.JSONDecodeError:
        out = {"error": f"bad output: {r.stdout[-500:]} {r.stderr[-500:]}"}
    if r.returncode != 0 and "error" not in out:
        out["error"] = r.stderr[-500:]
    if "error" in out:
        log("  !", args[1] if len(args) > 1 else args, out["error"])
    return out


# ------------------------------------------------------------------ codegen

def bench_codegen(rounds):
    docs = sorted(glob.glob(str(SHARED_DOCS / "*.json")))
    if not docs:
        log(f"no discovery documents in {SHARED_DOCS}: codegen skipped")
        return None
    out = TARGET / "codegen-out"
    largest = [SHARED_DOCS / "compute.alpha.json", SHARED_DOCS / "aiplatform.v1beta1.json"]

    def gen(paths):
        if out.exists():
            shutil.rmtree(out)
        t0 = time.monotonic()
        # relative paths as in the documented command, run from the repo root
        r = subprocess.run(["/usr/bin/time", "-f", "%M", GAPI_GEN, "generate", "--out", out,
                            "--runtime-path", "runtime", *[os.path.relpath(p, ROOT) for p in paths]],
                           cwd=ROOT, capture_output=True, text=True)
        dt = time.monotonic() - t0
        if r.returncode != 0:
            log(r.stderr[-2000:])
        peak = int(r.stderr.strip().splitlines()[-1]) / 1024
        return dt, peak, r.returncode

    res = {"all": [], "compute.alpha": [], "aiplatform.v1beta1": []}
    crates = lines = 0
    for i in range(rounds):
        res["all"].append(gen(docs))
        if i == 0:
            crates = len([d for d in out.iterdir() if (d / "Cargo.toml").exists()])
            lines = sum(sum(1 for _ in open(f, errors="ignore")) for f in out.glob("*/src/*.rs"))
        for p in largest:
            res[p.stem].append(gen([p]))
        log(f"codegen round {i + 1}: all {res['all'][-1][0]:.1f} s")
    return {"docs": len(docs), "crates": crates, "lines": lines, "res": res,
            "largest_sizes": {p.stem: p.stat().st_size for p in largest}}


# ------------------------------------------------------------------ compile

PAIRS = [
    ("tasks v1", "gapi-tasks-v1", "tasks.v1.json", "google-tasks1", "7.0.0"),
    ("drive v3", "gapi-drive-v3", "drive.v3.json", "google-drive3", "7.0.0"),
    ("compute v1", "gapi-compute-v1", "compute.v1.json", "google-compute1", "6.0.0"),
]
COMPILE = TARGET / "compile"


def find_doc(name):
    for d in (ROOT / "discovery-docs", SHARED_DOCS):
        if (d / name).exists():
            return d / name
    sys.exit(f"missing discovery document {name}")


def compile_setup():
    """A scratch workspace with the three gapi crates (generated now, by the
    release CLI) and an empty crate depending on the three peers."""
    gen_out = COMPILE / "gapi"
    if gen_out.exists():
        shutil.rmtree(gen_out)
    gen_out.mkdir(parents=True)
    # A snapshot of the runtime, so that edits to runtime/ during the run
    # (the work tree is shared) cannot trigger a rebuild inside a timing.
    snap = COMPILE / "runtime"
    if snap.exists():
        shutil.rmtree(snap)
    shutil.copytree(ROOT / "runtime", snap, ignore=shutil.ignore_patterns("target", "tests", "benches"))
    run([GAPI_GEN, "generate", "--out", gen_out, "--runtime-path", snap,
         *[find_doc(p[2]) for p in PAIRS]])
    members, deps = [], []
    for _, ours, _, peer, ver in PAIRS:
        crate_dir = next(d for d in gen_out.iterdir() if f'name = "{ours}"' in (d / "Cargo.toml").read_text())
        members.append(os.path.relpath(crate_dir, COMPILE))
        deps.append(f'{peer} = "={ver}"')
    peer_dir = COMPILE / "peers"
    (peer_dir / "src").mkdir(parents=True, exist_ok=True)
    (peer_dir / "src/lib.rs").write_text("")
    (peer_dir / "Cargo.toml").write_text(
        '[package]\nname = "peers"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        "[dependencies]\n" + "\n".join(deps) + "\n")
    members.append("peers")
    # the root workspace's inherited tables, for the runtime snapshot (a member)
    root_toml = (ROOT / "Cargo.toml").read_text()
    inherited = "\n".join(m.group(0) for m in re.finditer(
        r"(?ms)^\[workspace\.(?:package|dependencies)\]\n.*?(?=^\[|\Z)", root_toml))
    inherited = "\n".join(line for line in inherited.splitlines() if "path =" not in line)
    (COMPILE / "Cargo.toml").write_text(
        "# scratch workspace of bench/run.py (compile section)\n[workspace]\nresolver = \"2\"\nmembers = [\n"
        + "".join(f'  "{m}",\n' for m in members + ["runtime"]) + "]\n\n" + inherited + "\n")
    run(["cargo", "build", "-q", "--workspace"], cwd=COMPILE, env=compile_env())
    # `cargo build -p X` resolves features for X alone: build each package
    # once that way, so the timed builds find every dependency built.
    for _, ours, _, peer, _ in PAIRS:
        for pkg in (ours, peer):
            run(["cargo", "build", "-q", "-p", pkg], cwd=COMPILE, env=compile_env())
    return gen_out


RUSTC_LOG = COMPILE / "rustc-times.log"


def compile_env(log=False):
    """Every cargo run in the scratch workspace: incremental compilation off
    (crates.io dependencies never build incrementally, workspace members do by
    default: off for both sides) and rustc run through bench/rustc-timer.sh,
    which logs each rustc process's time when asked to."""
    env = dict(os.environ, CARGO_INCREMENTAL="0", RUSTC_WRAPPER=str(BENCH / "rustc-timer.sh"))
    env.pop("GAPI_BENCH_RUSTC_LOG", None)
    if log:
        env["GAPI_BENCH_RUSTC_LOG"] = str(RUSTC_LOG)
    return env


def time_crate(pkg, args=(), cwd=COMPILE):
    """(wall s of `cargo build -p pkg [args]`, peak RSS MiB, s of the crate's rustc process)."""
    run(["cargo", "clean", "-q", "-p", pkg], cwd=cwd, env=compile_env())
    RUSTC_LOG.parent.mkdir(parents=True, exist_ok=True)
    RUSTC_LOG.unlink(missing_ok=True)
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "cargo", "build", "-q", "-p", pkg, *args],
                       cwd=cwd, stderr=subprocess.PIPE, text=True, env=compile_env(log=True))
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"building {pkg} failed:\n{r.stderr}")
    crate = pkg.replace("-", "_")
    runs = [int(us) / 1e6 for name, us in (line.split() for line in RUSTC_LOG.read_text().splitlines())
            if name == crate]
    if len(runs) != 1:
        sys.exit(f"expected one rustc run for {crate}, the log has: {RUSTC_LOG.read_text()}")
    return dt, int(r.stderr.strip().splitlines()[-1]) / 1024, runs[0]


def src_lines(d):
    return sum(sum(1 for _ in open(p, errors="ignore")) for p in Path(d).rglob("*.rs"))


def count_methods(doc_path):
    doc = json.loads(Path(doc_path).read_text())

    def walk(r):
        return len(r.get("methods", {})) + sum(walk(s) for s in r.get("resources", {}).values())
    return walk(doc)


def registry_src(pkg, ver):
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    for d in sorted((home / "registry/src").glob(f"*/{pkg}-{ver}*")):
        return d
    return None


def bench_compile(rounds):
    gen_out = compile_setup()
    times = {}
    for i in range(rounds):
        for _, ours, _, peer, _ in PAIRS:
            # alternate the sides, and which goes first
            for pkg in ((ours, peer) if i % 2 == 0 else (peer, ours)):
                times.setdefault(pkg, []).append(time_crate(pkg))
                w, mib, rc = times[pkg][-1]
                log(f"compile round {i + 1}: {pkg}: rustc {rc:.2f} s, cargo {w:.2f} s, {mib:.0f} MiB")
    rows = []
    for label, ours, doc, peer, ver in PAIRS:
        ours_dir = next(d for d in gen_out.iterdir() if f'name = "{ours}"' in (d / "Cargo.toml").read_text())
        psrc = registry_src(peer, ver)
        pn = sum(f.read_text(errors="ignore").count("fn doit(") for f in (psrc / "src").rglob("*.rs"))
        rows.append({
            "api": label, "ours": ours, "peer": f"{peer} {ver}",
            "ours_s": [t for t, _, _ in times[ours]], "peer_s": [t for t, _, _ in times[peer]],
            "ours_rustc_s": [t for _, _, t in times[ours]], "peer_rustc_s": [t for _, _, t in times[peer]],
            "ours_mib": max(m for _, m, _ in times[ours]), "peer_mib": max(m for _, m, _ in times[peer]),
            "ours_methods": count_methods(find_doc(doc)), "peer_methods": pn,
            "ours_lines": src_lines(ours_dir / "src"), "peer_lines": src_lines(psrc / "src"),
            "ours_rev": json.loads(find_doc(doc).read_text()).get("revision"),
            "peer_rev": psrc.name.split("+")[-1] if "+" in psrc.name else "?",
        })
    return rows


# ------------------------------------------------------------------ features

FEATURES = TARGET / "features"
# (label, cargo arguments) of the builds compared: all features, one, none
FEATURE_CASES = [
    ("all (`full`, the default)", []),
    ("`instances` alone", ["--no-default-features", "--features", "instances"]),
    ("none (the service type only)", ["--no-default-features"]),
]


def bench_features(rounds):
    """compute v1's crate built with all resource features, with `instances`
    alone and with none, measured as the compile section measures a crate, in
    a scratch workspace of its own (the crate and a runtime snapshot)."""
    gen_out = FEATURES / "gapi"
    if gen_out.exists():
        shutil.rmtree(gen_out)
    gen_out.mkdir(parents=True)
    snap = FEATURES / "runtime"
    if snap.exists():
        shutil.rmtree(snap)
    shutil.copytree(ROOT / "runtime", snap, ignore=shutil.ignore_patterns("target", "tests", "benches"))
    doc = find_doc("compute.v1.json")
    run([GAPI_GEN, "generate", "--out", gen_out, "--runtime-path", snap, doc])
    crate_dir = next(gen_out.iterdir())
    pkg = "gapi-compute-v1"
    root_toml = (ROOT / "Cargo.toml").read_text()
    inherited = "\n".join(m.group(0) for m in re.finditer(
        r"(?ms)^\[workspace\.(?:package|dependencies)\]\n.*?(?=^\[|\Z)", root_toml))
    inherited = "\n".join(line for line in inherited.splitlines() if "path =" not in line)
    (FEATURES / "Cargo.toml").write_text(
        "# scratch workspace of bench/run.py (features section)\n[workspace]\nresolver = \"2\"\nmembers = [\n"
        f'  "{os.path.relpath(crate_dir, FEATURES)}",\n  "runtime",\n]\n\n' + inherited + "\n")
    shutil.copy(ROOT / "Cargo.lock", FEATURES / "Cargo.lock")
    for _, args in FEATURE_CASES:
        run(["cargo", "build", "-q", "-p", pkg, *args], cwd=FEATURES, env=compile_env())
    times = {}
    for i in range(rounds):
        # rotate which case goes first
        order = FEATURE_CASES[i % len(FEATURE_CASES):] + FEATURE_CASES[:i % len(FEATURE_CASES)]
        for label, args in order:
            times.setdefault(label, []).append(time_crate(pkg, args, cwd=FEATURES))
            w, mib, rc = times[label][-1]
            log(f"features round {i + 1}: {label}: rustc {rc:.2f} s, cargo {w:.2f} s, {mib:.0f} MiB")
    toml = (crate_dir / "Cargo.toml").read_text()
    return {
        "rev": json.loads(doc.read_text()).get("revision"),
        "methods": count_methods(doc),
        "features": toml.split("[features]", 1)[-1].count(" = []"),
        "instances_methods": count_methods_of(doc, "instances"),
        "cases": [{"label": label, "args": args,
                   "wall_s": [t for t, _, _ in times[label]],
                   "rustc_s": [t for _, _, t in times[label]],
                   "mib": max(m for _, m, _ in times[label])} for label, args in FEATURE_CASES],
    }


def count_methods_of(doc_path, resource):
    doc = json.loads(Path(doc_path).read_text())

    def walk(r):
        return len(r.get("methods", {})) + sum(walk(s) for s in r.get("resources", {}).values())
    return walk(doc.get("resources", {}).get(resource, {}))


# ---------------------------------------------------------------- firstbuild

FIRSTBUILD = TARGET / "firstbuild"

FB_GAPI_MAIN = """//! Lists the user's task lists.
{module}
#[tokio::main]
async fn main() -> gapi::Result<()> {{
    let token = std::env::var("ACCESS_TOKEN").unwrap_or_default();
    let client = gapi::Client::new(gapi::Credentials::access_token(token))?;
    let tasks = TasksService::new(client);
    for list in tasks.tasklists().list().send().await?.items.unwrap_or_default() {{
        println!("{{}}", list.title.unwrap_or_default());
    }}
    Ok(())
}}
"""

FB_PEER_MAIN = """//! Lists the user's task lists (google-tasks1's documented setup).
use google_tasks1::{hyper_rustls, hyper_util, yup_oauth2, TasksHub};

#[tokio::main]
async fn main() {
    let secret = yup_oauth2::read_application_secret("client_secret.json").await.unwrap();
    let connector = || {
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .unwrap()
            .https_only()
            .enable_http2()
            .build()
    };
    let executor = hyper_util::rt::TokioExecutor::new();
    let auth = yup_oauth2::InstalledFlowAuthenticator::with_client(
        secret,
        yup_oauth2::InstalledFlowReturnMethod::HTTPRedirect,
        yup_oauth2::client::CustomHyperClientBuilder::from(
            hyper_util::client::legacy::Client::builder(executor).build(connector()),
        ),
    )
    .persist_tokens_to_disk("tokens.json")
    .build()
    .await
    .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector());
    let hub = TasksHub::new(client, auth);
    let (_, lists) = hub.tasklists().list().doit().await.unwrap();
    for list in lists.items.unwrap_or_default() {
        println!("{}", list.title.unwrap_or_default());
    }
}
"""

TOKIO = 'tokio = { version = "1", features = ["macros", "rt-multi-thread"] }'


def firstbuild_projects():
    """The three newcomer projects: (label, dir name, Cargo.toml, {path: text})."""
    rt, gen, tasks = ROOT / "runtime", ROOT / "generator", ROOT / "generated" / "tasks-v1"
    head = '[package]\nname = "{}"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[workspace]\n\n'
    return [
        ("gapi, client generated in build.rs", "gapi-build-rs",
         head.format("newcomer-build-rs") + f'[dependencies]\ngapi = {{ path = "{rt}" }}\n{TOKIO}\n\n'
         f'[build-dependencies]\ngapi-gen = {{ path = "{gen}" }}\n',
         {"build.rs": 'fn main() {\n    gapi_gen::build::generate_into_out_dir("tasks.v1.json", '
                      '"tasks_v1.rs").unwrap();\n}\n',
          "tasks.v1.json": (ROOT / "discovery-docs" / "tasks.v1.json").read_text(),
          "src/main.rs": FB_GAPI_MAIN.format(module='#[allow(dead_code)]\nmod tasks {\n    include!(concat!('
                                             'env!("OUT_DIR"), "/tasks_v1.rs"));\n}\nuse tasks::TasksService;\n')}),
        ("gapi, the committed `gapi-tasks-v1` crate", "gapi-crate",
         head.format("newcomer-crate") + f'[dependencies]\ngapi = {{ path = "{rt}" }}\n'
         f'gapi-tasks-v1 = {{ path = "{tasks}" }}\n{TOKIO}\n',
         {"src/main.rs": FB_GAPI_MAIN.format(module="use gapi_tasks_v1::TasksService;\n")}),
        ("google-tasks1 7.0.0 + yup-oauth2 (its README's setup)", "google-tasks1",
         head.format("newcomer-google-tasks1") + f'[dependencies]\ngoogle-tasks1 = "=7.0.0"\n{TOKIO}\n',
         {"src/main.rs": FB_PEER_MAIN}),
    ]


def bench_firstbuild(rounds):
    """A newcomer's first build of a program that lists task lists: a fresh
    project and target directory, dependencies already downloaded (`cargo
    fetch`), `cargo build` (debug); wall time and the crates compiled. gapi
    comes by path here (the same sources a registry user builds);
    CARGO_INCREMENTAL=0 for every setup, as for registry crates."""
    env = dict(os.environ, CARGO_INCREMENTAL="0")
    env.pop("RUSTC_WRAPPER", None)
    projects = firstbuild_projects()
    for _, name, toml, files in projects:
        d = FIRSTBUILD / name
        if d.exists():
            shutil.rmtree(d)
        (d / "src").mkdir(parents=True)
        (d / "Cargo.toml").write_text(toml)
        for rel, text in files.items():
            (d / rel).write_text(text)
        run(["cargo", "fetch", "-q"], cwd=d, env=env)
    times = {}
    for i in range(rounds):
        order = projects[i % len(projects):] + projects[:i % len(projects)]
        for label, name, _, _ in order:
            d = FIRSTBUILD / name
            shutil.rmtree(d / "target", ignore_errors=True)
            t0 = time.monotonic()
            r = subprocess.run(["cargo", "build", "--offline"], cwd=d, env=env,
                               stderr=subprocess.PIPE, text=True)
            dt = time.monotonic() - t0
            if r.returncode != 0:
                sys.exit(f"first build of {name} failed:\n{r.stderr}")
            crates = sum(1 for line in r.stderr.splitlines() if line.strip().startswith("Compiling "))
            times.setdefault(label, []).append((dt, crates))
            log(f"firstbuild round {i + 1}: {label}: {dt:.1f} s, {crates} crates")
    return {"cases": [{"label": label, "wall_s": [t for t, _ in times[label]],
                       "crates": times[label][-1][1]} for label, _, _, _ in projects]}


# -------------------------------------------------------------------- decode

DECODE_BODIES = [("TaskLists, 3 lists", "tasklists.json"),
                 ("Drive FileList, 100 files, ~20 fields each", "filelist_common.json"),
                 ("Drive FileList, 100 files, most fields set", "filelist_full.json")]


def callgrind_instructions(case, body, n):
    """Instructions of `bench-client decode-one` (BENCH_CASE, BENCH_BODY, --n) under callgrind."""
    out = TARGET / "decode.callgrind"
    r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", CLIENT, "decode-one",
                        "--n", str(n), "--dir", TARGET],
                       env=dict(os.environ, BENCH_CASE=case, BENCH_BODY=body),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    out.unlink(missing_ok=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        sys.exit(f"callgrind {case} {body} failed:\n{r.stderr[-2000:]}")
    return int(m.group(1))


def bench_decode():
    """Decode and encode of three bodies, gapi's generated types against
    google-apis-rs's serde-derived ones, each side doing the same work (UTF-8
    checked once over the body, then parsed as text; encoding a decoded
    value): instructions per operation under callgrind (the difference of
    n = 6 and n = 1 runs, / 5: deterministic on a shared machine), and wall
    time (best of interleaved rounds)."""
    run([sys.executable, BENCH / "bodies.py", TARGET])
    srv = Server()
    try:
        req = urllib.request.Request(srv.url + "/tasks/v1/users/@me/lists", headers={"Authorization": "Bearer x"})
        (TARGET / "tasklists.json").write_bytes(urllib.request.urlopen(req).read())
    finally:
        srv.stop()
    out = {"wall": client([CLIENT, "decode", "--n", 20000, "--dir", TARGET]), "instructions": {}}
    if shutil.which("valgrind"):
        for _, body in DECODE_BODIES:
            row = {}
            for case in ("ours-decode", "theirs-decode", "ours-encode", "theirs-encode"):
                one, six = callgrind_instructions(case, body, 1), callgrind_instructions(case, body, 6)
                row[case] = (six - one) / 5
            # the encode cases decode first: what encoding adds
            row["ours-encode"] -= row["ours-decode"]
            row["theirs-encode"] -= row["theirs-decode"]
            out["instructions"][body] = row
            log(f"decode {body}: " + ", ".join(f"{k} {v:,.0f}" for k, v in row.items()))
    return out


# ------------------------------------------------------------------ requests

REQ_CLIENTS = ["gapi", "google-tasks1", "reqwest-default", "reqwest", "python", "hyper", "reqwest-url"]


def bench_requests(rounds, secs, conc):
    py = venv_python()
    doc = ROOT / "discovery-docs" / "tasks.v1.json"
    srv = Server()
    results = {}
    try:
        for i in range(rounds):
            order = REQ_CLIENTS[i % len(REQ_CLIENTS):] + REQ_CLIENTS[:i % len(REQ_CLIENTS)]
            for mode in ("seq", "conc"):
                for c in order:
                    if c == "python":
                        args = [py, BENCH / "py_client.py", "--url", srv.url, "--doc", doc]
                    else:
                        args = [CLIENT, c, "--url", srv.url]
                    out = client(args + ["--mode", mode, "--secs", secs, "--conc", conc])
                    results.setdefault(f"{c}:{mode}", []).append(out)
                    log(f"requests round {i + 1}: {c} {mode}: {out.get('calls_per_s', 0):.0f} calls/s, "
                        f"{out.get('peak_rss_kib', 0) / 1024:.1f} MiB")
    finally:
        srv.stop()
    return results


# ------------------------------------------------------------------ storm

def bench_storm(rounds, n, delay_ms):
    srv = Server(token_delay_ms=delay_ms)
    res = {}
    tmp = TARGET / "storm"
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for i in range(rounds):
            for c in (["storm-gapi", "storm-yup"] if i % 2 == 0 else ["storm-yup", "storm-gapi"]):
                srv.reset()
                out = client([CLIENT, c, "--url", srv.url, "--n", n, "--dir", tmp], timeout=300)
                s = srv.stats()
                out["token_requests"] = s["token"]
                out["api_requests"] = s["api"]
                res.setdefault(c, []).append(out)
                log(f"storm round {i + 1}: {c}: {s['token']} token requests, {s['api']} API requests, "
                    f"{out.get('ok')} ok, {out.get('failed')} failed, {out.get('secs', 0):.2f} s")
    finally:
        srv.stop()
    return res


# ------------------------------------------------------------------ media

MEDIA_CLIENTS = ["upload-gapi", "upload-gapi-multipart", "upload-reqwest", "download-gapi", "download-reqwest"]


def bench_media(rounds, size):
    srv = Server()
    res = {}
    try:
        for i in range(rounds):
            order = MEDIA_CLIENTS if i % 2 == 0 else list(reversed(MEDIA_CLIENTS))
            for c in order:
                out = client([CLIENT, c, "--url", srv.url, "--size", size])
                res.setdefault(c, []).append(out)
                log(f"media round {i + 1}: {c}: {out.get('mib_per_s', 0):.0f} MiB/s, "
                    f"{out.get('peak_rss_kib', 0) / 1024:.1f} MiB RSS")
    finally:
        srv.stop()
    return res


# ------------------------------------------------------------------ report

def fmt_s(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def report(m, args, r, versions):
    L = []
    goals = []
    L.append("# gapi benchmarks\n")
    L.append("Generated by `bench/run.py`; do not edit by hand (the notes at the end come from "
             "`bench/NOTES.md`). Reproduce with:\n")
    L.append("```sh\n" + args.command + "\n```\n")
    for again in getattr(args, "reruns", None) or []:
        L.append(f"Then, for the sections it names (their tables come from this later run): `{again}`\n")
    L.append("| machine | |\n|---|---|")
    L.append(f"| date | {m['date']} |")
    L.append(f"| CPU | {m['cpu']} × {m['nproc']} (`nproc` = {m['nproc']}), {m['mem']} RAM; "
             "shared with other builds |")
    L.append(f"| load average at the start | {m['load']} |")
    L.append(f"| toolchain | {m['rustc']}; Python {m['python']}; Linux {m['kernel']} |")
    L.append(f"| gapi | commit {m['commit']} |")
    L.append(f"| peers | {versions} |")
    L.append("")
    L.append("The machine is shared and noisy: absolute times move by ±50% between runs. Every "
             "comparison below is measured **side by side, alternating** (A, B, A, B, … with the "
             "order flipped every round) and reported as the median; the **ratios** are the headline.\n")

    if "codegen" in r and r["codegen"]:
        c = r["codegen"]
        L.append("## 1. Code generation (release `gapi-gen`)\n")
        L.append(f"`gapi-gen generate --out DIR --runtime-path runtime ../shared/discovery-docs/*.json`, "
                 f"{args.codegen_rounds} runs, median (min–max). Peak RSS from `/usr/bin/time -f %M`.\n")
        L.append("| input | wall time (s) | peak RSS (MiB) |\n|---|---|---|")
        label = {"all": f"all {c['docs']} documents → {c['crates']} crates, {c['lines']:,} lines",
                 "compute.alpha": f"compute.alpha alone ({c['largest_sizes']['compute.alpha'] / 1e6:.1f} MB JSON)",
                 "aiplatform.v1beta1": f"aiplatform.v1beta1 alone "
                                       f"({c['largest_sizes']['aiplatform.v1beta1'] / 1e6:.1f} MB JSON)"}
        for k, v in c["res"].items():
            ts = [t for t, _, _ in v]
            fails = sum(1 for _, _, rc in v if rc != 0)
            note = f" ({fails} runs exited non-zero)" if fails else ""
            L.append(f"| {label[k]}{note} | {fmt_s(med(ts))} ({fmt_s(min(ts))}–{fmt_s(max(ts))}) | "
                     f"{max(p for _, p, _ in v):.0f} |")
        L.append("")

    if "compile" in r and r["compile"]:
        L.append("## 2. Compile time of one generated crate (debug, dependencies built)\n")
        L.append(f"`cargo clean -p X && cargo build -p X` in a scratch workspace "
                 f"(`bench/target/compile`), {args.compile_rounds} runs per crate alternating with the "
                 "peer, median (min–max), `CARGO_INCREMENTAL=0` on both sides (crates.io crates never "
                 "build incrementally). *rustc* is the time of the crate's own rustc process, the crate "
                 "alone (logged by `bench/rustc-timer.sh` as `RUSTC_WRAPPER`); *cargo* is the wall time of "
                 "the whole `cargo build -p X`, which adds cargo's fixed cost (about 0.2–0.3 s here: "
                 "fingerprints of ~150 dependencies) to both sides. The goal is judged on rustc. "
                 "gapi's crates are generated by the release CLI from the documents in `discovery-docs/` "
                 "(tasks, drive) and `../shared/discovery-docs/` (compute). Peak RSS is the compiler's "
                 "(`/usr/bin/time -f %M`). Methods: gapi counts the document's methods, google-apis-rs its "
                 "`doit` functions.\n")
        L.append("| API | gapi rustc (s) | google-apis-rs rustc (s) | ratio | goal ≤ 0.33 | "
                 "cargo wall gapi / peer (s) | ratio (wall) | "
                 "peak RSS gapi / peer (MiB) | methods gapi / peer | lines per method gapi / peer |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for row in r["compile"]:
            o, p = med(row["ours_rustc_s"]), med(row["peer_rustc_s"])
            ow, pw = med(row["ours_s"]), med(row["peer_s"])
            ratio = o / p
            goals.append((f"compile {row['api']} ≤ 1/3 of google-apis-rs (rustc, crate alone)", f"{ratio:.2f}",
                          ratio <= 1 / 3, f"{ratio * 3:.1f}× the target" if ratio > 1 / 3 else ""))
            L.append(f"| {row['api']} (rev {row['ours_rev']} / {row['peer_rev']}) | "
                     f"{fmt_s(o)} ({fmt_s(min(row['ours_rustc_s']))}–{fmt_s(max(row['ours_rustc_s']))}) | "
                     f"{fmt_s(p)} ({fmt_s(min(row['peer_rustc_s']))}–{fmt_s(max(row['peer_rustc_s']))}) | "
                     f"**{ratio:.2f}** | {verdict(ratio <= 1 / 3)} | "
                     f"{fmt_s(ow)} / {fmt_s(pw)} | {ow / pw:.2f} | "
                     f"{row['ours_mib']:.0f} / {row['peer_mib']:.0f} | "
                     f"{row['ours_methods']} / {row['peer_methods']} | "
                     f"{row['ours_lines'] / row['ours_methods']:.0f} / {row['peer_lines'] / max(row['peer_methods'], 1):.0f} |")
        L.append("")

    if "features" in r and r["features"]:
        f = r["features"]
        if not r.get("compile"):
            L.append("## 2. Compile time of one generated crate (debug, dependencies built)\n")
        L.append(f"**Per-resource features** (compute v1, rev {f['rev']}: {f['methods']:,} methods, "
                 f"{f['features']} top-level resources, one cargo feature each; `full`, the default, is all "
                 f"of them). The same measure of the same crate, built with all features, with "
                 f"`--no-default-features --features instances` ({f['instances_methods']} methods, the "
                 "schemas and parameter enums they reach) and with `--no-default-features`, in a scratch "
                 f"workspace of its own (`bench/target/features`), {args.features_rounds} runs per case, "
                 "order rotated, median (min–max); this part alone: `python3 bench/run.py --only features "
                 "--no-write`.\n")
        L.append("| compute v1 built with | rustc (s) | ÷ all features | goal ≤ 0.15 | cargo wall (s) | "
                 "peak RSS (MiB) |")
        L.append("|---|---|---|---|---|---|")
        full = med(f["cases"][0]["rustc_s"])
        for i, c in enumerate(f["cases"]):
            o = med(c["rustc_s"])
            ratio = o / full
            goal = "" if i != 1 else verdict(ratio <= 0.15)
            if i == 1:
                goals.append(("compile compute v1 with one resource feature (`instances`) ≤ 15% of all "
                              "(rustc, crate alone)", f"{ratio:.2f}", ratio <= 0.15,
                              f"{ratio / 0.15:.1f}× the target" if ratio > 0.15 else ""))
            L.append(f"| {c['label']} | {fmt_s(o)} ({fmt_s(min(c['rustc_s']))}–{fmt_s(max(c['rustc_s']))}) | "
                     f"**{ratio:.2f}** | {goal} | {fmt_s(med(c['wall_s']))} | {c['mib']:.0f} |")
        L.append("")

    if r.get("firstbuild"):
        fb = r["firstbuild"]
        L.append("## 2b. A newcomer's first build of a program that lists task lists\n")
        L.append(f"A fresh project and target directory, dependencies downloaded beforehand (`cargo fetch`), "
                 f"`cargo build` (debug), {args.firstbuild_rounds} rounds, order rotated, median (min–max); "
                 "crates = packages compiled. The gapi projects name gapi by path (the sources a registry "
                 "user builds); `CARGO_INCREMENTAL=0` everywhere, as for registry crates. The programs are "
                 "in `bench/run.py` (`firstbuild_projects`): gapi's is 11 lines with a static token; "
                 "google-tasks1's follows its README (yup-oauth2 installed flow, hyper-rustls). This part "
                 "alone: `python3 bench/run.py --only firstbuild --no-write`.\n")
        L.append("| setup | wall (s) | ÷ google-tasks1 | goal ≤ 1.0 | crates |")
        L.append("|---|---|---|---|---|")
        peer = next(c for c in fb["cases"] if c["label"].startswith("google-tasks1"))
        for c in fb["cases"]:
            ratio = med(c["wall_s"]) / med(peer["wall_s"])
            gapi = c is not peer
            v = verdict(ratio <= 1.0) if gapi else ""
            L.append(f"| {c['label']} | {fmt_s(med(c['wall_s']))} ({fmt_s(min(c['wall_s']))}–"
                     f"{fmt_s(max(c['wall_s']))}) | **{ratio:.2f}** | {v} | {c['crates']} |")
            if gapi:
                goals.append((f"first build, {c['label']} ≤ google-tasks1 + yup-oauth2", f"{ratio:.2f}",
                              ratio <= 1.0, f"{100 * (ratio - 1):.0f}% slower" if ratio > 1.0 else ""))
        L.append("")

    if r.get("decode"):
        dd = r["decode"]
        L.append("## 2c. Decoding and encoding JSON bodies\n")
        L.append("gapi's generated types (records: `dyn Field`, a per-struct key index, no serde derives) "
                 "against google-apis-rs's serde-derived ones (google-tasks1 7.0.0, google-drive3 7.0.0), "
                 "each side doing the same work: the body checked for UTF-8 once and parsed as text "
                 "(gapi through `gapi::wire::from_json`, its response path; google-apis-rs itself adds "
                 "`String::from_utf8_lossy`, which costs more than this), and encoding a decoded value "
                 "with `serde_json::to_vec`. *Instructions* per operation come from callgrind "
                 "(`bench-client decode-one`, the difference of 6 and 1 operations, / 5): deterministic on "
                 "this shared machine, they are what the goal is judged on. *Wall* is the best of "
                 "interleaved rounds (`bench-client decode`). Bodies: `bench/bodies.py`. This part alone: "
                 "`python3 bench/run.py --only decode --no-write`.\n")
        L.append("| body | decode, instructions gapi / peer | ratio | goal ≤ 1.2 | encode, instructions gapi / peer "
                 "| ratio | goal ≤ 1.5 | wall decode / encode ratio |")
        L.append("|---|---|---|---|---|---|---|---|")
        w = dd.get("wall") or {}
        walls = {"tasklists.json": (w.get("plain_ns"), w.get("peer_ns"), w.get("encode_ns"), w.get("peer_encode_ns"))}
        for key, body in (("drive_common", "filelist_common.json"), ("drive_full", "filelist_full.json")):
            x = w.get(key) or {}
            walls[body] = (x.get("decode_ns"), x.get("peer_decode_ns"), x.get("encode_ns"), x.get("peer_encode_ns"))
        for label, body in DECODE_BODIES:
            ins = dd.get("instructions", {}).get(body)
            wd = walls.get(body, (None,) * 4)
            wall = (f"{wd[0] / wd[1]:.2f} / {wd[2] / wd[3]:.2f}" if all(wd) else "")
            if not ins:
                L.append(f"| {label} | (no valgrind) | | | | | | {wall} |")
                continue
            dr = ins["ours-decode"] / ins["theirs-decode"]
            er = ins["ours-encode"] / ins["theirs-encode"]
            L.append(f"| {label} | {ins['ours-decode']:,.0f} / {ins['theirs-decode']:,.0f} | **{dr:.2f}** | "
                     f"{verdict(dr <= 1.2)} | {ins['ours-encode']:,.0f} / {ins['theirs-encode']:,.0f} | "
                     f"**{er:.2f}** | {verdict(er <= 1.5)} | {wall} |")
            goals.append((f"decode {label} ≤ 1.2× serde derive (instructions)", f"{dr:.2f}", dr <= 1.2,
                          "" if dr <= 1.2 else f"{100 * (dr / 1.2 - 1):.0f}% over"))
            goals.append((f"encode {label} ≤ 1.5× serde derive (instructions)", f"{er:.2f}", er <= 1.5,
                          "" if er <= 1.5 else f"{100 * (er / 1.5 - 1):.0f}% over"))
        L.append("")

    if "requests" in r and r["requests"]:
        q = r["requests"]
        L.append("## 3. Requests per second (loopback, `GET tasks/v1/users/@me/lists`, 1 KB JSON)\n")
        L.append(f"One process per client and run ({args.rounds} rounds × {args.secs} s per mode, order "
                 f"rotated each round), against `bench-server` (hyper, release, its own process). "
                 f"Sequential = one call at a time; concurrent = {args.conc} tasks (Python: {args.conc} "
                 "threads, one `Http` each). Every call decodes the body into the typed `TaskLists` "
                 "(raw reqwest: `serde_json` into gapi's generated struct). Peak RSS = `VmHWM` of the "
                 "client process (Python: `ru_maxrss`). CPU per call = the client process's user + system "
                 "time over the measured window ÷ calls: less sensitive to the neighbours' load than calls/s.\n")
        L.append("| client | sequential calls/s | concurrent calls/s | client CPU µs/call seq / conc | "
                 "peak RSS seq / conc (MiB) |")
        L.append("|---|---|---|---|---|")
        names = {"gapi": "gapi (generated tasks v1)",
                 "google-tasks1": "google-tasks1 7.0.0 (static token: `GetToken for String`)",
                 "reqwest-default": "raw reqwest 0.13, default settings (`Client::new()`)",
                 "reqwest": "*for reference:* raw reqwest 0.13 with gapi's settings (timeouts, gzip, user agent)",
                 "python": "google-api-python-client " + versions.split("google-api-python-client ")[-1].split(",")[0],
                 "hyper": "*for reference:* raw hyper-util legacy client (google-apis-rs's transport)",
                 "reqwest-url": "*for reference:* raw reqwest, URL parsed once (`Url` clone per call)"}
        agg = {}
        for c in REQ_CLIENTS:
            for mode in ("seq", "conc"):
                runs = q.get(f"{c}:{mode}", [])
                agg[(c, mode)] = (med([x.get("calls_per_s") for x in runs if "error" not in x]),
                                  med([x.get("peak_rss_kib", 0) / 1024 for x in runs if "error" not in x]),
                                  [x.get("calls_per_s") for x in runs if "error" not in x],
                                  sum(1 for x in runs if "error" in x),
                                  med([x.get("cpu_us_per_call") for x in runs if "error" not in x]))
        for c in REQ_CLIENTS:
            s, c_ = agg[(c, "seq")], agg[(c, "conc")]
            err = ""
            if s[3] or c_[3]:
                err = f" ({s[3] + c_[3]} runs failed)"
            L.append(f"| {names[c]}{err} | {s[0]:,.0f} ({min(s[2], default=0):,.0f}–{max(s[2], default=0):,.0f}) | "
                     f"{c_[0]:,.0f} ({min(c_[2], default=0):,.0f}–{max(c_[2], default=0):,.0f}) | "
                     f"{s[4]:.1f} / {c_[4]:.1f} | {s[1]:.1f} / {c_[1]:.1f} |")
        L.append("")
        L.append("Decoding and encoding are measured apart: section 2c.\n")
        L.append("| ratio (gapi ÷ peer, medians) | sequential | concurrent | goal |")
        L.append("|---|---|---|---|")
        for peer, goal, test, desc in (
                ("google-tasks1", "≥ 1.0", lambda x: x >= 1.0, "at least google-tasks1's"),
                ("python", "≥ 10", lambda x: x >= 10.0, "at least 10× the Python client's"),
                ("reqwest-default", "≥ 1.0", lambda x: x >= 1.0, "at least raw reqwest's (default settings)"),
                ("reqwest", "(reference)", None, ""),
                ("hyper", "(reference)", None, "")):
            cells = []
            for mode in ("seq", "conc"):
                ratio = agg[("gapi", mode)][0] / agg[(peer, mode)][0]
                if test is None:
                    cells.append(f"{ratio:.2f}")
                    continue
                cells.append(f"**{ratio:.2f}** {verdict(test(ratio))}")
                miss = ""
                if not test(ratio):
                    target = {"google-tasks1": 1.0, "python": 10.0, "reqwest-default": 1.0}[peer]
                    miss = f"short by {100 * (1 - ratio / target):.0f}%"
                goals.append((f"{'sequential' if mode == 'seq' else 'concurrent'} calls/s {desc}",
                              f"{ratio:.2f}", test(ratio), miss))
            L.append(f"| gapi ÷ {peer} | {cells[0]} | {cells[1]} | {goal} |")
        L.append("")
        # The same ratio taken within each round (the two runs at most a few
        # seconds apart), so that the machine's drift between rounds cancels:
        # its spread says how far the ratio of medians can be trusted.
        L.append("| per-round ratio, gapi ÷ peer: median (lowest–highest) | sequential | concurrent |")
        L.append("|---|---|---|")
        for peer in ("google-tasks1", "reqwest-default", "hyper"):
            cells = []
            for mode in ("seq", "conc"):
                g, p_ = q.get(f"gapi:{mode}", []), q.get(f"{peer}:{mode}", [])
                rs = [a["calls_per_s"] / b["calls_per_s"] for a, b in zip(g, p_)
                      if "error" not in a and "error" not in b and b.get("calls_per_s")]
                cells.append(f"{med(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})" if rs else "–")
            L.append(f"| gapi ÷ {peer} | {cells[0]} | {cells[1]} |")
        L.append("")
        L.append("| client CPU per call, gapi ÷ peer (medians; lower is cheaper) | sequential | concurrent |")
        L.append("|---|---|---|")
        for peer in ("google-tasks1", "reqwest-default", "reqwest", "hyper"):
            cells = [f"{agg[('gapi', mode)][4] / agg[(peer, mode)][4]:.2f}" for mode in ("seq", "conc")]
            L.append(f"| gapi ÷ {peer} | {cells[0]} | {cells[1]} |")
        L.append("")

    if "storm" in r and r["storm"]:
        s = r["storm"]
        L.append(f"## 4. Refresh storm: {args.storm_n:,} concurrent calls on an expired access token\n")
        L.append(f"Both clients start with an access token that expired an hour ago and a valid refresh "
                 f"token; the token endpoint is on the loopback server and answers after "
                 f"{args.token_delay_ms} ms (a real one takes 50–150 ms). {args.storm_rounds} runs each. "
                 "gapi: `UserTokenSource::builder(UserCredentials::new(..).with_token_uri(..)"
                 ".with_access_token(expired))` behind the generated Tasks client. google-tasks1: "
                 "`InstalledFlowAuthenticator` from a `client_secret.json` whose `token_uri` is the "
                 "loopback endpoint, with `persist_tokens_to_disk` on the token file an earlier run "
                 "wrote (now expired) — yup-oauth2's normal installed-app setup.\n")
        L.append("| client | token requests (per run) | API calls ok / failed | wall time (s) |")
        L.append("|---|---|---|---|")
        for c, name in (("storm-gapi", "gapi"), ("storm-yup", "google-tasks1 + yup-oauth2 12")):
            runs = s.get(c, [])
            toks = [x.get("token_requests") for x in runs]
            ok = [x.get("ok", 0) for x in runs]
            failed = [x.get("failed", 0) for x in runs]
            L.append(f"| {name} | {', '.join(str(t) for t in toks)} | {med(ok):.0f} / {med(failed):.0f} | "
                     f"{fmt_s(med([x.get('secs') for x in runs]))} |")
            if c == "storm-gapi":
                goals.append(("exactly 1 token request in the refresh storm (gapi)",
                              ", ".join(str(t) for t in toks), all(t == 1 for t in toks), ""))
            else:
                goals.append(("refresh storm, yup-oauth2 (report)", ", ".join(str(t) for t in toks), None,
                              "no single flight: one refresh per concurrent caller"))
        L.append("")

    if "media" in r and r["media"]:
        mm = r["media"]
        size = (f"{args.media_size / 2**30:g} GiB" if args.media_size >= 2**30
                else f"{args.media_size / 2**20:g} MiB")
        L.append(f"## 5. Media: {size} through loopback\n")
        L.append(f"{args.media_rounds} runs each, alternating, median. The bytes are generated on the fly "
                 "by an `AsyncRead` (no disk); the server drains uploads and generates downloads. "
                 "gapi uses the generated storage v1 client: `objects().insert(bucket, Object)` + "
                 "`upload_with(Media::from_reader(..), Resumable | Multipart)` and "
                 "`objects().get(..).download().await?.write_to(&mut sink)`. Raw reqwest streams the "
                 "same reader (`Body::wrap_stream`) in one request / reads `chunk()`s.\n")
        L.append("| transfer | MiB/s | ÷ raw reqwest | client CPU (s) | peak RSS (MiB) |")
        L.append("|---|---|---|---|---|")
        names = {"upload-gapi": "upload, gapi resumable (8 MiB chunks)",
                 "upload-gapi-multipart": "upload, gapi multipart (one streamed request)",
                 "upload-reqwest": "upload, raw reqwest (one streamed request)",
                 "download-gapi": "download, gapi `Download::write_to`",
                 "download-reqwest": "download, raw reqwest `chunk()`"}
        agg = {c: (med([x.get("mib_per_s") for x in mm.get(c, []) if "error" not in x]),
                   max([x.get("peak_rss_kib", 0) / 1024 for x in mm.get(c, [])], default=0),
                   sum(1 for x in mm.get(c, []) if "error" in x),
                   med([x.get("cpu_secs") for x in mm.get(c, []) if "error" not in x])) for c in MEDIA_CLIENTS}
        for c in MEDIA_CLIENTS:
            base = agg["upload-reqwest" if c.startswith("upload") else "download-reqwest"][0]
            err = f" ({agg[c][2]} runs failed)" if agg[c][2] else ""
            L.append(f"| {names[c]}{err} | {agg[c][0]:,.0f} | {agg[c][0] / base:.2f} | {agg[c][3]:.2f} | "
                     f"{agg[c][1]:.1f} |")
        resumable = agg["upload-gapi"][0] / agg["upload-reqwest"][0]
        goals.append((f"resumable upload ≥ 0.9 of raw reqwest ({size})", f"{resumable:.2f}", resumable >= 0.9,
                      "" if resumable >= 0.9 else f"short by {100 * (1 - resumable / 0.9):.0f}%"))
        worst = max(agg[c][1] for c in MEDIA_CLIENTS if "gapi" in c)
        goals.append((f"media peak RSS flat, well under 100 MiB (gapi, {size})", f"{worst:.0f} MiB max",
                      worst < 100, ""))
        L.append("")

    if goals:
        L.append("## Goals\n")
        L.append("| goal | measured | verdict | by how much |\n|---|---|---|---|")
        for g, meas, ok, how in goals:
            v = "report" if ok is None else verdict(ok)
            L.append(f"| {g} | {meas} | {v} | {how} |")
        L.append("")
    notes = BENCH / "NOTES.md"
    if notes.exists():
        L.append(notes.read_text().strip() + "\n")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the request benchmark")
    ap.add_argument("--secs", type=float, default=3.0, help="seconds per request run")
    ap.add_argument("--conc", type=int, default=32)
    ap.add_argument("--codegen-rounds", type=int, default=3)
    ap.add_argument("--compile-rounds", type=int, default=3)
    ap.add_argument("--features-rounds", type=int, default=3)
    ap.add_argument("--firstbuild-rounds", type=int, default=3)
    ap.add_argument("--storm-rounds", type=int, default=3)
    ap.add_argument("--storm-n", type=int, default=1000)
    ap.add_argument("--token-delay-ms", type=int, default=50)
    ap.add_argument("--media-rounds", type=int, default=5)
    ap.add_argument("--media-size", type=int, default=1 << 30)
    ap.add_argument("--no-write", action="store_true", help="print the report, do not write BENCHMARKS.md")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--merge", action="store_true",
                    help="keep the other sections' results of bench/target/results.json (sections run apart)")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render the report from the last run's bench/target/results.json")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    for s in only:
        if s not in SECTIONS:
            sys.exit(f"unknown section {s}; sections: {', '.join(SECTIONS)}")
    args.command = COMMAND if only == SECTIONS and sys.argv[1:] == [] else \
        "python3 bench/run.py " + " ".join(sys.argv[1:])
    saved = TARGET / "results.json"
    if args.report_only:
        d = json.loads(saved.read_text())
        for k in ("command", "reruns", "rounds", "secs", "conc", "codegen_rounds", "compile_rounds", "features_rounds",
                  "storm_rounds", "storm_n", "token_delay_ms", "media_rounds", "media_size"):
            setattr(args, k, d["args"].get(k, getattr(args, k, None)))
        text = report(d["machine"], args, d["results"], d["versions"])
        print(text)
        if not args.no_write:
            Path(args.out).write_text(text)
            log(f"wrote {args.out}")
        return
    m = machine()
    log(f"machine: {m}")
    build(only)
    r = {}
    if "codegen" in only:
        r["codegen"] = bench_codegen(args.codegen_rounds)
    if "compile" in only:
        r["compile"] = bench_compile(args.compile_rounds)
    if "features" in only:
        r["features"] = bench_features(args.features_rounds)
    if "firstbuild" in only:
        r["firstbuild"] = bench_firstbuild(args.firstbuild_rounds)
    if "decode" in only:
        r["decode"] = bench_decode()
    if "requests" in only:
        r["requests"] = bench_requests(args.rounds, args.secs, args.conc)
    if "storm" in only:
        r["storm"] = bench_storm(args.storm_rounds, args.storm_n, args.token_delay_ms)
    if "media" in only:
        r["media"] = bench_media(args.media_rounds, args.media_size)
    py = VENV / "bin" / "python"
    versions = "google-tasks1 7.0.0, google-drive3 7.0.0, google-compute1 6.0.0 (crates.io), yup-oauth2 12.1, " \
               "reqwest 0.13, google-api-python-client " + (pip_version(py, "google-api-python-client")
                                                            if py.exists() else "?") + \
               (f" (httplib2 {pip_version(py, 'httplib2')})" if py.exists() else "")
    TARGET.mkdir(exist_ok=True)
    if args.merge and saved.exists():
        # the sections not run now keep their last results (each section's
        # comparisons are side by side within its own run); the report names
        # the first run's command and machine, and this run as a re-run
        prev = json.loads(saved.read_text())
        r = {**prev["results"], **r}
        args.reruns = prev["args"].get("reruns", []) + [args.command]
        args.command = prev["args"].get("command", args.command)
        m = prev.get("machine", m)
    saved.write_text(json.dumps({"machine": m, "args": vars(args), "results": r, "versions": versions}))
    text = report(m, args, r, versions)
    print(text)
    if not args.no_write:
        Path(args.out).write_text(text)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
