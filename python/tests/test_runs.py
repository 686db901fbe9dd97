"""Run folders: ``est.save(path)`` writes what the CLI reads, ``elbo.load``
reads what the CLI wrote, and both agree with the estimator in memory."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import elbo

# The CLI binary `cargo build --workspace` made, if there is one.
_TARGET = os.environ.get("CARGO_TARGET_DIR", str(pathlib.Path(__file__).parents[2] / "target"))
ELBO = os.environ.get("ELBO_BIN", os.path.join(_TARGET, "debug", "elbo"))
needs_cli = pytest.mark.skipif(not os.access(ELBO, os.X_OK), reason=f"no elbo binary at {ELBO}")


def cli(*args):
    out = subprocess.run([ELBO, *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_saved_vae_loads_back_with_the_same_codes_and_settings(digits, tmp_path):
    X = digits[0]
    v = elbo.VAE(hidden=(16,), latent=3, epochs=2, random_state=4).fit(X)
    v.save(tmp_path / "vae")
    back = elbo.load(tmp_path / "vae")
    assert isinstance(back, elbo.VAE)
    assert back.get_params()["hidden"] == (16,) and back.latent == 3 and back.random_state == 4
    np.testing.assert_array_equal(back.transform(X[:10]), v.transform(X[:10]))
    np.testing.assert_array_equal(back.score_samples(X[:10], k=4), v.score_samples(X[:10], k=4))


def test_save_refuses_a_folder_that_is_not_empty(digits, tmp_path):
    v = elbo.VAE(hidden=(8,), latent=2, epochs=1, random_state=0).fit(digits[0])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        v.save(tmp_path / "taken")
    g = elbo.GaussianMixture(2, covariance_type="diag", random_state=0).fit(digits[0])
    with pytest.raises(FileExistsError, match="not empty"):
        g.save(tmp_path / "taken", X=digits[0])
    assert sorted(os.listdir(tmp_path / "taken")) == ["notes.txt"]
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_saved_mixtures_load_back_with_the_same_scores(digits, tmp_path):
    X = digits[0].astype(np.float64)
    g = elbo.GaussianMixture(3, covariance_type="diag", reg_covar=1e-3, random_state=0).fit(X)
    g.save(tmp_path / "gmm", X=X)
    back = elbo.load(tmp_path / "gmm")
    assert isinstance(back, elbo.GaussianMixture) and back.covariance_type == "diag"
    np.testing.assert_allclose(back.score_samples(X), g.score_samples(X), rtol=1e-12)
    assert back.n_iter_ == g.n_iter_ and back.lower_bound_ == pytest.approx(g.lower_bound_)
    B = (X > 0.5).astype(np.uint8)
    b = elbo.BernoulliMixture(4, random_state=0).fit(B)
    b.save(tmp_path / "bmm")
    np.testing.assert_allclose(elbo.load(tmp_path / "bmm").score_samples(B), b.score_samples(B))


def test_load_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        elbo.load(tmp_path / "missing")


@needs_cli
def test_cli_evaluates_and_samples_a_saved_vae(digits, tmp_path):
    X = digits[0]
    v = elbo.VAE(hidden=(16,), latent=2, epochs=2, random_state=0).fit(X)
    v.save(tmp_path / "vae")
    out = json.loads(cli("eval", "--model", str(tmp_path / "vae"), "--split", "train", "--iwae", "10", "--json"))
    # The run's own data (the saved train.npy, all of it training images).
    assert out["images"] == len(X) and out["nll"]["nats"] > 0
    # The CLI's IWAE bound is the estimator's (its seed draws other noise).
    assert out["nll"]["nats"] == pytest.approx(-v.score(X, k=10), rel=0.02)
    cli("sample", "--model", str(tmp_path / "vae"), "-n", "4", "--out", str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").stat().st_size > 0


@needs_cli
def test_cli_run_folders_load_as_fitted_estimators(tmp_path):
    X, _ = elbo.datasets.load_digits()
    cli("train", "vae", "--data", "digits", "--epochs", "1", "--hidden", "16", "--latent", "2",
        "--out", str(tmp_path / "vae"), "--quiet", "--no-pictures")
    v = elbo.load(tmp_path / "vae")
    assert isinstance(v, elbo.VAE) and v.transform(X[:4]).shape == (4, 2)
    cli("train", "bernoulli-mixture", "--data", "digits", "--components", "3",
        "--pixels", "binary", "--out", str(tmp_path / "bmm"))
    b = elbo.load(tmp_path / "bmm")
    assert isinstance(b, elbo.BernoulliMixture) and b.means_.shape == (3, 64)
    cli("train", "ae", "--data", "digits", "--epochs", "1", "--hidden", "8", "--latent", "2",
        "--out", str(tmp_path / "ae"), "--quiet", "--no-pictures")
    with pytest.raises(ValueError, match=r"ae model .*command line"):
        elbo.load(tmp_path / "ae")
