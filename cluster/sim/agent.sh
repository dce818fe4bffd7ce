#!/usr/bin/env bash
# Open MPI's remote-shell agent for the simulated cluster (mpirun --mca plm_rsh_agent agent.sh):
# called like ssh, `agent.sh HOST COMMAND...`, it runs COMMAND with a shell inside HOST's network
# namespace instead of logging in. HOST is 10.77.0.N, rstrain-simN or simN.
#
# Each host also gets its own UTS namespace with hostname rstrain-simN (Open MPI's processor name
# is the hostname, and rstrain places shards by it), and its own mount namespace in which
# /tmp/rstrain-sim/hostN is mounted at /tmp/rstrain-sim/local: one path, a different disk per host.
set -u
source "$(dirname "$0")/common.sh"
# ssh options Open MPI may pass (plm_rsh_args) mean nothing here.
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
[ $# -ge 2 ] || die "usage: agent.sh HOST COMMAND..."
HOST=$1; shift
N=$(host_number "$HOST")
[[ "$N" =~ ^[1-9][0-9]*$ ]] && ip netns list | grep -q "^rstrain-sim$N\b" \
    || die "no simulated host '$HOST' (is the cluster up? cluster/sim/up.sh K)"
[ -d "$SIM_STATE/host$N" ] || die "host $N has no local directory $SIM_STATE/host$N"
# Like ssh, the words of COMMAND are joined and run by the remote shell.
exec ip netns exec "rstrain-sim$N" unshare --uts --mount --propagation private \
    bash -c 'hostname "$1" && mount --bind "$2" "$3" && exec bash -c "$4"' agent \
    "rstrain-sim$N" "$SIM_STATE/host$N" "$SIM_LOCAL" "$*"
