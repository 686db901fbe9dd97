#!/usr/bin/env python3
"""Summarize a bench/vae_mnist.sh output directory (elbo vs PyTorch VAE on MNIST).

Layout read (what vae_mnist.sh writes; any impl may be absent):

  OUT/<impl>/run-<N>/metrics.jsonl   one JSON object per epoch with at least
                                     "epoch", "train_loss", "test_loss", "epoch_seconds";
                                     other lines (e.g. PyTorch's final line) are
                                     used only for cross-checks
  OUT/<impl>/run-<N>.time            GNU time output: max_rss_kb=.. wall_s=.. user_s=.. sys_s=..
  OUT/<impl>/run-<N>.info            optional JSON: seed, loadavg_start, loadavg_end, order
  OUT/pytorch/import-baseline.time   optional: peak RSS of `python -c "import torch"`

<impl> is "elbo" or "pytorch". Only the Python standard library is used.

Usage: summarize.py OUT_DIR [--expect-epochs N] [--json FILE]
"""

import argparse
import json
import math
import os
import re
import statistics
import sys

IMPLS = ("elbo", "pytorch")
REQUIRED_KEYS = ("epoch", "train_loss", "test_loss", "epoch_seconds")


def warn(msg):
    print(f"summarize.py: warning: {msg}", file=sys.stderr)


def read_metrics(path):
    """Return (epoch records sorted by epoch, other JSON objects)."""
    epochs, other = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                warn(f"{path}:{lineno}: not JSON, skipped: {line[:80]!r}")
                continue
            if not isinstance(obj, dict):
                continue
            if "epoch" in obj and "epoch_seconds" in obj:
                missing = [k for k in REQUIRED_KEYS if k not in obj]
                if missing:
                    raise SystemExit(f"{path}:{lineno}: epoch record lacks {missing}")
                epochs.append(obj)
            else:
                other.append(obj)
    epochs.sort(key=lambda r: r["epoch"])
    return epochs, other


def read_time(path):
    """Parse the -f 'max_rss_kb=%M wall_s=%e user_s=%U sys_s=%S' output of GNU time."""
    if not os.path.isfile(path):
        return None
    text = open(path).read()
    out = {}
    for key, val in re.findall(r"(\w+)=([0-9.]+)", text):
        out[key] = float(val)
    m = re.search(r"exited with non-zero status (\d+)", text)
    if m:
        out["exit_status"] = int(m.group(1))
    if "max_rss_kb" not in out:
        warn(f"{path}: no max_rss_kb in {text.strip()!r}")
        return None
    return out


