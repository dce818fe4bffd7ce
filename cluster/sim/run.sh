#!/usr/bin/env bash
# mpirun across the simulated hosts, the way a user runs rstrain on them:
#   cluster/sim/run.sh -n 3 --map-by node /path/to/rstrain doctor
# mpirun runs on the login node (rstrain-sim0) and starts its daemons on the hosts through
# agent.sh; all MPI traffic (daemons and ranks) goes over the simulated subnet by TCP.
set -eu
source "$(dirname "$0")/common.sh"
need_root
[ -f "$SIM_HOSTFILE" ] && ip netns list | grep -q "^$SIM_HEAD\b" \
    || die "the simulated cluster is not up (cluster/sim/up.sh K)"
# root: Open MPI refuses to run as root without both of these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The simulated hosts share this machine's cores, but each daemon sees a node of its own: it would
# let its ranks spin while they wait (no other rank "on the node"), starving the ranks of the
# other hosts (an all-reduce of 16 MB on 3 hosts: 2.4-3.0 s spinning, 0.4-0.5 s yielding), and bind
# them to the same first cores. Defaults only (environment): a --mca/--bind-to given here wins.
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}
exec ip netns exec "$SIM_HEAD" mpirun \
    --hostfile "$SIM_HOSTFILE" \
    --mca plm_rsh_agent "$SIM_DIR/agent.sh" \
    --mca plm_rsh_no_tree_spawn 1 \
    --mca pml ob1 \
    --mca btl tcp,self \
    --mca btl_tcp_if_include "$SIM_SUBNET" \
    --mca oob_tcp_if_include "$SIM_SUBNET" \
    "$@"
