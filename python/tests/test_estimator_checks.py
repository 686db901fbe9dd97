"""scikit-learn's own estimator checks (every check that
``parametrize_with_checks`` yields; scikit-learn itself skips the array-API
checks unless SCIPY_ARRAY_API=1 is set). BernoulliMixture is checked with
``binarize=0.5``: the checks feed continuous data, and a Bernoulli mixture
models binary data only (without ``binarize`` it refuses anything else, by
design). The VAE is an image model: the checks it fails by its nature are
listed in ``VAE_EXPECTED_FAILURES`` with the reason, and run as expected
failures (a check that starts to pass is reported)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import elbo

VAE_EXPECTED_FAILURES = {}


def expected_failures(estimator):
    return VAE_EXPECTED_FAILURES if isinstance(estimator, elbo.VAE) else {}


@parametrize_with_checks(
    [
        elbo.GaussianMixture(),
        elbo.BernoulliMixture(binarize=0.5),
        elbo.VAE(hidden=(8,), latent=2, epochs=2, random_state=0),
    ],
    expected_failed_checks=expected_failures,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
