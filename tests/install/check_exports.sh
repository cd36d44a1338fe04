#!/usr/bin/env bash
# The shared library exports the public API and nothing else.
set -u
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^braid_' | grep -v '^_' | grep -v '^BRAID' || true)
count=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^braid_')
if [ -n "$bad" ]; then
  echo "exported symbols outside the braid_ API:"; echo "$bad"; exit 1
fi
internal=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^braid__' || true)
if [ "$internal" != "0" ]; then
  echo "$internal internal braid__ symbols are exported"; exit 1
fi
if [ "$count" -lt 30 ]; then
  echo "only $count braid_ symbols exported; the public API has more"; exit 1
fi
echo "$count braid_* symbols exported, nothing else"
