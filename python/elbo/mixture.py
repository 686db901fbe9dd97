"""Mixture models fitted by EM in Rust, with scikit-learn's interface:
``GaussianMixture`` (parameter for parameter scikit-learn's) and
``BernoulliMixture`` for binary images."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array, check_is_fitted

from . import _native, _runs
from ._validation import check_float, check_int, check_X, seed_of

# scikit-learn's init_params names -> the library's.
_INITS = {"kmeans": "k-means", "k-means++": "k-means++", "random": "random"}
_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _interrupted(fit):
    """Ctrl-C stopped EM: the estimator keeps the last finished iteration."""
    if fit["interrupted"]:
        raise KeyboardInterrupt(
            f"EM stopped after {fit['n_iter']} iterations; the estimator holds that state"
        )


def _set_convergence(est, model, seconds):
    c = model.convergence
    est.converged_ = bool(c["converged"])
    est.n_iter_ = int(c["n_iter"])
    est.lower_bound_ = float(c["lower_bound"])
    est.fit_seconds_ = float(seconds)


class _FittedMixtureScores:
    """The scores both mixtures read off their fitted native model; each
    class validates its input in its own ``_X``."""

    def score_samples(self, X):
        """log p(x) of every sample, nats (exact for both mixtures)."""
        X = self._X(X)  # checks the fit before the model is read
        return self._model.score_samples(X)

    def score(self, X, y=None):
        """Mean log-likelihood per sample, nats."""
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X):
        """Responsibilities P(component | x): ``[n_samples, n_components]``."""
        X = self._X(X)
        return self._model.predict_proba(X)


class GaussianMixture(_FittedMixtureScores, DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM: scikit-learn's ``GaussianMixture``
    (same parameters, attributes and methods; same numbers from the same
    ``weights_init``, ``means_init`` and ``precisions_init``), computed by
    elbo's Rust library with the GIL released. ``init_params`` is one of
    ``"kmeans"``, ``"k-means++"`` or ``"random"``. With ``means_init`` alone,
    the first weights and covariances come from assigning each sample to its
    nearest given mean (scikit-learn runs its own k-means for them).
    Ctrl-C stops EM with ``KeyboardInterrupt`` and leaves the estimator at
    the last finished iteration (``converged_`` False). ``fit_seconds_``:
    the seconds spent in the library's EM (what the CLI reports as
    ``fit_seconds``); the rest of ``fit`` is the binding's overhead."""

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start

    def _check_params(self, d):
        k = check_int("n_components", self.n_components, 1)
        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {_COVARIANCE_TYPES}, got {self.covariance_type!r}"
            )
        if self.init_params not in _INITS:
            raise ValueError(
                f"init_params must be one of {tuple(_INITS)}, got {self.init_params!r}"
                " (random_from_data is not supported)"
            )
        given = {}
        if self.weights_init is not None:
            w = check_array(self.weights_init, dtype=np.float64, ensure_2d=False)
            if w.shape != (k,):
                raise ValueError(f"weights_init must have shape ({k},), got {w.shape}")
            if np.any(w < 0) or np.any(w > 1) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-6):
                raise ValueError("weights_init must be in [0, 1] and sum to 1")
            given["weights_init"] = np.ascontiguousarray(w)
        if self.means_init is not None:
            m = check_array(self.means_init, dtype=np.float64)
            if m.shape != (k, d):
                raise ValueError(f"means_init must have shape ({k}, {d}), got {m.shape}")
            given["means_init"] = m
        if self.precisions_init is not None:
            p = check_array(self.precisions_init, dtype=np.float64, ensure_2d=False, allow_nd=True)
            shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
            if p.shape != shape[self.covariance_type]:
                raise ValueError(
                    f"precisions_init of a {self.covariance_type} mixture must have shape "
                    f"{shape[self.covariance_type]}, got {p.shape}"
                )
            given["precisions_init"] = np.ascontiguousarray(p)
        return k, given

    def fit(self, X, y=None):
        """Fits by EM (``n_init`` starts, the best kept); returns self."""
        X = check_X(self, X, reset=True, ensure_min_samples=2)
        k, given = self._check_params(X.shape[1])
        warm = None
        if self.warm_start and hasattr(self, "_model"):
            warm = self._model
        args = dict(
            n_components=k,
            covariance_type=self.covariance_type,
            tol=check_float("tol", self.tol),
            reg_covar=check_float("reg_covar", self.reg_covar),
            max_iter=check_int("max_iter", self.max_iter, 0),
            n_init=check_int("n_init", self.n_init, 1),
            init=_INITS[self.init_params],
            seed=seed_of(self.random_state),
            weights_init=given.get("weights_init"),
            means_init=given.get("means_init"),
            precisions_init=given.get("precisions_init"),
        )
        model, fit = _native.GaussianMixtureModel.fit(X, args, warm)
        self._set_fitted(model, fit["seconds"])
        _interrupted(fit)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                f"EM did not converge in {self.n_iter_} iterations; raise max_iter or tol, or check the data",
                ConvergenceWarning,
            )
        return self

    def _set_fitted(self, model, seconds=float("nan")):
        """Keeps the library's fitted mixture (``_model``, which scores) and
        scikit-learn's fitted attributes, read from it."""
        k, d = self.n_components, model.means.shape[1]
        shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
        shape = shape[self.covariance_type]
        self._model = model
        self.weights_ = model.weights
        self.means_ = model.means
        self.covariances_ = model.covariances.reshape(shape)
        self.precisions_cholesky_ = model.precisions_cholesky.reshape(shape)
        u = self.precisions_cholesky_
        if self.covariance_type == "full":
            self.precisions_ = np.matmul(u, np.transpose(u, (0, 2, 1)))
        elif self.covariance_type == "tied":
            self.precisions_ = u @ u.T
        else:
            self.precisions_ = u**2
        _set_convergence(self, model, seconds)

    def save(self, path, X=None):
        """Writes a run folder at ``path`` (new or empty) that the CLI and
        ``elbo.load`` read (a GMM over pixels, not dequantized); with the
        images ``X`` (values in [0, 1]) the folder also holds them as its data
        (``elbo eval --model PATH`` then needs no ``--data``)."""
        model = {
            "kind": "gmm",
            "components": self.n_components,
            "covariance": self.covariance_type,
            "reg_covar": check_float("reg_covar", self.reg_covar),
            "tol": check_float("tol", self.tol),
            "max_iter": check_int("max_iter", self.max_iter, 0),
            "n_init": check_int("n_init", self.n_init, 1),
            "init": _INITS[self.init_params],
            "dequantize": False,
            "seed": seed_of(self.random_state),
        }
        _runs.save_mixture(self, path, model, X)

    def _X(self, X):
        check_is_fitted(self)
        return check_X(self, X, reset=False)

    def predict(self, X):
        """The most probable component of every sample."""
        X = self._X(X)
        return self._model.predict(X)

    def fit_predict(self, X, y=None):
        """Fits, then predicts the components of ``X``."""
        return self.fit(X).predict(X)

    def sample(self, n_samples=1):
        """``(X, y)``: ``n_samples`` draws and their components."""
        check_is_fitted(self)
        n = check_int("n_samples", n_samples, 1)
        return self._model.sample(n, seed_of(self.random_state))

    def bic(self, X):
        """Bayesian information criterion on ``X`` (lower is better)."""
        X = self._X(X)
        return self._model.bic(X)

    def aic(self, X):
        """Akaike information criterion on ``X`` (lower is better)."""
        X = self._X(X)
        return self._model.aic(X)


