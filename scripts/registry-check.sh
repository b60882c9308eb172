#!/usr/bin/env bash
# Proves the crates publish: packages every publishable crate (with cargo's
# verification build), adds the .crate files to a static registry made by
# margo (integer32's static registry tool) and served on 127.0.0.1, then
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

# margo, pinned; installed once per target directory.
tools=$target/tools
if ! "$tools/bin/margo" --version >/dev/null 2>&1; then
  cargo install -q --locked margo --version 0.1.7 --no-default-features --root "$tools"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry=$work/registry
"$tools/bin/margo" init "$registry" --base-url "http://127.0.0.1:$port/" --defaults --html false >/dev/null
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
for p in "${publishable[@]}"; do
  crate=$(ls "$target/package/$p-"[0-9]*.crate | sort -V | tail -1)
  "$tools/bin/margo" add --registry "$registry" "$crate" >/dev/null
done

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
  curl -sf "http://127.0.0.1:$port/config.json" >/dev/null && break
  sleep 0.1
done

# The user's project, outside the workspace.
user=$work/user
cp -r tests/registry-user "$user"
cp discovery-docs/tasks.v1.json "$user/"
mkdir -p "$user/.cargo"
cat >"$user/.cargo/config.toml" <<TOML
[registries.gapi-local]
index = "sparse+http://127.0.0.1:$port/"

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
  CARGO_TARGET_DIR=$work/user-target cargo build -q
  # Nothing came from the workspace: every gapi crate from the registry.
  if cargo tree -q -e normal,build --prefix none | grep -E '^gapi' | grep -v 'registry `gapi-local`'; then
    echo "registry-check: a gapi crate did not come from the registry" >&2
    exit 1
  fi
  export TASKS_ROOT_URL=$base ACCESS_TOKEN=$token CARGO_TARGET_DIR=$work/user-target
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
