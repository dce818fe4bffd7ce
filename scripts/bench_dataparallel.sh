#!/usr/bin/env bash
# Data-parallel scaling of so2sat_resnet50 (WORKLOADS.md): the same training on 1 rank × 1 thread
# and on 2 ranks × 1 thread, in fast and in exact mode, on synthetic So2Sat shards. Prints each
# run's steady-state samples/s, all-reduce time per step and data-wait share, then the speed-ups.
# Usage: scripts/bench_dataparallel.sh [STEPS] (default 24 steps of batch 32)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
steps=${1:-24}
swift build -c release >/dev/null
bin=.build/release/rstrain
dir=out/bench-dp
"$bin" synth --preset so2sat --out "$dir/data" --shards 2 --tiles-per-shard 1024 --seed 1 --overwrite >/dev/null
for mode in fast exact; do
  for n in 1 2; do
    cat > "$dir/$mode-$n.json" <<JSON
{"run_dir": "$dir/run-$mode-$n", "seed": 1, "mode": "data_parallel", "reduction": "$mode", "threads": 1,
 "data": {"kind": "so2sat", "shards": ["$dir/data/shard_000.h5", "$dir/data/shard_001.h5"], "modality": "sen2",
          "normalization": {"type": "scale", "divisor": 1}, "validation_fraction": 0.01, "workers": 1},
 "models": [{"name": "resnet50", "model": "configs/models/resnet50_so2sat.json"}],
 "optimizer": {"type": "sgd", "lr": 0.01}, "micro_batch": 16, "micro_batches": 2, "epochs": 1,
 "round_fraction": $(python3 -c "print($steps * 32 / 2000)"), "progress_live": false, "progress_seconds": 1000}
JSON
    mpirun -n "$n" --oversubscribe "$bin" "$dir/$mode-$n.json" --restart >/dev/null
    echo "$mode, $n rank(s) × 1 thread: $(scripts/run_summary.py "$dir/run-$mode-$n")"
  done
done
python3 - "$dir" <<'PY'
import sys
sys.path.insert(0, "scripts")
from run_summary import summary
d = sys.argv[1]
r = {(m, n): summary(f"{d}/run-{m}-{n}")["resnet50"] for m in ("fast", "exact") for n in (1, 2)}
for m in ("fast", "exact"):
    print(f"{m}: 2 ranks / 1 rank = {r[(m, 2)]['samples_per_s'] / r[(m, 1)]['samples_per_s']:.2f}× samples/s")
print(f"exact / fast all-reduce time per step on 2 ranks: {r[('exact', 2)]['allreduce_s_per_step'] / r[('fast', 2)]['allreduce_s_per_step']:.2f}×")
PY