def load_runs(out_dir, impl):
    impl_dir = os.path.join(out_dir, impl)
    if not os.path.isdir(impl_dir):
        return []
    runs = []
    names = [n for n in os.listdir(impl_dir)
             if re.fullmatch(r"run-\d+", n) and os.path.isdir(os.path.join(impl_dir, n))]
    for name in sorted(names, key=lambda n: int(n.split("-")[1])):
        metrics = os.path.join(impl_dir, name, "metrics.jsonl")
        if not os.path.isfile(metrics):
            warn(f"{metrics} missing; run skipped")
            continue
        epochs, other = read_metrics(metrics)
        if not epochs:
            warn(f"{metrics}: no epoch records; run skipped")
            continue
        info_path = os.path.join(impl_dir, name + ".info")
        info = json.load(open(info_path)) if os.path.isfile(info_path) else {}
        tm = read_time(os.path.join(impl_dir, name + ".time"))
        if tm and tm.get("exit_status"):
            warn(f"{impl} {name} exited with status {tm['exit_status']}")
        secs = [float(r["epoch_seconds"]) for r in epochs]
        selfreported = [o for o in other if "peak_rss_mb" in o]
        runs.append({
            "run": int(name.split("-")[1]),
            "seed": info.get("seed"),
            "order": info.get("order"),
            "loadavg_start": info.get("loadavg_start"),
            "epochs": len(epochs),
            "epoch_seconds": secs,
            "median_epoch_seconds": statistics.median(secs),
            "train_seconds_total": sum(secs),
            "final_epoch": epochs[-1]["epoch"],
            "final_train_loss": float(epochs[-1]["train_loss"]),
            "final_test_loss": float(epochs[-1]["test_loss"]),
            "peak_rss_mb": tm["max_rss_kb"] / 1024.0 if tm else None,
            "wall_seconds": tm.get("wall_s") if tm else None,
            "cpu_seconds": tm["user_s"] + tm["sys_s"]
                if tm and "user_s" in tm and "sys_s" in tm else None,
            "self_reported_peak_rss_mb":
                float(selfreported[-1]["peak_rss_mb"]) if selfreported else None,
            "self_reported_final_test_loss":
                float(selfreported[-1]["final_test_loss"])
                if selfreported and "final_test_loss" in selfreported[-1] else None,
        })
    return runs


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate(runs):
    if not runs:
        return None
    all_secs = [s for r in runs for s in r["epoch_seconds"]]
    return {
        "runs": len(runs),
        "epochs_per_run": sorted({r["epochs"] for r in runs}),
        "median_epoch_seconds_all": statistics.median(all_secs),
        "median_of_run_median_epoch_seconds": med(r["median_epoch_seconds"] for r in runs),
        "min_epoch_seconds": min(all_secs),
        "max_epoch_seconds": max(all_secs),
        "median_final_test_loss": med(r["final_test_loss"] for r in runs),
        "min_final_test_loss": min(r["final_test_loss"] for r in runs),
        "max_final_test_loss": max(r["final_test_loss"] for r in runs),
        "median_final_train_loss": med(r["final_train_loss"] for r in runs),
        "median_peak_rss_mb": med(r["peak_rss_mb"] for r in runs),
        "median_self_reported_peak_rss_mb":
            med(r["self_reported_peak_rss_mb"] for r in runs),
        "median_wall_seconds": med(r["wall_seconds"] for r in runs),
        "median_cpu_seconds": med(r["cpu_seconds"] for r in runs),
    }


