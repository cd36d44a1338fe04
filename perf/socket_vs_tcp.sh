#!/usr/bin/env bash
# The socket transport benchmark: 2 ranks in 2 network namespaces joined by a veth pair,
# 64 MiB float32 sum all-reduce, braid (socket transport, chosen because the namespaces are
# different hosts) against the raw TCP rate between the same namespaces and against Open MPI
# over TCP, all measured in ONE run, alternating, so the ratios hold whatever the machine is.
#
#   perf/socket_vs_tcp.sh [-R repeats (5)] [-B build dir (build-sock)] [--no-build]
#
# Raw TCP (perf/tcp_rate.c, as many streams as braid uses): one direction alone, and both
# directions at once. A 2-rank all-reduce's busbw is the bytes each rank sends (and receives,
# at the same time) per second, so the yardstick is the rate per direction under two-way load:
# on a real NIC that equals the one-way rate, on a veth both directions share the same CPUs.
# braid runs twice per repeat: as configured, and with BRAID_NET_DIRECT=0 (sends copied). Open MPI: mpirun runs in namespace A; a wrapper moves rank 1 into namespace B
# (ip netns exec) before exec'ing the benchmark, and `--mca btl tcp,self` with
# btl_tcp_if_include eth0 makes it use the veth. Rank 1 reaches mpirun's PMIx server over
# namespace A's eth0 (PMIX_MCA_ptl_tcp_remote_connections=1), since its loopback is not A's.
# Needs root and iproute2 (exits 77 otherwise).
set -uo pipefail

BENCH_NAME=socket_vs_tcp.sh BENCH_BUILD=build-sock BENCH_USAGE=7,7
. "$(dirname "$0")/bench_lib.sh"
bench_parse_args "$@"
[ "$(id -u)" = 0 ] || { echo "socket_vs_tcp.sh: needs root for network namespaces" >&2; exit 77; }
command -v ip >/dev/null || { echo "socket_vs_tcp.sh: needs iproute2" >&2; exit 77; }

