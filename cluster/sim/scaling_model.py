#!/usr/bin/env python3
"""The arithmetic of cluster/sim/scaling.sh (see docs/scaling.md).

  scaling_model.py summarize RUN_DIR --kind dp|rr --hosts K --rate R --load TEXT [--latency 0.1ms]
      one JSON line for a run: steady-state samples/s, step time, the shares of the step in
      all-reduce and data wait; for round-robin the model transfers (time, bytes, share of the round).
  scaling_model.py fit OUT_DIR
      fits the alpha-beta models to OUT_DIR/runs.jsonl and OUT_DIR/reduce.jsonl, prints the
      measured and modelled tables (markdown) and the predictions, writes OUT_DIR/model.json.

Models (bytes n, ranks p, per-message latency alpha, seconds per byte beta):
  ring all-reduce, sent as k messages (rstrain sends gradients in chunks of 2^16 floats):
      T(n, p) = 2(p-1)·k·alpha + 2(p-1)/p·n·beta
  point-to-point model transfer:  T(n) = alpha + n·beta
A compute term gamma (the additions of the reduce) scales like the beta term, (p-1)/p·n, so the
two cannot be told apart: the fitted beta is the effective cost per byte, arithmetic included.
"""
import json
import math
import sys

SMALL = 1000                  # floats: an all-reduce this small measures the per-message latency
SUSTAINED = 1_000_000         # floats: from here on an all-reduce runs at the link's sustained rate
CHUNK = 1 << 16               # floats per blocking all-reduce on one host (allreduce_bucket_mb 0.25, the one-host default)
BUCKET = 1 << 20              # floats per message across hosts (allreduce_bucket_mb 4, the default there; an overlapped run's first bucket is 1/8)
RESNET50_FLOATS = 23_500_000  # so2sat_resnet50's gradient (94 MB)
BACKWARD_SHARE = 2 / 3        # backward is about twice the forward's work
# The part of backward that overlapping can hide communication behind: ResNet-50's parameters sit
# in the deep stages (stage 4 alone holds ~15M of 23.5M), whose gradients backward produces first;
# its work sits in the early, high-resolution stages, whose gradients come last. After the deep
# stages' buckets are ready about half of backward is left to hide them behind.
OVERLAPPABLE = 0.5


def steps_of(run_dir):
    out = []
    for line in open(f"{run_dir}/metrics.jsonl"):
        o = json.loads(line)
        out.append(o)
    return out


def median(xs):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def summarize(run_dir, kind, hosts, rate, load, skip=2, latency=""):
    recs = steps_of(run_dir)
    steps = [o for o in recs if o.get("type") == "step"]
    moves = [o for o in recs if o.get("type") == "transfer"]
    res = {"kind": kind, "hosts": hosts, "rate": rate, "load": load, "models": {}}
    if latency:
        res["latency"] = latency  # added per packet with tc netem (not in the fit: see fit())
    for model in sorted({s["model"] for s in steps}):
        mine = [s for s in steps if s["model"] == model]
        # The first steps of each visit warm up loaders and caches.
        steady = [s for s in mine if s["step"] >= skip] or mine
        secs = sum(s["seconds"] for s in steady)
        res["models"][model] = {
            "steps": len(steady),
            "samples_per_s": sum(s["samples"] for s in steady) / secs,
            "step_s": secs / len(steady),
            "step_s_median": median([s["seconds"] for s in steady]),
            "allreduce_s": sum(s["allreduce_seconds"] for s in steady) / len(steady),
            "allreduce_s_median": median([s["allreduce_seconds"] for s in steady]),
            "allreduce_s_min": min(s["allreduce_seconds"] for s in steady),
            "allreduce_share": sum(s["allreduce_seconds"] for s in steady) / secs,
            "data_wait_share": sum(s.get("data_wait_seconds", 0) for s in steady) / secs,
            "compute_s_median": median([s["seconds"] - s["allreduce_seconds"] - s.get("data_wait_seconds", 0) for s in steady]),
        }
    # Each move against the visit it starts: the model's steps in that round (all of them).
    res["transfers"] = []
    for mv in moves:
        visit = sum(s["seconds"] for s in steps if s["model"] == mv["model"] and s["round"] == mv["round"])
        t = mv["transfer_seconds"]
        res["transfers"].append({"model": mv["model"], "round": mv["round"], "from": mv["from"], "ranks": mv["ranks"],
                                 "bytes": mv["bytes"], "seconds": t, "visit_s": visit,
                                 "share_of_round": t / (t + visit) if visit > 0 else None})
    return res


