//! Properties of the Gaussian mixture's EM that hold for any data, and its
//! bad-input errors.

use elbo::mixture::{
    CovarianceType, GaussianMixture, GaussianMixtureParams, Init, Mat, matrix_from_rows,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Three blobs in `d` dimensions, `n` samples.
fn blobs(n: usize, d: usize, seed: u64) -> Mat<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    Mat::from_fn(n, d, |i, j| {
        let c = (i % 3) as f64;
        let z: f64 = rng.sample(rand_distr::StandardNormal);
        3.0 * c * if j % 2 == 0 { 1.0 } else { -0.5 } + (0.5 + 0.3 * c) * z
    })
}

#[test]
fn responsibilities_sum_to_one() {
    let x = blobs(300, 3, 1);
    for kind in CovarianceType::ALL {
        let gmm = GaussianMixtureParams::new(4)
            .covariance_type(kind)
            .fit(x.as_ref())
            .unwrap();
        let p = gmm.predict_proba(x.as_ref()).unwrap();
        let labels = gmm.predict(x.as_ref()).unwrap();
        for i in 0..p.nrows() {
            let s: f64 = (0..4).map(|c| p[(i, c)]).sum();
            assert!((s - 1.0).abs() < 1e-12, "{kind}: row {i} sums to {s}");
            assert!((0..4).all(|c| p[(i, c)] <= p[(i, labels[i])]));
        }
        let mean = gmm.score_samples(x.as_ref()).unwrap().iter().sum::<f64>() / 300.0;
        assert!((gmm.score(x.as_ref()).unwrap() - mean).abs() < 1e-12);
    }
}

#[test]
fn em_log_likelihood_never_decreases() {
    let x = blobs(240, 4, 2);
    let means = matrix_from_rows(
        &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, -1.0, 2.0, 0.0, 0.0],
        4,
    )
    .unwrap();
    for kind in CovarianceType::ALL {
        let mut prev = f64::NEG_INFINITY;
        for iters in 1..=20 {
            let gmm = GaussianMixtureParams::new(3)
                .covariance_type(kind)
                .means_init(means.clone())
                .tol(0.0)
                .max_iter(iters)
                .fit(x.as_ref())
                .unwrap();
            let lb = gmm.convergence.lower_bound;
            assert!(
                lb >= prev - 1e-9,
                "{kind}: iteration {iters} lowered the log-likelihood {prev} -> {lb}"
            );
            prev = lb;
        }
    }
}

/// Largest absolute error of the sample mean and covariance of `n` draws.
fn sample_error(gmm: &GaussianMixture, n: usize) -> (f64, f64) {
    let (s, labels) = gmm.sample(n, 7).unwrap();
    assert_eq!(labels.len(), n);
    let d = gmm.n_features();
    let (w, mu) = (gmm.weights(), gmm.means());
    let m: Vec<f64> = (0..d)
        .map(|j| (0..2).map(|c| w[c] * mu[c * d + j]).sum())
        .collect();
    let cov = gmm.covariances();
    let mut worst = (0.0f64, 0.0f64);
    let emp_m: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| s[(i, j)]).sum::<f64>() / n as f64)
        .collect();
    for a in 0..d {
        worst.0 = worst.0.max((emp_m[a] - m[a]).abs());
        for b in 0..d {
            // Law of total covariance: Σ w_c (Σ_c + μ_c μ_cᵀ) − m mᵀ.
            let model: f64 = (0..2)
                .map(|c| w[c] * (cov[c * d * d + a * d + b] + mu[c * d + a] * mu[c * d + b]))
                .sum::<f64>()
                - m[a] * m[b];
            let emp = (0..n)
                .map(|i| (s[(i, a)] - emp_m[a]) * (s[(i, b)] - emp_m[b]))
                .sum::<f64>()
                / n as f64;
            worst.1 = worst.1.max((emp - model).abs());
        }
    }
    worst
}

#[test]
fn samples_approach_the_model_moments() {
    let cov = vec![2.0, 0.8, 0.8, 1.0, 0.5, -0.2, -0.2, 0.3];
    let conv = elbo::mixture::Convergence {
        n_iter: 0,
        converged: true,
        lower_bound: 0.0,
        max_iter: 0,
        tol: 0.0,
    };
    let gmm = GaussianMixture::from_parts(
        CovarianceType::Full,
        vec![0.3, 0.7],
        vec![1.0, -2.0, -1.0, 3.0],
        cov,
        conv,
    )
    .unwrap();
    let small = sample_error(&gmm, 1_000);
    let large = sample_error(&gmm, 100_000);
    // Standard errors scale as 1/√n: ~0.1 at 1,000 samples, ~0.01 at 100,000.
    assert!(large.0 < 0.05 && large.1 < 0.1, "n = 100000: {large:?}");
    assert!(
        large.0 < small.0 && large.1 < small.1,
        "{small:?} -> {large:?}"
    );
}

