# Shared by the perf/*.sh benchmarks (sourced, not run): their common options, error exit,
# medians and ratios. Before sourcing, a script sets BENCH_NAME (for messages), BENCH_BUILD
# (its default build directory) and BENCH_USAGE (the sed line range of its usage text in $0);
# then it calls bench_parse_args "$@", which sets REPEATS, BUILD (absolute), DO_BUILD, ROOT
# and CMDLINE.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_usage() {
  sed -n "${BENCH_USAGE}p" "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

bench_parse_args() {
  REPEATS=5
  BUILD=$BENCH_BUILD
  DO_BUILD=1
  CMDLINE="perf/$BENCH_NAME $*"
  while [ $# -gt 0 ]; do
    case "$1" in
    -R) REPEATS=$2; shift 2 ;;
    -B) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h | --help) bench_usage 0 ;;
    *) echo "$BENCH_NAME: unknown argument '$1'" >&2; bench_usage 1 ;;
    esac
  done
  case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
}

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# The median of the numbers on stdin (blank-separated), or n/a when there are none.
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "n/a") }'; }

# a / b to two decimals, or n/a when b is not a positive number.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
