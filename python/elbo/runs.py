"""``elbo.load``: a run folder the CLI (or ``save``) wrote, as the matching
fitted estimator."""

import json
import os

from . import _native, _runs
from .mixture import _INITS, BernoulliMixture, GaussianMixture
from .networks import VAE, PixelCNN

# The fitted model of a run of these kinds has no estimator of its own here.
_OTHER = ("ae", "gated-pixelcnn", "pixelrnn", "nade")


def load(path):
    """The fitted estimator of run folder ``path``: ``GaussianMixture`` (a GMM
    on pixels), ``BernoulliMixture``, ``VAE`` or ``PixelCNN``, with the
    run's settings as its parameters. Runs of other families (autoencoder,
    Gated PixelCNN, PixelRNN, NADE) and GMMs on PCA components are refused
    with ``ValueError``; a missing folder raises ``FileNotFoundError``."""
    native = _native.RunModel.load(os.fspath(path))
    config = json.loads(native.config_json)
    m, t = config["model"], config["train"]
    kind = native.kind
    if kind == "gmm":
        return _load_mixture(GaussianMixture, native, m)
    if kind == "bernoulli-mixture":
        return _load_mixture(BernoulliMixture, native, m)
    fitted = _runs.Fitted(native, owned=False)
    common = dict(epochs=t["epochs"], batch_size=t["batch_size"], lr=t["lr"], random_state=t["seed"])
    pixels = config["data"].get("pixels", "grey")
    if kind == "vae" and m.get("arch", "mlp") == "mlp" and not m.get("conditional", False):
        est = VAE(
            hidden=tuple(m["hidden"]),
            latent=m["latent"],
            likelihood=m.get("likelihood", "bernoulli"),
            pixels=pixels,
            beta=t.get("beta", 1.0),
            **common,
        )
        return est._fitted_from(fitted)
    if kind == "pixelcnn" and not m.get("classes", 0) and native.shape[2] == 1:
        keys = ("hidden", "layers", "kernel", "first_kernel", "output_hidden", "output")
        est = PixelCNN(pixels=pixels, **{k: m[k] for k in keys if k in m}, **common)
        return est._fitted_from(fitted)
    why = "no Python estimator" if kind in _OTHER else "settings the Python estimator does not take"
    raise ValueError(
        f"{os.fspath(path)} holds a {kind} model with {why} (conv, conditional or RGB "
        "networks, or another family): use it through the command line"
    )


def _load_mixture(cls, native, config):
    """A fitted estimator of ``cls`` from the loaded mixture run ``native``."""
    if cls is GaussianMixture:
        model = native.gaussian_mixture()
        est = cls(
            n_components=len(model.weights),
            covariance_type=config["covariance"],
            tol=config["tol"],
            reg_covar=config["reg_covar"],
            max_iter=config["max_iter"],
            n_init=config["n_init"],
            init_params={v: k for k, v in _INITS.items()}[config["init"]],
            random_state=config["seed"],
        )
    else:
        model = native.bernoulli_mixture()
        est = cls(
            n_components=len(model.weights),
            alpha=config["alpha"],
            tol=config["tol"],
            max_iter=config["max_iter"],
            random_state=config["seed"],
        )
    est._set_fitted(model)
    est.n_features_in_ = model.means.shape[1]
    return est
