#!/usr/bin/env bash
# Tears the simulated cluster down: every rstrain-sim* namespace (their veths and bridge go with
# them), the hostfile and the hosts' local directories. Safe to run when nothing is up.
set -u
source "$(dirname "$0")/common.sh"
need_root
for ns in $(ip netns list | awk '{print $1}' | grep '^rstrain-sim[0-9]*$'); do
    # Processes still inside a host (a stuck orted) would keep its network alive: end them first.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" || echo "down.sh: could not delete namespace $ns" >&2
done
rm -f "$SIM_HOSTFILE" "$SIM_HOSTFILE.tmp"
rm -rf "$SIM_STATE"
exit 0
