"""The neural families as scikit-learn estimators over images: ``VAE`` (a
transformer: images to posterior means and back) and ``PixelCNN`` (exact
likelihoods, samples, completions). Each fit trains the library's model
into a run folder (``elbo::run::train``, the CLI's code path) with the GIL
released; the fitted model is that folder, loaded (``_model``)."""

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from . import _runs
from ._validation import check_float, check_int, seed_of

_LIKELIHOODS = ("bernoulli", "gaussian", "gaussian-learned")
_PIXELS = ("grey", "binary", "dynamic")


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _train_section(est, n):
    """The ``[train]`` section; the batch is cut to the images there are
    (as scikit-learn's MLP does)."""
    return {
        "epochs": check_int("epochs", est.epochs, 1),
        "batch_size": min(check_int("batch_size", est.batch_size, 1), n),
        "lr": check_float("lr", est.lr),
        "seed": seed_of(est.random_state),
    }


class _RunEstimator(BaseEstimator):
    """What the network estimators share: input, save, sampling."""

    def _rows(self, X):
        check_is_fitted(self)
        return _runs.unit_floats(_runs.image_rows(self, X, reset=False))

    def save(self, path):
        """Writes the fitted model as a run folder at ``path`` (new or
        empty), with its training images; ``elbo eval --model PATH`` and
        ``elbo sample --model PATH`` use it, and ``elbo.load(PATH)`` reads it."""
        check_is_fitted(self)
        _runs.save(self._model, path)

    def sample(self, n_samples=1):
        """``n_samples`` images drawn from the model (decoder means for a VAE,
        drawn pixels for a pixel model), as rows or images like the fit's input."""
        check_is_fitted(self)
        n = check_int("n_samples", n_samples, 1)
        return _runs.as_images(self, self._model.native.sample(n, seed_of(self.random_state)))

    def _fitted_from(self, fitted):
        """Fitted attributes of a loaded run folder (``elbo.load``)."""
        self._model = fitted
        h, w, _ = fitted.native.shape
        self.image_shape_ = (h, w)
        self._image_input = False
        self.n_features_in_ = h * w
        return self


class VAE(TransformerMixin, DensityMixin, _RunEstimator):
    """Variational autoencoder (Kingma & Welling 2014) with MLP encoder and
    decoder of widths ``hidden`` (the decoder mirrors them), ``latent`` code
    dimensions and p(x | z) ``likelihood``, trained on the ELBO (β-VAE with
    ``beta`` ≠ 1, Higgins et al. 2017) by Adam. Images come as rows
    ``[n, d]`` or ``[n, H, W]``, uint8 or floats in [0, 1]; ``pixels``:
    ``"grey"`` as given, ``"binary"`` thresholded at 0.5, ``"dynamic"``
    binarized afresh each epoch. ``transform`` gives posterior means,
    ``inverse_transform`` decoder means, ``score_samples`` the IWAE bound on
    log p(x) (Burda et al. 2016). Ctrl-C stops training after the current
    step with ``KeyboardInterrupt``; the estimator keeps the last checkpoint."""

    def __init__(
        self,
        hidden=(400,),
        latent=20,
        *,
        likelihood="bernoulli",
        pixels="grey",
        epochs=10,
        batch_size=128,
        lr=1e-3,
        beta=1.0,
        random_state=None,
    ):
        self.hidden = hidden
        self.latent = latent
        self.likelihood = likelihood
        self.pixels = pixels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta = beta
        self.random_state = random_state

    def fit(self, X, y=None):
        """Trains on the images ``X``; returns self."""
        X = _runs.image_rows(self, X, reset=True)
        hidden = [check_int("hidden width", h, 1) for h in np.atleast_1d(self.hidden).tolist()]
        model = {
            "kind": "vae",
            "input_dim": 0,
            "hidden": hidden,
            "latent": check_int("latent", self.latent, 1),
            "likelihood": _check_choice("likelihood", self.likelihood, _LIKELIHOODS),
        }
        data = {"pixels": _check_choice("pixels", self.pixels, _PIXELS), "test_fraction": 0.0}
        train = _train_section(self, X.shape[0])
        train["beta"] = check_float("beta", self.beta)
        _runs.train(self, X, model, data, train)
        return self

    def transform(self, X):
        """Posterior means E[z | x]: ``[n_samples, latent]``."""
        X = self._rows(X)
        return self._model.native.encode(X)

    def inverse_transform(self, X):
        """Decoder means E[x | z] of codes ``X`` (``[n, latent]``), as rows or
        images like the fit's input."""
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float32, order="C")
        if Z.shape[1] != self._model.native.latent_dim:
            raise ValueError(
                f"codes must have {self._model.native.latent_dim} values each, got {Z.shape[1]}"
            )
        return _runs.as_images(self, self._model.native.decode(Z))

    def score_samples(self, X, k=100):
        """log p(x) of every image, bounded below by the IWAE bound with ``k``
        importance samples (k = 1: the ELBO), nats."""
        k = check_int("k", k, 1)
        X = self._rows(X)
        return -self._model.native.nll(X, k, seed_of(self.random_state))

    def score(self, X, y=None, k=100):
        """Mean IWAE bound on log p(x) per image (``k`` samples), nats."""
        return float(np.mean(self.score_samples(X, k=k)))


