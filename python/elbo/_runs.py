"""Run folders behind the estimators. The networks (``VAE``, ``PixelCNN``):
images in, the library's ``config.toml`` out, training into a temporary run
folder owned by the fitted model, copies of it (``save``) and pickles of it.
The mixtures: a run folder written from a fitted model (``save_mixture``)."""

import json
import math
import numbers
import os
import shutil
import tempfile
import weakref

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _native
from ._validation import seed_of

# The files a fitted model needs to load again (``Run::load``): without
# ``state.json`` the library reads the top-level weights.
_PICKLED = ("config.toml", "model.safetensors", "metrics.jsonl")
TRAIN_DATA = "train.npy"


class Fitted:
    """A native ``RunModel`` and its run folder; a folder made for a fit
    (``owned``) is removed when the last reference goes."""

    def __init__(self, native, owned):
        self.native = native
        self.path = os.fspath(native.path)
        if owned:
            weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def __reduce__(self):
        files = {}
        for name in _PICKLED:
            p = os.path.join(self.path, name)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    files[name] = f.read()
        return (_unpickle, (files,))


def _unpickle(files):
    path = tempfile.mkdtemp(prefix="elbo-run-")
    for name, data in files.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)
    return Fitted(_native.RunModel.load(path), owned=True)


def toml(sections):
    """TOML text of ``{section: {key: value}}`` (ints, finite floats, bools,
    strings, lists of those); None values are left out (the defaults)."""
    lines = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


def _value(v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {v!r}")
        return repr(float(v))
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise ValueError(f"cannot write {v!r} into config.toml")


def image_rows(est, X, *, reset):
    """``X`` (rows ``[n, d]`` or images ``[n, H, W]``; uint8 0..255 or floats
    in [0, 1]) as C-ordered rows ``[n, d]`` in its own dtype (uint8 kept, floats
    as float32), checked the scikit-learn way; sets ``image_shape_`` (H, W)
    when ``reset``: the given images' shape, else square rows as squares and
    others as one row of pixels."""
    shape = None
    if isinstance(X, np.ndarray) and X.ndim == 3:
        shape = X.shape[1:]
        X = X.reshape(X.shape[0], -1)  # [n, H, W] -> [n, H·W]
    X = validate_data(est, X, reset=reset, dtype=[np.uint8, np.float32, np.float64])
    if reset:
        d = X.shape[1]
        s = math.isqrt(d)
        est.image_shape_ = tuple(shape) if shape else ((s, s) if s * s == d else (1, d))
        est._image_input = shape is not None
    elif shape is not None and tuple(shape) != est.image_shape_:
        raise ValueError(f"X holds images of {shape}, but the model was fitted on {est.image_shape_}")
    if X.dtype == np.uint8:
        return np.ascontiguousarray(X)
    X = np.ascontiguousarray(X, dtype=np.float32)
    lo, hi = float(X.min()), float(X.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"pixel values must lie in [0, 1] (or be uint8 0..255); X holds values in [{lo:g}, {hi:g}]"
        )
    return X


def unit_floats(X):
    """uint8 rows as float32 in [0, 1], float rows as they are."""
    if X.dtype == np.uint8:
        return X.astype(np.float32) / np.float32(255.0)
    return X


def as_images(est, rows):
    """Rows ``[n, d]`` as the user gave them at fit: ``[n, H, W]`` images, or rows."""
    if getattr(est, "_image_input", False):
        return rows.reshape((rows.shape[0],) + tuple(est.image_shape_))
    return rows


def train(est, X, model, data, train):
    """Trains the config of sections ``model``, ``data`` (without ``spec``)
    and ``train`` on rows ``X`` in a new temporary run folder; sets
    ``est._model`` (a ``Fitted``) and raises KeyboardInterrupt after it when
    Ctrl-C stopped training (the model is then the last checkpoint's)."""
    path = tempfile.mkdtemp(prefix=f"elbo-{model['kind']}-")
    try:
        images = X.reshape((X.shape[0],) + tuple(est.image_shape_))  # [n, H, W]
        npy = os.path.join(path, TRAIN_DATA)
        np.save(npy, images)
        data = {"spec": f"npy:{npy}", **data}
        native, interrupted = _native.RunModel.train(
            toml({"model": model, "data": data, "train": train}), path
        )
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    est._model = Fitted(native, owned=True)
    if interrupted:
        raise KeyboardInterrupt(
            "training stopped by Ctrl-C; the estimator holds the last checkpoint's model"
        )


def _check_new(path):
    """Refuses a folder with anything in it: nothing already saved is lost."""
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise FileExistsError(f"{path} exists and is not empty: save into a new folder")


def save(fitted, path):
    """Copies the run folder of ``fitted`` to the new folder ``path`` (the CLI
    reads it: ``elbo eval --model PATH``); its config names the copied
    training images."""
    path = os.fspath(path)
    _check_new(path)
    shutil.copytree(
        fitted.path, path, ignore=shutil.ignore_patterns(".lock", "*.tmp*"), dirs_exist_ok=True
    )
    data = os.path.join(path, TRAIN_DATA)
    if os.path.exists(data):
        _native.point_data_at(path, os.path.abspath(data))


def save_mixture(est, path, model, X):
    """Writes a run folder at ``path`` for a fitted mixture: ``config.toml``
    (the estimator's settings; images of ``image_shape`` pixels: a square
    when ``n_features_in_`` is one, else one row) and ``model.safetensors``.
    With ``X`` (the images, rows in [0, 1]) it also writes ``train.npy``,
    which the config names as its data, so ``elbo eval --model PATH`` needs
    no ``--data``."""
    check_is_fitted(est)
    path = os.path.abspath(os.fspath(path))
    _check_new(path)
    d = est.n_features_in_
    s = math.isqrt(d)
    h, w = (s, s) if s * s == d else (1, d)
    if X is not None:
        X = check_array(X, dtype=np.float32, order="C")
        if X.shape[1] != d or X.min() < 0 or X.max() > 1:
            raise ValueError(f"X must hold images of {d} values in [0, 1] to be saved with the model")
        os.makedirs(path, exist_ok=True)
        np.save(os.path.join(path, TRAIN_DATA), X.reshape(-1, h, w))
    data = {
        "spec": "npy:" + os.path.join(path, TRAIN_DATA),
        "pixels": "grey",
        "test_fraction": 0.0,
        "shape": [h, w, 1],
    }
    train = {"epochs": 1, "batch_size": 1, "lr": 1e-3, "seed": seed_of(est.random_state)}
    text = toml({"model": model, "data": data, "train": train})
    _native.write_mixture_run(path, text, est._model.to_bytes())
