#!/usr/bin/env python3
"""Summarise a run's metrics.jsonl: steady-state speed of each model (the first steps of each
visit are left out as warm-up), the all-reduce time per step and the share of the step spent
waiting for data. Usage: run_summary.py RUN_DIR [--skip N] [--json]"""
import json
import sys


def summary(run_dir, skip=3):
    steps = [json.loads(l) for l in open(f"{run_dir}/metrics.jsonl") if '"type":"step"' in l.replace(" ", "")]
    out = {}
    for model in sorted({s["model"] for s in steps}):
        mine = [s for s in steps if s["model"] == model]
        # Leave out the first `skip` steps of every visit (round): loaders and caches warm up.
        steady = [s for s in mine if s["step"] >= skip] or mine
        secs = sum(s["seconds"] for s in steady)
        out[model] = {
            "steps": len(steady),
            "samples_per_s": sum(s["samples"] for s in steady) / secs,
            "allreduce_s_per_step": sum(s["allreduce_seconds"] for s in steady) / len(steady),
            "data_wait_share": sum(s.get("data_wait_seconds", 0) for s in steady) / secs,
            "step_s": secs / len(steady),
        }
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    skip = int(sys.argv[sys.argv.index("--skip") + 1]) if "--skip" in sys.argv else 3
    s = summary(args[0], skip)
    if "--json" in sys.argv:
        print(json.dumps(s, indent=1))
    else:
        for m, v in s.items():
            print(f"{m}: {v['samples_per_s']:.1f} samples/s, step {v['step_s']*1000:.0f} ms, "
                  f"all-reduce {v['allreduce_s_per_step']*1000:.1f} ms/step, data wait {100*v['data_wait_share']:.1f}% "
                  f"({v['steps']} steady steps)")
