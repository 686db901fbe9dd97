"""elbo.GaussianMixture (Python) against scikit-learn's GaussianMixture and
against the same fit through the elbo CLI, on MNIST.

  python bench/py_gmm.py [MNIST_DIR]   (default: <repo>/../shared/data/mnist)

Needs a Python with elbo (release build: `pip install ./python`), numpy,
scikit-learn and threadpoolctl, and the release CLI at ELBO_BIN (default
$CARGO_TARGET_DIR/release/elbo, else <repo>/target/release/elbo).

Cases (60,000 training images, u8/255 as float32, then float64; tol = 0,
so every fit runs exactly ITERS iterations; THREADS threads on each side):
  pca50-full   PCA-50 (scikit-learn, svd_solver="covariance_eigh"), full
               covariances, K = 10, reg_covar 1e-6, FULL_ITERS [100] iterations
  pixels-diag  the 784 pixels, diagonal covariances, K = 50, reg_covar 1e-2,
               DIAG_ITERS [30] iterations
Both libraries start from the same weights_init, means_init and
precisions_init (K training images as means, every image assigned to its
nearest mean, weights and covariances from that assignment). RUNS [3] runs
each, interleaved (elbo first in odd runs). Times are fit() wall time.

Python overhead: every elbo fit's wall time against the library's own EM
seconds in the same call (`fit_seconds_`, what the CLI reports as
`fit_seconds`); and, where the CLI binary exists, pixels-diag with
means_init only (the CLI's --means-init start), elbo.GaussianMixture.fit
wall time against the CLI's EM seconds (metrics.jsonl `fit_seconds`, data
loading excluded), RUNS runs interleaved. ONLY=cli runs that comparison
alone.
"""

import gzip
import json
import os
import statistics as st
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

THREADS = int(os.environ.get("THREADS", 2))
# ONLY=cli: just the comparison with the CLI (no scikit-learn fits).
ONLY_CLI = os.environ.get("ONLY") == "cli"
RUNS = int(os.environ.get("RUNS", 3))
ITERS = {"pca50-full": int(os.environ.get("FULL_ITERS", 100)), "pixels-diag": int(os.environ.get("DIAG_ITERS", 30))}
CASES = {"pca50-full": dict(k=10, cov="full", reg=1e-6, pca=50), "pixels-diag": dict(k=50, cov="diag", reg=1e-2, pca=None)}

import elbo  # noqa: E402  (after the thread settings are read)
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters  # noqa: E402

elbo.set_threads(THREADS)
warnings.simplefilter("ignore", ConvergenceWarning)


def idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, h, w = np.frombuffer(data[4:16], dtype=">u4")
    u8 = np.frombuffer(data[16:], dtype=np.uint8).reshape(n, h * w)
    return (u8 / np.float32(255)).astype(np.float32).astype(np.float64)


def start(X, means, k, cov, reg):
    """The nearest-mean start both libraries are given."""
    d2 = (X**2).sum(1)[:, None] - 2 * X @ means.T + (means**2).sum(1)[None, :]
    resp = np.zeros((len(X), k))
    resp[np.arange(len(X)), d2.argmin(1)] = 1.0
    w, _, c = _estimate_gaussian_parameters(X, resp, reg, cov)
    prec = np.stack([np.linalg.inv(s) for s in c]) if cov == "full" else 1.0 / c
    return dict(weights_init=w / w.sum(), means_init=means, precisions_init=prec)


def timed(est, X):
    t0 = time.perf_counter()
    est.fit(X)
    return time.perf_counter() - t0, est.lower_bound_, getattr(est, "fit_seconds_", None)


def versus_sklearn(case, X, init, rows):
    c = CASES[case]
    kw = dict(covariance_type=c["cov"], reg_covar=c["reg"], tol=0.0, max_iter=ITERS[case], **init)
    for run in range(1, RUNS + 1):
        order = ["elbo", "sklearn"] if run % 2 else ["sklearn", "elbo"]
        for impl in order:
            if impl == "elbo":
                s, lb, lib = timed(elbo.GaussianMixture(c["k"], **kw), X)
            else:
                with threadpool_limits(THREADS):
                    s, lb, lib = timed(GaussianMixture(c["k"], **kw), X)
            rows.append(dict(case=case, impl=impl, run=run, seconds=s, library_seconds=lib, lower_bound=lb,
                             load=os.getloadavg()[0]))
            print(json.dumps(rows[-1]), flush=True)


