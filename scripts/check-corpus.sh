#!/usr/bin/env bash
# Generates crates for discovery documents of the public corpus with gapi-gen
# and runs `cargo check` on them as one temporary workspace sharing one target
# dir, reporting the documents whose crate fails.
#
# usage: scripts/check-corpus.sh [--all | --sample N | --required | DOC...] [--clippy] [--keep]
#   --all        every REST description in the corpus
#   --sample N   N documents, rotating with the day of the year (default: 20)
#   --required   the documents the project promises to compile
#   DOC          a path, or a name like `tasks.v1` (looked up in the corpus)
#   --clippy     run `cargo clippy -- -D warnings` instead of `cargo check`
#   --keep       keep the temporary workspace (printed at the end)
# env:
#   GAPI_DISCOVERY_DIR  corpus folder (default: ../shared/discovery-docs beside the repo)
#   GAPI_RUNTIME_PATH   the runtime crate to depend on (default: runtime/ of this repo)
#   GAPI_CORPUS_TARGET_DIR  target dir of the generated crates (default: /tmp/gapi-corpus-target)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${GAPI_DISCOVERY_DIR:-$repo/../shared/discovery-docs}"
runtime="${GAPI_RUNTIME_PATH:-$repo/runtime}"
gen_target="${CARGO_TARGET_DIR:-$repo/target}"
corpus_target="${GAPI_CORPUS_TARGET_DIR:-/tmp/gapi-corpus-target}"

required=(tasks.v1 drive.v3 gmail.v1 calendar.v3 sheets.v4 youtube.v3 storage.v1 bigquery.v2
  pubsub.v1 chat.v1 books.v1 walletobjects.v1 servicecontrol.v2 translate.v2 discoveryengine.v1
  merchantapi.datasources_v1beta auditmanager.v1 connectors.v2 bigtableadmin.v2 domainsrdap.v1
  analytics.v3 compute.v1 aiplatform.v1beta1)

mode=sample sample=20 clippy=0 keep=0 docs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --all) mode=all ;;
    --sample) mode=sample; sample="$2"; shift ;;
    --required) mode=list; docs+=("${required[@]}") ;;
    --clippy) clippy=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) mode=list; docs+=("$1") ;;
  esac
  shift
done

if [[ ! -d "$corpus" ]]; then
  echo "check-corpus: corpus not found at $corpus (set GAPI_DISCOVERY_DIR)" >&2
  exit 2
fi

# Every REST description, sorted (index.json is the directory list, not one).
mapfile -t all < <(cd "$corpus" && ls -1 *.json | grep -v '^index\.json$' | sort)
files=()
case "$mode" in
  all) for f in "${all[@]}"; do files+=("$corpus/$f"); done ;;
  sample)
    n=${#all[@]}
    doy=$((10#$(date +%j)))
    start=$(( (doy * sample) % n ))
    for ((i = 0; i < sample && i < n; i++)); do files+=("$corpus/${all[$(( (start + i) % n ))]}"); done ;;
  list)
    for d in "${docs[@]}"; do
      if [[ -f "$d" ]]; then files+=("$d")
      elif [[ -f "$corpus/$d.json" ]]; then files+=("$corpus/$d.json")
      elif [[ -f "$corpus/$d" ]]; then files+=("$corpus/$d")
      else echo "check-corpus: no such document: $d" >&2; exit 2; fi
    done ;;
esac

echo "check-corpus: ${#files[@]} document(s); target dir $corpus_target" >&2
(cd "$repo" && CARGO_TARGET_DIR="$gen_target" cargo build --release -q -p gapi-gen --features cli)
gen="$gen_target/release/gapi-gen"
export CARGO_TARGET_DIR="$corpus_target"

tmp="$(mktemp -d /tmp/gapi-corpus.XXXXXX)"
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT

"$gen" generate --out "$tmp" --runtime-path "$runtime" "${files[@]}"
{
  echo "[workspace]"
  echo "resolver = \"3\""
  echo "members = ["
  for d in "$tmp"/*/; do echo "    \"$(basename "$d")\","; done
  echo "]"
} > "$tmp/Cargo.toml"
if [[ -f "$repo/Cargo.lock" ]]; then cp "$repo/Cargo.lock" "$tmp/Cargo.lock"; fi

log="$tmp/cargo.log"
if [[ $clippy == 1 ]]; then cmd=(cargo clippy --workspace --keep-going --quiet -- -D warnings)
else cmd=(cargo check --workspace --keep-going --quiet); fi
start_s=$(date +%s)
status=0
(cd "$tmp" && "${cmd[@]}") > "$log" 2>&1 || status=$?
elapsed=$(( $(date +%s) - start_s ))

mapfile -t failed < <(grep -o 'could not compile `gapi-[^`]*`' "$log" | sed 's/could not compile `\(.*\)`/\1/' | grep -v '^gapi$' | sort -u || true)
total=$(ls -d "$tmp"/*/ | wc -l)
if [[ $status != 0 && ${#failed[@]} == 0 ]]; then
  echo "check-corpus: cargo failed without a crate to blame:" >&2
  tail -40 "$log" >&2
  keep=1
  echo "check-corpus: workspace kept at $tmp" >&2
  exit 1
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "check-corpus: FAILED: ${#failed[@]} of $total crates (${elapsed}s):" >&2
  for c in "${failed[@]}"; do echo "  $c" >&2; done
  grep -E '^error' -A6 "$log" | head -80 >&2
  keep=1
  echo "check-corpus: workspace kept at $tmp (log: $log)" >&2
  exit 1
fi
echo "check-corpus: all $total crates pass ${cmd[1]} (${elapsed}s)"
if [[ $keep == 1 ]]; then echo "check-corpus: workspace kept at $tmp"; fi