class BernoulliMixture(_FittedMixtureScores, DensityMixin, BaseEstimator):
    """Mixture of Bernoullis for binary images, fitted by EM with a
    Beta(alpha + 1, alpha + 1) prior on each pixel probability; its
    log-likelihood is exact. ``binarize``: None requires 0/1 data; a number
    maps values above it to 1 and the rest to 0 (as ``BernoulliNB``).
    ``means_`` holds the pixel probabilities ``[n_components, n_features]``.
    Ctrl-C stops EM with ``KeyboardInterrupt`` at the last finished iteration."""

    def __init__(
        self, n_components=1, *, alpha=1e-2, tol=1e-3, max_iter=100, random_state=None, binarize=None
    ):
        self.n_components = n_components
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.binarize = binarize

    def _binary(self, X):
        if self.binarize is None:
            return X
        t = check_float("binarize", self.binarize, low=-np.inf)
        return (X > t).astype(np.uint8)

    def fit(self, X, y=None):
        """Fits by EM; returns self."""
        X = self._binary(check_X(self, X, reset=True))
        model, fit = _native.BernoulliMixtureModel.fit(
            X,
            check_int("n_components", self.n_components, 1),
            check_float("alpha", self.alpha),
            check_float("tol", self.tol),
            check_int("max_iter", self.max_iter, 0),
            seed_of(self.random_state),
        )
        self._set_fitted(model, fit["seconds"])
        _interrupted(fit)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                f"EM did not converge in {self.n_iter_} iterations; raise max_iter or tol",
                ConvergenceWarning,
            )
        return self

    def _set_fitted(self, model, seconds=float("nan")):
        self._model = model
        self.weights_ = model.weights
        self.means_ = model.means
        _set_convergence(self, model, seconds)

    def save(self, path, X=None):
        """Writes a run folder at ``path`` (new or empty) that the CLI and
        ``elbo.load`` read; with the binary images ``X`` the folder also holds
        them as its data (``elbo eval --model PATH`` then needs no ``--data``)."""
        model = {
            "kind": "bernoulli-mixture",
            "components": self.means_.shape[0],
            "max_iter": check_int("max_iter", self.max_iter, 0),
            "tol": check_float("tol", self.tol),
            "alpha": check_float("alpha", self.alpha),
            "seed": seed_of(self.random_state),
        }
        _runs.save_mixture(self, path, model, None if X is None else self._binary(X))

    def _X(self, X):
        check_is_fitted(self)
        return self._binary(check_X(self, X, reset=False))

    def predict(self, X):
        """The most probable component of every sample."""
        return np.argmax(self.predict_proba(X), axis=1)

    def sample(self, n_samples=1):
        """``(X, y)``: ``n_samples`` binary draws and their components."""
        check_is_fitted(self)
        n = check_int("n_samples", n_samples, 1)
        return self._model.sample(n, seed_of(self.random_state))

    def _n_parameters(self):
        k, d = self.means_.shape
        return k * d + k - 1

    def bic(self, X):
        """−2 log L + p ln n on ``X`` (lower is better)."""
        n = self._X(X).shape[0]
        return -2.0 * self.score(X) * n + self._n_parameters() * np.log(n)

    def aic(self, X):
        """−2 log L + 2p on ``X`` (lower is better)."""
        n = self._X(X).shape[0]
        return -2.0 * self.score(X) * n + 2.0 * self._n_parameters()