def fmt(v, spec=".2f", width=11):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a".rjust(width)
    return format(v, spec).rjust(width)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def main(argv=None):
    p = argparse.ArgumentParser(description="Summarize a vae_mnist.sh output directory.")
    p.add_argument("out_dir")
    p.add_argument("--expect-epochs", type=int, default=None,
                   help="warn when a run does not have this many epoch records")
    p.add_argument("--json", default=None,
                   help="also write the summary as JSON to this file")
    args = p.parse_args(argv)

    runs = {impl: load_runs(args.out_dir, impl) for impl in IMPLS}
    if not any(runs.values()):
        raise SystemExit(f"summarize.py: no runs found under {args.out_dir} "
                         "(expected <impl>/run-N/metrics.jsonl)")
    if args.expect_epochs is not None:
        for impl, rs in runs.items():
            for r in rs:
                if r["epochs"] != args.expect_epochs:
                    warn(f"{impl} run-{r['run']} has {r['epochs']} epoch records, "
                         f"expected {args.expect_epochs}")
    # cross-check PyTorch's own numbers against the ones used in the table
    for r in runs["pytorch"]:
        sr = r["self_reported_final_test_loss"]
        if sr is not None and abs(sr - r["final_test_loss"]) > 1e-9:
            warn(f"pytorch run-{r['run']}: final_test_loss line {sr} != last epoch "
                 f"{r['final_test_loss']}")

    agg = {impl: aggregate(rs) for impl, rs in runs.items()}
    e, t = agg["elbo"] or {}, agg["pytorch"] or {}

    baseline = read_time(os.path.join(args.out_dir, "pytorch", "import-baseline.time"))
    baseline_mb = baseline["max_rss_kb"] / 1024.0 if baseline else None

    epochs_desc = sorted({n for a in agg.values() if a for n in a["epochs_per_run"]})
    lines = []
    lines.append(f"VAE on MNIST, elbo vs PyTorch: runs elbo={e.get('runs', 0)} "
                 f"pytorch={t.get('runs', 0)}, epochs per run "
                 f"{'/'.join(map(str, epochs_desc))}")
    lines.append("")
    lines.append(f"{'':44s}{'elbo':>11s}{'pytorch':>11s}{'elbo/pytorch':>14s}")

    def row(label, key, spec=".3f", show_ratio=True):
        a, b = e.get(key), t.get(key)
        r = ratio(a, b) if show_ratio else None
        rtxt = (format(r, ".3f") + "x").rjust(14) if r is not None else "".rjust(14)
        lines.append(f"{label:44s}{fmt(a, spec)}{fmt(b, spec)}{rtxt}")

    row("epoch seconds, median over all epochs", "median_epoch_seconds_all")
    row("epoch seconds, median of per-run medians", "median_of_run_median_epoch_seconds")
    row("epoch seconds, fastest epoch", "min_epoch_seconds")
    row("epoch seconds, slowest epoch", "max_epoch_seconds")
    row("final test loss (nats), median over runs", "median_final_test_loss", ".3f", False)
    row("final test loss, min over runs", "min_final_test_loss", ".3f", False)
    row("final test loss, max over runs", "max_final_test_loss", ".3f", False)
    a, b = e.get("median_final_test_loss"), t.get("median_final_test_loss")
    diff = a - b if a is not None and b is not None else None
    lines.append(f"{'final test loss diff, elbo - pytorch (nats)':44s}{fmt(diff, '+.3f')}")
    row("final train loss (nats), median over runs", "median_final_train_loss", ".3f", False)
    row("peak RSS MB (/usr/bin/time %M), median", "median_peak_rss_mb", ".1f")
    row("peak RSS MB self-reported (ru_maxrss)", "median_self_reported_peak_rss_mb", ".1f",
        False)
    if baseline_mb is not None:
        lines.append(f"{'pytorch `import torch` alone, peak RSS MB':44s}{'':11s}"
                     f"{fmt(baseline_mb, '.1f')}")
    row("whole process wall seconds, median", "median_wall_seconds", ".1f")
    row("whole process CPU seconds (user+sys), median", "median_cpu_seconds", ".1f")

    lines.append("")
    lines.append("per run:")
    lines.append(f"  {'impl':8s}{'run':>4s}{'seed':>6s}{'order':>6s}{'epochs':>7s}"
                 f"{'med ep s':>10s}{'train s':>9s}{'test loss':>11s}{'RSS MB':>9s}"
                 f"{'wall s':>8s}{'load@start':>11s}")
    for impl in IMPLS:
        for r in runs[impl]:
            lines.append(
                f"  {impl:8s}{r['run']:>4d}{str(r['seed'] if r['seed'] is not None else '-'):>6s}"
                f"{str(r['order'] or '-'):>6s}{r['epochs']:>7d}"
                f"{r['median_epoch_seconds']:>10.3f}{r['train_seconds_total']:>9.1f}"
                f"{r['final_test_loss']:>11.3f}{fmt(r['peak_rss_mb'], '.1f', 9)}"
                f"{fmt(r['wall_seconds'], '.1f', 8)}"
                f"{str(r['loadavg_start'] if r['loadavg_start'] is not None else '-'):>11s}")
    text = "\n".join(lines)
    print(text)

    if args.json:
        summary = {
            "elbo": agg["elbo"], "pytorch": agg["pytorch"],
            "ratio_median_epoch_seconds_all":
                ratio(e.get("median_epoch_seconds_all"), t.get("median_epoch_seconds_all")),
            "ratio_median_of_run_median_epoch_seconds":
                ratio(e.get("median_of_run_median_epoch_seconds"),
                      t.get("median_of_run_median_epoch_seconds")),
            "final_test_loss_diff_elbo_minus_pytorch": diff,
            "ratio_median_peak_rss_mb":
                ratio(e.get("median_peak_rss_mb"), t.get("median_peak_rss_mb")),
            "pytorch_import_baseline_rss_mb": baseline_mb,
            "runs": runs,
        }
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
