#!/usr/bin/env bash
# Every BRAID_* setting the library declares is documented in the README's settings table,
# and the README documents no setting the library does not declare.
set -u
info=$1
readme=$2
declared=$("$info" -e | grep -o '^BRAID_[A-Z0-9_]*' | sort -u)
documented=$(grep -o '^| `BRAID_[A-Z0-9_]*`' "$readme" | grep -o 'BRAID_[A-Z0-9_]*' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$documented"))
extra=$(comm -13 <(echo "$declared") <(echo "$documented"))
status=0
[ -n "$missing" ] && { echo "settings missing from the README table:"; echo "$missing"; status=1; }
[ -n "$extra" ] && { echo "README documents settings the library does not declare:"; echo "$extra"; status=1; }
n=$(echo "$declared" | wc -l)
[ $status = 0 ] && echo "all $n settings documented"
exit $status
