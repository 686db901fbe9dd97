//! The mixtures' native functions: fit by EM (interruptible, off the GIL)
//! and, from fitted parameters kept as numpy arrays by the Python
//! estimators, score, predict and sample. A fitted model is rebuilt from
//! its arrays on each call (a Cholesky factorization per component), so the
//! estimators stay plain picklable Python objects.

use elbo::mixture::{
    BernoulliMixture, BernoulliMixtureParams, Convergence, CovarianceType, GaussianMixture,
    GaussianMixtureParams, Init, Mat,
};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{flat, to_array1, to_array2, with_matrix};
use crate::{interrupt, to_py};

/// A previous fit to continue: weights, means, covariances, lower bound.
type Warm<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>, f64);
/// Samples `[n, d]` and the component of each.
type Samples<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<i64>>);

/// A Gaussian mixture from its parameter arrays.
fn gmm(
    kind: &str,
    weights: &Bound<'_, PyAny>,
    means: &Bound<'_, PyAny>,
    covariances: &Bound<'_, PyAny>,
) -> PyResult<GaussianMixture> {
    let kind: CovarianceType = kind.parse().map_err(to_py)?;
    let conv = Convergence {
        n_iter: 0,
        converged: true,
        lower_bound: f64::NEG_INFINITY,
        max_iter: 0,
        tol: 0.0,
    };
    GaussianMixture::from_parts(
        kind,
        flat(weights, "weights")?,
        flat(means, "means")?,
        flat(covariances, "covariances")?,
        conv,
    )
    .map_err(to_py)
}

/// `work`'s result and its wall seconds: the library's own time, which the
/// estimators report as `fit_seconds_` (the CLI's `fit_seconds`), so the
/// binding's overhead is the rest of `fit`.
fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let t = std::time::Instant::now();
    let out = work();
    (out, t.elapsed().as_secs_f64())
}

fn convergence_into(d: &Bound<'_, PyDict>, c: &Convergence, interrupted: bool) -> PyResult<()> {
    d.set_item("n_iter", c.n_iter)?;
    d.set_item("converged", c.converged)?;
    d.set_item("lower_bound", c.lower_bound)?;
    d.set_item("interrupted", interrupted)
}

/// Fits a Gaussian mixture on the rows of `x`. `warm`: the previous fit's
/// weights, means, covariances and lower bound (scikit-learn's warm start).
#[pyfunction]
#[pyo3(signature = (x, n_components, covariance_type, tol, reg_covar, max_iter, n_init, init, seed,
                    weights_init=None, means_init=None, precisions_init=None, warm=None))]
#[allow(clippy::too_many_arguments)]
fn gmm_fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_components: usize,
    covariance_type: &str,
    tol: f64,
    reg_covar: f64,
    max_iter: usize,
    n_init: usize,
    init: &str,
    seed: u64,
    weights_init: Option<Bound<'py, PyAny>>,
    means_init: Option<Bound<'py, PyAny>>,
    precisions_init: Option<Bound<'py, PyAny>>,
    warm: Option<Warm<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    let kind: CovarianceType = covariance_type.parse().map_err(to_py)?;
    let mut params = GaussianMixtureParams::new(n_components)
        .covariance_type(kind)
        .tol(tol)
        .reg_covar(reg_covar)
        .max_iter(max_iter)
        .n_init(n_init)
        .init(init.parse::<Init>().map_err(to_py)?)
        .seed(seed);
    if let Some(w) = weights_init {
        params = params.weights_init(flat(&w, "weights_init")?);
    }
    if let Some(m) = means_init {
        params = params.means_init(with_matrix(&m, |m| Ok(m.to_owned()))?);
    }
    if let Some(p) = precisions_init {
        params = params.precisions_init(flat(&p, "precisions_init")?);
    }
    if let Some((w, m, c, lower_bound)) = warm {
        let mut previous = gmm(covariance_type, &w, &m, &c)?;
        previous.convergence.lower_bound = lower_bound;
        params = params.warm_start(previous);
    }
    let (fitted, interrupted) = with_matrix(x, |x| interrupt::run(py, || timed(|| params.fit(x))))?;
    let (fitted, seconds) = fitted;
    let fitted = fitted.map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("seconds", seconds)?;
    let k = fitted.n_components();
    d.set_item("weights", to_array1(py, fitted.weights()))?;
    let means = Mat::from_fn(k, fitted.n_features(), |c, j| {
        fitted.means()[c * fitted.n_features() + j]
    });
    d.set_item("means", to_array2(py, means.as_ref())?)?;
    d.set_item("covariances", to_array1(py, fitted.covariances()))?;
    d.set_item(
        "precisions_cholesky",
        to_array1(py, fitted.precisions_cholesky()),
    )?;
    convergence_into(&d, &fitted.convergence, interrupted)?;
    Ok(d)
}

/// log p(x_i) per row.
#[pyfunction]
fn gmm_score_samples<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    kind: &str,
    weights: &Bound<'py, PyAny>,
    means: &Bound<'py, PyAny>,
    covariances: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let m = gmm(kind, weights, means, covariances)?;
    let v = with_matrix(x, |x| py.detach(|| m.score_samples(x)).map_err(to_py))?;
    Ok(to_array1(py, &v))
}

/// Responsibilities `[n, K]`.
#[pyfunction]
fn gmm_predict_proba<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    kind: &str,
    weights: &Bound<'py, PyAny>,
    means: &Bound<'py, PyAny>,
    covariances: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let m = gmm(kind, weights, means, covariances)?;
    let p = with_matrix(x, |x| py.detach(|| m.predict_proba(x)).map_err(to_py))?;
    to_array2(py, p.as_ref())
}

