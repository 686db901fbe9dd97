"""elbo.PixelCNN: exact likelihoods, samples and completions."""

import numpy as np
import pytest

import elbo


@pytest.fixture(scope="module")
def binary_digits(digits):
    return (digits[0] > 0.5).astype(np.float32).reshape(-1, 8, 8)


@pytest.fixture(scope="module")
def fitted(binary_digits):
    m = elbo.PixelCNN(hidden=8, layers=2, first_kernel=5, output_hidden=16, epochs=2, random_state=0)
    return m.fit(binary_digits)


def test_exact_probabilities_of_all_images_of_a_tiny_shape_sum_to_one():
    # Every binary 2x3 image: an exact likelihood sums to 1 over them.
    rng = np.random.default_rng(0)
    X = (rng.random((64, 2, 3)) > 0.5).astype(np.float32)
    m = elbo.PixelCNN(hidden=4, layers=1, kernel=3, first_kernel=3, output_hidden=4, output="bernoulli",
                      epochs=2, batch_size=16, random_state=0).fit(X)
    every = np.array([[(i >> b) & 1 for b in range(6)] for i in range(64)], dtype=np.float32)
    total = np.exp(m.score_samples(every.reshape(-1, 2, 3))).sum()
    assert total == pytest.approx(1.0, abs=1e-4)


def test_score_samples_are_finite_log_probabilities(binary_digits, fitted):
    s = fitted.score_samples(binary_digits[:20])
    assert s.shape == (20,) and np.all(s < 0) and np.all(np.isfinite(s))
    assert fitted.score(binary_digits[:20]) == pytest.approx(s.mean())


def test_samples_are_binary_images(fitted):
    S = fitted.sample(5)
    assert S.shape == (5, 8, 8) and set(np.unique(S)) <= {0.0, 1.0}


def test_complete_keeps_the_given_rows(binary_digits, fitted):
    top = binary_digits[:4, :3]  # [4, 3, 8]: three rows given
    out = fitted.complete(top)
    assert out.shape == (4, 8, 8)
    np.testing.assert_array_equal(out[:, :3], top.astype(np.float32))
    assert set(np.unique(out)) <= {0.0, 1.0}
    rows = fitted.complete(top.reshape(4, -1))
    assert rows.shape == (4, 64)


def test_complete_refuses_a_whole_image(binary_digits, fitted):
    with pytest.raises(ValueError, match="rows"):
        fitted.complete(binary_digits[:2])


def test_saved_pixelcnn_loads_back_with_the_same_likelihoods(binary_digits, fitted, tmp_path):
    fitted.save(tmp_path / "pix")
    back = elbo.load(tmp_path / "pix")
    assert isinstance(back, elbo.PixelCNN) and back.layers == 2 and back.hidden == 8
    X = binary_digits[:10].reshape(10, -1)
    np.testing.assert_array_equal(back.score_samples(X), fitted.score_samples(binary_digits[:10]))
