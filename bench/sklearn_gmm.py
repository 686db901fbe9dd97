"""scikit-learn side of bench/gmm_mnist.sh.

  sklearn_gmm.py init MNIST_DIR OUT_DIR    write the initial means (.npy) both sides start from
  sklearn_gmm.py fit CASE MNIST_DIR OUT_DIR  fit one case, print one JSON line

Cases (same data, initial means and iteration count as elbo's run):
  pca50-full   PCA to 50 components (exact: svd_solver="covariance_eigh"), full
               covariances, K = 10, reg_covar 1e-6
  pixels-diag  the 784 pixels, diagonal covariances, K = 50, reg_covar 1e-2

Pixels are x = u8/255 rounded to float32 (as elbo loads them), then float64.
elbo's "given means" start assigns every sample to its nearest mean and
estimates the first weights and covariances from that assignment; this
script computes the same and passes weights_init, means_init and
precisions_init. tol = 0, so both run exactly ITERS iterations.
"""
import gzip
import json
import os
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

CASES = {
    "pca50-full": dict(k=10, cov="full", reg=1e-6, pca=50, iters=int(os.environ.get("FULL_ITERS", 100))),
    "pixels-diag": dict(k=50, cov="diag", reg=1e-2, pca=None, iters=int(os.environ.get("DIAG_ITERS", 30))),
}


def idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, h, w = np.frombuffer(data[4:16], dtype=">u4")
    u8 = np.frombuffer(data[16:], dtype=np.uint8).reshape(n, h * w)
    return (u8 / np.float32(255)).astype(np.float32).astype(np.float64)


def load(mnist):
    return (idx_images(os.path.join(mnist, "train-images-idx3-ubyte.gz")),
            idx_images(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")))


def init(mnist, out):
    train, _ = load(mnist)
    rng = np.random.default_rng(0)
    for name, c in CASES.items():
        idx = rng.choice(len(train), c["k"], replace=False)
        np.save(os.path.join(out, f"{name}_means.npy"), train[idx].astype(np.float32))


def fit(case, mnist, out):
    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

    c = CASES[case]
    threads = int(os.environ.get("THREADS", 2))
    train, test = load(mnist)
    means = np.load(os.path.join(out, f"{case}_means.npy")).astype(np.float64)
    with threadpool_limits(threads):
        t0 = time.perf_counter()
        if c["pca"]:
            pca = PCA(c["pca"], svd_solver="covariance_eigh").fit(train)
            train, test, means = pca.transform(train), pca.transform(test), pca.transform(means)
        pca_s = time.perf_counter() - t0
        d2 = (train**2).sum(1)[:, None] - 2 * train @ means.T + (means**2).sum(1)[None, :]
        resp = np.zeros((len(train), c["k"]))
        resp[np.arange(len(train)), d2.argmin(1)] = 1.0
        w, _, cov = _estimate_gaussian_parameters(train, resp, c["reg"], c["cov"])
        w = w / w.sum()
        prec = np.stack([np.linalg.inv(s) for s in cov]) if c["cov"] == "full" else 1.0 / cov
        gm = GaussianMixture(c["k"], covariance_type=c["cov"], reg_covar=c["reg"], tol=0.0,
                             max_iter=c["iters"], weights_init=w, means_init=means, precisions_init=prec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t1 = time.perf_counter()
            gm.fit(train)
            fit_s = time.perf_counter() - t1
        print(json.dumps({"impl": "sklearn", "case": case, "fit_seconds": fit_s, "pca_seconds": pca_s,
                          "n_iter": int(gm.n_iter_), "lower_bound": float(gm.lower_bound_),
                          "train_ll": float(gm.score(train)), "test_ll": float(gm.score(test))}))


if __name__ == "__main__":
    if sys.argv[1] == "init":
        init(sys.argv[2], sys.argv[3])
    else:
        fit(sys.argv[2], sys.argv[3], sys.argv[4])
