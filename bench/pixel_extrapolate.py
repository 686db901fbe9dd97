"""Extrapolates a PixelCNN run's validation NLL to a target.

    python bench/pixel_extrapolate.py METRICS.jsonl [--target 85] [--upto EPOCHS]

Fits NLL(t) = a + b * t^(-c) (t = cumulative training seconds, a the
asymptote) to the epochs 1..=upto of a run's metrics.jsonl (by default all of
them; pass the last constant-rate epoch to leave out the decay), and prints
the fit, its residuals and the training time at which the fitted curve
reaches the target. The fit says what the same schedule would do if it went
on; it is a trend, not a measurement, and the README quotes it as such.
"""

import argparse
import json

import numpy as np
from scipy.optimize import curve_fit


def law(t, a, b, c):
    return a + b * np.power(t, -c)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("metrics")
    p.add_argument("--target", type=float, default=85.0)
    p.add_argument("--upto", type=int, default=0)
    a = p.parse_args()
    rows = [json.loads(line) for line in open(a.metrics) if line.strip()]
    t = np.cumsum([r["epoch_seconds"] for r in rows])
    nll = np.array([r["test_loss"] for r in rows])
    n = a.upto or len(rows)
    t, nll = t[:n], nll[:n]
    (fa, fb, fc), _ = curve_fit(law, t, nll, p0=(80.0, 100.0, 0.3), maxfev=20000)
    print(f"fit over epochs 1..{n}: NLL(t) = {fa:.2f} + {fb:.1f} * t^-{fc:.3f}")
    for ti, yi in zip(t, nll):
        print(f"  t = {ti:7.0f} s  NLL {yi:.2f}  fit {law(ti, fa, fb, fc):.2f}")
    if fa >= a.target:
        print(f"the fitted asymptote {fa:.2f} is above {a.target}: never reached on this trend")
        return
    reach = (fb / (a.target - fa)) ** (1.0 / fc)
    print(f"fitted curve reaches {a.target} nats at ~{reach:.0f} s ({reach / 3600:.1f} h) of training")


if __name__ == "__main__":
    main()
