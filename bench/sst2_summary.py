#!/usr/bin/env python3
"""Times a measured `qzo finetune --task` run from its run folder and extrapolates the full run (issue 16's SST-2 row).

metrics.jsonl has one line per step and per evaluation, each with elapsed_s (seconds since the training loop began).
The loop evaluates dev at step 0, after every --eval-every steps and after the last, keeps a copy of the best state,
and saves the run state every --checkpoint-every steps and after the last; the copy and the save happen before the
next step's line. So:
  - an evaluation lasts from the line before it (or the loop's start) to its own line;
  - a step lasts from the line before it to its own; a "plain" step is one with no evaluation or save before it;
  - a step after an evaluation or a save takes what a plain step takes (the median) plus that event's extra: the best
    state's copy, or the save; after the last step, the extra is results.json's train_seconds past the last line.
The full run (--target-steps, evaluating every --target-eval-every) is then estimated from those parts, with the
seconds outside the loop from results.json's phase_seconds and the process's own wall time (--process-seconds).
"""
import argparse
import json
import os
import statistics
import sys


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def spread(values):
    if not values:
        return None
    return {"count": len(values), "median": round(statistics.median(values), 5), "mean": round(statistics.fmean(values), 5),
            "p90": round(percentile(values, 0.9), 5), "min": round(min(values), 5), "max": round(max(values), 5)}


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def read_metrics(path):
    lines = []
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError:
                if number > 1 and not text.endswith("\n"):
                    break  # the last line of a run killed while writing it
                raise SystemExit(f"{path}:{number}: not JSON")
    return lines


