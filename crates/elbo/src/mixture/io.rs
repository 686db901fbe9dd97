//! Mixtures in `model.safetensors`: every array as F64 under its
//! scikit-learn name (`weights`, `means`, `covariances`,
//! `precisions_cholesky`; `probs` for Bernoulli; `pca.*` for the PCA), and
//! how EM ended in the file's metadata. Loading checks every shape against
//! the covariance type recorded in `config.toml`.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use super::{BernoulliMixture, Convergence, CovarianceType, GaussianMixture, Mat, Pca};
use crate::{Error, Result};

/// Named F64 arrays with their shapes.
pub type Arrays = Vec<(String, Vec<usize>, Vec<f64>)>;

/// Serializes `arrays` with `meta` as safetensors bytes.
pub fn to_bytes(arrays: &Arrays, meta: HashMap<String, String>) -> Result<Vec<u8>> {
    let raw: Vec<Vec<u8>> = arrays
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = arrays
        .iter()
        .zip(&raw)
        .map(|((name, shape, _), raw)| {
            TensorView::new(Dtype::F64, shape.clone(), raw)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::internal(e.to_string()))
}

/// A parsed file: arrays by name, and the metadata.
pub struct Loaded {
    arrays: HashMap<String, (Vec<usize>, Vec<f64>)>,
    meta: HashMap<String, String>,
    path: std::path::PathBuf,
}

impl Loaded {
    /// Parses safetensors `bytes`; `path` names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Loaded> {
        let bad = |msg: String| Error::checkpoint(path, msg);
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a valid safetensors file ({e})")))?;
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a valid safetensors file ({e})")))?;
        let mut arrays = HashMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F64 {
                return Err(bad(format!(
                    "tensor '{name}' is {:?}; expected F64",
                    view.dtype()
                )));
            }
            let values = view
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .collect();
            arrays.insert(name, (view.shape().to_vec(), values));
        }
        let meta = header.metadata().clone().unwrap_or_default();
        Ok(Loaded {
            arrays,
            meta,
            path: path.to_path_buf(),
        })
    }

    /// Takes array `name`, which must have shape `shape`.
    pub fn take(&mut self, name: &str, shape: &[usize], what: &str) -> Result<Vec<f64>> {
        let (s, v) = self
            .arrays
            .remove(name)
            .ok_or_else(|| Error::checkpoint(&self.path, format!("tensor '{name}' is missing")))?;
        if s != shape {
            return Err(Error::checkpoint(
                &self.path,
                format!("tensor '{name}' has shape {s:?} but {what} needs {shape:?}"),
            ));
        }
        Ok(v)
    }

    /// The shape of array `name`.
    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        self.arrays
            .get(name)
            .map(|a| a.0.clone())
            .ok_or_else(|| Error::checkpoint(&self.path, format!("tensor '{name}' is missing")))
    }

    fn convergence(&self) -> Convergence {
        let get = |k: &str| self.meta.get(k).and_then(|v| v.parse::<f64>().ok());
        Convergence {
            n_iter: get("n_iter").unwrap_or(0.0) as usize,
            converged: self.meta.get("converged").is_some_and(|v| v == "true"),
            lower_bound: get("lower_bound").unwrap_or(f64::NAN),
            max_iter: get("max_iter").unwrap_or(0.0) as usize,
            tol: get("tol").unwrap_or(0.0),
        }
    }

    fn wrap(&self, e: Error) -> Error {
        match e {
            Error::InvalidArgument(msg) => Error::checkpoint(&self.path, msg),
            other => other,
        }
    }
}

fn meta(c: &Convergence) -> HashMap<String, String> {
    HashMap::from([
        ("n_iter".into(), c.n_iter.to_string()),
        ("converged".into(), c.converged.to_string()),
        ("lower_bound".into(), format!("{:e}", c.lower_bound)),
        ("max_iter".into(), c.max_iter.to_string()),
        ("tol".into(), format!("{:e}", c.tol)),
    ])
}

