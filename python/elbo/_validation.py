"""Input checks shared by the estimators: scikit-learn's own
``validate_data`` (NaN, inf, dimensions, empty input, feature counts and
names, sparse input), keeping float64, float32 and uint8 as they come so the
native side reads float64 in place and converts the others once."""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

DTYPES = [np.float64, np.float32, np.uint8]


def check_X(est, X, *, reset, ensure_min_samples=1):
    """``X`` as a 2-D float64/float32/uint8 array in C or F order (others are
    converted to float64), checked like scikit-learn's estimators do."""
    return validate_data(
        est,
        X,
        reset=reset,
        dtype=DTYPES,
        order=None,
        ensure_min_samples=ensure_min_samples,
    )


def seed_of(random_state):
    """A 64-bit seed from scikit-learn's ``random_state``: an int is used as
    it is (so the same seed as the CLI's ``--seed`` gives the same fit);
    None or a ``RandomState`` draw one."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return int(random_state)
    rng = check_random_state(random_state)
    return int(rng.randint(np.iinfo(np.int32).max))


def check_int(name, value, low):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_float(name, value, low=0.0):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {value!r}")
    return float(value)
