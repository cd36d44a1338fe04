#!/usr/bin/env bash
# A /dev/shm too small for the connectors fails init of the connection with the bytes needed
# and free and the container fix, instead of a crash later. Runs in a private mount namespace
# with a 256 KiB tmpfs on /dev/shm; skips (77) where that is not permitted.
set -u
perf=$1
if ! unshare -m true 2>/dev/null; then
  echo "SKIP: cannot create a mount namespace (needs root or CAP_SYS_ADMIN)"
  exit 77
fi
out=$(unshare -m sh -c 'mount -t tmpfs -o size=256k tmpfs /dev/shm || exit 77
  exec "$0" all_reduce -np 2 -b 1M -e 1M -n 1 -w 0' "$perf" 2>&1)
rc=$?
if [ $rc = 77 ]; then
  echo "SKIP: cannot mount a small tmpfs on /dev/shm here"
  exit 77
fi
echo "$out" | tail -3
if [ $rc = 0 ]; then
  echo "FAIL: the run succeeded with a 256 KiB /dev/shm"
  exit 1
fi
for needle in "in /dev/shm but only 262144 are free" "--shm-size" "--ipc=host"; do
  if ! echo "$out" | grep -q -- "$needle"; then
    echo "FAIL: the error does not say \"$needle\""
    exit 1
  fi
done
echo "1 passed, 0 failed"
