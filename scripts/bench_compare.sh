#!/usr/bin/env bash
# Two rstrain binaries side by side on the benchmark workloads, in one run: for each workload the
# old and the new one alternate (ABABAB), each on 1 BLAS thread; the best of the three of each is
# shown, as samples/s of the best step's CPU time (robust to other load) and of wall time. Run with
# the environment's OpenBLAS core and again with OpenBLAS left to rstrain's choice
# (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`); when the environment sets no core, once.
# Usage: scripts/bench_compare.sh OLD_BIN NEW_BIN [SECONDS]
set -euo pipefail
old=$1 new=$2 seconds=${3:-3}
workloads="tempcnn so2sat_resnet50 unet2d_64 unet2d_256 unet3d_t8_64"
run() { # BIN WORKLOAD env-prefix... → "cpu_samples_per_s samples_per_s blas_core"
  local bin=$1 w=$2; shift 2
  "$@" "$bin" bench workload "$w" --threads 1 --seconds "$seconds" --json | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin if l.startswith("{")][-1]
print(r["cpu_samples_per_s"], r["samples_per_s"], r["blas_core"])'
}
best() { python3 -c 'import sys; v=[l.split() for l in sys.stdin.read().strip().split("\n")]; print(max(float(x[0]) for x in v), max(float(x[1]) for x in v), v[0][2])'; }
blocks=(env); [ -n "${OPENBLAS_CORETYPE:-}" ] && blocks+=(unset)
printf "%-16s %-10s %12s %12s %8s %12s %12s %8s\n" workload kernels "old cpu/s" "new cpu/s" new/old "old wall/s" "new wall/s" new/old
for b in "${blocks[@]}"; do
  pre=(env); [ "$b" = unset ] && pre=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
  for w in $workloads; do
    o=""; n=""
    for _ in 1 2 3; do o+="$(run "$old" "$w" "${pre[@]}")"$'\n'; n+="$(run "$new" "$w" "${pre[@]}")"$'\n'; done
    read -r oc ow core <<<"$(best <<<"$o")"; read -r nc nw _ <<<"$(best <<<"$n")"
    python3 -c "print(f'%-16s %-10s %12.2f %12.2f %8.3f %12.2f %12.2f %8.3f' % ('$w', '$core', $oc, $nc, $nc/$oc, $ow, $nw, $nw/$ow))"
  done
done
