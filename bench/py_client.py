#!/usr/bin/env python3
"""google-api-python-client against the loopback server, one process per run.

    py_client.py --url http://127.0.0.1:PORT --doc tasks.v1.json --mode seq|conc [--secs S] [--conc N]

The client is built the documented way from a local discovery document
(`build_from_document`), pointed at the loopback root with
`client_options={"api_endpoint": ...}`, and authorizes with a static token
through google-auth (`google.oauth2.credentials.Credentials` +
`google_auth_httplib2.AuthorizedHttp`). httplib2.Http is not thread-safe, so
in `conc` mode each thread has its own AuthorizedHttp (passed to `execute`).
Prints one JSON line like bench-client.
"""
import argparse
import json
import resource
import threading
import time

import google.oauth2.credentials
import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build_from_document

TOKEN = "ya29.bench-static-access-token"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--mode", default="seq")
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--conc", type=int, default=32)
    a = ap.parse_args()
    with open(a.doc) as f:
        doc = f.read()
    creds = google.oauth2.credentials.Credentials(TOKEN)

    def new_http():
        return google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http())

    service = build_from_document(doc, http=new_http(),
                                  client_options={"api_endpoint": a.url.rstrip("/") + "/"})
    conc = 1 if a.mode == "seq" else a.conc
    count = [0] * conc
    errors = []

    def worker(i, warm_until, end):
        http = new_http()
        try:
            while time.monotonic() < warm_until:
                r = service.tasklists().list().execute(http=http)
                assert len(r["items"]) == 3, r
            barrier.wait()
            while time.monotonic() < end[0]:
                service.tasklists().list().execute(http=http)
                count[i] += 1
        except Exception as e:  # noqa: BLE001 - reported
            errors.append(repr(e))
            barrier.abort()

    warm_until = time.monotonic() + 0.3
    end = [0.0]
    start = [0.0]

    cpu0 = [0.0]

    def go():
        ru = resource.getrusage(resource.RUSAGE_SELF)
        cpu0[0] = ru.ru_utime + ru.ru_stime
        start[0] = time.monotonic()
        end[0] = start[0] + a.secs

    barrier = threading.Barrier(conc, action=go)
    threads = [threading.Thread(target=worker, args=(i, warm_until, end)) for i in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start[0]
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime - cpu0[0]
    n = sum(count)
    out = {"client": "python", "mode": a.mode, "conc": conc, "calls": n, "secs": secs,
           "calls_per_s": n / secs if secs > 0 else 0,
           "cpu_us_per_call": cpu * 1e6 / max(n, 1),
           "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if errors:
        out["error"] = errors[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
