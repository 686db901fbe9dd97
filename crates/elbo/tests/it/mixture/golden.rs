//! elbo's Gaussian mixture against scikit-learn 1.9.1. The numbers come from
//! `tests/golden/make_sklearn_gmm.py`: a fixed 210 × 4 data set, 3 components,
//! given initial means, 8 EM iterations, each covariance type. Tolerances are
//! the required ones: per-sample log-likelihood to 1e-6 relative, parameters to
//! 1e-5.

use elbo::mixture::{CovarianceType, GaussianMixtureParams, Mat, matrix_from_rows};
use serde_json::Value;

fn golden() -> Value {
    let text = include_str!("../../golden/sklearn_gmm.json");
    serde_json::from_str(text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Mat<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    let d = rows[0].len();
    matrix_from_rows(&rows.concat(), d).unwrap()
}

fn assert_close(name: &str, got: &[f64], want: &[f64], rtol: f64, floor: f64) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = rtol * w.abs().max(floor);
        assert!(
            (g - w).abs() <= tol,
            "{name}[{i}]: elbo {g} vs scikit-learn {w} (tolerance {tol:e})"
        );
    }
}

fn fit(
    kind: CovarianceType,
    max_iter: usize,
    tol: f64,
) -> (elbo::mixture::GaussianMixture, Mat<f64>) {
    let g = golden();
    let x = matrix(&g["X"]);
    let params = GaussianMixtureParams::new(3)
        .covariance_type(kind)
        .reg_covar(g["reg_covar"].as_f64().unwrap())
        .tol(tol)
        .max_iter(max_iter)
        .means_init(matrix(&g["means_init"]));
    (params.fit(x.as_ref()).unwrap(), x)
}

fn check(kind: CovarianceType) {
    let g = golden();
    let want = &g["fits"][kind.to_string()];
    let (gmm, x) = fit(kind, g["max_iter"].as_u64().unwrap() as usize, 0.0);
    assert_eq!(
        gmm.convergence.n_iter as u64,
        want["n_iter"].as_u64().unwrap()
    );
    assert!(!gmm.convergence.converged);
    assert!(gmm.convergence.warning().is_some());
    assert_close(
        "weights",
        gmm.weights(),
        &floats(&want["weights"]),
        1e-5,
        1.0,
    );
    assert_close("means", gmm.means(), &floats(&want["means"]), 1e-5, 1.0);
    assert_close(
        "covariances",
        gmm.covariances(),
        &floats(&want["covariances"]),
        1e-5,
        1.0,
    );
    let pc = floats(&want["precisions_cholesky"]);
    assert_close(
        "precisions_cholesky",
        gmm.precisions_cholesky(),
        &pc,
        1e-5,
        1.0,
    );
    let ll = gmm.score_samples(x.as_ref()).unwrap();
    assert_close(
        "score_samples",
        &ll,
        &floats(&want["score_samples"]),
        1e-6,
        0.0,
    );
    let lb = want["lower_bound"].as_f64().unwrap();
    assert_close(
        "lower_bound",
        &[gmm.convergence.lower_bound],
        &[lb],
        1e-6,
        0.0,
    );
    let p = gmm.predict_proba(x.as_ref()).unwrap();
    let p: Vec<f64> = (0..p.nrows())
        .flat_map(|i| (0..3).map(move |c| (i, c)))
        .map(|(i, c)| p[(i, c)])
        .collect();
    assert_close(
        "predict_proba",
        &p,
        &floats(&want["predict_proba"]),
        1e-5,
        1.0,
    );
    assert_close(
        "bic",
        &[gmm.bic(x.as_ref()).unwrap()],
        &[want["bic"].as_f64().unwrap()],
        1e-6,
        0.0,
    );
    assert_close(
        "aic",
        &[gmm.aic(x.as_ref()).unwrap()],
        &[want["aic"].as_f64().unwrap()],
        1e-6,
        0.0,
    );
    // scikit-learn's default stopping rule stops at the same iteration.
    let (conv, _) = fit(kind, 100, 1e-3);
    assert!(conv.convergence.converged);
    assert_eq!(
        conv.convergence.n_iter as u64,
        want["converged_n_iter"].as_u64().unwrap()
    );
    let clb = want["converged_lower_bound"].as_f64().unwrap();
    assert_close(
        "converged lower_bound",
        &[conv.convergence.lower_bound],
        &[clb],
        1e-6,
        0.0,
    );
}

#[test]
fn full_covariance_fit_matches_scikit_learn() {
    check(CovarianceType::Full);
}

#[test]
fn tied_covariance_fit_matches_scikit_learn() {
    check(CovarianceType::Tied);
}

#[test]
fn diag_covariance_fit_matches_scikit_learn() {
    check(CovarianceType::Diag);
}

#[test]
fn spherical_covariance_fit_matches_scikit_learn() {
    check(CovarianceType::Spherical);
}
