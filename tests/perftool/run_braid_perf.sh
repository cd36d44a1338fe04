#!/bin/sh
# Runs braid-perf with the given arguments and checks what an nccl-tests user relies on: exit
# status 0, a table footer with no wrong values and an average bus bandwidth, and as many rows
# as the sweep has sizes. Usage: run_braid_perf.sh path/to/braid-perf <braid-perf arguments>
perf=$1
shift
out=$(timeout 240 "$perf" "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
fail() {
    echo "FAIL: braid-perf $*: $1" >&2
    exit 1
}
[ "$rc" -eq 0 ] || fail "exit status $rc (124: timed out)"
printf '%s\n' "$out" | grep -q '^# Avg bus bandwidth    : [0-9]' || fail "no '# Avg bus bandwidth' line"
printf '%s\n' "$out" | grep -q '^# Out of bounds values : 0 OK' || fail "wrong values reported"
rows=$(printf '%s\n' "$out" | grep -c '^ *[0-9]')
[ "$rows" -gt 0 ] || fail "no result rows"
echo "PASS: braid-perf $* ($rows rows)"
