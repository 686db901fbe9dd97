//! `elbo._native`: the array conversions and calls into the `elbo` library
//! behind the Python package's estimators (`python/elbo/`). Everything a
//! model computes is the library's; this crate only turns numpy arrays into
//! its matrices and back, releases the GIL while it runs, turns Ctrl-C into
//! a stop request, and maps its errors to Python exceptions.

mod arrays;
mod bernoulli;
mod data;
mod gmm;
mod interrupt;
mod mixture;
mod run;

use pyo3::exceptions::{PyFileNotFoundError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// elbo's error as the Python exception a user expects: `ValueError` for
/// bad arguments and data, `FileNotFoundError` for a missing file,
/// `RuntimeError` for the rest; the message is elbo's.
pub(crate) fn to_py(e: elbo::Error) -> PyErr {
    let msg = e.to_string();
    match &e {
        elbo::Error::InvalidArgument(_) => PyValueError::new_err(msg),
        elbo::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        _ => PyRuntimeError::new_err(msg),
    }
}

/// Limits elbo to `n` CPU threads (rayon's global pool); only before the
/// first computation, as the library's `set_threads`.
#[pyfunction]
fn set_threads(n: usize) -> PyResult<()> {
    elbo::device::set_threads(n).map_err(to_py)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_threads, m)?)?;
    m.add_class::<gmm::GaussianMixtureModel>()?;
    m.add_class::<bernoulli::BernoulliMixtureModel>()?;
    data::register(m)?;
    run::register(m)?;
    Ok(())
}
