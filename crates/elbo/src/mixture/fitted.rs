//! A fitted Gaussian mixture: its parameters, scores, predictions, samples
//! and information criteria (scikit-learn's `GaussianMixture` methods).

use faer::{Mat, MatRef};
use rand::RngExt;

use super::covariance::{self, CovarianceType};
use super::estep::{self, Source, Want};
use super::gaussian::{Params, Prepared};
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

/// How EM ended.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Convergence {
    /// Iterations run by the kept initialization.
    pub n_iter: usize,
    /// Whether the change of the lower bound fell below `tol`.
    pub converged: bool,
    /// The mean log-likelihood (per sample) of the training data under the
    /// parameters before the last M-step (scikit-learn's `lower_bound_`).
    pub lower_bound: f64,
    /// The iteration limit it ran under.
    pub max_iter: usize,
    /// The tolerance it ran under.
    pub tol: f64,
}

impl Convergence {
    /// Before any iteration.
    pub(crate) fn default_for(max_iter: usize, tol: f64) -> Self {
        Convergence {
            n_iter: 0,
            converged: false,
            lower_bound: f64::NEG_INFINITY,
            max_iter,
            tol,
        }
    }

    /// A warning to show when EM stopped at `max_iter` without converging.
    pub fn warning(&self) -> Option<String> {
        (!self.converged && self.max_iter > 0).then(|| {
            format!(
                "EM did not converge in {} iterations (the mean log-likelihood still changed by tol = {} or more); raise max_iter or tol, or check the data",
                self.n_iter, self.tol
            )
        })
    }
}

/// A Gaussian mixture P(x) = Σ_m P(m) N(x; μ_m, Σ_m) fitted by
/// [`super::GaussianMixtureParams::fit`] (or restored from a run folder).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    params: Params,
    /// How the fit ended.
    pub convergence: Convergence,
}

impl GaussianMixture {
    pub(crate) fn from_params(params: Params, convergence: Convergence) -> Self {
        GaussianMixture {
            params,
            convergence,
        }
    }

    pub(crate) fn params(&self) -> &Params {
        &self.params
    }

    /// Rebuilds a mixture from its weights `[K]`, means `[K, d]` and
    /// covariances ([`CovarianceType::shape`]), all row-major; recomputes the
    /// precision Cholesky factors. Shapes that disagree with `kind`,
    /// weights that are not a distribution, or a covariance that is not
    /// positive definite are errors.
    pub fn from_parts(
        kind: CovarianceType,
        weights: Vec<f64>,
        means: Vec<f64>,
        covariances: Vec<f64>,
        convergence: Convergence,
    ) -> Result<Self> {
        let k = weights.len();
        if k == 0 || means.is_empty() || !means.len().is_multiple_of(k) {
            return Err(Error::invalid(format!(
                "{} mean values do not make {k} components",
                means.len()
            )));
        }
        let d = means.len() / k;
        let expect: usize = kind.shape(k, d).iter().product();
        if covariances.len() != expect {
            return Err(Error::invalid(format!(
                "a {kind} covariance of {k} components over {d} features has shape {:?} ({expect} values), got {} values",
                kind.shape(k, d),
                covariances.len()
            )));
        }
        let total: f64 = weights.iter().sum();
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || (total - 1.0).abs() > 1e-6 {
            return Err(Error::invalid(
                "mixture weights must be non-negative and sum to 1",
            ));
        }
        if means.iter().chain(&covariances).any(|v| !v.is_finite()) {
            return Err(Error::invalid("means and covariances must be finite"));
        }
        // Only exact singularity is refused here: scale 0 for the threshold.
        let prec =
            covariance::precision_cholesky(kind, &covariances, k, d, &Mat::zeros(k.max(1), d))?;
        let params = Params {
            kind,
            k,
            d,
            weights,
            means,
            covariances,
            precisions_cholesky: prec,
        };
        Ok(GaussianMixture {
            params,
            convergence,
        })
    }

