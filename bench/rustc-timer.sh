#!/bin/sh
# RUSTC_WRAPPER for bench/run.py's compile section: runs rustc and, when
# GAPI_BENCH_RUSTC_LOG is set, appends "<crate name> <microseconds>" for the
# run, so that the time of one crate's rustc process (the crate alone,
# without cargo's own work) can be read off.
start=$(date +%s%N)
"$@"
rc=$?
end=$(date +%s%N)
if [ -n "$GAPI_BENCH_RUSTC_LOG" ]; then
    name=-
    prev=
    for a in "$@"; do
        if [ "$prev" = "--crate-name" ]; then name=$a; fi
        prev=$a
    done
    echo "$name $(( (end - start) / 1000 ))" >> "$GAPI_BENCH_RUSTC_LOG"
fi
exit $rc
