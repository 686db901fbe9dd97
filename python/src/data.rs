//! The embedded data set as numpy arrays.

use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::to_py;

/// Pixels and labels.
type Digits<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<u8>>);

/// The embedded digits: pixels `[1797, 64]` float32 in [0, 1] (8×8 images,
/// row-major) and labels `[1797]` uint8.
#[pyfunction]
fn load_digits(py: Python<'_>) -> PyResult<Digits<'_>> {
    let set = elbo::data::digits().map_err(to_py)?;
    let dim = set.dim();
    let labels = set
        .labels
        .clone()
        .ok_or_else(|| PyRuntimeError::new_err("the embedded digits have no labels"))?;
    let pixels = PyArray1::from_vec(py, set.pixels)
        .reshape([set.n, dim])
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((pixels, PyArray1::from_vec(py, labels)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_digits, m)?)
}
