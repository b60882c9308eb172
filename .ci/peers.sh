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
