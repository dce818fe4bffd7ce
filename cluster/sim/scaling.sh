#!/usr/bin/env bash
# Scaling across simulated hosts (issue 7): for each link rate and 1, 2, 4 hosts (one rank each,
# 1 BLAS thread, fast reduction), measures
#   - data-parallel so2sat_resnet50, weak scaling (a batch of 32 per rank per step), with the
#     all-reduce after backward in 256 KB chunks (dp, one host's default) and in 4 MB buckets (dpb),
#     and (not with --quick) overlapped with backward in 4 MB buckets (dpo, the default across hosts)
#     and in 16 MB buckets (dpo16);
#   - round-robin: so2sat_resnet50 and mlp_so2sat rotating over the hosts' shards (model transfers);
#   - `rstrain bench reduce` (fast and exact) at several sizes (2 and 4 hosts);
# each host holding only its own synthetic So2Sat shard on its local disk. Raw results go to
# OUT/runs.jsonl and OUT/reduce.jsonl (one JSON object per line, with the machine's load), then
# scaling_model.py fits the alpha-beta model and prints the tables (docs/scaling.md).
#
# With --latency "0.1ms 1ms", the overlapped data-parallel run (the default across hosts) and the
# round-robin run are repeated on links that also delay every packet by that much (tc netem); a
# kernel without sch_netem cannot, and the script says so and goes on (docs/scaling.md).
#
# usage: cluster/sim/scaling.sh [--quick] [--steps N] [--rates "1gbit 10gbit"] [--hosts "1 2 4"] [--latency "0.1ms 1ms"]
#                               [--kinds "dp dpb dpo dpo16 rr reduce"] [--out DIR]
#   --kinds   what to measure (dp, dpb, dpo, dpo16: data-parallel as above, rr: round-robin, reduce: bench
#             reduce); results of the other kinds already in OUT are kept
#   --quick   4 steps per run, no overlapped runs, the largest all-reduce size left out
# A 1-host run does not use the link: it runs once, at the first rate.
set -euo pipefail
SIM=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SIM/../.." && pwd)
source "$SIM/common.sh"

STEPS=8 RATES="1gbit 10gbit" HOSTS="1 2 4" OUT=$ROOT/out/scaling QUICK= LATENCIES= LAT= KINDS="dp dpb dpo dpo16 rr reduce"
SIZES="1000 100000 2000000 23500000"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; STEPS=4; SIZES="1000 100000 2000000"; shift ;;
        --steps) STEPS=$2; shift 2 ;;
        --rates) RATES=$2; shift 2 ;;
        --hosts) HOSTS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --kinds) KINDS=$2; shift 2 ;;
        --latency) LATENCIES=$2; shift 2 ;;
        *) echo "usage: scaling.sh [--quick] [--steps N] [--rates \"1gbit 10gbit\"] [--hosts \"1 2 4\"] [--kinds \"dp dpb dpo dpo16 rr reduce\"] [--out DIR]" >&2; exit 2 ;;
    esac
done
[[ "$STEPS" =~ ^[1-9][0-9]*$ ]] && [ "$STEPS" -le 15 ] || die "--steps must be 1...15 (a shard holds 512 samples), got '$STEPS'"
need_root
BIN=${RSTRAIN:-$ROOT/.build/release/rstrain}
[ -x "$BIN" ] || die "no rstrain binary at $BIN (swift build -c release, or set RSTRAIN)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

# The cluster goes down however the script ends.
trap '"$SIM/down.sh"' EXIT
mkdir -p "$OUT"
want() { [[ " $KINDS " == *" $1 "* ]]; }
# Results of the kinds measured now are replaced; the others are kept.
touch "$OUT/runs.jsonl"
python3 -c "
import json, sys
keep = [l for l in open(sys.argv[1]) if l.strip() and json.loads(l)['kind'] not in sys.argv[2].split()]
open(sys.argv[1], 'w').writelines(keep)" "$OUT/runs.jsonl" "$KINDS"
want reduce && : > "$OUT/reduce.jsonl"
touch "$OUT/reduce.jsonl"
MAXH=$(echo $HOSTS | tr ' ' '\n' | sort -n | tail -1)
TILES=512
# One So2Sat shard per host (the same files for every rate): host N gets shard_00(N-1).h5.
"$BIN" synth --preset so2sat --out "$OUT/data" --shards "$MAXH" --tiles-per-shard $TILES --seed 1 --overwrite >/dev/null
# round_fraction giving STEPS steps of 32 per shard (1% of a shard is held out for validation).
RF=$(python3 -c "print(round(($STEPS + 0.25) * 32 / ($TILES * 0.99), 4))")
load() { cut -d' ' -f1-3 /proc/loadavg; }

# config FILE RUNDIR K MODE MICRO_BATCHES MODELS_JSON [OVERLAP [BUCKET_MB]]
config() {
    local shards
    shards=$(python3 -c "import json,sys; k=int(sys.argv[1]); print(json.dumps([{'path': f'$SIM_LOCAL/shard_{i:03d}.h5', 'hosts': [f'rstrain-sim{i+1}']} for i in range(k)]))" "$3")
    cat > "$1" <<JSON
{"run_dir": "$2", "seed": 1, "mode": "$4", "reduction": "fast", "threads": 1,
 "data": {"kind": "so2sat", "shards": $shards, "modality": "sen2",
          "normalization": {"type": "scale", "divisor": 1}, "validation_fraction": 0.01, "workers": 1},
 "models": $6,
 "optimizer": {"type": "sgd", "lr": 0.01}, "micro_batch": 32, "micro_batches": $5, "epochs": 1,
 "round_fraction": $RF, "progress_live": false, "progress_seconds": 1000, "overlap_allreduce": ${7:-false},
 "allreduce_bucket_mb": ${8:-0.25}}
JSON
}

