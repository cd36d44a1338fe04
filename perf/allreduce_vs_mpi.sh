#!/usr/bin/env bash
# The issue-2 benchmark: braid's host all-reduce against this machine's memcpy rate and against
# Open MPI, all measured in ONE run on the same machine, so the ratios hold whatever the
# machine is.
#
#   perf/allreduce_vs_mpi.sh [-R repeats (5)] [-B build dir (build-perf)] [--no-build]
#
# Measures, R times each, braid and MPI alternating so that drift hits both alike:
#   (a) the single-core memcpy rate on 64 MiB buffers (perf/memcpy_rate.c);
#   (b) 2-rank 64 MiB float32 sum all-reduce busbw: braid-perf -np 2 vs mpirun -np 2;
#   (c) 8-byte all-reduce latency with 2 and 4 ranks, braid vs MPI.
# Prints the medians, the ratios against the targets (busbw >= 40% of memcpy; latency <= MPI's)
# and a markdown block for perf/RESULTS.md. Raw logs go to perf/out/ (git-ignored).
# Exit status: 0 when the run completed (targets missed are reported, not failed), 1 on error.
set -euo pipefail

BENCH_NAME=allreduce_vs_mpi.sh BENCH_BUILD=build-perf BENCH_USAGE=5,6
. "$(dirname "$0")/bench_lib.sh"
bench_parse_args "$@"

command -v mpirun >/dev/null || die "mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
if [ "$DO_BUILD" = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" >/dev/null || die "cmake configure of $BUILD failed"
  cmake --build "$BUILD" -j2 --target braid-perf braid_memcpy_rate braid_mpi_allreduce \
    >/dev/null || die "build failed: cmake --build $BUILD --target braid-perf ..."
fi
PERF=$BUILD/tools/perf/braid-perf
MEMCPY=$BUILD/perf/braid_memcpy_rate
MPIAR=$BUILD/perf/braid_mpi_allreduce
for b in "$PERF" "$MEMCPY" "$MPIAR"; do
  [ -x "$b" ] || die "$b is missing: build it, or drop --no-build (MPI found at configure?)"
done

# Open MPI 5 renamed the shared-memory BTL from vader to sm.
SM=vader
ompi_info --parsable 2>/dev/null | grep -q '^mca:btl:vader' || SM=sm
MPIRUN=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca btl "self,$SM" --mca pml ob1)
BW_ARGS=(-b 64M -e 64M -n 20 -w 5)
LAT_ARGS=(-b 8 -e 8 -n 2000 -w 200)

OUT=$ROOT/perf/out/allreduce_vs_mpi-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
LOG=$OUT/runs.log

# Runs one command with a bound, keeping its output; prints "time_us busbw" of the first row.
# Both tools print nccl-tests' columns: time is field 6, busbw field 8.
measure() {
  local name=$1; shift
  echo "\$ $*" >>"$LOG"
  if ! timeout 600 "$@" >"$OUT/$name.txt" 2>&1; then
    cat "$OUT/$name.txt" >&2
    die "failed: $*"
  fi
  cat "$OUT/$name.txt" >>"$LOG"
  awk '!/^#/ && NF >= 9 { print $6, $8; exit }' "$OUT/$name.txt"
}

verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = dir == "ge" ? v >= t : v <= t; print ok ? "met" : "missed" }'; }

echo "allreduce_vs_mpi: $REPEATS repeats, logs in ${OUT#"$ROOT"/}" >&2
# One checked run first: numbers for a wrong result are worthless.
measure check "$PERF" all_reduce -np 2 -b 64M -e 64M -n 1 -w 0 -c 1 >/dev/null
grep -q "Out of bounds values : 0 OK" "$OUT/check.txt" || die "braid's 64 MiB all-reduce is wrong"