# ---------------------------------------------------------------------------------------------
# Fitting

def lstsq_pos(rows, ys):
    """Least squares of relative errors (each row divided by its y: small and large messages
    count alike) with non-negative coefficients (a negative one is set to 0 and the rest refit)."""
    k = len(rows[0])
    active = list(range(k))
    while True:
        a = [[r[j] / y for j in active] for r, y in zip(rows, ys)]
        b = [1.0] * len(ys)
        # Normal equations (2 or 3 unknowns).
        m = len(active)
        ata = [[sum(r[i] * r[j] for r in a) for j in range(m)] for i in range(m)]
        atb = [sum(r[i] * bb for r, bb in zip(a, b)) for i in range(m)]
        x = solve(ata, atb)
        if all(v >= 0 for v in x) or m == 1:
            out = [0.0] * k
            for j, v in zip(active, x):
                out[j] = max(v, 0.0)
            return out
        active = [j for j, v in zip(active, x) if v >= 0] or [active[0]]


def solve(a, b):
    n = len(b)
    m = [row[:] + [bb] for row, bb in zip(a, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        if abs(m[c][c]) < 1e-300:
            return [0.0] * n
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def chunks(floats, size=CHUNK):
    return math.ceil((floats + 2) / size)


def ring_terms(floats, p, messages):
    """The coefficients of alpha and beta in the ring all-reduce's time."""
    return [2 * (p - 1) * messages, 2 * (p - 1) / p * 4 * floats]


def ring_time(floats, p, alpha, beta, messages):
    a, b = ring_terms(floats, p, messages)
    return a * alpha + b * beta


def overlap_exposed(p, alpha, beta, t_compute, floats=RESNET50_FLOATS, bucket=BUCKET):
    """The all-reduce time a step waits for when buckets are reduced during backward: the last
    bucket (the first layers', ready only when backward ends) is never hidden; the others are,
    up to the overlappable part of backward."""
    buckets = math.ceil((floats - bucket / 8) / bucket) + 1
    last = ring_time(bucket, p, alpha, beta, 1)
    rest = ring_time(floats - bucket, p, alpha, beta, buckets - 1)
    return last + max(0.0, rest - OVERLAPPABLE * BACKWARD_SHARE * t_compute)


def rate_bits(rate):
    r = rate.lower()
    for suffix, mult in (("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)):
        if r.endswith(suffix):
            return float(r[: -len(suffix)]) * mult
    raise ValueError(f"link rate '{rate}': expected e.g. 1gbit, 10gbit")


def fit(out_dir):
    runs = [json.loads(l) for l in open(f"{out_dir}/runs.jsonl") if l.strip()]
    # Runs on links with added latency (netem) are shown against the model, not fitted.
    delayed = [r for r in runs if r.get("latency")]
    runs = [r for r in runs if not r.get("latency")]
    reds = [json.loads(l) for l in open(f"{out_dir}/reduce.jsonl") if l.strip()]
    rates = sorted({r["rate"] for r in runs + reds if r["hosts"] > 1}, key=rate_bits)
    model = {"rates": {}}
    P = print

    # --- Measurements -----------------------------------------------------------------------
    one = next((r for r in runs if r["kind"] == "dp" and r["hosts"] == 1), None)
    if one is None:
        sys.exit("scaling_model.py: no 1-host data-parallel run in runs.jsonl (the compute time per step comes from it)")
    base = one["models"]["resnet50"]
    t_compute = base["compute_s_median"]
    model["t_compute_s"] = t_compute
    P("## Data-parallel so2sat_resnet50, weak scaling (32 samples per rank per step)\n")
    P("| hosts | link | samples/s | step (median) | all-reduce share | data wait share | all-reduce per step (median / min) "
      "| model all-reduce (fitted beta / full link rate) | E raw | E comm (measured) | load before / after |")
    P("|---|---|---|---|---|---|---|---|---|---|---|")

    # --- Ring all-reduce fit per rate (bench reduce, fast mode: its MPI time) -----------------------
    for rate in rates:
        pts = [r for r in reds if r["rate"] == rate and r.get("mode") == "fast" and r["hosts"] > 1]
        if len(pts) < 2:
            continue
        rows = [ring_terms(r["floats"], r["hosts"], chunks(r["floats"])) for r in pts]
        ys = [r["comm_ms"] / 1e3 for r in pts]
        # alpha from the smallest all-reduces (latency-bound); beta by least squares, given alpha,
        # on the all-reduces of 1M floats and more: smaller ones fit in tbf's burst (256 KB) and
        # pass at the veth's own speed, which is not the link's.
        small = [i for i, r in enumerate(pts) if r["floats"] <= SMALL]
        big = [i for i, r in enumerate(pts) if r["floats"] >= SUSTAINED]
        if small and big:
            alpha = sum(ys[i] / rows[i][0] for i in small) / len(small)
            beta = lstsq_pos([[rows[i][1]] for i in big], [ys[i] - alpha * rows[i][0] for i in big])[0]
        else:
            alpha, beta = lstsq_pos(rows, ys)
        resid = [abs(sum(c * x for c, x in zip(rows[i], (alpha, beta))) / ys[i] - 1) for i in small + big]
        model["rates"][rate] = {"ring": {"alpha_s": alpha, "beta_s_per_byte": beta,
                                         "effective_gbit_s": 8 / beta / 1e9 if beta > 0 else None,
                                         "link_gbit_s": rate_bits(rate) / 1e9, "points": len(small) + len(big),
                                         "max_rel_error": max(resid)}}
        # Point to point: round-robin moves to a single rank.
        mv = [dict(t, hosts=r["hosts"]) for r in runs if r["kind"] == "rr" and r["rate"] == rate for t in r["transfers"]
              if len(t["ranks"]) == 1 and t["from"] != t["ranks"][0]]
        # The median of each (hosts, model): a move whose sender is at the same time receiving a
        # large model can wait for that receive (see docs/scaling.md), which is not the link.
        groups = {}
        for t in mv:
            groups.setdefault((t["hosts"], t["bytes"]), []).append(t["seconds"])
        med = [(b, median(v)) for (_, b), v in groups.items()]
        if len({b for b, _ in med}) >= 2:
            a2, b2 = lstsq_pos([[1.0, b] for b, _ in med], [y for _, y in med])
            model["rates"][rate]["p2p"] = {"alpha_s": a2, "beta_s_per_byte": b2,
                                           "effective_gbit_s": 8 / b2 / 1e9 if b2 > 0 else None, "points": len(mv),
                                           "medians": len(med)}

    for r in sorted((r for r in runs if r["kind"] in ("dp", "dpb", "dpo", "dpo16")), key=lambda r: (r["hosts"], rate_bits(r["rate"]), r["kind"])):
        m = r["models"]["resnet50"]
        k, rate = r["hosts"], r["rate"]
        fitted = model["rates"].get(rate, {}).get("ring")
        pred = full = 0.0
        if fitted and k > 1:
            a_, b_, bf = fitted["alpha_s"], fitted["beta_s_per_byte"], 8 / rate_bits(rate)
            if r["kind"] in ("dpo", "dpo16"):
                bucket = 4 * BUCKET if r["kind"] == "dpo16" else BUCKET
                pred, full = (overlap_exposed(k, a_, x, t_compute, bucket=bucket) for x in (b_, bf))
            else:
                size = BUCKET if r["kind"] == "dpb" else CHUNK
                pred, full = (ring_time(RESNET50_FLOATS, k, a_, x, chunks(RESNET50_FLOATS, size)) for x in (b_, bf))
        e_raw = m["samples_per_s"] / k / base["samples_per_s"]
        e_comm = t_compute / (t_compute + m["allreduce_s_median"])
        link = (rate if k > 1 else "—") + {"dp": "", "dpb": ", 4 MB after backward", "dpo": ", 4 MB overlapped", "dpo16": ", 16 MB overlapped"}[r["kind"]]
        P(f"| {k} | {link} | {m['samples_per_s']:.1f} | {m['step_s_median']:.3f} s | {100 * m['allreduce_share']:.1f}% "
          f"| {100 * m['data_wait_share']:.2f}% | {1e3 * m['allreduce_s_median']:.0f} / {1e3 * m['allreduce_s_min']:.0f} ms "
          f"| {1e3 * pred:.0f} / {1e3 * full:.0f} ms | {100 * e_raw:.0f}% | {100 * e_comm:.0f}% | {r['load']} |")
    P(f"\nCompute per step (1 host, median of step − all-reduce − data wait): {t_compute:.3f} s.")
    if delayed:
        P("\n## Measured with added latency (tc netem), against the model at the full link rate\n")
        P("| hosts | link | latency | kind | samples/s | all-reduce per step (median) | model | E comm (measured) |")
        P("|---|---|---|---|---|---|---|---|")
        for r in sorted(delayed, key=lambda r: (r["hosts"], rate_bits(r["rate"]), r["latency"], r["kind"])):
            fitted = model["rates"].get(r["rate"], {}).get("ring")
            lat = float(r["latency"].rstrip("ms")) * 1e-3 if r["latency"].endswith("ms") else float(r["latency"].rstrip("us")) * 1e-6
            for name, m in r["models"].items():
                pred = overlap_exposed(r["hosts"], fitted["alpha_s"] + lat, 8 / rate_bits(r["rate"]), t_compute) \
                    if fitted and r["kind"] == "dpo" else float("nan")
                e = t_compute / (t_compute + m["allreduce_s_median"]) if r["kind"] == "dpo" else float("nan")
                P(f"| {r['hosts']} | {r['rate']} | {r['latency']} | {r['kind']} ({name}) | {m['samples_per_s']:.1f} "
                  f"| {1e3 * m['allreduce_s_median']:.0f} ms | {1e3 * pred:.0f} ms | {100 * e:.0f}% |")

    P("\n## bench reduce (fast mode: MPI time of the best step; exact: whole reduce) against the fitted ring model\n")
    P("| hosts | link | floats | fast MPI | model | exact reduce | load |")
    P("|---|---|---|---|---|---|---|")
    for r in sorted((r for r in reds if r.get("mode") == "fast"), key=lambda r: (rate_bits(r["rate"]), r["hosts"], r["floats"])):
        f = model["rates"].get(r["rate"], {}).get("ring")
        pred = ring_time(r["floats"], r["hosts"], f["alpha_s"], f["beta_s_per_byte"], chunks(r["floats"])) if f else float("nan")
        ex = next((e for e in reds if e.get("mode") == "exact" and e["hosts"] == r["hosts"] and e["rate"] == r["rate"] and e["floats"] == r["floats"]), None)
        P(f"| {r['hosts']} | {r['rate']} | {r['floats']:,} | {r['comm_ms']:.2f} ms | {1e3 * pred:.2f} ms "
          f"| {ex['reduce_ms']:.2f} ms | {r['load']} |" if ex else f"| {r['hosts']} | {r['rate']} | {r['floats']:,} | {r['comm_ms']:.2f} ms | {1e3 * pred:.2f} ms | — | {r['load']} |")

    P("\n## Round-robin (so2sat_resnet50 + mlp_so2sat): model transfers\n")
    P("| hosts | link | model | round | MB | transfer | visit (steps) | share of the round | model p2p |")
    P("|---|---|---|---|---|---|---|---|---|")
    for r in sorted((r for r in runs if r["kind"] == "rr"), key=lambda r: (r["hosts"], rate_bits(r["rate"]))):
        p2p = model["rates"].get(r["rate"], {}).get("p2p")
        for t in r["transfers"]:
            pred = p2p["alpha_s"] + p2p["beta_s_per_byte"] * t["bytes"] if p2p else float("nan")
            share = f"{100 * t['share_of_round']:.1f}%" if t["share_of_round"] is not None else "(validation round)"
            P(f"| {r['hosts']} | {r['rate']} | {t['model']} | {t['round']} | {t['bytes'] / 1e6:.1f} | {1e3 * t['seconds']:.0f} ms "
              f"| {t['visit_s']:.2f} s | {share} | {1e3 * pred:.0f} ms |")
    rr1 = next((r for r in runs if r["kind"] == "rr"), None)

    P("\n## Fit\n")
    P("| link | ring alpha | ring beta → effective rate | max relative error | p2p alpha | p2p beta → effective rate |")
    P("|---|---|---|---|---|---|")
    for rate, f in model["rates"].items():
        g = f["ring"]
        p = f.get("p2p")
        ptxt = f"{1e6 * p['alpha_s']:.0f} µs | {p['effective_gbit_s']:.2f} Gbit/s (medians of {p['points']} moves in {p['medians']} groups)" if p and p["effective_gbit_s"] else "— | —"
        P(f"| {rate} | {1e6 * g['alpha_s']:.1f} µs | {g['effective_gbit_s']:.2f} Gbit/s (link {g['link_gbit_s']:g}) "
          f"| {100 * g['max_rel_error']:.0f}% ({g['points']} points) | {ptxt} |")

    # --- Predictions --------------------------------------------------------------------------
    # alpha: the links' own latency here (the smallest fitted ring alpha) plus the added one-way
    # latency; beta: the nominal rate at the efficiency measured on the 1 Gbit/s links (the
    # protocol overhead; the sim's faster links are limited by the shared CPU, not the rate).
    slow = min(model["rates"], key=rate_bits)
    g = model["rates"][slow]["ring"]
    eff = (8 / rate_bits(slow)) / g["beta_s_per_byte"]
    alpha0 = min(f["ring"]["alpha_s"] for f in model["rates"].values())
    p2p = model["rates"][slow].get("p2p")
    p2p_eff = (8 / rate_bits(slow)) / p2p["beta_s_per_byte"] if p2p and p2p["beta_s_per_byte"] > 0 else eff
    model["prediction"] = {"alpha0_s": alpha0, "link_efficiency": eff, "p2p_link_efficiency": p2p_eff,
                           "overlappable_backward": OVERLAPPABLE, "rows": []}
    t_bwd = BACKWARD_SHARE * t_compute
    P(f"\n## Predictions for so2sat_resnet50 (t_compute {t_compute:.3f} s per step of 32, 94 MB of gradients)\n")
    P(f"alpha = {1e6 * alpha0:.0f} µs (measured) + added latency; beta = 8 bits / rate / {eff:.2f} (the efficiency measured at {slow}); "
      f"overlap hides communication behind {OVERLAPPABLE:.0%} of backward ({t_bwd:.3f} s is backward).\n")
    P("| link | latency | ranks | all-reduce, 256 KB chunks | E no overlap | all-reduce, 4 MB buckets | E no overlap, 4 MB "
      "| exposed with overlap (4 MB: 24 buckets) | E overlap | t_compute for E = 90% (overlap) | E overlap at the full link rate "
      "| E overlap, 16 MB buckets (fitted / full rate) |")
    P("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for gbit in (10, 25):
        beta = 8 / (gbit * 1e9) / eff
        for lat in (1e-4, 1e-3):
            alpha = alpha0 + lat
            for p in (16, 128):
                chunked = ring_time(RESNET50_FLOATS, p, alpha, beta, chunks(RESNET50_FLOATS))
                single = ring_time(RESNET50_FLOATS, p, alpha, beta, chunks(RESNET50_FLOATS, BUCKET))
                exposed = overlap_exposed(p, alpha, beta, t_compute)
                full = overlap_exposed(p, alpha, 8 / (gbit * 1e9), t_compute)
                big = [overlap_exposed(p, alpha, b, t_compute, bucket=4 * BUCKET) for b in (beta, 8 / (gbit * 1e9))]
                row = {"gbit_s": gbit, "latency_s": lat, "ranks": p, "allreduce_chunked_s": chunked,
                       "e_chunked": t_compute / (t_compute + chunked), "allreduce_single_s": single,
                       "e_single": t_compute / (t_compute + single), "exposed_overlap_s": exposed,
                       "e_overlap": t_compute / (t_compute + exposed), "t_compute_for_90": 9 * exposed,
                       "e_overlap_full_rate": t_compute / (t_compute + full),
                       "e_overlap_16mb": t_compute / (t_compute + big[0]), "e_overlap_16mb_full_rate": t_compute / (t_compute + big[1])}
                model["prediction"]["rows"].append(row)
                P(f"| {gbit} Gbit/s | {1e3 * lat:g} ms | {p} | {1e3 * chunked:.0f} ms | {100 * row['e_chunked']:.0f}% "
                  f"| {1e3 * single:.0f} ms | {100 * row['e_single']:.0f}% | {1e3 * exposed:.0f} ms | {100 * row['e_overlap']:.1f}% "
                  f"| {9 * exposed:.3f} s | {100 * row['e_overlap_full_rate']:.1f}% "
                  f"| {100 * row['e_overlap_16mb']:.1f}% / {100 * row['e_overlap_16mb_full_rate']:.1f}% |")

    if rr1:
        res = rr1["models"].get("resnet50")
        state = max((t["bytes"] for r in runs if r["kind"] == "rr" for t in r["transfers"] if t["model"] == "resnet50"), default=4 * RESNET50_FLOATS)
        P(f"\nRound-robin: so2sat_resnet50's state is {state / 1e6:.1f} MB; step {res['step_s_median']:.3f} s (1 host). "
          "A move is one point-to-point message; its time against a round of S steps:\n")
        P("| link | latency | transfer | share of a round of 20 steps | of 100 steps | steps per round for < 2% |")
        P("|---|---|---|---|---|---|")
        step = res["step_s_median"]
        for gbit in (10, 25):
            for lat in (1e-4, 1e-3):
                t = alpha0 + lat + state * 8 / (gbit * 1e9) / p2p_eff
                need = math.ceil(t * 49 / step)
                model["prediction"].setdefault("round_robin", []).append({"gbit_s": gbit, "latency_s": lat, "transfer_s": t, "steps_for_2pct": need})
                P(f"| {gbit} Gbit/s | {1e3 * lat:g} ms | {1e3 * t:.0f} ms | {100 * t / (t + 20 * step):.2f}% "
                  f"| {100 * t / (t + 100 * step):.2f}% | {need} |")
    json.dump(model, open(f"{out_dir}/model.json", "w"), indent=1)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "summarize":
        opt = {a[i][2:]: a[i + 1] for i in range(2, len(a) - 1, 2)}
        print(json.dumps(summarize(a[1], opt["kind"], int(opt["hosts"]), opt["rate"], opt.get("load", ""),
                                   latency=opt.get("latency", ""))))
    elif len(a) == 2 and a[0] == "fit":
        fit(a[1])
    else:
        sys.exit(__doc__)
