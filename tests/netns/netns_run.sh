#!/usr/bin/env bash
# Multi-host test on one machine: NHOSTS network namespaces play the hosts, joined by veth
# pairs to a bridge that lives in a namespace of its own (the machine's own network is never
# touched), on 10.250.X.0/24 (X from this script's pid, so parallel runs do not meet).
# Ranks run inside the namespaces, rank r on host r / PER_HOST, and meet through BRAID_ROOT.
#
#   netns_run.sh RANK_BINARY NHOSTS PER_HOST     every collective across the hosts
#   netns_run.sh RANK_BINARY --bad-ifname        a wrong BRAID_SOCKET_IFNAME fails fast and
#                                                lists the interfaces
# Exit: 0 pass, 1 fail, 77 skipped (not root, no iproute2, namespaces not permitted).
set -u
bin=${1:?usage: netns_run.sh RANK_BINARY NHOSTS PER_HOST | RANK_BINARY --bad-ifname}
mode=run
if [ "${2:-}" = "--bad-ifname" ]; then
    mode=badif nhosts=1 per_host=2
else
    nhosts=${2:?NHOSTS} per_host=${3:?PER_HOST}
fi

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "network namespaces need root (uid is $(id -u))"
command -v ip >/dev/null || skip "iproute2 ('ip') is not installed"
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable"; exit 1; }

tag=$$
net="10.250.$((tag % 200 + 1))"
sw="braid${tag}sw"
work=$(mktemp -d "${TMPDIR:-/tmp}/braid-netns.XXXXXX")
hosts=()
cleanup() {
    for ns in "${hosts[@]}" "$sw"; do
        ip netns del "$ns" 2>/dev/null
    done
    for i in $(seq 0 $((nhosts - 1))); do ip link del "bv${tag}h$i" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$sw" 2>"$work/err" || skip "cannot create a network namespace: $(cat "$work/err")"
ip -n "$sw" link add br0 type bridge || skip "cannot create a bridge (no bridge module?)"
ip -n "$sw" link set br0 up
for i in $(seq 0 $((nhosts - 1))); do
    ns="braid${tag}h$i"
    ip netns add "$ns" || { echo "FAIL: ip netns add $ns"; exit 1; }
    hosts+=("$ns")
    ip link add "bv${tag}h$i" type veth peer name "bp${tag}h$i" ||
        skip "cannot create veth pairs (no veth module?)"
    ip link set "bv${tag}h$i" netns "$ns" name eth0
    ip link set "bp${tag}h$i" netns "$sw" name "p$i"
    ip -n "$sw" link set "p$i" master br0 up
    ip -n "$ns" addr add "$net.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
done
echo "hosts: ${hosts[*]} on $net.0/24 (bridge in $sw)"

nranks=$((nhosts * per_host))
port=$((20000 + tag % 20000))
secret=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
# Starts rank $1 in its host's namespace with extra env $2...; logs to $work/rank$1.log.
start_rank() {
    local r=$1
    shift
    ip netns exec "${hosts[$((r / per_host))]}" env BRAID_ROOT="$net.1:$port" BRAID_RANK="$r" \
        BRAID_NRANKS="$nranks" BRAID_SECRET="$secret" BRAID_DEBUG=INFO \
        BRAID_DEBUG_SUBSYS=NET,INIT BRAID_CONNECT_TIMEOUT_MS=30000 BRAID_TIMEOUT_MS=60000 "$@" \
        timeout 400 "$bin" >"$work/rank$r.log" 2>&1 &
    pids+=($!)
}

if [ "$mode" = badif ]; then
    pids=()
    t0=$(date +%s)
    for r in 0 1; do start_rank "$r" BRAID_SOCKET_IFNAME=nosuchif0; done
    rc=0
    for p in "${pids[@]}"; do wait "$p" || true; done
    t=$(($(date +%s) - t0))
    cat "$work/rank0.log"
    grep -q "BRAID_SOCKET_IFNAME=nosuchif0" "$work/rank0.log" || { echo "FAIL: no message naming the setting"; rc=1; }
    grep -q "eth0 ($net.1)" "$work/rank0.log" || { echo "FAIL: the message does not list eth0 ($net.1)"; rc=1; }
    grep -q "calls, 0 failed" "$work/rank0.log" && { echo "FAIL: the run succeeded"; rc=1; }
    [ "$t" -le 10 ] || { echo "FAIL: took ${t}s, not fast"; rc=1; }
    [ $rc = 0 ] && echo "PASS: wrong BRAID_SOCKET_IFNAME failed in ${t}s listing the interfaces"
    exit $rc
fi

pids=()
for r in $(seq 0 $((nranks - 1))); do start_rank "$r"; done
rc=0
for r in $(seq 0 $((nranks - 1))); do
    wait "${pids[$r]}"
    st=$?
    if [ $st != 0 ]; then
        echo "FAIL: rank $r exited with $st; its log:"
        grep -v " INFO " "$work/rank$r.log" | tail -20
        rc=1
    fi
done
for r in $(seq 0 $((nranks - 1))); do grep "^netns_rank" "$work/rank$r.log"; done
# The transports must be the ones the layout implies: socket across namespaces, shm within.
grep -q "transport socket" "$work/rank0.log" || { echo "FAIL: rank 0 never used socket"; rc=1; }
if [ "$per_host" -gt 1 ]; then
    grep -q "transport shm" "$work/rank0.log" || { echo "FAIL: rank 0 never used shm"; rc=1; }
fi
# With helper threads asked for, the socket connectors must have used them.
if [ "${BRAID_SOCKET_NTHREADS:-1}" -gt 1 ]; then
    grep -q "moved by I/O helper threads" "$work/rank0.log" ||
        { echo "FAIL: BRAID_SOCKET_NTHREADS=$BRAID_SOCKET_NTHREADS but no connector used helpers"; rc=1; }
fi
[ $rc = 0 ] && echo "PASS: $nhosts hosts x $per_host rank(s): every collective checked"
exit $rc