/// The most probable component per row.
#[pyfunction]
fn gmm_predict<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    kind: &str,
    weights: &Bound<'py, PyAny>,
    means: &Bound<'py, PyAny>,
    covariances: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let m = gmm(kind, weights, means, covariances)?;
    let labels = with_matrix(x, |x| py.detach(|| m.predict(x)).map_err(to_py))?;
    let labels: Vec<i64> = labels.into_iter().map(|l| l as i64).collect();
    Ok(to_array1(py, &labels))
}

/// (BIC, AIC) on the rows of `x`.
#[pyfunction]
fn gmm_criteria(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kind: &str,
    weights: &Bound<'_, PyAny>,
    means: &Bound<'_, PyAny>,
    covariances: &Bound<'_, PyAny>,
) -> PyResult<(f64, f64)> {
    let m = gmm(kind, weights, means, covariances)?;
    with_matrix(x, |x| {
        py.detach(|| -> elbo::Result<(f64, f64)> { Ok((m.bic(x)?, m.aic(x)?)) })
            .map_err(to_py)
    })
}

/// `n` samples and their components.
#[pyfunction]
fn gmm_sample<'py>(
    py: Python<'py>,
    n: usize,
    seed: u64,
    kind: &str,
    weights: &Bound<'py, PyAny>,
    means: &Bound<'py, PyAny>,
    covariances: &Bound<'py, PyAny>,
) -> PyResult<Samples<'py>> {
    let m = gmm(kind, weights, means, covariances)?;
    let (x, labels) = py.detach(|| m.sample(n, seed)).map_err(to_py)?;
    let labels: Vec<i64> = labels.into_iter().map(|l| l as i64).collect();
    Ok((to_array2(py, x.as_ref())?, to_array1(py, &labels)))
}

/// A Bernoulli mixture from its weights `[K]` and pixel probabilities `[K, d]`.
fn bernoulli(weights: &Bound<'_, PyAny>, probs: &Bound<'_, PyAny>) -> PyResult<BernoulliMixture> {
    let conv = Convergence {
        n_iter: 0,
        converged: true,
        lower_bound: f64::NEG_INFINITY,
        max_iter: 0,
        tol: 0.0,
    };
    let probs = with_matrix(probs, |p| Ok(p.to_owned()))?;
    BernoulliMixture::from_parts(flat(weights, "weights")?, probs, conv).map_err(to_py)
}

/// Fits a Bernoulli mixture on the binary rows of `x`.
#[pyfunction]
fn bernoulli_fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_components: usize,
    alpha: f64,
    tol: f64,
    max_iter: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let params = BernoulliMixtureParams {
        n_components,
        max_iter,
        tol,
        alpha,
        seed,
    };
    let (fitted, interrupted) = with_matrix(x, |x| interrupt::run(py, || timed(|| params.fit(x))))?;
    let (fitted, seconds) = fitted;
    let fitted = fitted.map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("seconds", seconds)?;
    d.set_item("weights", to_array1(py, &fitted.weights))?;
    d.set_item("means", to_array2(py, fitted.probs.as_ref())?)?;
    convergence_into(&d, &fitted.convergence, interrupted)?;
    Ok(d)
}

/// Exact log P(x_i) per binary row.
#[pyfunction]
fn bernoulli_score_samples<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    weights: &Bound<'py, PyAny>,
    probs: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let m = bernoulli(weights, probs)?;
    let v = with_matrix(x, |x| py.detach(|| m.score_samples(x)).map_err(to_py))?;
    Ok(to_array1(py, &v))
}

/// Responsibilities `[n, K]` of binary rows.
#[pyfunction]
fn bernoulli_predict_proba<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    weights: &Bound<'py, PyAny>,
    probs: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let m = bernoulli(weights, probs)?;
    let p = with_matrix(x, |x| py.detach(|| m.predict_proba(x)).map_err(to_py))?;
    to_array2(py, p.as_ref())
}

/// `n` binary samples and their components.
#[pyfunction]
fn bernoulli_sample<'py>(
    py: Python<'py>,
    n: usize,
    seed: u64,
    weights: &Bound<'py, PyAny>,
    probs: &Bound<'py, PyAny>,
) -> PyResult<Samples<'py>> {
    let m = bernoulli(weights, probs)?;
    let (x, labels) = py.detach(|| m.sample(n, seed));
    let labels: Vec<i64> = labels.into_iter().map(|l| l as i64).collect();
    Ok((to_array2(py, x.as_ref())?, to_array1(py, &labels)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gmm_fit, m)?)?;
    m.add_function(wrap_pyfunction!(gmm_score_samples, m)?)?;
    m.add_function(wrap_pyfunction!(gmm_predict_proba, m)?)?;
    m.add_function(wrap_pyfunction!(gmm_predict, m)?)?;
    m.add_function(wrap_pyfunction!(gmm_criteria, m)?)?;
    m.add_function(wrap_pyfunction!(gmm_sample, m)?)?;
    m.add_function(wrap_pyfunction!(bernoulli_fit, m)?)?;
    m.add_function(wrap_pyfunction!(bernoulli_score_samples, m)?)?;
    m.add_function(wrap_pyfunction!(bernoulli_predict_proba, m)?)?;
    m.add_function(wrap_pyfunction!(bernoulli_sample, m)?)?;
    Ok(())
}