class PixelCNN(DensityMixin, _RunEstimator):
    """PixelCNN (van den Oord et al. 2016): masked convolutions with
    ``layers`` residual blocks of ``hidden`` feature maps; every pixel's
    distribution given the ones above and to its left, so ``score_samples``
    is the exact log-likelihood. ``output``: ``"bernoulli"`` (0/1 pixels),
    ``"categorical"`` (256 levels) or None (Bernoulli for binary data, else
    categorical). Images as rows of a square or ``[n, H, W]``; ``complete``
    fills in the rows below given top rows."""

    def __init__(
        self,
        hidden=32,
        layers=5,
        *,
        kernel=3,
        first_kernel=7,
        output_hidden=64,
        output=None,
        pixels="grey",
        epochs=10,
        batch_size=32,
        lr=1e-3,
        random_state=None,
    ):
        self.hidden = hidden
        self.layers = layers
        self.kernel = kernel
        self.first_kernel = first_kernel
        self.output_hidden = output_hidden
        self.output = output
        self.pixels = pixels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def fit(self, X, y=None):
        """Trains on the images ``X``; returns self."""
        X = _runs.image_rows(self, X, reset=True)
        model = {
            "kind": "pixelcnn",
            "hidden": check_int("hidden", self.hidden, 1),
            "layers": check_int("layers", self.layers, 1),
            "kernel": check_int("kernel", self.kernel, 1),
            "first_kernel": check_int("first_kernel", self.first_kernel, 1),
            "output_hidden": check_int("output_hidden", self.output_hidden, 1),
        }
        if self.output is not None:
            model["output"] = _check_choice("output", self.output, ("bernoulli", "categorical"))
        data = {"pixels": _check_choice("pixels", self.pixels, _PIXELS), "test_fraction": 0.0}
        _runs.train(self, X, model, data, _train_section(self, X.shape[0]))
        return self

    def score_samples(self, X):
        """Exact log P(x) of every image, nats."""
        X = self._rows(X)
        return -self._model.native.nll(X, None, seed_of(self.random_state))

    def score(self, X, y=None):
        """Mean exact log P(x) per image, nats."""
        return float(np.mean(self.score_samples(X)))

    def complete(self, X_top):
        """Images whose top rows are ``X_top`` (``[n, r, W]``, or rows of
        ``r·W`` values) and whose other rows are drawn from the model pixel
        by pixel: ``[n, H, W]`` for image input, else rows ``[n, H·W]``."""
        check_is_fitted(self)
        h, w = self.image_shape_
        image_input = isinstance(X_top, np.ndarray) and X_top.ndim == 3
        top = np.asarray(X_top).reshape(len(X_top), -1) if image_input else X_top
        top = check_array(top, dtype=[np.uint8, np.float32, np.float64])
        r, extra = divmod(top.shape[1], w)
        if extra or not 0 < r < h:
            raise ValueError(
                f"X_top must hold between 1 and {h - 1} whole rows of {w} pixels per image, "
                f"got {top.shape[1]} values"
            )
        top = _runs.unit_floats(top if top.dtype == np.uint8 else top.astype(np.float32))
        if top.min() < 0 or top.max() > 1:
            raise ValueError("pixel values must lie in [0, 1] (or be uint8 0..255)")
        full = np.zeros((top.shape[0], h * w), dtype=np.float32)
        full[:, : r * w] = top
        out = self._model.native.complete(full, r, seed_of(self.random_state))
        return out.reshape(-1, h, w) if image_input else out
