//! What the two mixtures' native classes share ([`crate::gmm`],
//! [`crate::bernoulli`]): the fit's timing, its convergence as a dict, the
//! components of samples as an int64 array.

use elbo::mixture::Convergence;
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::to_array1;

/// Samples `[n, d]` and the component of each.
pub type Samples<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<i64>>);

/// `work`'s result and its wall seconds: the library's own time, which the
/// estimators report as `fit_seconds_` (the CLI's `fit_seconds`), so the
/// binding's overhead is the rest of `fit`.
pub fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let t = std::time::Instant::now();
    let out = work();
    (out, t.elapsed().as_secs_f64())
}

/// How EM ended, into `d`.
pub fn convergence_into(d: &Bound<'_, PyDict>, c: &Convergence, interrupted: bool) -> PyResult<()> {
    d.set_item("n_iter", c.n_iter)?;
    d.set_item("converged", c.converged)?;
    d.set_item("lower_bound", c.lower_bound)?;
    d.set_item("interrupted", interrupted)
}

/// Component indices as int64, numpy's index type.
pub fn labels_of(py: Python<'_>, labels: Vec<usize>) -> Bound<'_, PyArray1<i64>> {
    let labels: Vec<i64> = labels.into_iter().map(|l| l as i64).collect();
    to_array1(py, &labels)
}
