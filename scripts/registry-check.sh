#!/usr/bin/env bash
# Proves the crates publish: packages every publishable crate (with cargo's
# verification build), serves the registry cargo wrote them into on
# 127.0.0.1 (sparse protocol, python's http.server), then
# builds and runs tests/registry-user — a project outside the workspace that
# names gapi, gapi-gen and gapi-tasks-v1 by version only — against the
# stand-in. Its `.cargo/config.toml` patches crates.io's names with the
# local registry's crates, so its manifest is what a user writes.
#
# Run from anywhere: scripts/registry-check.sh  (CI: .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$target/registry-check
rm -rf "$work" && mkdir -p "$work"

publishable=(gapi gapi-gen gapi-standin gapi-storage gapi-axum gapi-dynamic gapi-cli)
for d in generated/*/; do
  publishable+=("gapi-$(basename "$d")")
done

t0=$SECONDS
pkgs=()
for p in "${publishable[@]}"; do pkgs+=(-p "$p"); done
# --workspace semantics for the listed packages: cargo packages them in
# dependency order and verifies each against the others' .crate files.
cargo package -q --allow-dirty "${pkgs[@]}"
echo "registry-check: packaged and verified ${#publishable[@]} crates in $((SECONDS - t0)) s"

# The registry: `cargo package` of several crates writes them, and an index
# of them in cargo's own format, into a local registry (target/package/
# tmp-registry) that it verifies against; every dependency outside it is
# recorded with crates.io's index URL. Served as a sparse registry it is an
# alternative registry like any other: the index files as cargo wrote them,
# `config.json` naming where the .crate files are.
registry=$target/package/tmp-registry
if [ ! -f "$registry/index/ga/pi/gapi" ]; then
  echo "registry-check: cargo package wrote no local registry at $registry (has cargo changed?)" >&2
  exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '{"dl": "http://127.0.0.1:%s/{crate}-{version}.crate"}\n' "$port" >"$registry/index/config.json"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
python3 -m http.server --bind 127.0.0.1 --directory "$registry" "$port" >"$work/http.log" 2>&1 &
pids+=($!)

# The stand-in (this workspace's binary), on a free port.
cargo build -q -p gapi-standin --bin gapi-standin
"$target/debug/gapi-standin" --addr 127.0.0.1:0 >"$work/standin.out" 2>"$work/standin.err" &
pids+=($!)
for _ in $(seq 100); do
  grep -q '^listening on' "$work/standin.out" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$work/standin.out")
[ -n "$base" ] || { echo "registry-check: the stand-in did not start" >&2; cat "$work/standin.err" >&2; exit 1; }
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/index/config.json" >/dev/null && break
  sleep 0.1
done

# The user's project, outside the workspace.
user=$work/user
cp -r tests/registry-user "$user"
cp discovery-docs/tasks.v1.json "$user/"
# The workspace's lock as a starting point, so that the build shares the
# workspace's compiled dependencies (same versions); cargo drops what the
# project does not use and adds the registry's gapi crates.
cp Cargo.lock "$user/"
mkdir -p "$user/.cargo"
cat >"$user/.cargo/config.toml" <<TOML
[registries.gapi-local]
index = "sparse+http://127.0.0.1:$port/index/"

[patch.crates-io]
gapi = { version = "=$version", registry = "gapi-local" }
gapi-gen = { version = "=$version", registry = "gapi-local" }
gapi-tasks-v1 = { version = "$version", registry = "gapi-local" }
TOML
token=$(curl -sf -X POST "${base}__standin/issue-token?scope=https://www.googleapis.com/auth/tasks" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
t1=$SECONDS
(
  cd "$user"
  CARGO_TARGET_DIR=$target cargo build -q
  # Nothing came from the workspace: every gapi crate from the registry.
  if cargo tree -q -e normal,build --prefix none | grep -E '^gapi' | grep -v 'registry `gapi-local`'; then
    echo "registry-check: a gapi crate did not come from the registry" >&2
    exit 1
  fi
  export TASKS_ROOT_URL=$base ACCESS_TOKEN=$token CARGO_TARGET_DIR=$target
  cargo run -q --bin registry-user
  # The README's program, as pasted (checked equal to the README below).
  out=$(cargo run -q --bin readme)
  grep -q ' from the registry$' <<<"$out" || { echo "registry-check: readme program printed: $out" >&2; exit 1; }
)
# The README's block is the file, verbatim.
python3 - <<'PY'
import pathlib, sys
readme = pathlib.Path("README.md").read_text()
program = pathlib.Path("tests/registry-user/src/bin/readme.rs").read_text()
if "```rust\n" + program + "```" not in readme:
    sys.exit("registry-check: README.md's program differs from tests/registry-user/src/bin/readme.rs")
PY
echo "registry-check: user project built from the registry and ran in $((SECONDS - t1)) s (total $((SECONDS - t0)) s)"