MEM="" BBW="" MBW="" BL2="" ML2="" BL4="" ML4=""
for r in $(seq 1 "$REPEATS"); do
  echo "  repeat $r/$REPEATS" >&2
  MEM="$MEM $("$MEMCPY" -s 64M -r 11 | awk '/^bytes_per_sec/ { printf "%.4f", $2 / 1e9 }')"
  BBW="$BBW $(measure "braid_bw_$r" "$PERF" all_reduce -np 2 "${BW_ARGS[@]}" -c 0 | cut -d' ' -f2)"
  MBW="$MBW $(measure "mpi_bw_$r" "${MPIRUN[@]}" -np 2 "$MPIAR" "${BW_ARGS[@]}" | cut -d' ' -f2)"
  BL2="$BL2 $(measure "braid_lat2_$r" "$PERF" all_reduce -np 2 "${LAT_ARGS[@]}" -c 0 | cut -d' ' -f1)"
  ML2="$ML2 $(measure "mpi_lat2_$r" "${MPIRUN[@]}" -np 2 "$MPIAR" "${LAT_ARGS[@]}" | cut -d' ' -f1)"
  BL4="$BL4 $(measure "braid_lat4_$r" "$PERF" all_reduce -np 4 "${LAT_ARGS[@]}" -c 0 | cut -d' ' -f1)"
  ML4="$ML4 $(measure "mpi_lat4_$r" "${MPIRUN[@]}" -np 4 "$MPIAR" "${LAT_ARGS[@]}" | cut -d' ' -f1)"
done

mem=$(echo "$MEM" | median)
bbw=$(echo "$BBW" | median)
mbw=$(echo "$MBW" | median)
bl2=$(echo "$BL2" | median)
ml2=$(echo "$ML2" | median)
bl4=$(echo "$BL4" | median)
ml4=$(echo "$ML4" | median)
r_bw=$(ratio "$bbw" "$mem")
r_l2=$(ratio "$bl2" "$ml2")
r_l4=$(ratio "$bl4" "$ml4")

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
ompi=$(mpirun --version 2>/dev/null | head -1)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if git -C "$ROOT" status --porcelain 2>/dev/null | grep -q .; then dirty="+changes"; fi

cat <<EOF | tee "$OUT/RESULTS-block.md"
### Host all-reduce vs memcpy and Open MPI — $(date -u +%Y-%m-%d)

- Machine: ${cpu:-unknown CPU}, nproc $(nproc), $(uname -sr)
- Software: braid git $rev$dirty, $ompi (btl self,$SM, pml ob1, --bind-to none)
- Command: \`$CMDLINE\` — medians of $REPEATS repeats, braid and MPI alternating
- Runs: \`braid-perf all_reduce -np N ${BW_ARGS[*]} -c 0\` / \`${LAT_ARGS[*]} -c 0\`;
  \`${MPIRUN[*]} -np N braid_mpi_allreduce\` with the same sizes and iterations
  (both: mean time per call over the iterations, averaged over ranks)

| measurement | braid | Open MPI | ratio | target | verdict |
| --- | ---: | ---: | ---: | --- | --- |
| memcpy, 64 MiB, 1 core | $mem GB/s | | | | |
| all-reduce 64 MiB float32, 2 ranks: busbw | $bbw GB/s | $mbw GB/s | braid/memcpy $r_bw | >= 0.40 | $(verdict "$r_bw" 0.40 ge) |
| all-reduce 8 B, 2 ranks: time | $bl2 us | $ml2 us | braid/MPI $r_l2 | <= 1.00 | $(verdict "$r_l2" 1.00 le) |
| all-reduce 8 B, 4 ranks: time | $bl4 us | $ml4 us | braid/MPI $r_l4 | <= 1.00 | $(verdict "$r_l4" 1.00 le) |

Every repeat (GB/s or us): memcpy [$MEM ], braid busbw [$BBW ], MPI busbw [$MBW ],
braid 2-rank [$BL2 ], MPI 2-rank [$ML2 ], braid 4-rank [$BL4 ], MPI 4-rank [$ML4 ].
EOF
