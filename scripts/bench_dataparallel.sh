#!/usr/bin/env bash
# Data-parallel scaling of so2sat_resnet50 (WORKLOADS.md: batch 32) on synthetic So2Sat shards,
# 1 rank × 1 thread against 2 ranks × 1 thread, in fast and in exact mode:
#  - weak scaling (as Horovod and DDP report it): every rank computes the workload's batch of 32 per
#    step, so a step of 2 ranks trains 64 samples;
#  - strong scaling: the step's batch stays 32 (2 micro-batches of 16), split over the ranks.
# Prints each run's steady-state samples/s, all-reduce time per step and data-wait share, then the
# speed-ups. Usage: scripts/bench_dataparallel.sh [STEPS] (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
steps=${1:-20}
swift build -c release >/dev/null
bin=.build/release/rstrain
dir=out/bench-dp
"$bin" synth --preset so2sat --out "$dir/data" --shards 2 --tiles-per-shard 1024 --seed 1 --overwrite >/dev/null

# run NAME RANKS MODE MICRO_BATCH MICRO_BATCHES
run() {
  local name=$1 n=$2 mode=$3 mb=$4 k=$5
  cat > "$dir/$name.json" <<JSON
{"run_dir": "$dir/run-$name", "seed": 1, "mode": "data_parallel", "reduction": "$mode", "threads": 1,
 "data": {"kind": "so2sat", "shards": ["$dir/data/shard_000.h5", "$dir/data/shard_001.h5"], "modality": "sen2",
          "normalization": {"type": "scale", "divisor": 1}, "validation_fraction": 0.01, "workers": 1},
 "models": [{"name": "resnet50", "model": "configs/models/resnet50_so2sat.json"}],
 "optimizer": {"type": "sgd", "lr": 0.01}, "micro_batch": $mb, "micro_batches": $k, "epochs": 1,
 "round_fraction": $(python3 -c "print($steps * $mb * $k / 2000)"), "progress_live": false, "progress_seconds": 1000}
JSON
  mpirun -n "$n" --oversubscribe "$bin" "$dir/$name.json" --restart >/dev/null
  echo "$name: $(scripts/run_summary.py "$dir/run-$name")"
}

for mode in fast exact; do
  run "weak-$mode-1" 1 $mode 32 1
  run "weak-$mode-2" 2 $mode 32 2
  run "strong-$mode-1" 1 $mode 16 2
  run "strong-$mode-2" 2 $mode 16 2
done
python3 - "$dir" <<'PY'
import sys
sys.path.insert(0, "scripts")
from run_summary import summary
d = sys.argv[1]
r = lambda name: summary(f"{d}/run-{name}")["resnet50"]
for kind in ("weak", "strong"):
    for m in ("fast", "exact"):
        print(f"{kind} scaling, {m}: 2 ranks / 1 rank = {r(f'{kind}-{m}-2')['samples_per_s'] / r(f'{kind}-{m}-1')['samples_per_s']:.2f}× samples/s")
    print(f"{kind} scaling: exact / fast all-reduce time per step on 2 ranks = "
          f"{r(f'{kind}-exact-2')['allreduce_s_per_step'] / r(f'{kind}-fast-2')['allreduce_s_per_step']:.2f}×")
PY
