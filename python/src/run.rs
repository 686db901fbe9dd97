//! `RunModel`: a run folder loaded with the library's run API
//! (`elbo::run::Run`), the fitted model behind the Python `VAE`,
//! `PixelCNN` and `elbo.load`. Training goes through `elbo::run::train`
//! into a run folder (off the GIL; Ctrl-C stops after the current step and
//! leaves the last checkpoint); everything else is a call on the `Run`.

use std::path::PathBuf;

use elbo::data::ImageSet;
use elbo::eval::EvalOptions;
use elbo::families::RunConfig;
use elbo::families::mixture::Mixture;
use elbo::run::Run;
use elbo::train::{TrainOptions, TrainOutcome};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::bernoulli::BernoulliMixtureModel;
use crate::gmm::GaussianMixtureModel;
use crate::{interrupt, to_py};

/// A fitted model of any family, loaded from its run folder. Boxed: a `Run`
/// asks for a 64-byte alignment, which Python's object allocator does not
/// give.
#[pyclass(module = "elbo._native", frozen)]
pub struct RunModel {
    run: Box<Run>,
}

/// Rows of a C-ordered float32 array `[n, dim]` (the estimators convert
/// and check the range first) and their count.
fn rows(x: &PyReadonlyArray2<'_, f32>) -> PyResult<(Vec<f32>, usize)> {
    let n = x.shape()[0];
    let v = match x.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => x.as_array().iter().copied().collect(),
    };
    Ok((v, n))
}

/// `[n, d]` float32 values as a new array.
fn array2(py: Python<'_>, v: Vec<f32>, n: usize) -> PyResult<Bound<'_, PyArray2<f32>>> {
    let d = v.len().checked_div(n).unwrap_or(0);
    PyArray1::from_vec(py, v)
        .reshape([n, d])
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

impl RunModel {
    /// `x` (`[n, dim]`) as a set of the run's image shape.
    fn images(&self, x: &PyReadonlyArray2<'_, f32>) -> PyResult<ImageSet> {
        let s = self.run.shape().map_err(to_py)?;
        let (pixels, n) = rows(x)?;
        ImageSet::new(pixels, n, s.height, s.width, s.channels, None).map_err(to_py)
    }
}

impl RunModel {
    fn mixture(&self) -> PyResult<&Mixture> {
        self.run
            .model
            .as_any()
            .downcast_ref::<Mixture>()
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "{} holds a {} model, not a mixture",
                    self.run.dir.root.display(),
                    self.run.kind()
                ))
            })
    }
}

#[pymethods]
impl RunModel {
    /// Trains the model that `config` (the TOML text of a `config.toml`)
    /// describes into the new run folder `dir`; returns the loaded model
    /// and whether Ctrl-C stopped training (the model is then the last
    /// checkpoint's).
    #[staticmethod]
    fn train(py: Python<'_>, config: &str, dir: PathBuf) -> PyResult<(RunModel, bool)> {
        let config = RunConfig::from_toml(config, &dir.join("config.toml")).map_err(to_py)?;
        let opts = TrainOptions {
            quiet: true,
            ..TrainOptions::default()
        };
        let (outcome, interrupted) = interrupt::run(py, || elbo::run::train(&config, &dir, &opts))?;
        let stopped = matches!(outcome.map_err(to_py)?, TrainOutcome::Interrupted { .. });
        let run = py.detach(|| Run::load(&dir)).map_err(to_py)?;
        Ok((RunModel { run: Box::new(run) }, interrupted || stopped))
    }

    /// The model of run folder `dir`, as the CLI wrote it.
    #[staticmethod]
    fn load(py: Python<'_>, dir: PathBuf) -> PyResult<RunModel> {
        let run = py.detach(|| Run::load(&dir)).map_err(to_py)?;
        Ok(RunModel { run: Box::new(run) })
    }

