#!/usr/bin/env bash
# Regenerates every committed crate under generated/ from discovery-docs/ with
# the CLI, and rewrites discovery-docs/REVISIONS.md. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q -p gapi-gen --features cli -- generate --out generated --runtime-path runtime \
  --repository "$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml | head -1)" discovery-docs/*.json
python3 - <<'PY'
import hashlib, json, pathlib
rows = ["# Discovery documents", "",
        "Copied unchanged from `../shared/discovery-docs` (google-api-python-client 2.202.0's",
        "`discovery_cache/documents`). `scripts/regenerate.sh` rewrites this table.", "",
        "| file | api | version | revision | sha256 |", "|---|---|---|---|---|"]
for p in sorted(pathlib.Path("discovery-docs").glob("*.json")):
    d = json.loads(p.read_text())
    h = hashlib.sha256(p.read_bytes()).hexdigest()
    rows.append(f"| {p.name} | {d['name']} | {d['version']} | {d.get('revision', '')} | `{h[:16]}` |")
pathlib.Path("discovery-docs/REVISIONS.md").write_text("\n".join(rows) + "\n")
PY
echo "regenerated: $(ls generated | tr '\n' ' ')"
