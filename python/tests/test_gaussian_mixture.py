"""elbo.GaussianMixture against scikit-learn's, and its scikit-learn
behaviour: attributes, inputs, errors, warm start, Ctrl-C."""

import pickle
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import elbo

KINDS = ["full", "tied", "diag", "spherical"]


def start(X, k, kind, seed=0):
    """weights_init, means_init and precisions_init of scikit-learn's own
    k-means start, so both libraries begin from the same model."""
    sk = SkGaussianMixture(k, covariance_type=kind, max_iter=0, random_state=seed, reg_covar=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X)
    return dict(weights_init=sk.weights_, means_init=sk.means_, precisions_init=sk.precisions_)


@pytest.mark.parametrize("kind", KINDS)
def test_log_likelihood_matches_scikit_learn_from_the_same_start(digits_pca, kind):
    X = digits_pca
    init = start(X, 6, kind)
    ours = elbo.GaussianMixture(6, covariance_type=kind, tol=0, max_iter=25, **init)
    theirs = SkGaussianMixture(6, covariance_type=kind, tol=0, max_iter=25, **init)
    with pytest.warns(Warning):
        ours.fit(X)
    with pytest.warns(Warning):
        theirs.fit(X)
    assert ours.n_iter_ == theirs.n_iter_ == 25
    assert abs(ours.lower_bound_ - theirs.lower_bound_) < 1e-6
    assert abs(ours.score(X) - theirs.score(X)) < 1e-6
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), atol=1e-6)
    np.testing.assert_allclose(ours.weights_, theirs.weights_, atol=1e-8)
    np.testing.assert_allclose(ours.means_, theirs.means_, atol=1e-6)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, atol=1e-6)
    np.testing.assert_allclose(ours.precisions_, theirs.precisions_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    assert abs(ours.bic(X) - theirs.bic(X)) < 1e-3
    assert abs(ours.aic(X) - theirs.aic(X)) < 1e-3


def test_pixels_diag_match_scikit_learn(digits):
    X = digits[0].astype(np.float64)
    init = start(X, 5, "diag")
    ours = elbo.GaussianMixture(5, covariance_type="diag", tol=0, max_iter=10, **init)
    theirs = SkGaussianMixture(5, covariance_type="diag", tol=0, max_iter=10, **init)
    with pytest.warns(Warning):
        ours.fit(X)
    with pytest.warns(Warning):
        theirs.fit(X)
    assert abs(ours.lower_bound_ - theirs.lower_bound_) < 1e-6
    assert abs(ours.score(X) - theirs.score(X)) < 1e-6


def test_fitted_attributes_have_scikit_learns_shapes(digits_pca):
    X = digits_pca
    for kind, shape in zip(KINDS, [(3, 10, 10), (10, 10), (3, 10), (3,)]):
        g = elbo.GaussianMixture(3, covariance_type=kind, random_state=1).fit(X)
        assert g.weights_.shape == (3,) and g.means_.shape == (3, 10)
        assert g.covariances_.shape == shape == g.precisions_.shape == g.precisions_cholesky_.shape
        assert g.n_features_in_ == 10 and g.converged_ and g.n_iter_ >= 1
        assert abs(g.weights_.sum() - 1) < 1e-12
        p = g.predict_proba(X)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_array_equal(g.predict(X), p.argmax(axis=1))


def test_same_numbers_for_float32_uint8_fortran_lists_and_frames():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(300, 4)).astype(np.uint8)
    ref = elbo.GaussianMixture(2, random_state=3).fit(X.astype(np.float64))
    want = ref.score_samples(X.astype(np.float64))
    for variant in [X, X.astype(np.float32), np.asfortranarray(X.astype(np.float64)), X.tolist()]:
        g = elbo.GaussianMixture(2, random_state=3).fit(variant)
        np.testing.assert_allclose(g.score_samples(variant), want, rtol=1e-12)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X.astype(np.float64), columns=list("abcd"))
    g = elbo.GaussianMixture(2, random_state=3).fit(frame)
    assert list(g.feature_names_in_) == list("abcd")
    np.testing.assert_allclose(g.score_samples(frame), want, rtol=1e-12)