    /// Number of components K.
    pub fn n_components(&self) -> usize {
        self.params.k
    }
    /// Number of features d.
    pub fn n_features(&self) -> usize {
        self.params.d
    }
    /// The covariance type.
    pub fn covariance_type(&self) -> CovarianceType {
        self.params.kind
    }
    /// Mixture weights P(m): `[K]`.
    pub fn weights(&self) -> &[f64] {
        &self.params.weights
    }
    /// Means, `[K, d]` row-major.
    pub fn means(&self) -> &[f64] {
        &self.params.means
    }
    /// Covariances, [`CovarianceType::shape`] row-major.
    pub fn covariances(&self) -> &[f64] {
        &self.params.covariances
    }
    /// Cholesky factors of the precisions (same shape; U Uᵀ = Σ⁻¹).
    pub fn precisions_cholesky(&self) -> &[f64] {
        &self.params.precisions_cholesky
    }

    fn check(&self, x: MatRef<'_, f64>) -> Result<()> {
        super::check_data(x, 1, "Gaussian mixture")?;
        if x.ncols() != self.params.d {
            return Err(Error::invalid(format!(
                "the data has {} features but the mixture was fitted on {}",
                x.ncols(),
                self.params.d
            )));
        }
        Ok(())
    }

    /// log p(x_i) for every row of `x` (scikit-learn's `score_samples`).
    pub fn score_samples(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        self.check(x)?;
        let want = Want {
            stats: false,
            second: false,
            log_prob: true,
            resp: false,
        };
        Ok(
            estep::pass(Source::Model(&Prepared::new(&self.params)), x, want)
                .1
                .log_prob,
        )
    }

    /// The mean log-likelihood per sample (scikit-learn's `score`).
    pub fn score(&self, x: MatRef<'_, f64>) -> Result<f64> {
        let s = self.score_samples(x)?;
        Ok(s.iter().sum::<f64>() / s.len() as f64)
    }

    /// Responsibilities P(m | x_i): `[n, K]`, rows summing to 1.
    pub fn predict_proba(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        self.check(x)?;
        let want = Want {
            stats: false,
            second: false,
            log_prob: false,
            resp: true,
        };
        let resp = estep::pass(Source::Model(&Prepared::new(&self.params)), x, want)
            .1
            .resp;
        let k = self.params.k;
        Ok(Mat::from_fn(x.nrows(), k, |i, c| resp[i * k + c]))
    }

    /// The most probable component of every row.
    pub fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<usize>> {
        let p = self.predict_proba(x)?;
        Ok((0..p.nrows())
            .map(|i| (0..p.ncols()).fold(0, |b, c| if p[(i, c)] > p[(i, b)] { c } else { b }))
            .collect())
    }

    /// `n` samples as the lecture describes: pick a component m with
    /// probability P(m), then draw x = μ_m + L_m z with Σ_m = L_m L_mᵀ and
    /// z ~ N(0, I). Returns the samples `[n, d]` and their components.
    pub fn sample(&self, n: usize, seed: u64) -> Result<(Mat<f64>, Vec<usize>)> {
        let p = &self.params;
        let factors = (0..p.k)
            .map(|c| covariance::covariance_factor(p.kind, &p.covariances, c, p.d))
            .collect::<Result<Vec<_>>>()?;
        let mut rng = seeds::rng(seed, 0, 0, Purpose::Noise);
        let mut out = Mat::<f64>::zeros(n, p.d);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let m = p.weights.iter().position(|w| {
                acc += w;
                acc > u
            });
            let m = m.unwrap_or(p.k - 1);
            let z: Vec<f64> = (0..p.d)
                .map(|_| rng.sample(rand_distr::StandardNormal))
                .collect();
            let l = &factors[m];
            for a in 0..p.d {
                let lz: f64 = (0..=a).map(|b| l[(a, b)] * z[b]).sum();
                out[(i, a)] = p.means[m * p.d + a] + lz;
            }
            labels.push(m);
        }
        Ok((out, labels))
    }

    /// Free parameters: covariances, means and K − 1 weights.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.params.k, self.params.d);
        self.params.kind.n_parameters(k, d) + k * d + k - 1
    }

    /// Bayesian information criterion on `x`: −2 log L + p ln n (lower is better).
    pub fn bic(&self, x: MatRef<'_, f64>) -> Result<f64> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + self.n_parameters() as f64 * n.ln())
    }

    /// Akaike information criterion on `x`: −2 log L + 2p (lower is better).
    pub fn aic(&self, x: MatRef<'_, f64>) -> Result<f64> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + 2.0 * self.n_parameters() as f64)
    }
}
