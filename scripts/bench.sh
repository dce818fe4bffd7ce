#!/usr/bin/env bash
# Side by side in one run: sgemm with rstrain's own core choice, with OPENBLAS_CORETYPE=SkylakeX
# forced by hand (the target: ours ≥ 85% of it), and with Debian's default detection
# (Prescott on this CPU); then the conv benchmark. Usage: scripts/bench.sh [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
bin=.build/release/rstrain
for threads in 1 2; do
  echo "== sgemm, $threads thread(s): automatic | forced SkylakeX | forced Prescott"
  "$bin" bench sgemm --threads "$threads" "$@"
  OPENBLAS_CORETYPE=SkylakeX "$bin" bench sgemm --threads "$threads" "$@"
  OPENBLAS_CORETYPE=Prescott "$bin" bench sgemm --threads "$threads" "$@"
done
echo "== conv, 1 thread"
"$bin" bench conv --threads 1 "$@"
