import numpy as np

import elbo


def test_load_digits_gives_pixels_in_unit_range_and_labels(digits):
    X, y = elbo.datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.uint8
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    # The source's values are v / 16 with v in 0..16.
    np.testing.assert_array_equal(X * 16, np.round(X * 16))
