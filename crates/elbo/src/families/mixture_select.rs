//! Model selection: fit a Gaussian mixture for each K in a range and
//! compare the information criteria (scikit-learn's "Gaussian Mixture Model
//! Selection" example), written as CSV.

use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::path::Path;

use serde::Serialize;

use super::{ModelConfig, RunConfig};
use crate::mixture::{GmmConfig, Pca};

use crate::{Error, Result};

/// Which criterion picks K.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// Bayesian information criterion.
    Bic,
    /// Akaike information criterion.
    Aic,
}

impl std::str::FromStr for Criterion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "bic" => Ok(Criterion::Bic),
            "aic" => Ok(Criterion::Aic),
            _ => Err(Error::invalid(format!(
                "unknown criterion '{s}': expected bic or aic"
            ))),
        }
    }
}

/// One fitted K.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SelectRow {
    /// Number of components.
    pub k: usize,
    /// BIC on the training data.
    pub bic: f64,
    /// AIC on the training data.
    pub aic: f64,
    /// Mean log-likelihood per sample on the training data.
    pub log_likelihood: f64,
    /// EM iterations of the kept initialization.
    pub n_iter: usize,
    /// Whether EM converged.
    pub converged: bool,
}

/// Parses `A..B` (inclusive, as `2..20`) or a single K.
pub fn parse_range(s: &str) -> Result<RangeInclusive<usize>> {
    let bad = || {
        Error::invalid(format!(
            "expected a range of components like 2..20, got '{s}'"
        ))
    };
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (a, b.trim_start_matches('=')),
        None => (s, s),
    };
    let (a, b): (usize, usize) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok(a..=b)
}

/// Fits `config`'s Gaussian mixture (its data's training split, PCA as
/// configured) for every K in `ks`, one row per K.
///
/// ```no_run
/// use elbo::data::DataSpec;
/// use elbo::families::mixture_select::select_gmm;
/// use elbo::mixture::GmmConfig;
/// use elbo::families::{ModelConfig, RunConfig};
/// use elbo::train::{DataConfig, TrainConfig};
/// let config = RunConfig {
///     model: ModelConfig::Gmm(GmmConfig::new(1)),
///     data: DataConfig::new(DataSpec::Digits),
///     train: TrainConfig::default(),
/// };
/// for row in select_gmm(&config, 2..=20)? {
///     println!("K = {}: BIC {:.0}", row.k, row.bic);
/// }
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn select_gmm(config: &RunConfig, ks: RangeInclusive<usize>) -> Result<Vec<SelectRow>> {
    let ModelConfig::Gmm(g) = &config.model else {
        return Err(Error::invalid(
            "model selection needs a Gaussian mixture config",
        ));
    };
    config.validate()?;
    let splits = config.data.load()?;
    // Dequantized at the data's grey levels, as a fitted run would be.
    let mut config = config.clone();
    config.resolve(&splits)?;
    let x = super::mixture::features(&config, &splits.train, None, g.seed)?;
    let x = match g.pca {
        Some(d) if d > x.ncols() => {
            return Err(Error::invalid(format!(
                "--pca {d} is more than the {} values per image",
                x.ncols()
            )));
        }
        Some(d) => Pca::fit(x.as_ref(), d)?.transform(x.as_ref())?,
        None => x,
    };
    ks.map(|k| {
        let gmm = GmmConfig {
            components: k,
            ..g.clone()
        }
        .params()
        .fit(x.as_ref())?;
        let ll = gmm.score(x.as_ref())?;
        let (n, p) = (x.nrows() as f64, gmm.n_parameters() as f64);
        Ok(SelectRow {
            k,
            bic: -2.0 * ll * n + p * n.ln(),
            aic: -2.0 * ll * n + 2.0 * p,
            log_likelihood: ll,
            n_iter: gmm.convergence.n_iter,
            converged: gmm.convergence.converged,
        })
    })
    .collect()
}

/// The row with the lowest `criterion`.
pub fn best(rows: &[SelectRow], criterion: Criterion) -> Option<SelectRow> {
    let key = |r: &SelectRow| {
        if criterion == Criterion::Bic {
            r.bic
        } else {
            r.aic
        }
    };
    rows.iter()
        .copied()
        .min_by(|a, b| key(a).total_cmp(&key(b)))
}

/// Writes `rows` as CSV (`k,bic,aic,log_likelihood,n_iter,converged`), atomically.
pub fn write_csv(rows: &[SelectRow], out: &Path) -> Result<()> {
    let mut text = String::from("k,bic,aic,log_likelihood,n_iter,converged\n");
    for r in rows {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{}",
            r.k, r.bic, r.aic, r.log_likelihood, r.n_iter, r.converged
        );
    }
    crate::fsutil::atomic_write(out, text.as_bytes())
}
