import numpy as np
import pytest
from sklearn.decomposition import PCA

import elbo


@pytest.fixture(scope="session")
def digits():
    return elbo.datasets.load_digits()


@pytest.fixture(scope="session")
def digits_pca(digits):
    """The embedded digits on their first 10 principal components (float64)."""
    X, _ = digits
    return PCA(n_components=10, random_state=0).fit_transform(X.astype(np.float64))