    /// The family (`vae`, `pixelcnn`, `gmm`, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.run.kind()
    }

    /// The run folder.
    #[getter]
    fn path(&self) -> PathBuf {
        self.run.dir.root.clone()
    }

    /// Its `config.toml` as JSON text (Python reads JSON on every version).
    #[getter]
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.run.config).map_err(|e| {
            to_py(elbo::Error::internal(format!(
                "cannot write the config: {e}"
            )))
        })
    }

    /// (height, width, channels) of its images.
    #[getter]
    fn shape(&self) -> PyResult<(usize, usize, usize)> {
        let s = self.run.shape().map_err(to_py)?;
        Ok((s.height, s.width, s.channels))
    }

    /// Code dimensions of a model with a latent space.
    #[getter]
    fn latent_dim(&self) -> PyResult<usize> {
        Ok(self.run.latent().map_err(to_py)?.latent_dim())
    }

    /// Free parameters.
    #[getter]
    fn num_params(&self) -> usize {
        self.run.model.num_params()
    }

    /// The Gaussian mixture of a `gmm` run fitted on pixels (a run on PCA
    /// components has no scikit-learn counterpart: an error).
    fn gaussian_mixture(&self) -> PyResult<GaussianMixtureModel> {
        match self.mixture()? {
            Mixture::Gmm(g) if g.pca.is_none() => Ok(GaussianMixtureModel {
                model: g.gmm.clone(),
            }),
            _ => Err(PyValueError::new_err(format!(
                "{} holds a Gaussian mixture on PCA components, which elbo.GaussianMixture cannot hold: use it through the command line",
                self.run.dir.root.display()
            ))),
        }
    }

    /// The mixture of a `bernoulli-mixture` run.
    fn bernoulli_mixture(&self) -> PyResult<BernoulliMixtureModel> {
        match self.mixture()? {
            Mixture::Bernoulli(b) => Ok(BernoulliMixtureModel {
                model: (**b).clone(),
            }),
            Mixture::Gmm(_) => Err(PyValueError::new_err(format!(
                "{} holds a Gaussian mixture, not a mixture of Bernoullis",
                self.run.dir.root.display()
            ))),
        }
    }

    /// Posterior means `[n, latent]` of the images `x` (`[n, dim]`).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (v, n) = rows(&x)?;
        let z = py.detach(|| self.run.encode(&v)).map_err(to_py)?;
        array2(py, z, n)
    }

    /// The decoder's mean images `[n, dim]` of codes `z` (`[n, latent]`).
    fn decode<'py>(
        &self,
        py: Python<'py>,
        z: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (v, n) = rows(&z)?;
        let x = py.detach(|| self.run.decode(&v)).map_err(to_py)?;
        array2(py, x, n)
    }

    /// −log P(x) per image, nats: the IWAE bound with `k` importance
    /// samples for a VAE (Burda et al. 2016), the family's own likelihood
    /// (exact for pixel models and mixtures) for the others (`k` is None).
    #[pyo3(signature = (x, k, seed))]
    fn nll<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        k: Option<usize>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let set = self.images(&x)?;
        let v = py
            .detach(|| -> elbo::Result<Vec<f64>> {
                if let Some(k) = k {
                    return self.run.iwae(&set, k, seed);
                }
                let opts = EvalOptions {
                    seed,
                    iwae_samples: None,
                };
                match self.run.nll_per_image(&set, &opts)? {
                    Some((v, _method)) => Ok(v),
                    None => Err(elbo::Error::invalid(format!(
                        "the {} model in {} has no likelihood",
                        self.run.kind(),
                        self.run.dir.root.display()
                    ))),
                }
            })
            .map_err(to_py)?;
        Ok(PyArray1::from_vec(py, v))
    }

    /// `n` images `[n, dim]` drawn from the model.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let v = py.detach(|| self.run.sample(n, seed)).map_err(to_py)?;
        array2(py, v, n)
    }

    /// Images `x` (`[n, dim]`) with their first `rows` rows kept and the
    /// rest drawn pixel by pixel.
    fn complete<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        rows_given: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (v, n) = rows(&x)?;
        let out = py
            .detach(|| self.run.complete(v, rows_given, seed, None))
            .map_err(to_py)?;
        array2(py, out, n)
    }
}

/// Rewrites the `config.toml` of run folder `dir` so that its data is the
/// `.npy` file `data` (a copied run folder names its own copy of the
/// training images).
#[pyfunction]
fn point_data_at(dir: PathBuf, data: PathBuf) -> PyResult<()> {
    let run_dir = elbo::folder::RunDir::new(&dir);
    let mut config = RunConfig::load_from(&run_dir).map_err(to_py)?;
    config.data.spec = elbo::data::DataSpec::Npy(data);
    config.save(&run_dir.config()).map_err(to_py)
}

/// Writes a run folder `dir` (new, or one that holds no run) for a
/// mixture fitted in Python: `config` (the TOML text of its `config.toml`)
/// and the weights `bytes` (`model.safetensors`); returns it loaded back,
/// which checks that the two agree.
#[pyfunction]
fn write_mixture_run(
    py: Python<'_>,
    dir: PathBuf,
    config: &str,
    bytes: &[u8],
) -> PyResult<RunModel> {
    let run_dir = elbo::folder::RunDir::new(&dir);
    let config = RunConfig::from_toml(config, &run_dir.config()).map_err(to_py)?;
    {
        let _lock = run_dir.prepare_new(false).map_err(to_py)?;
        config.save(&run_dir.config()).map_err(to_py)?;
        elbo::fsutil::atomic_write(&run_dir.model(), bytes).map_err(to_py)?;
    }
    RunModel::load(py, dir)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RunModel>()?;
    m.add_function(wrap_pyfunction!(point_data_at, m)?)?;
    m.add_function(wrap_pyfunction!(write_mixture_run, m)?)
}