#[test]
fn more_inits_are_never_worse_and_warm_start_continues() {
    let x = blobs(300, 2, 3);
    let base = GaussianMixtureParams::new(3)
        .init(Init::Random)
        .max_iter(30)
        .seed(5);
    let one = base.clone().fit(x.as_ref()).unwrap();
    let five = base.clone().n_init(5).fit(x.as_ref()).unwrap();
    assert!(five.convergence.lower_bound >= one.convergence.lower_bound);
    for init in [Init::KmeansPlusPlus, Init::Kmeans, Init::Random] {
        let g = GaussianMixtureParams::new(3)
            .init(init)
            .fit(x.as_ref())
            .unwrap();
        assert!(g.score(x.as_ref()).unwrap().is_finite(), "{init:?}");
    }
    // 4 + 6 warm-started iterations are the same as 10 in one go.
    let p = GaussianMixtureParams::new(3)
        .init(Init::Kmeans)
        .tol(0.0)
        .seed(1);
    let ten = p.clone().max_iter(10).fit(x.as_ref()).unwrap();
    let four = p.clone().max_iter(4).fit(x.as_ref()).unwrap();
    let more = p.max_iter(6).warm_start(four).fit(x.as_ref()).unwrap();
    assert_eq!(ten.means(), more.means());
    assert_eq!(ten.convergence.lower_bound, more.convergence.lower_bound);
}

fn err(r: elbo::Result<GaussianMixture>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn bad_parameters_and_non_finite_data_are_errors() {
    let x = blobs(10, 2, 4);
    assert!(err(GaussianMixtureParams::new(0).fit(x.as_ref())).contains("at least 1 component"));
    assert!(err(GaussianMixtureParams::new(11).fit(x.as_ref())).contains("at least 11 samples"));
    for bad in [f64::NAN, f64::INFINITY] {
        let mut y = x.clone();
        y[(3, 1)] = bad;
        let e = err(GaussianMixtureParams::new(2).fit(y.as_ref()));
        assert!(e.contains("sample 3, feature 1"), "{e}");
    }
    let e = err(GaussianMixtureParams::new(2)
        .reg_covar(-1.0)
        .fit(x.as_ref()));
    assert!(e.contains("reg_covar"), "{e}");
    let means = matrix_from_rows(&[0.0, 0.0, 0.0], 3).unwrap();
    let e = err(GaussianMixtureParams::new(2)
        .means_init(means)
        .fit(x.as_ref()));
    assert!(e.contains("initial means"), "{e}");
}

#[test]
fn constant_feature_without_reg_covar_names_reg_covar() {
    let mut x = blobs(60, 3, 5);
    for i in 0..60 {
        x[(i, 1)] = 0.25;
    }
    for kind in [
        CovarianceType::Full,
        CovarianceType::Tied,
        CovarianceType::Diag,
    ] {
        let e = err(GaussianMixtureParams::new(2)
            .covariance_type(kind)
            .init(Init::Kmeans)
            .reg_covar(0.0)
            .fit(x.as_ref()));
        assert!(
            e.contains("singular") && e.contains("feature 1") && e.contains("reg_covar"),
            "{kind}: {e}"
        );
        // With the default reg_covar the same data fits.
        let g = GaussianMixtureParams::new(2)
            .covariance_type(kind)
            .init(Init::Kmeans)
            .fit(x.as_ref())
            .unwrap();
        assert!(g.score(x.as_ref()).unwrap().is_finite());
    }
}

#[test]
fn collapsed_component_is_an_error_not_nan() {
    // Five copies of one point and a spread cluster: with reg_covar 0 the
    // component on the copies collapses.
    let mut v = vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    v.extend((0..40).map(|_| 10.0 + rng.random::<f64>()));
    let x = matrix_from_rows(&v, 2).unwrap();
    for kind in CovarianceType::ALL {
        if kind == CovarianceType::Tied {
            continue; // the shared covariance stays regular
        }
        let means = matrix_from_rows(&[1.0, 1.0, 10.5, 10.5], 2).unwrap();
        let r = GaussianMixtureParams::new(2)
            .covariance_type(kind)
            .reg_covar(0.0)
            .means_init(means)
            .fit(x.as_ref());
        let e = err(r);
        assert!(
            e.contains("component 0") && e.contains("reg_covar"),
            "{kind}: {e}"
        );
    }
}
