"""elbo.BernoulliMixture: exact likelihoods, binarization, errors."""

import numpy as np
import pytest

import elbo


def binary(digits):
    return (digits[0] > 0.5).astype(np.uint8)


def test_log_likelihood_is_the_mixture_formula(digits):
    X = binary(digits)
    m = elbo.BernoulliMixture(8, random_state=0).fit(X)
    mu, w = m.means_, m.weights_
    log_joint = X @ np.log(mu).T + (1 - X) @ np.log1p(-mu).T + np.log(w)  # [n, K]
    want = np.logaddexp.reduce(log_joint, axis=1)
    np.testing.assert_allclose(m.score_samples(X), want, rtol=1e-10)
    np.testing.assert_allclose(m.predict_proba(X), np.exp(log_joint - want[:, None]), atol=1e-10)
    assert m.means_.shape == (8, 64) and m.n_features_in_ == 64
    assert m.bic(X) == pytest.approx(-2 * want.sum() + (8 * 64 + 7) * np.log(len(X)))


def test_more_iterations_never_lower_the_likelihood(digits):
    X = binary(digits)
    scores = []
    for it in [1, 3, 10, 30]:
        m = elbo.BernoulliMixture(5, tol=0, max_iter=it, random_state=1)
        with pytest.warns(Warning):
            m.fit(X)
        scores.append(m.lower_bound_)
    assert all(b >= a - 1e-9 for a, b in zip(scores, scores[1:]))


def test_non_binary_data_needs_binarize(digits):
    X = digits[0]
    with pytest.raises(ValueError, match="binary data"):
        elbo.BernoulliMixture(3).fit(X)
    m = elbo.BernoulliMixture(3, binarize=0.5, random_state=0).fit(X)
    ref = elbo.BernoulliMixture(3, random_state=0).fit(binary(digits))
    np.testing.assert_allclose(m.score_samples(X), ref.score_samples(binary(digits)))


def test_samples_are_binary(digits):
    m = elbo.BernoulliMixture(4, random_state=0).fit(binary(digits))
    X, y = m.sample(100)
    assert X.shape == (100, 64) and set(np.unique(X)) <= {0.0, 1.0}
    assert y.min() >= 0 and y.max() < 4


def test_pickled_mixture_gives_the_same_scores(digits):
    import pickle

    X = binary(digits)
    m = elbo.BernoulliMixture(4, random_state=0).fit(X)
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(back.score_samples(X), m.score_samples(X))
    np.testing.assert_array_equal(back._model.means, m.means_)
