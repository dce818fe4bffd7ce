# Names and addresses shared by the simulated-cluster scripts (sourced, not run).
# Everything this simulation creates is named rstrain-*: namespaces rstrain-sim0 (the login node,
# which also holds the bridge) and rstrain-sim1..K (the hosts); nothing is added to the root
# namespace, so the machine's own network is never touched.
SIM_NET=10.77.0
SIM_SUBNET=10.77.0.0/24
SIM_HEAD=rstrain-sim0            # login node: runs mpirun; holds bridge rstrain-br at $SIM_NET.254
SIM_BRIDGE=rstrain-br
SIM_STATE=/tmp/rstrain-sim       # host N's local disk is $SIM_STATE/hostN
SIM_LOCAL=$SIM_STATE/local       # inside host N, $SIM_STATE/hostN is also mounted here
SIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIM_HOSTFILE=$SIM_DIR/hostfile

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (network namespaces need CAP_SYS_ADMIN)"
    command -v ip >/dev/null || die "'ip' (iproute2) is not installed"
}

# Host number of a host given as 10.77.0.N, rstrain-simN or simN; empty if not one of ours.
host_number() {
    case "$1" in
        "$SIM_NET".*) echo "${1#"$SIM_NET".}" ;;
        rstrain-sim*) echo "${1#rstrain-sim}" ;;
        sim*) echo "${1#sim}" ;;
    esac
}
