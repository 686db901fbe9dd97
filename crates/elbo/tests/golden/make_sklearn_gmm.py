"""Golden numbers for crates/elbo/tests/it/mixture/golden.rs.

Fits scikit-learn's GaussianMixture on a small fixed data set for each
covariance type, from given initial means, for a fixed number of EM
iterations (tol = 0, so it never stops early), and records the fitted
parameters, per-sample log-likelihoods, responsibilities, BIC and AIC.

elbo's "given means" start assigns every sample to its nearest given mean
and estimates the first weights and covariances from that hard assignment
(the means stay the given ones). scikit-learn would take weights and
covariances from a k-means++ run instead, so this script computes them the
same way and passes weights_init, means_init and precisions_init.

Run: /work/main/bench/.venv/bin/python crates/elbo/tests/golden/make_sklearn_gmm.py
(scikit-learn 1.9.1, numpy); writes sklearn_gmm.json beside this file.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

rng = np.random.default_rng(20261125)
centers = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, 1.0, -1.0, 0.5], [-2.0, 3.0, 1.0, -1.0]])
scales = [0.6, 1.0, 0.8]
X = np.concatenate([
    c + s * rng.standard_normal((70, 4)) @ rng.standard_normal((4, 4)) * 0.6
    for c, s in zip(centers, scales)
])
X = X[rng.permutation(len(X))]
K, ITERS, REG = 3, 8, 1e-6
means_init = X[[0, 1, 2]].copy()


def initial(cov_type):
    d2 = ((X[:, None, :] - means_init[None, :, :]) ** 2).sum(-1)
    resp = np.zeros((len(X), K))
    resp[np.arange(len(X)), d2.argmin(1)] = 1.0
    weights, _, covs = _estimate_gaussian_parameters(X, resp, REG, cov_type)
    weights = weights / len(X)
    if cov_type in ("full",):
        prec = np.stack([np.linalg.inv(c) for c in covs])
    elif cov_type == "tied":
        prec = np.linalg.inv(covs)
    else:
        prec = 1.0 / covs
    return weights / weights.sum(), prec


out = {"sklearn": sklearn.__version__, "X": X.tolist(), "means_init": means_init.tolist(),
       "n_components": K, "max_iter": ITERS, "reg_covar": REG, "fits": {}}
for cov_type in ["full", "tied", "diag", "spherical"]:
    weights, prec = initial(cov_type)
    gm = GaussianMixture(K, covariance_type=cov_type, reg_covar=REG, tol=0.0, max_iter=ITERS,
                         weights_init=weights, means_init=means_init, precisions_init=prec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    out["fits"][cov_type] = {
        "weights": gm.weights_.tolist(),
        "means": gm.means_.ravel().tolist(),
        "covariances": np.asarray(gm.covariances_).ravel().tolist(),
        "precisions_cholesky": np.asarray(gm.precisions_cholesky_).ravel().tolist(),
        "score_samples": gm.score_samples(X).tolist(),
        "predict_proba": gm.predict_proba(X).ravel().tolist(),
        "lower_bound": float(gm.lower_bound_),
        "n_iter": int(gm.n_iter_),
        "bic": float(gm.bic(X)),
        "aic": float(gm.aic(X)),
    }
    # The same start with scikit-learn's default stopping rule (tol 1e-3).
    gm2 = GaussianMixture(K, covariance_type=cov_type, reg_covar=REG, tol=1e-3, max_iter=100,
                          weights_init=weights, means_init=means_init, precisions_init=prec).fit(X)
    out["fits"][cov_type]["converged_n_iter"] = int(gm2.n_iter_)
    out["fits"][cov_type]["converged_lower_bound"] = float(gm2.lower_bound_)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_gmm.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
