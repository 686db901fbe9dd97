"""elbo: likelihood-based generative models of images, as scikit-learn
estimators over numpy arrays. The models are the Rust library's (``elbo``
crate); this package validates input the scikit-learn way and calls it.

>>> import elbo
>>> X, y = elbo.datasets.load_digits()
>>> gmm = elbo.GaussianMixture(n_components=10, covariance_type="diag", random_state=0).fit(X)
>>> gmm.score(X) > 0
True
"""

from . import datasets
from ._native import set_threads
from .mixture import BernoulliMixture, GaussianMixture
from .networks import VAE, PixelCNN
from .runs import load

__all__ = ["GaussianMixture", "BernoulliMixture", "VAE", "PixelCNN", "load", "datasets", "set_threads"]