if [ "$DO_BUILD" = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" >/dev/null || die "cmake configure of $BUILD failed"
  cmake --build "$BUILD" -j2 --target braid-perf braid_tcp_rate >/dev/null || die "build failed"
  cmake --build "$BUILD" -j2 --target braid_mpi_allreduce >/dev/null 2>&1 || true
fi
PERF=$BUILD/tools/perf/braid-perf
TCP=$BUILD/perf/braid_tcp_rate
MPIAR=$BUILD/perf/braid_mpi_allreduce
[ -x "$PERF" ] && [ -x "$TCP" ] || die "$PERF or $TCP is missing"

tag=$$
A=bsvt${tag}a B=bsvt${tag}b
NET="10.251.$((tag % 200 + 1))"
OUT=$ROOT/perf/out/socket_vs_tcp-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
LOG=$OUT/runs.log
cleanup() { ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null; rm -f "$OUT/mpi_wrap.sh"; }
trap cleanup EXIT
ip netns add "$A" && ip netns add "$B" || { echo "cannot create namespaces" >&2; exit 77; }
ip link add "sv${tag}a" type veth peer name "sv${tag}b" || die "cannot create a veth pair"
ip link set "sv${tag}a" netns "$A" name eth0
ip link set "sv${tag}b" netns "$B" name eth0
ip -n "$A" addr add "$NET.1/24" dev eth0
ip -n "$B" addr add "$NET.2/24" dev eth0
for ns in "$A" "$B"; do ip -n "$ns" link set eth0 up; ip -n "$ns" link set lo up; done

STREAMS=$((${BRAID_SOCKET_NTHREADS:-1} * ${BRAID_NSOCKS_PERTHREAD:-2}))
BW_ARGS=(-b 64M -e 64M -n 20 -w 5)
LAT_ARGS=(-b 8 -e 8 -n 2000 -w 200)
# What braid_run and mpi_run measure: the arguments, and the field of the first row they print
# (8: out-of-place busbw in GB/s; 6: out-of-place time in us).
RUN_ARGS=("${BW_ARGS[@]}")
FIELD=8
port=$((30000 + tag % 20000))

# Prints field $FIELD of the first row of a braid-perf run of RUN_ARGS across A and B; extra
# arguments are BRAID_* settings for both ranks.
braid_run() {
  local name=$1 check=$2
  shift 2
  port=$((port + 1))
  local env=(BRAID_ROOT="$NET.1:$port" BRAID_NRANKS=2 BRAID_SECRET="svt$tag" "$@")
  echo "\$ $* braid-perf all_reduce ${RUN_ARGS[*]} -c $check (rank 0 in $A, rank 1 in $B)" >>"$LOG"
  ip netns exec "$B" env "${env[@]}" BRAID_RANK=1 timeout 300 "$PERF" all_reduce \
    "${RUN_ARGS[@]}" -c "$check" >"$OUT/$name.r1.txt" 2>&1 &
  ip netns exec "$A" env "${env[@]}" BRAID_RANK=0 BRAID_DEBUG=INFO BRAID_DEBUG_SUBSYS=NET \
    timeout 300 "$PERF" all_reduce "${RUN_ARGS[@]}" -c "$check" >"$OUT/$name.txt" 2>&1
  local rc=$?
  wait $! || rc=1
  cat "$OUT/$name.txt" >>"$LOG"
  [ $rc = 0 ] || { cat "$OUT/$name.txt" "$OUT/$name.r1.txt" >&2; die "braid-perf failed"; }
  awk -v f="$FIELD" '!/^#/ && !/braid/ && NF >= 9 { print $f; exit }' "$OUT/$name.txt"
}

# Prints the one-way TCP rate in GB/s from A to B over $STREAMS streams.
tcp_uni() {
  port=$((port + 1))
  ip netns exec "$B" "$TCP" -s "$port" -n "$STREAMS" &
  local srv=$!
  sleep 0.3
  ip netns exec "$A" "$TCP" -c "$NET.2:$port" -P "$STREAMS" -t 3 >"$OUT/tcp.txt" 2>&1
  wait $srv
  cat "$OUT/tcp.txt" >>"$LOG"
  awk '/^bytes_per_sec/ { printf "%.4f", $2 / 1e9 }' "$OUT/tcp.txt"
}

# Prints the mean per-direction TCP rate (GB/s) with A->B and B->A running at once.
tcp_bidir() {
  local p1=$((port + 1)) p2=$((port + 2))
  port=$((port + 2))
  ip netns exec "$B" "$TCP" -s "$p1" -n "$STREAMS" &
  local s1=$!
  ip netns exec "$A" "$TCP" -s "$p2" -n "$STREAMS" &
  local s2=$!
  sleep 0.3
  ip netns exec "$A" "$TCP" -c "$NET.2:$p1" -P "$STREAMS" -t 3 >"$OUT/tcp_ab.txt" 2>&1 &
  ip netns exec "$B" "$TCP" -c "$NET.1:$p2" -P "$STREAMS" -t 3 >"$OUT/tcp_ba.txt" 2>&1
  wait
  cat "$OUT/tcp_ab.txt" "$OUT/tcp_ba.txt" >>"$LOG"
  cat "$OUT/tcp_ab.txt" "$OUT/tcp_ba.txt" |
    awk '/^bytes_per_sec/ { s += $2; n++ } END { printf "%.4f", n ? s / n / 1e9 : 0 }'
}

# Prints Open MPI's busbw across the namespaces, or nothing when it cannot run.
mpi_run() {
  [ -x "$MPIAR" ] || return 0
  cat >"$OUT/mpi_wrap.sh" <<EOF
#!/bin/sh
if [ "\$OMPI_COMM_WORLD_RANK" = 1 ]; then exec ip netns exec $B "\$@"; fi
exec "\$@"
EOF
  chmod +x "$OUT/mpi_wrap.sh"
  echo "\$ mpirun (in $A, rank 1 moved to $B) --mca btl tcp,self braid_mpi_allreduce" >>"$LOG"
  ip netns exec "$A" env PMIX_MCA_ptl_tcp_remote_connections=1 PMIX_MCA_ptl_tcp_if_include=eth0 \
    timeout 300 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 \
    --mca btl tcp,self --mca pml ob1 --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0 \
    -x PMIX_MCA_ptl_tcp_remote_connections -x PMIX_MCA_ptl_tcp_if_include \
    "$OUT/mpi_wrap.sh" "$MPIAR" "${RUN_ARGS[@]}" \
    >"$OUT/mpi.txt" 2>&1 || { cat "$OUT/mpi.txt" >>"$LOG"; return 0; }
  cat "$OUT/mpi.txt" >>"$LOG"
  awk -v f="$FIELD" '!/^#/ && NF >= 9 { print $f; exit }' "$OUT/mpi.txt"
}


echo "socket_vs_tcp: $REPEATS repeats, $STREAMS stream(s), logs in ${OUT#"$ROOT"/}" >&2
echo "load before: $(uptime)" | tee -a "$LOG" >&2
check=$(braid_run check 1)
grep -q "Out of bounds values : 0 OK" "$OUT/check.txt" || die "braid's 64 MiB all-reduce is wrong"
grep -q "transport socket" "$OUT/check.txt" || die "braid did not use the socket transport"

BBW="" CBW="" UNI="" BID="" MBW="" BLAT="" MLAT=""
for r in $(seq 1 "$REPEATS"); do
  echo "  repeat $r/$REPEATS" >&2
  UNI="$UNI $(tcp_uni)"
  BID="$BID $(tcp_bidir)"
  BBW="$BBW $(braid_run "braid_$r" 0)"
  CBW="$CBW $(braid_run "braid_copy_$r" 0 BRAID_NET_DIRECT=0)"
  MBW="$MBW $(mpi_run)"
  RUN_ARGS=("${LAT_ARGS[@]}") FIELD=6
  BLAT="$BLAT $(braid_run "braid_lat_$r" 0)"
  MLAT="$MLAT $(mpi_run)"
  RUN_ARGS=("${BW_ARGS[@]}") FIELD=8
done
echo "load after: $(uptime)" | tee -a "$LOG" >&2
uni=$(echo "$UNI" | median)
bid=$(echo "$BID" | median)
bbw=$(echo "$BBW" | median)
cbw=$(echo "$CBW" | median)
blat=$(echo "$BLAT" | median)
mlat=$(echo "$MLAT" | median)
mbw=$(echo "$MBW" | median)

cat <<EOF | tee "$OUT/RESULTS-block.md"
### Socket transport vs raw TCP and Open MPI (2 namespaces, veth) — $(date -u +%Y-%m-%d)

- Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), $(uname -sr)
- Command: \`$CMDLINE\` — medians of $REPEATS repeats; braid streams per connector: $STREAMS
- braid: \`braid-perf all_reduce ${BW_ARGS[*]} -c 0\` (first run checked with -c 1)

| measurement | GB/s | braid busbw / this |
| --- | ---: | ---: |
| braid all-reduce 64 MiB float32 busbw | $bbw | |
| braid, sends copied into the FIFO (BRAID_NET_DIRECT=0) | $cbw | $(ratio "$bbw" "$cbw") |
| raw TCP both ways at once, per direction (the yardstick) | $bid | $(ratio "$bbw" "$bid") |
| raw TCP one way, $STREAMS streams (tcp_rate) | $uni | $(ratio "$bbw" "$uni") |
| Open MPI btl tcp,self all-reduce busbw | ${mbw:-n/a} | $(ratio "$bbw" "${mbw:-0}") |

Every repeat: braid [$BBW ], braid copying [$CBW ], TCP both ways [$BID ], TCP one way [$UNI ], MPI [$MBW ].

8-byte float32 all-reduce, \`${LAT_ARGS[*]}\`, mean time per call (us): braid $blat, Open MPI ${mlat:-n/a} (braid / MPI: $(ratio "$blat" "${mlat:-0}")).
Every repeat: braid [$BLAT ], MPI [$MLAT ].
EOF
