"""elbo.VAE: a transformer over images, trained by the library's run API."""

import pickle
import threading
import time

import numpy as np
import pytest

import elbo


def small_vae(**kw):
    args = dict(hidden=(32,), latent=2, epochs=3, batch_size=64, random_state=0)
    args.update(kw)
    return elbo.VAE(**args)


@pytest.fixture(scope="module")
def fitted(digits):
    return small_vae().fit(digits[0])


def test_transform_gives_one_code_per_image_and_inverse_gives_images(digits, fitted):
    X = digits[0]
    Z = fitted.transform(X[:10])
    assert Z.shape == (10, 2) and Z.dtype == np.float32 and np.all(np.isfinite(Z))
    R = fitted.inverse_transform(Z)
    assert R.shape == (10, 64) and R.min() >= 0 and R.max() <= 1
    assert fitted.n_features_in_ == 64 and fitted.image_shape_ == (8, 8)


def test_training_raises_the_likelihood_bound(digits):
    X = digits[0]
    short = small_vae(epochs=1).fit(X).score(X, k=10)
    longer = small_vae(epochs=15).fit(X).score(X, k=10)
    assert longer > short


def test_iwae_bound_tightens_with_more_samples(digits, fitted):
    X = digits[0][:200]
    elbo_ = fitted.score(X, k=1)
    iwae = fitted.score(X, k=200)
    # Burda et al. 2016: L_1 <= L_k, for the mean over images.
    assert iwae > elbo_


def test_score_samples_repeat_with_the_seed(digits, fitted):
    X = digits[0][:50]
    np.testing.assert_array_equal(fitted.score_samples(X, k=5), fitted.score_samples(X, k=5))


def test_images_as_rows_uint8_or_three_d_arrays_give_the_same_codes(digits, fitted):
    X = digits[0][:20]
    as_u8 = np.round(X * 255).astype(np.uint8)
    np.testing.assert_allclose(fitted.transform(as_u8), fitted.transform(as_u8 / 255.0), atol=1e-6)
    np.testing.assert_array_equal(fitted.transform(X.reshape(-1, 8, 8)), fitted.transform(X))


def test_fitted_on_image_arrays_gives_images_back(digits):
    X = digits[0].reshape(-1, 8, 8)
    v = small_vae(epochs=1).fit(X)
    assert v.sample(4).shape == (4, 8, 8)
    assert v.inverse_transform(v.transform(X[:3])).shape == (3, 8, 8)


def test_samples_are_decoder_means_in_unit_range(fitted):
    S = fitted.sample(16)
    assert S.shape == (16, 64) and S.min() >= 0 and S.max() <= 1
    np.testing.assert_array_equal(S, fitted.sample(16))


def test_bad_input_raises_value_error(digits, fitted):
    X = digits[0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        small_vae().fit(X * 3)
    with pytest.raises(ValueError, match="likelihood"):
        small_vae(likelihood="poisson").fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :10])
    with pytest.raises(ValueError, match="codes must have 2"):
        fitted.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(np.full((2, 64), np.nan))


def test_pickled_vae_gives_the_same_codes(digits, fitted):
    back = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(back.transform(digits[0][:10]), fitted.transform(digits[0][:10]))
    assert back._model.path != fitted._model.path


def test_ctrl_c_stops_training_with_keyboard_interrupt_and_keeps_the_last_checkpoint(
    digits, ctrl_c_after
):
    X = np.tile(digits[0], (20, 1))  # enough steps for the interrupt to land mid-training
    v = small_vae(epochs=10**6, batch_size=16)
    timer = ctrl_c_after(1.0)
    with pytest.raises(KeyboardInterrupt):
        v.fit(X)
    timer.join()
    assert v.transform(X[:5]).shape == (5, 2)
    assert np.all(np.isfinite(v.score_samples(X[:5], k=2)))


def test_fit_is_idempotent_and_scores_do_not_depend_on_the_batch(digits):
    X = digits[0][:300]
    a = small_vae(epochs=2).fit(X)
    b = small_vae(epochs=2).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    whole = a.transform(X)
    np.testing.assert_allclose(a.transform(X[100:150]), whole[100:150], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.transform(X[::-1]), whole[::-1], rtol=1e-5, atol=1e-6)


def test_fit_leaves_parameters_and_input_unchanged(digits):
    X = digits[0][:200].copy()
    before = X.copy()
    v = small_vae(epochs=1)
    params = v.get_params()
    v.fit(X)
    assert v.get_params() == params
    np.testing.assert_array_equal(X, before)
    assert v.n_features_in_ == 64
    # Fitted attributes end in "_"; nothing else public is added.
    assert all(k.endswith("_") or k in params for k in vars(v) if not k.startswith("_"))


def test_fit_releases_the_gil(digits):
    X = np.tile(digits[0], (4, 1))
    done = threading.Event()

    def work():
        small_vae(epochs=4, batch_size=32).fit(X)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks, start = 0, time.perf_counter()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - start
    # Held GIL: the loop would run a handful of times; released: about once
    # per ms on an idle machine; 25 ms per tick leaves room for a loaded one.
    assert elapsed > 0.2 and ticks > max(20, elapsed * 40)