def test_bad_input_raises_value_error_like_check_array(digits_pca):
    X = digits_pca.copy()
    g = elbo.GaussianMixture(2, random_state=0).fit(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        elbo.GaussianMixture(2).fit(bad)
    with pytest.raises(ValueError, match="NaN"):
        g.score_samples(bad)
    with pytest.raises(ValueError, match="2D array"):
        g.predict(X[0])
    with pytest.raises(ValueError, match="0 sample"):
        elbo.GaussianMixture(2).fit(X[:0])
    with pytest.raises(ValueError, match="X has 9 features"):
        g.score(X[:, :9])
    with pytest.raises(ValueError, match="covariance_type"):
        elbo.GaussianMixture(2, covariance_type="banded").fit(X)
    with pytest.raises(ValueError, match="means_init must have shape"):
        elbo.GaussianMixture(2, means_init=np.zeros((3, 10))).fit(X)
    with pytest.raises(ValueError, match="at least 20 samples"):
        elbo.GaussianMixture(20).fit(X[:10])
    indefinite = np.stack([np.eye(10), -np.eye(10)])
    with pytest.raises(ValueError, match="initial precision is not symmetric positive definite"):
        elbo.GaussianMixture(2, precisions_init=indefinite).fit(X)


def test_warm_start_continues_where_the_last_fit_stopped(digits_pca):
    X = digits_pca
    once = elbo.GaussianMixture(4, tol=0, max_iter=10, random_state=5)
    with pytest.warns(Warning):
        once.fit(X)
    twice = elbo.GaussianMixture(4, tol=0, max_iter=5, random_state=5, warm_start=True)
    with pytest.warns(Warning):
        twice.fit(X)
    with pytest.warns(Warning):
        twice.fit(X)
    np.testing.assert_allclose(twice.means_, once.means_, atol=1e-10)
    assert abs(twice.lower_bound_ - once.lower_bound_) < 1e-10


def test_samples_come_from_the_components_and_repeat_with_the_seed(digits_pca):
    g = elbo.GaussianMixture(3, random_state=2).fit(digits_pca)
    X, y = g.sample(4000)
    assert X.shape == (4000, 10) and y.shape == (4000,)
    assert set(np.unique(y)) <= {0, 1, 2}
    np.testing.assert_allclose(np.bincount(y, minlength=3) / 4000, g.weights_, atol=0.03)
    np.testing.assert_array_equal(g.sample(50)[0], g.sample(50)[0])
    with pytest.raises(ValueError, match="n_samples"):
        g.sample(0)


def test_fit_seconds_is_the_librarys_share_of_fit(digits_pca):
    g = elbo.GaussianMixture(3, random_state=0)
    t0 = time.perf_counter()
    g.fit(digits_pca)
    wall = time.perf_counter() - t0
    assert 0 < g.fit_seconds_ <= wall


def test_pickled_estimator_gives_the_same_scores(digits_pca):
    g = elbo.GaussianMixture(3, covariance_type="diag", random_state=0).fit(digits_pca)
    back = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(back.score_samples(digits_pca), g.score_samples(digits_pca))


def test_ctrl_c_stops_em_with_keyboard_interrupt_and_keeps_the_last_iteration(ctrl_c_after):
    X = np.random.default_rng(1).normal(size=(20000, 12))
    g = elbo.GaussianMixture(4, tol=0, max_iter=10**7, random_state=0)
    timer = ctrl_c_after(0.5)
    with pytest.raises(KeyboardInterrupt):
        g.fit(X)
    timer.join()
    assert 0 < g.n_iter_ < 10**7 and not g.converged_
    assert np.isfinite(g.score(X))
    # The stop request does not leak into the next fit.
    g2 = elbo.GaussianMixture(4, tol=0, max_iter=3, random_state=0)
    with pytest.warns(Warning):
        g2.fit(X)
    assert g2.n_iter_ == 3


def test_fit_releases_the_gil():
    X = np.random.default_rng(2).normal(size=(20000, 12))
    done = threading.Event()

    def work():
        g = elbo.GaussianMixture(4, tol=0, max_iter=150, random_state=0)
        with pytest.warns(Warning):
            g.fit(X)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = 0
    start_time = time.perf_counter()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - start_time
    # Held GIL: the loop would run a handful of times; released: about once per ms.
    assert elapsed > 0.05 and ticks > elapsed * 200
