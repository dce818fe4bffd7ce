#!/usr/bin/env bash
# Starts K simulated hosts on this machine, each in its own network namespace:
#   rstrain-sim0          login node (runs mpirun), bridge rstrain-br at 10.77.0.254/24
#   rstrain-simN (1..K)   host N at 10.77.0.N/24, one veth into the bridge, local disk
#                         /tmp/rstrain-sim/hostN (also at /tmp/rstrain-sim/local inside host N)
# and writes cluster/sim/hostfile (the hosts by address). Replaces any simulated cluster already up.
#
# usage: up.sh K [--slots S] [--rate RATE] [--netem "NETEM ARGS"]
#   --slots S     MPI slots per host in the hostfile (default 1)
#   --rate RATE   link speed, e.g. 1gbit: a token bucket (tc tbf) on both ends of every host link
#   --netem ARGS  tc netem on each host's egress, e.g. "delay 0.5ms" (needs sch_netem in the kernel)
set -eu
source "$(dirname "$0")/common.sh"

usage() { echo "usage: up.sh K [--slots S] [--rate RATE] [--netem \"NETEM ARGS\"]" >&2; exit 2; }
[ $# -ge 1 ] || usage
K=$1; shift
[[ "$K" =~ ^[0-9]+$ ]] && [ "$K" -ge 1 ] && [ "$K" -le 250 ] || die "K must be a number of hosts in 1...250, got '$K'"
SLOTS=1 RATE= NETEM=
while [ $# -gt 0 ]; do
    case "$1" in
        --slots) [ $# -ge 2 ] || usage; SLOTS=$2; shift 2 ;;
        --rate) [ $# -ge 2 ] || usage; RATE=$2; shift 2 ;;
        --netem) [ $# -ge 2 ] || usage; NETEM=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ "$SLOTS" =~ ^[1-9][0-9]*$ ]] || die "--slots must be a positive number, got '$SLOTS'"
need_root
command -v tc >/dev/null || [ -z "$RATE$NETEM" ] || die "'tc' is not installed (needed by --rate/--netem)"

"$SIM_DIR/down.sh"
# A half-built cluster is worse than none: tear down on any failure (set -e or die).
UP=
trap '[ -n "$UP" ] || { echo "up.sh: failed; tearing down" >&2; "$SIM_DIR/down.sh"; }' EXIT

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

shape() {   # shape NS DEV: the link's speed and delay, on DEV's egress
    local q=
    if [ -n "$NETEM" ]; then
        nsx "$1" tc qdisc add dev "$2" root handle 1: netem $NETEM \
            || die "tc netem failed on $2 in $1 (is sch_netem in this kernel? try --rate alone)"
        q="parent 1:1"
    fi
    if [ -n "$RATE" ]; then
        # A burst of ~1 ms at the link speed and up to 50 ms queued, like a switch port.
        nsx "$1" tc qdisc add dev "$2" ${q:-root} tbf rate "$RATE" burst 256kb latency 50ms \
            || die "tc tbf with rate '$RATE' failed on $2 in $1"
    fi
}

ip netns add "$SIM_HEAD"
nsx "$SIM_HEAD" ip link set lo up
nsx "$SIM_HEAD" ip link add "$SIM_BRIDGE" type bridge
nsx "$SIM_HEAD" ip addr add "$SIM_NET.254/24" dev "$SIM_BRIDGE"
nsx "$SIM_HEAD" ip link set "$SIM_BRIDGE" up
mkdir -p "$SIM_STATE" "$SIM_LOCAL"
: > "$SIM_HOSTFILE.tmp"
for N in $(seq 1 "$K"); do
    ns=rstrain-sim$N
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
    # Created straight inside the two namespaces: no interface ever appears in the root one.
    ip link add "rstrain-p$N" netns "$SIM_HEAD" type veth peer name rstrain-eth0 netns "$ns"
    nsx "$SIM_HEAD" ip link set "rstrain-p$N" master "$SIM_BRIDGE" up
    nsx "$ns" ip addr add "$SIM_NET.$N/24" dev rstrain-eth0
    nsx "$ns" ip link set rstrain-eth0 up
    shape "$ns" rstrain-eth0
    [ -z "$RATE" ] || shape "$SIM_HEAD" "rstrain-p$N"   # the receiving side of the link too
    mkdir -p "$SIM_STATE/host$N"
    echo "$SIM_NET.$N slots=$SLOTS" >> "$SIM_HOSTFILE.tmp"
done
mv "$SIM_HOSTFILE.tmp" "$SIM_HOSTFILE"

# Every host must reach every other before anyone relies on the cluster.
# (No ping on minimal machines: a TCP connect to a closed port is refused at once by a reachable
# host and times out on an unreachable one.)
for N in $(seq 1 "$K"); do
    rc=$(nsx "$SIM_HEAD" timeout 3 bash -c "exec 3<>/dev/tcp/$SIM_NET.$N/9" >/dev/null 2>&1; echo $?)
    [ "$rc" != 124 ] || die "host $SIM_NET.$N does not answer from the login node"
done
UP=1
echo "up: $K hosts 10.77.0.1-$K (namespaces rstrain-sim1-$K, login node rstrain-sim0), hostfile $SIM_HOSTFILE"
