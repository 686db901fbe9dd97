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

impl Criterion {
    /// The name as written on the command line and in tables: `BIC`, `AIC`.
    pub fn name(&self) -> &'static str {
        match self {
            Criterion::Bic => "BIC",
            Criterion::Aic => "AIC",
        }
    }
}

/// A warning when the best K is an end of the range tried that could have
/// been wider (the criterion may still fall beyond it); `None` inside the
/// range, or at K = 1, below which no mixture exists.
pub fn edge_warning(best: usize, ks: &RangeInclusive<usize>, criterion: &str) -> Option<String> {
    if ks.start() == ks.end() {
        return None;
    }
    if best == *ks.end() {
        Some(format!(
            "the best K by {criterion}, {best}, is the largest K tried: {criterion} may fall further beyond it; try --components {}..{}",
            ks.start(),
            best * 2
        ))
    } else if best == *ks.start() && best > 1 {
        Some(format!(
            "the best K by {criterion}, {best}, is the smallest K tried: {criterion} may fall further below it; try --components 1..{}",
            ks.end()
        ))
    } else {
        None
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
    let stage = crate::progress::Stage::start(
        "fitting mixtures",
        (ks.end() + 1).saturating_sub(*ks.start()),
        "sizes",
    );
    let rows = ks
        .map(|k| {
            stage.set_message(format!("K = {k}"));
            let _silence = crate::progress::Silence::new(); // no EM bar inside
            let gmm = GmmConfig {
                components: k,
                ..g.clone()
            }
            .params()
            .fit(x.as_ref())?;
            let ll = gmm.score(x.as_ref())?;
            let (n, p) = (x.nrows() as f64, gmm.n_parameters() as f64);
            stage.inc(1);
            Ok(SelectRow {
                k,
                bic: -2.0 * ll * n + p * n.ln(),
                aic: -2.0 * ll * n + 2.0 * p,
                log_likelihood: ll,
                n_iter: gmm.convergence.n_iter,
                converged: gmm.convergence.converged,
            })
        })
        .collect();
    stage.finish();
    rows
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_best_k_at_either_end_of_the_range_is_a_warning() {
        let ks = 2..=8;
        let top = edge_warning(8, &ks, "BIC").expect("largest K");
        assert!(
            top.contains("largest K tried") && top.contains("2..16"),
            "{top}"
        );
        let bottom = edge_warning(2, &ks, "AIC").expect("smallest K");
        assert!(
            bottom.contains("smallest K tried") && bottom.contains("1..8"),
            "{bottom}"
        );
        assert_eq!(edge_warning(5, &ks, "BIC"), None);
        // K = 1 is the smallest mixture there is; one K is no range.
        assert_eq!(edge_warning(1, &(1..=4), "BIC"), None);
        assert_eq!(edge_warning(3, &(3..=3), "BIC"), None);
    }

    #[test]
    fn criteria_are_named_as_in_tables() {
        assert_eq!(Criterion::Bic.name(), "BIC");
        assert_eq!(
            "aic".parse::<Criterion>().map(|c| c.name()).ok(),
            Some("AIC")
        );
    }
}
