import _thread
import signal
import threading

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


@pytest.fixture
def ctrl_c_after():
    """A function `start(seconds)` that starts a timer simulating Ctrl-C
    after `seconds` and returns the timer.

    Python's own SIGINT handler is put in place first: a process started in
    the background (`&`) of a non-interactive shell inherits SIGINT
    ignored, and then ``_thread.interrupt_main`` does nothing and a fit
    waiting for it would run to its (huge) iteration limit."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timers = []

    def start(seconds):
        timer = threading.Timer(seconds, _thread.interrupt_main)
        timers.append(timer)
        timer.start()
        return timer

    yield start
    for timer in timers:
        timer.cancel()
        timer.join()
    signal.signal(signal.SIGINT, previous)
