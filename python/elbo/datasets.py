"""Data sets shipped inside elbo (no download)."""

from . import _native


def load_digits():
    """The embedded UCI handwritten digits (Alpaydin & Kaynak 1998, CC BY 4.0).

    Returns ``(X, y)``: ``X`` is float32 ``[1797, 64]``, 8x8 images row by
    row with pixels in [0, 1] (the source's 0..16 divided by 16); ``y`` is
    uint8 ``[1797]``, the digit 0..9.
    """
    return _native.load_digits()