def timings(lines, checkpoint_every, train_seconds):
    """Durations of evaluations, plain steps and each event's extra, from the metrics lines in order."""
    evals, plain, after = [], [], []  # after: (count, kind, step seconds) for steps that follow an evaluation or a save
    previous, previous_type = 0.0, None
    for line in lines:
        elapsed = float(line["elapsed_s"])
        if line["type"] == "eval":
            evals.append({"step": line["step"], "seconds": round(elapsed - previous, 3), "examples": line.get("examples")})
        elif line["type"] == "step":
            count = line["step"]  # steps done before this one
            saved = count > 0 and count % checkpoint_every == 0
            evaluated = previous_type == "eval"
            if saved or evaluated:
                after.append((count, ("eval+save" if saved else "eval") if evaluated else "save", elapsed - previous))
            else:
                plain.append(elapsed - previous)
        previous, previous_type = elapsed, line["type"]
    median = statistics.median(plain) if plain else None
    extras = {}
    for count, kind, seconds in after:
        if median is not None:
            extras.setdefault("initial" if count == 0 else kind, []).append(seconds - median)
    steps = [line for line in lines if line["type"] == "step"]
    if train_seconds is not None and lines and lines[-1]["type"] == "eval" and median is not None:
        # after the last step: the last evaluation, then the best state's copy and the final save
        extras.setdefault("eval+save", []).append(train_seconds - float(lines[-1]["elapsed_s"]))
    every_step = plain + [seconds for _, _, seconds in after]
    return {"evals": evals, "plain": plain, "every_step": every_step, "extras": extras, "steps": len(steps)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="the run folder (metrics.jsonl, config.json, results.json)")
    p.add_argument("--out", required=True, help="the JSON to write")
    p.add_argument("--process-seconds", type=float, help="wall seconds of the whole qzo finetune process")
    p.add_argument("--target-steps", type=int, default=20000)
    p.add_argument("--target-eval-every", type=int, default=4000)
    p.add_argument("--target-seconds", type=float, default=720, help="the figure to meet (issue 16: 12 minutes)")
    p.add_argument("--prepare", default="", help="seconds of the preparation, as name=seconds,name=seconds")
    p.add_argument("--data-lengths", help="lengths.json of bench/sst2_data.py")
    p.add_argument("--note", action="append", default=[], help="a line for the JSON's notes (repeatable)")
    a = p.parse_args()

    config = read_json(os.path.join(a.run, "config.json"))
    if config is None:
        raise SystemExit(f"{a.run}: no config.json (the run never started)")
    metrics_path = os.path.join(a.run, "metrics.jsonl")
    if not os.path.isfile(metrics_path):
        raise SystemExit(f"{metrics_path}: not found (the run stopped before training)")
    results = read_json(os.path.join(a.run, "results.json"))
    optimizer = config["optimizer"]
    checkpoint_every = int(config["checkpoint_every"])
    lines = read_metrics(metrics_path)
    t = timings(lines, checkpoint_every, results and results.get("train_seconds"))
    examples = config["facts"].get("examples") or {}
    if not t["plain"]:
        raise SystemExit(f"{metrics_path}: no plain step to time")
    phases = (results or {}).get("phase_seconds") or {}

    steps, every = a.target_steps, a.target_eval_every
    step = spread(t["plain"])
    dev = [e["seconds"] for e in t["evals"] if e["step"] > 0]
    initial = next((e["seconds"] for e in t["evals"] if e["step"] == 0), None)
    extra = {kind: statistics.fmean(v) for kind, v in t["extras"].items()}
    # the loop evaluates after every `every` steps and after the last, and saves after every checkpoint_every and the last
    evaluated = set(range(every, steps + 1, every)) | {steps}
    saved = set(range(checkpoint_every, steps + 1, checkpoint_every)) | {steps}
    events = {"eval": len(evaluated - saved), "eval+save": len(evaluated & saved), "save": len(saved - evaluated)}
    unmeasured = sorted(k for k, n in events.items() if n and k not in extra)
    eval_seconds = statistics.fmean(dev) if dev else initial
    loop = ((initial or 0.0) + extra.get("initial", 0.0) + steps * step["mean"] + len(evaluated) * eval_seconds
            + sum(n * extra.get(kind, 0.0) for kind, n in events.items()))
    simple = steps * statistics.fmean(t["every_step"]) + len(evaluated) * eval_seconds
    outside = {k: phases.get(k) for k in ("load", "test_before", "setup", "test", "save")}
    start_exit = None
    if a.process_seconds is not None and results is not None:
        start_exit = round(a.process_seconds - results["wall_seconds"], 3)
        outside["process_start_and_exit"] = start_exit
    elif a.process_seconds is not None and lines:
        # stopped in the loop: what came before it is the process's time less the loop's; the test after training is
        # taken as a dev evaluation scaled to the test's size, the tuned model's save as not known
        outside = {"before_loop_estimated": round(a.process_seconds - float(lines[-1]["elapsed_s"]), 3),
                   "test_estimated": round(eval_seconds * examples["test"] / examples["dev"], 3), "save": None}
    full = loop + sum(v for v in outside.values() if v is not None)

    prepare = {}
    for item in filter(None, a.prepare.split(",")):
        name, _, seconds = item.partition("=")
        prepare[name] = round(float(seconds), 1)
    report = {
        "what": f"qzo finetune --task sst2, {optimizer['method']}, batch {optimizer['batch_size']}, lr {optimizer['lr']}, "
                f"eps {optimizer['eps']}, clip {optimizer['clip']}: {t['steps']} steps measured, {steps} extrapolated",
        "synthetic_data": True,
        "model": (results or {}).get("model_description") or config["facts"].get("model_description"),
        "backend": config["facts"].get("backend"),
        "examples": config["facts"].get("examples"),
        "complete": results is not None,
        "steps_measured": t["steps"],
        "measured": {"eval_every": optimizer["eval_every"], "checkpoint_every": checkpoint_every,
                     "steps": t["steps"]},
        "step_seconds": step,
        "step_seconds_all": spread(t["every_step"]),
        "evaluations": t["evals"],
        "eval_seconds": {"dev_each": dev, "dev_count": len(dev), "dev_mean": round(eval_seconds, 3) if eval_seconds else None,
                         "initial_dev": initial, "test_before": phases.get("test_before"), "test_after": phases.get("test")},
        "event_extra_seconds": {k: round(v, 3) for k, v in extra.items()},
        "outside_loop_seconds": outside,
        "process_seconds": a.process_seconds,
        "prepare_seconds": prepare,
        "extrapolated": {
            "steps": steps, "eval_every": every, "checkpoint_every": checkpoint_every,
            "dev_evaluations": 1 + len(evaluated), "events": events, "extras_not_measured": unmeasured,
            "simple_s": round(simple, 1),
            "simple_formula": f"{steps} x mean step ({statistics.fmean(t['every_step']):.4f} s) + {len(evaluated)} x dev eval",
            "loop_s": round(loop, 1),
            "full_run_s": round(full, 1),
            "full_run_min": round(full / 60, 2),
            "target_s": a.target_seconds,
            "meets_target": full <= a.target_seconds,
            "paper": "OPT-6.7B, 2 h 16 min (8160 s) on an RTX 4090",
        },
        "data_lengths": read_json(a.data_lengths) if a.data_lengths else None,
        "notes": a.note,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")

    x = report["extrapolated"]
    print(f"measured {t['steps']} steps ({'complete' if results else 'cut short'}) on {report['backend']}")
    print(f"step seconds (plain): median {step['median']:.4f}  mean {step['mean']:.4f}  p90 {step['p90']:.4f}  "
          f"({step['count']} steps; all steps mean {report['step_seconds_all']['mean']:.4f})")
    print(f"dev evaluations: {', '.join(f'{s:.2f}' for s in dev) or '-'} s (initial {initial} s); test before "
          f"{phases.get('test_before')} s, after {phases.get('test')} s; extras {report['event_extra_seconds']}")
    print(f"outside the loop: {report['outside_loop_seconds']}; preparation {prepare}")
    print(f"{steps} steps, eval every {every}: simple {x['simple_s']:.0f} s, loop {x['loop_s']:.0f} s, full run "
          f"{x['full_run_s']:.0f} s = {x['full_run_min']:.1f} min against {a.target_seconds / 60:.0f} min: "
          f"{'MEETS' if x['meets_target'] else 'MISSES'} the target (paper: 2 h 16 min)")
    print("SYNTHETIC SST-2 text: timing only")


if __name__ == "__main__":
    sys.exit(main())