/// The arrays of a Gaussian mixture and its optional PCA, as bytes.
pub fn gmm_to_bytes(gmm: &GaussianMixture, pca: Option<&Pca>) -> Result<Vec<u8>> {
    let (k, d, kind) = (gmm.n_components(), gmm.n_features(), gmm.covariance_type());
    let mut arrays: Arrays = vec![
        ("weights".into(), vec![k], gmm.weights().to_vec()),
        ("means".into(), vec![k, d], gmm.means().to_vec()),
        (
            "covariances".into(),
            kind.shape(k, d),
            gmm.covariances().to_vec(),
        ),
        (
            "precisions_cholesky".into(),
            kind.shape(k, d),
            gmm.precisions_cholesky().to_vec(),
        ),
    ];
    if let Some(p) = pca {
        let (pd, pn) = (p.n_components(), p.n_features());
        arrays.push(("pca.mean".into(), vec![pn], p.mean.clone()));
        arrays.push((
            "pca.components".into(),
            vec![pd, pn],
            super::rows_of(p.components.as_ref()),
        ));
        arrays.push((
            "pca.explained_variance".into(),
            vec![pd],
            p.explained_variance.clone(),
        ));
        arrays.push(("pca.total_variance".into(), vec![1], vec![p.total_variance]));
    }
    to_bytes(&arrays, meta(&gmm.convergence))
}

/// A Gaussian mixture of covariance type `kind` (and a PCA when
/// `with_pca`) from safetensors `bytes` read from `path`.
pub fn gmm_from_bytes(
    bytes: &[u8],
    path: &Path,
    kind: CovarianceType,
    with_pca: bool,
) -> Result<(GaussianMixture, Option<Pca>)> {
    let mut f = Loaded::parse(bytes, path)?;
    let means_shape = f.shape("means")?;
    let [k, d] = means_shape[..] else {
        return Err(Error::checkpoint(
            path,
            format!("tensor 'means' has shape {means_shape:?}; expected [components, features]"),
        ));
    };
    let what = format!("a {kind} mixture of {k} components over {d} features");
    let weights = f.take("weights", &[k], &what)?;
    let means = f.take("means", &[k, d], &what)?;
    let cov = f.take("covariances", &kind.shape(k, d), &what)?;
    f.take("precisions_cholesky", &kind.shape(k, d), &what)?;
    let gmm = GaussianMixture::from_parts(kind, weights, means, cov, f.convergence())
        .map_err(|e| f.wrap(e))?;
    let pca = if with_pca {
        let pn = f.shape("pca.mean")?.first().copied().unwrap_or(0);
        let what = format!("a PCA of {d} components over {pn} features");
        let mean = f.take("pca.mean", &[pn], &what)?;
        let comps = f.take("pca.components", &[d, pn], &what)?;
        let var = f.take("pca.explained_variance", &[d], &what)?;
        let total = f.take("pca.total_variance", &[1], &what)?[0];
        let comps = Mat::from_fn(d, pn, |r, c| comps[r * pn + c]);
        Some(Pca::from_parts(mean, comps, var, total).map_err(|e| f.wrap(e))?)
    } else {
        None
    };
    Ok((gmm, pca))
}

/// A Bernoulli mixture as bytes.
pub fn bernoulli_to_bytes(m: &BernoulliMixture) -> Result<Vec<u8>> {
    let (k, d) = (m.n_components(), m.n_features());
    let arrays: Arrays = vec![
        ("weights".into(), vec![k], m.weights.clone()),
        ("probs".into(), vec![k, d], super::rows_of(m.probs.as_ref())),
    ];
    to_bytes(&arrays, meta(&m.convergence))
}

/// A Bernoulli mixture from safetensors `bytes` read from `path`.
pub fn bernoulli_from_bytes(bytes: &[u8], path: &Path) -> Result<BernoulliMixture> {
    let mut f = Loaded::parse(bytes, path)?;
    let shape = f.shape("probs")?;
    let [k, d] = shape[..] else {
        return Err(Error::checkpoint(
            path,
            format!("tensor 'probs' has shape {shape:?}; expected [components, pixels]"),
        ));
    };
    let what = format!("a Bernoulli mixture of {k} components over {d} pixels");
    let weights = f.take("weights", &[k], &what)?;
    let probs = f.take("probs", &[k, d], &what)?;
    let probs = Mat::from_fn(k, d, |c, j| probs[c * d + j]);
    BernoulliMixture::from_parts(weights, probs, f.convergence()).map_err(|e| f.wrap(e))
}
