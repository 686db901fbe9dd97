//! `BernoulliMixtureModel`: a fitted mixture of Bernoullis of the library,
//! held by the Python estimator (`BernoulliMixture._model`); it pickles as
//! the run folder's safetensors bytes.

use std::path::Path;

use elbo::mixture::{BernoulliMixture, BernoulliMixtureParams, io};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::arrays::{to_array1, to_array2, with_matrix};
use crate::mixture::{Samples, convergence_into, labels_of, timed};
use crate::{interrupt, to_py};

/// A fitted mixture of Bernoullis.
#[pyclass(module = "elbo._native", frozen)]
pub struct BernoulliMixtureModel {
    pub(crate) model: BernoulliMixture,
}

#[pymethods]
impl BernoulliMixtureModel {
    /// Fits on the binary rows of `x`. Returns the model and a dict:
    /// `seconds`, `n_iter`, `converged`, `lower_bound`, `interrupted`.
    #[staticmethod]
    fn fit<'py>(
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_components: usize,
        alpha: f64,
        tol: f64,
        max_iter: usize,
        seed: u64,
    ) -> PyResult<(BernoulliMixtureModel, Bound<'py, PyDict>)> {
        let params = BernoulliMixtureParams {
            n_components,
            max_iter,
            tol,
            alpha,
            seed,
        };
        let ((fitted, seconds), interrupted) =
            with_matrix(x, |x| interrupt::run(py, || timed(|| params.fit(x))))?;
        let model = fitted.map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("seconds", seconds)?;
        convergence_into(&d, &model.convergence, interrupted)?;
        Ok((BernoulliMixtureModel { model }, d))
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
        to_array1(py, &self.model.weights)
    }

    /// Pixel probabilities `[K, d]`.
    #[getter]
    fn means<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_array2(py, self.model.probs.as_ref())
    }

    /// Exact log P(x_i) per binary row.
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

    /// Responsibilities `[n, K]` of binary rows.
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

    /// `n` binary samples and their components.
    fn sample<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> PyResult<Samples<'py>> {
        let (x, labels) = py.detach(|| self.model.sample(n, seed));
        Ok((to_array2(py, x.as_ref())?, labels_of(py, labels)))
    }

    /// The safetensors bytes a run folder stores (`model.safetensors`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = io::bernoulli_to_bytes(&self.model).map_err(to_py)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A mixture from [`Self::to_bytes`]'s bytes.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<BernoulliMixtureModel> {
        let model = io::bernoulli_from_bytes(bytes, Path::new("<pickle>")).map_err(to_py)?;
        Ok(BernoulliMixtureModel { model })
    }

    /// Pickles as (`from_bytes`, (bytes,)).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let py = slf.py();
        let ctor = py
            .get_type::<BernoulliMixtureModel>()
            .getattr("from_bytes")?;
        let args = (slf.get().to_bytes(py)?,).into_pyobject(py)?.into_any();
        Ok((ctor, args))
    }
}