def versus_cli(mnist, X, means, rows, elbo_bin, tmp):
    c, case = CASES["pixels-diag"], "pixels-diag"
    means_file = os.path.join(tmp, "means.npy")
    np.save(means_file, means.astype(np.float32))
    for run in range(1, RUNS + 1):
        order = ["python", "cli"] if run % 2 else ["cli", "python"]
        for impl in order:
            if impl == "python":
                est = elbo.GaussianMixture(c["k"], covariance_type="diag", reg_covar=c["reg"], tol=0.0,
                                           max_iter=ITERS[case], means_init=means)
                s, lb, _ = timed(est, X)
            else:
                out = os.path.join(tmp, f"cli-{run}")
                done = subprocess.run([elbo_bin, "--threads", str(THREADS), "train", "gmm", "--data", f"mnist:{mnist}",
                                "--components", str(c["k"]), "--covariance", "diag", "--reg-covar", str(c["reg"]),
                                "--max-iter", str(ITERS[case]), "--no-dequantize", "--tol", "0",
                                "--means-init", means_file, "--no-pictures", "--force", "--out", out, "--json"],
                               check=True, stdout=subprocess.PIPE, text=True)
                # `--json` prints the fit (docs/cli-json.md, `mixture-fit`); metrics.jsonl has no lower bound.
                m = json.loads(done.stdout)["fit"]
                s, lb = m["fit_seconds"], m["convergence"]["lower_bound"]
            rows.append(dict(case="overhead", impl=impl, run=run, seconds=s, lower_bound=lb, load=os.getloadavg()[0]))
            print(json.dumps(rows[-1]), flush=True)


def summary(rows):
    med = lambda case, impl: st.median(r["seconds"] for r in rows if r["case"] == case and r["impl"] == impl)  # noqa: E731
    lbs = lambda case, impl: [r["lower_bound"] for r in rows if r["case"] == case and r["impl"] == impl]  # noqa: E731
    for case in [c for c in CASES if any(r["case"] == c for r in rows)]:
        e, s = med(case, "elbo"), med(case, "sklearn")
        diff = max(abs(a - b) for a in lbs(case, "elbo") for b in lbs(case, "sklearn"))
        print(f"{case}: elbo {e:.2f} s, scikit-learn {s:.2f} s (medians of {RUNS}); "
              f"scikit-learn / elbo = {s / e:.2f}x; |lower bound difference| <= {diff:.1e}")
    for case in [c for c in CASES if any(r["case"] == c for r in rows)]:
        ours = [r for r in rows if r["case"] == case and r["impl"] == "elbo"]
        share = st.median(r["seconds"] / r["library_seconds"] for r in ours)
        print(f"{case}: elbo fit() wall / the library's EM seconds (fit_seconds_) = {share:.4f} (median)")
    if any(r["case"] == "overhead" for r in rows):
        p, c = med("overhead", "python"), med("overhead", "cli")
        print(f"python overhead (pixels-diag, means_init): Python {p:.2f} s, CLI {c:.2f} s; Python / CLI = {p / c:.3f}")


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mnist = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "data", "mnist"))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo, "target"))
    elbo_bin = os.environ.get("ELBO_BIN", os.path.join(target, "release", "elbo"))
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S')}; threads {THREADS}; runs {RUNS}; "
          f"cpus {os.cpu_count()}; load {os.getloadavg()[0]:.2f}", flush=True)
    train = idx_images(os.path.join(mnist, "train-images-idx3-ubyte.gz"))
    rng = np.random.default_rng(0)
    rows = []
    for case, c in CASES.items():
        means = train[rng.choice(len(train), c["k"], replace=False)]
        X = train
        if c["pca"]:
            with threadpool_limits(THREADS):
                pca = PCA(c["pca"], svd_solver="covariance_eigh").fit(train)
            X, means = pca.transform(train), pca.transform(means)
        if not ONLY_CLI:
            versus_sklearn(case, X, start(X, means, c["k"], c["cov"], c["reg"]), rows)
        if case == "pixels-diag" and not os.path.exists(elbo_bin):
            print(f"no CLI at {elbo_bin}: the comparison with the CLI is skipped", flush=True)
        elif case == "pixels-diag":
            with tempfile.TemporaryDirectory() as tmp:
                versus_cli(mnist, X, means, rows, elbo_bin, tmp)
    summary(rows)


if __name__ == "__main__":
    main()
