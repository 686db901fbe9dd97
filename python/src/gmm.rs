//! `GaussianMixtureModel`: a fitted Gaussian mixture of the library held by
//! the Python estimator (`GaussianMixture._model`), so scoring reuses its
//! precision Cholesky factors instead of rebuilding the mixture per call.
//! It pickles as the run folder's safetensors bytes.

use std::path::Path;

use elbo::mixture::{CovarianceType, GaussianMixture, GaussianMixtureParams, Init, Mat, io};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::arrays::{flat, to_array1, to_array2, with_matrix};
use crate::mixture::{Samples, convergence_into, labels_of, timed};
use crate::{interrupt, to_py};

/// A fitted Gaussian mixture.
#[pyclass(module = "elbo._native", frozen)]
pub struct GaussianMixtureModel {
    pub(crate) model: GaussianMixture,
}

/// scikit-learn's settings of one fit, as `GaussianMixture.fit` passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct FitArgs<'py> {
    n_components: usize,
    covariance_type: String,
    tol: f64,
    reg_covar: f64,
    max_iter: usize,
    n_init: usize,
    init: String,
    seed: u64,
    weights_init: Option<Bound<'py, PyAny>>,
    means_init: Option<Bound<'py, PyAny>>,
    precisions_init: Option<Bound<'py, PyAny>>,
}

impl FitArgs<'_> {
    fn params(&self) -> PyResult<GaussianMixtureParams> {
        let kind: CovarianceType = self.covariance_type.parse().map_err(to_py)?;
        let mut params = GaussianMixtureParams::new(self.n_components)
            .covariance_type(kind)
            .tol(self.tol)
            .reg_covar(self.reg_covar)
            .max_iter(self.max_iter)
            .n_init(self.n_init)
            .init(self.init.parse::<Init>().map_err(to_py)?)
            .seed(self.seed);
        if let Some(w) = &self.weights_init {
            params = params.weights_init(flat(w, "weights_init")?);
        }
        if let Some(m) = &self.means_init {
            params = params.means_init(with_matrix(m, |m| Ok(m.to_owned()))?);
        }
        if let Some(p) = &self.precisions_init {
            params = params.precisions_init(flat(p, "precisions_init")?);
        }
        Ok(params)
    }
}

#[pymethods]
impl GaussianMixtureModel {
    /// Fits on the rows of `x` with `args` (a dict of [`FitArgs`]), from
    /// `warm` when given (scikit-learn's warm start). Returns the model and
    /// a dict: `seconds` (the library's EM time), `n_iter`, `converged`,
    /// `lower_bound`, `interrupted` (Ctrl-C stopped EM; the model is the
    /// last finished iteration's).
    #[staticmethod]
    #[pyo3(signature = (x, args, warm=None))]
    fn fit<'py>(
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        args: &Bound<'py, PyDict>,
        warm: Option<PyRef<'py, GaussianMixtureModel>>,
    ) -> PyResult<(GaussianMixtureModel, Bound<'py, PyDict>)> {
        let args: FitArgs<'py> = args.extract()?;
        let mut params = args.params()?;
        if let Some(previous) = warm {
            params = params.warm_start(previous.model.clone());
        }
        let ((fitted, seconds), interrupted) =
            with_matrix(x, |x| interrupt::run(py, || timed(|| params.fit(x))))?;
        let model = fitted.map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("seconds", seconds)?;
        convergence_into(&d, &model.convergence, interrupted)?;
        Ok((GaussianMixtureModel { model }, d))
    }

    /// How EM ended: `n_iter`, `converged`, `lower_bound`.
    #[getter]
    fn convergence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        convergence_into(&d, &self.model.convergence, false)?;
        Ok(d)
    }

    /// Weights `[K]`.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        to_array1(py, self.model.weights())
    }

    /// Means `[K, d]`.
    #[getter]
    fn means<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (k, d) = (self.model.n_components(), self.model.n_features());
        let means = self.model.means(); // [K·d] row-major
        to_array2(py, Mat::from_fn(k, d, |c, j| means[c * d + j]).as_ref())
    }

    /// Covariances, flat (the estimator reshapes them by covariance type).
    #[getter]
    fn covariances<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        to_array1(py, self.model.covariances())
    }

    /// Cholesky factors of the precisions, flat.
    #[getter]
    fn precisions_cholesky<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        to_array1(py, self.model.precisions_cholesky())
    }

    /// log p(x_i) per row.
    fn score_samples<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = with_matrix(x, |x| {
            py.detach(|| self.model.score_samples(x)).map_err(to_py)
        })?;
        Ok(to_array1(py, &v))
    }

    /// Responsibilities `[n, K]`.
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p = with_matrix(x, |x| {
            py.detach(|| self.model.predict_proba(x)).map_err(to_py)
        })?;
        to_array2(py, p.as_ref())
    }

    /// The most probable component per row.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let labels = with_matrix(x, |x| py.detach(|| self.model.predict(x)).map_err(to_py))?;
        Ok(labels_of(py, labels))
    }

    /// Bayesian information criterion on the rows of `x`.
    fn bic(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<f64> {
        with_matrix(x, |x| py.detach(|| self.model.bic(x)).map_err(to_py))
    }

    /// Akaike information criterion on the rows of `x`.
    fn aic(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<f64> {
        with_matrix(x, |x| py.detach(|| self.model.aic(x)).map_err(to_py))
    }

    /// `n` samples and their components.
    fn sample<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> PyResult<Samples<'py>> {
        let (x, labels) = py.detach(|| self.model.sample(n, seed)).map_err(to_py)?;
        Ok((to_array2(py, x.as_ref())?, labels_of(py, labels)))
    }

    /// The safetensors bytes a run folder stores (`model.safetensors`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = io::gmm_to_bytes(&self.model, None).map_err(to_py)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A mixture of covariance type `kind` from [`Self::to_bytes`]'s bytes.
    #[staticmethod]
    fn from_bytes(bytes: &[u8], kind: &str) -> PyResult<GaussianMixtureModel> {
        let kind: CovarianceType = kind.parse().map_err(to_py)?;
        let (model, _) =
            io::gmm_from_bytes(bytes, Path::new("<pickle>"), kind, false).map_err(to_py)?;
        Ok(GaussianMixtureModel { model })
    }

    /// Pickles as (`from_bytes`, (bytes, covariance type)).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let py = slf.py();
        let this = slf.get();
        let ctor = py
            .get_type::<GaussianMixtureModel>()
            .getattr("from_bytes")?;
        let kind = this.model.covariance_type().to_string();
        let args = (this.to_bytes(py)?, kind).into_pyobject(py)?.into_any();
        Ok((ctor, args))
    }
}
