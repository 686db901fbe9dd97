//! EM from given weights, means and precisions (scikit-learn's
//! `weights_init`, `means_init`, `precisions_init`): the first E-step sees
//! exactly the given model.

use elbo::mixture::{Convergence, CovarianceType, GaussianMixture, GaussianMixtureParams, Mat};
use faer::linalg::solvers::DenseSolveCore;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn data(n: usize, d: usize) -> Mat<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    Mat::from_fn(n, d, |i, j| {
        let z: f64 = rng.sample(rand_distr::StandardNormal);
        (i % 2) as f64 * 2.0 * (j as f64 - 1.0) + 0.7 * z
    })
}

/// A start (weights, means, covariances, precisions) for `kind`, K = 2, d = 3.
fn start(kind: CovarianceType) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let weights = vec![0.3, 0.7];
    let means = vec![-1.0, 0.0, 1.0, 0.5, 0.2, -0.4];
    // Full covariance [[2, .5, 0], [.5, 1, .2], [0, .2, 1.5]] and its inverse.
    let cov = [2.0, 0.5, 0.0, 0.5, 1.0, 0.2, 0.0, 0.2, 1.5];
    let c = faer::MatRef::from_row_major_slice(&cov, 3, 3);
    let inv = c.llt(faer::Side::Lower).unwrap().inverse();
    let prec: Vec<f64> = (0..9).map(|i| inv[(i / 3, i % 3)]).collect();
    match kind {
        CovarianceType::Full => {
            let scaled_cov: Vec<f64> = cov.iter().map(|v| v * 0.5).collect();
            let scaled_prec: Vec<f64> = prec.iter().map(|v| v * 2.0).collect();
            (
                weights,
                means,
                [&cov[..], &scaled_cov].concat(),
                [&prec[..], &scaled_prec].concat(),
            )
        }
        CovarianceType::Tied => (weights, means, cov.to_vec(), prec),
        CovarianceType::Diag => {
            let v = vec![2.0, 1.0, 1.5, 0.5, 0.25, 4.0];
            let p = v.iter().map(|x| 1.0 / x).collect();
            (weights, means, v, p)
        }
        CovarianceType::Spherical => (weights, means, vec![1.5, 0.5], vec![1.0 / 1.5, 2.0]),
    }
}

#[test]
fn first_lower_bound_is_the_log_likelihood_of_the_given_start() {
    let x = data(200, 3);
    for kind in CovarianceType::ALL {
        let (w, m, cov, prec) = start(kind);
        let given = GaussianMixture::from_parts(
            kind,
            w.clone(),
            m.clone(),
            cov,
            Convergence {
                n_iter: 0,
                converged: false,
                lower_bound: 0.0,
                max_iter: 0,
                tol: 0.0,
            },
        )
        .unwrap();
        let expected = given.score(x.as_ref()).unwrap();
        let fit = GaussianMixtureParams::new(2)
            .covariance_type(kind)
            .weights_init(w)
            .means_init(Mat::from_fn(2, 3, |c, j| m[c * 3 + j]))
            .precisions_init(prec)
            .tol(0.0)
            .max_iter(1)
            .fit(x.as_ref())
            .unwrap();
        let lb = fit.convergence.lower_bound;
        assert!((lb - expected).abs() < 1e-10, "{kind}: {lb} vs {expected}");
        // Weights alone change the start too: the default weights give another bound.
        let (_, m, _, _) = start(kind);
        let means_only = GaussianMixtureParams::new(2)
            .covariance_type(kind)
            .means_init(Mat::from_fn(2, 3, |c, j| m[c * 3 + j]))
            .tol(0.0)
            .max_iter(1)
            .fit(x.as_ref())
            .unwrap();
        assert!(
            (means_only.convergence.lower_bound - expected).abs() > 1e-3,
            "{kind}"
        );
    }
}

#[test]
fn bad_initial_weights_and_precisions_are_errors() {
    let x = data(50, 3);
    let err = |p: GaussianMixtureParams| p.fit(x.as_ref()).unwrap_err().to_string();
    let e = err(GaussianMixtureParams::new(2).weights_init(vec![0.5, 0.6]));
    assert!(
        e.contains("initial weights") && e.contains("summing to 1"),
        "{e}"
    );
    let e = err(GaussianMixtureParams::new(2).weights_init(vec![1.0]));
    assert!(e.contains("2 non-negative values"), "{e}");
    let e = err(GaussianMixtureParams::new(2)
        .covariance_type(CovarianceType::Diag)
        .precisions_init(vec![1.0; 5]));
    assert!(e.contains("6 finite values"), "{e}");
    let e = err(GaussianMixtureParams::new(2)
        .covariance_type(CovarianceType::Diag)
        .precisions_init(vec![1.0, 1.0, 1.0, 1.0, -1.0, 1.0]));
    assert!(e.contains("not positive"), "{e}");
    let mut indefinite = vec![0.0; 18];
    for c in 0..2 {
        for j in 0..3 {
            indefinite[c * 9 + j * 4] = if c == 1 && j == 2 { -1.0 } else { 1.0 };
        }
    }
    let e = err(GaussianMixtureParams::new(2).precisions_init(indefinite));
    assert!(e.contains("component 1's initial precision"), "{e}");
}
