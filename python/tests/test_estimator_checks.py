"""scikit-learn's own estimator checks (every check that
``parametrize_with_checks`` yields; scikit-learn itself skips the array-API
checks unless SCIPY_ARRAY_API=1 is set). BernoulliMixture is checked with
``binarize=0.5``: the checks feed continuous data, and a Bernoulli mixture
models binary data only (without ``binarize`` it refuses anything else, by
design)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import elbo


@parametrize_with_checks([elbo.GaussianMixture(), elbo.BernoulliMixture(binarize=0.5)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
