#!/usr/bin/env python3
"""Verifies JWTs with google-auth, independently of gapi: one JSON request per
line on stdin, {"token", "cert" (PEM), "audience"}; one JSON line out per
request: {"ok": true, "header": ..., "claims": ...} or {"ok": false,
"error": ...}."""

import json
import sys

from google.auth import jwt

for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    try:
        header = jwt.decode_header(req["token"])
        claims = jwt.decode(req["token"], certs={header.get("kid", "k"): req["cert"]},
                            audience=req.get("audience"))
        out = {"ok": True, "header": header, "claims": claims}
    except Exception as e:  # noqa: BLE001 - reported to the test
        out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out), flush=True)