RESNET="{\"name\": \"resnet50\", \"model\": \"$ROOT/configs/models/resnet50_so2sat.json\"}"
MLP="{\"name\": \"mlp\", \"model\": \"$ROOT/configs/models/mlp_so2sat.json\"}"

# train NAME K RATE KIND MODE MICRO_BATCHES MODELS_JSON [OVERLAP [BUCKET_MB]]: one run, its summary appended to runs.jsonl.
train() {
    local name=$1 k=$2 rate=$3 kind=$4 before
    config "$SIM_STATE/host1/$name.json" "$SIM_LOCAL/run-$name" "$k" "$5" "$6" "$7" "${8:-false}" "${9:-0.25}"
    before=$(load)
    if ! "$SIM/run.sh" -n "$k" --map-by node "$BIN" "$SIM_LOCAL/$name.json" > "$OUT/$name.log" 2>&1; then
        echo "scaling.sh: $name failed (see $OUT/$name.log)" >&2; tail -5 "$OUT/$name.log" >&2; return 1
    fi
    mkdir -p "$OUT/runs/$name"
    cp "$SIM_STATE/host1/run-$name/metrics.jsonl" "$SIM_STATE/host1/run-$name/schedule.jsonl" "$OUT/runs/$name/"
    python3 "$SIM/scaling_model.py" summarize "$OUT/runs/$name" --kind "$kind" --hosts "$k" --rate "$rate" \
        --load "$before / $(load)" ${LAT:+--latency "$LAT"} >> "$OUT/runs.jsonl"
    tail -1 "$OUT/runs.jsonl"
}

# reduce K RATE: bench reduce at each size, fast and exact, one JSON line per (size, mode).
reduce() {
    local k=$1 rate=$2 n before
    for n in $SIZES; do
        before=$(load)
        "$SIM/run.sh" -n "$k" --map-by node "$BIN" bench reduce --floats "$n" --terms 1 --seconds 1 --json 2>"$OUT/reduce-$k-$rate.err" \
            | python3 -c "
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if 'mode' in o:
        o.update(hosts=$k, rate='$rate', load='$before')
        print(json.dumps(o))" | tee -a "$OUT/reduce.jsonl"
    done
}

first=1
for rate in $RATES; do
    for k in $HOSTS; do
        [ "$k" != 1 ] || [ -n "$first" ] || continue
        "$SIM/up.sh" "$k" --rate "$rate" >/dev/null
        for i in $(seq 1 "$k"); do cp "$OUT/data/shard_$(printf %03d $((i - 1))).h5" "$SIM_STATE/host$i/"; done
        echo "== $k host(s), $rate (load $(load))"
        # A failed run is reported and left out; the others still count.
        ! want dp || train "dp-$k-$rate" "$k" "$rate" dp data_parallel "$k" "[$RESNET]" || true
        # The all-reduce overlapped with backward, bucket by bucket (its exposed part is what the step waits).
        [ "$k" = 1 ] || ! want dpb || train "dpb-$k-$rate" "$k" "$rate" dpb data_parallel "$k" "[$RESNET]" false 4 || true
        [ "$k" = 1 ] || [ -n "$QUICK" ] || ! want dpo || train "dpo-$k-$rate" "$k" "$rate" dpo data_parallel "$k" "[$RESNET]" true 4 || true
        [ "$k" = 1 ] || [ -n "$QUICK" ] || ! want dpo16 || train "dpo16-$k-$rate" "$k" "$rate" dpo16 data_parallel "$k" "[$RESNET]" true 16 || true
        ! want rr || train "rr-$k-$rate" "$k" "$rate" rr round_robin 1 "[$RESNET, $MLP]" || true
        [ "$k" = 1 ] || ! want reduce || reduce "$k" "$rate" || echo "scaling.sh: bench reduce on $k hosts at $rate failed (see $OUT/reduce-$k-$rate.err)" >&2
    done
    first=
done

# Added latency (tc netem on every host's egress): the default across hosts, and round-robin.
for LAT in $LATENCIES; do
    for rate in $RATES; do
        for k in $HOSTS; do
            [ "$k" != 1 ] || continue
            if ! "$SIM/up.sh" "$k" --rate "$rate" --netem "delay $LAT" >/dev/null 2>"$OUT/netem.err"; then
                echo "scaling.sh: latency not measured: $(grep -m1 netem "$OUT/netem.err" || tail -1 "$OUT/netem.err")" >&2
                break 3
            fi
            for i in $(seq 1 "$k"); do cp "$OUT/data/shard_$(printf %03d $((i - 1))).h5" "$SIM_STATE/host$i/"; done
            echo "== $k host(s), $rate, +$LAT latency (load $(load))"
            ! want dpo || train "dpo-$k-$rate-$LAT" "$k" "$rate" dpo data_parallel "$k" "[$RESNET]" true 4 || true
            ! want rr || train "rr-$k-$rate-$LAT" "$k" "$rate" rr round_robin 1 "[$RESNET, $MLP]" || true
        done
    done
done
LAT=
"$SIM/down.sh"
python3 "$SIM/scaling_model.py" fit "$OUT" | tee "$OUT/model.txt"
