//! The Gaussian mixture's EM: a params builder (linfa / scikit-learn style)
//! whose [`GaussianMixtureParams::fit`] returns a fitted [`GaussianMixture`].
//! The loop, initializations and stopping rule follow scikit-learn 1.9's
//! `BaseMixture.fit_predict` step for step, so both give the same numbers
//! from the same start.

use crate::kernels::gemm::matmul_clean as matmul;
use faer::{Accum, Mat, MatRef, Par};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::covariance::{self, CovarianceType};
use super::estep::{self, Source, Stats, Want};
use super::gaussian::{Params, Prepared};
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

pub use super::fitted::{Convergence, GaussianMixture};

/// How EM's starting point is found (scikit-learn's `init_params`). Each
/// gives hard or soft responsibilities from which the first weights, means
/// and covariances are estimated exactly as in an M-step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Init {
    /// One sample per component, chosen by k-means++ (the default). As in
    /// scikit-learn, each first covariance is then `reg_covar`·I.
    #[default]
    #[serde(rename = "k-means++")]
    KmeansPlusPlus,
    /// The clusters of Lloyd's k-means (from k-means++ seeds).
    #[serde(rename = "k-means")]
    Kmeans,
    /// Uniform random responsibilities, normalized per sample.
    #[serde(rename = "random")]
    Random,
}

impl std::str::FromStr for Init {
    type Err = Error;

    /// Parses `k-means++`, `k-means` and `random`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "k-means++" | "kmeans++" => Ok(Init::KmeansPlusPlus),
            "k-means" | "kmeans" => Ok(Init::Kmeans),
            "random" => Ok(Init::Random),
            _ => Err(Error::invalid(format!(
                "unknown init '{s}': expected k-means++, k-means or random"
            ))),
        }
    }
}

/// Settings of a Gaussian mixture fit; defaults are scikit-learn's.
#[derive(Debug, Clone)]
pub struct GaussianMixtureParams {
    /// Number of components K.
    pub n_components: usize,
    /// Form of the covariances.
    pub covariance_type: CovarianceType,
    /// Added to the diagonal of every covariance (keeps them positive definite).
    pub reg_covar: f64,
    /// EM stops when the mean log-likelihood changes by less than this.
    pub tol: f64,
    /// Most EM iterations per initialization.
    pub max_iter: usize,
    /// Initializations tried; the one with the best final lower bound is kept.
    pub n_init: usize,
    /// How the responsibilities that start EM are found.
    pub init: Init,
    /// Given initial means `[K, d]`: every sample is assigned to its nearest
    /// given mean, which yields the first weights and covariances; the means
    /// are the given ones. Overrides `init`.
    pub means_init: Option<Mat<f64>>,
    /// Given initial weights `[K]` (scikit-learn's `weights_init`): replace
    /// the weights estimated from the first responsibilities.
    pub weights_init: Option<Vec<f64>>,
    /// Given initial precisions Σ⁻¹ in [`CovarianceType::shape`], row-major
    /// (scikit-learn's `precisions_init`): the first E-step uses their
    /// Cholesky factors instead of those of the estimated covariances.
    pub precisions_init: Option<Vec<f64>>,
    /// Continue from this fitted model instead of initializing (one run,
    /// starting from its lower bound): scikit-learn's `warm_start`.
    pub warm_start: Option<GaussianMixture>,
    /// Seeds the initializations (initialization i uses stream i).
    pub seed: u64,
}

impl GaussianMixtureParams {
    /// scikit-learn's defaults for `k` components: full covariances,
    /// `reg_covar` 1e-6, `tol` 1e-3, 100 iterations, one k-means++ start.
    pub fn new(k: usize) -> Self {
        GaussianMixtureParams {
            n_components: k,
            covariance_type: CovarianceType::Full,
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 100,
            n_init: 1,
            init: Init::KmeansPlusPlus,
            means_init: None,
            weights_init: None,
            precisions_init: None,
            warm_start: None,
            seed: 0,
        }
    }

    /// Sets the covariance type.
    pub fn covariance_type(mut self, c: CovarianceType) -> Self {
        self.covariance_type = c;
        self
    }
    /// Sets `reg_covar`.
    pub fn reg_covar(mut self, v: f64) -> Self {
        self.reg_covar = v;
        self
    }
    /// Sets the convergence tolerance.
    pub fn tol(mut self, v: f64) -> Self {
        self.tol = v;
        self
    }
    /// Sets the iteration limit.
    pub fn max_iter(mut self, v: usize) -> Self {
        self.max_iter = v;
        self
    }
    /// Sets the number of initializations.
    pub fn n_init(mut self, v: usize) -> Self {
        self.n_init = v;
        self
    }
    /// Sets the initialization method.
    pub fn init(mut self, v: Init) -> Self {
        self.init = v;
        self
    }
    /// Starts from the given means `[K, d]`.
    pub fn means_init(mut self, m: Mat<f64>) -> Self {
        self.means_init = Some(m);
        self
    }
    /// Starts from the given weights `[K]`.
    pub fn weights_init(mut self, w: Vec<f64>) -> Self {
        self.weights_init = Some(w);
        self
    }
    /// Starts from the given precisions ([`CovarianceType::shape`], row-major).
    pub fn precisions_init(mut self, p: Vec<f64>) -> Self {
        self.precisions_init = Some(p);
        self
    }
    /// Continues from a fitted model.
    pub fn warm_start(mut self, m: GaussianMixture) -> Self {
        self.warm_start = Some(m);
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }

    /// Rejects settings that cannot fit `n` samples of `d` features.
    pub fn validate(&self, n: usize, d: usize) -> Result<()> {
        let k = self.n_components;
        if k == 0 {
            return Err(Error::invalid("a mixture needs at least 1 component"));
        }
        if k > n {
            return Err(Error::invalid(format!(
                "{k} components need at least {k} samples; the data has {n}"
            )));
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return Err(Error::invalid(format!(
                "reg_covar must be a non-negative number, got {}",
                self.reg_covar
            )));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::invalid(format!(
                "tol must be a non-negative number, got {}",
                self.tol
            )));
        }
        if self.n_init == 0 {
            return Err(Error::invalid("n_init must be at least 1"));
        }
        if let Some(m) = &self.means_init
            && (m.nrows() != k
                || m.ncols() != d
                || !(0..k).all(|c| (0..d).all(|j| m[(c, j)].is_finite())))
        {
            return Err(Error::invalid(format!(
                "initial means must be {k} x {d} finite values, got {} x {}",
                m.nrows(),
                m.ncols()
            )));
        }
        if let Some(w) = &self.weights_init {
            let total: f64 = w.iter().sum();
            if w.len() != k
                || w.iter().any(|v| !(v.is_finite() && *v >= 0.0))
                || (total - 1.0).abs() > 1e-6
            {
                return Err(Error::invalid(format!(
                    "initial weights must be {k} non-negative values summing to 1, got {} values summing to {total}",
                    w.len()
                )));
            }
        }
        if let Some(p) = &self.precisions_init {
            let shape = self.covariance_type.shape(k, d);
            let expect: usize = shape.iter().product();
            if p.len() != expect || p.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid(format!(
                    "initial {} precisions must be {expect} finite values (shape {shape:?}), got {}",
                    self.covariance_type,
                    p.len()
                )));
            }
        }
        if let Some(w) = &self.warm_start {
            let p = w.params();
            if (p.k, p.d, p.kind) != (k, d, self.covariance_type) {
                return Err(Error::invalid(format!(
                    "warm start from a {} mixture of {} components over {} features; this fit asks for {} of {k} over {d}",
                    p.kind, p.k, p.d, self.covariance_type
                )));
            }
        }
        Ok(())
    }

    /// Fits by EM (scikit-learn's `fit`): `n_init` starts, each iterated
    /// until the mean log-likelihood changes by less than `tol` or for
    /// `max_iter` rounds, the best kept. A component whose covariance
    /// becomes singular (collapsed onto a point, or a constant feature
    /// with `reg_covar` 0) is an error that names it and suggests `reg_covar`;
    /// no NaN is ever returned. Non-convergence is reported in
    /// [`GaussianMixture::convergence`], not an error.
    ///
    /// ```
    /// use elbo::mixture::{matrix_from_rows, CovarianceType, GaussianMixtureParams};
    /// let x = matrix_from_rows(&[0.0, 0.1, 0.2, 5.0, 5.1, 5.3], 1)?; // 6 samples, 1 feature
    /// let gmm = GaussianMixtureParams::new(2)
    ///     .covariance_type(CovarianceType::Diag)
    ///     .fit(x.as_ref())?;
    /// assert!(gmm.convergence.converged);
    /// assert_eq!(gmm.predict(x.as_ref())?[0], gmm.predict(x.as_ref())?[1]);
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn fit(&self, x: MatRef<'_, f64>) -> Result<GaussianMixture> {
        super::check_data(x, 1, "Gaussian mixture")?;
        self.validate(x.nrows(), x.ncols())?;
        let xtx = (self.covariance_type == CovarianceType::Tied).then(|| {
            let mut g = Mat::<f64>::zeros(x.ncols(), x.ncols());
            matmul(
                g.as_mut(),
                Accum::Replace,
                x.transpose(),
                x,
                1.0,
                Par::rayon(0),
            );
            g
        });
        let runs = if self.warm_start.is_some() {
            1
        } else {
            self.n_init
        };
        let mut best: Option<(Params, Convergence)> = None;
        for run in 0..runs {
            let (start, lb) = match &self.warm_start {
                Some(w) => (w.params().clone(), w.convergence.lower_bound),
                None => {
                    let mut rng = seeds::rng(self.seed, run, 0, Purpose::Init);
                    (
                        self.initialize(x, xtx.as_ref(), &mut rng)?,
                        f64::NEG_INFINITY,
                    )
                }
            };
            let (params, conv, stop) = self.em(x, xtx.as_ref(), start, lb)?;
            if best
                .as_ref()
                .is_none_or(|b| conv.lower_bound > b.1.lower_bound)
            {
                best = Some((params, conv));
            }
            if stop {
                break;
            }
        }
        let (params, convergence) = best.ok_or_else(|| Error::invalid("no initialization ran"))?;
        Ok(GaussianMixture::from_params(params, convergence))
    }

    /// EM iterations from `params`; `lb` is the previous lower bound. A
    /// stop request ([`crate::device::request_stop`], Ctrl-C) ends EM after
    /// the current iteration with its parameters, not converged, and says
    /// so in the returned flag (the remaining initializations are skipped).
    fn em(
        &self,
        x: MatRef<'_, f64>,
        xtx: Option<&Mat<f64>>,
        mut params: Params,
        mut lb: f64,
    ) -> Result<(Params, Convergence, bool)> {
        let full = self.covariance_type == CovarianceType::Full;
        let want = Want {
            stats: true,
            second: true,
            log_prob: false,
            resp: full,
        };
        let mut conv = Convergence {
            n_iter: 0,
            converged: false,
            lower_bound: lb,
            max_iter: self.max_iter,
            tol: self.tol,
        };
        let stage = crate::progress::Stage::start("EM", self.max_iter, "iterations at most");
        for iter in 1..=self.max_iter {
            stage.inc(1);
            let prev = lb;
            let prep = Prepared::new(&params);
            let (stats, out) = estep::pass(Source::Model(&prep), x, want);
            lb = stats.ll_sum / x.nrows() as f64;
            params = self.m_step(x, full.then_some(&out.resp[..]), xtx, stats, false)?;
            conv.n_iter = iter;
            conv.lower_bound = lb;
            if (lb - prev).abs() < self.tol {
                conv.converged = true;
                break;
            }
            if iter < self.max_iter && crate::device::take_stop_request() {
                return Ok((params, conv, true));
            }
        }
        stage.finish();
        Ok((params, conv, false))
    }

    /// Responsibilities of the chosen initialization, then parameters from
    /// them (scikit-learn's `_initialize_parameters` and `_initialize`).
    fn initialize(
        &self,
        x: MatRef<'_, f64>,
        xtx: Option<&Mat<f64>>,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<Params> {
        let (n, k) = (x.nrows(), self.n_components);
        let mut resp = vec![0.0; n * k];
        let one_hot = |resp: &mut Vec<f64>, labels: &[usize]| {
            for (i, &l) in labels.iter().enumerate() {
                resp[i * k + l] = 1.0;
            }
        };
        match (&self.means_init, self.init) {
            (Some(m), _) => one_hot(&mut resp, &super::kmeans::nearest(x, m.as_ref()).0),
            (None, Init::KmeansPlusPlus) => {
                for (c, i) in super::kmeans::seeds(x, k, rng)?.into_iter().enumerate() {
                    resp[i * k + c] = 1.0;
                }
            }
            (None, Init::Kmeans) => {
                one_hot(&mut resp, &super::kmeans::lloyd(x, k, 300, 1e-4, rng)?.1)
            }
            (None, Init::Random) => {
                for row in resp.chunks_mut(k) {
                    row.iter_mut().for_each(|v| *v = rng.random::<f64>());
                    let s: f64 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= s);
                }
            }
        }
        let want = Want {
            stats: true,
            second: true,
            log_prob: false,
            resp: false,
        };
        let (stats, _) = estep::pass::<Prepared>(Source::Given(&resp, k), x, want);
        let mut params = self.m_step(x, Some(&resp), xtx, stats, true)?;
        if let Some(m) = &self.means_init {
            params.means = super::rows_of(m.as_ref());
        }
        if let Some(w) = &self.weights_init {
            params.weights = w.clone();
        }
        if let Some(p) = &self.precisions_init {
            params.precisions_cholesky =
                covariance::cholesky_of_precisions(self.covariance_type, p, k, x.ncols())?;
        }
        Ok(params)
    }

    /// Weights, means and covariances from sufficient statistics
    /// (scikit-learn's `_estimate_gaussian_parameters`; n_k gets 10ε so an
    /// empty component gives finite values). `initial`: weights n_k / n as
    /// in `_initialize`, else n_k / Σ n_k as in `_m_step`.
    fn m_step(
        &self,
        x: MatRef<'_, f64>,
        resp: Option<&[f64]>,
        xtx: Option<&Mat<f64>>,
        mut stats: Stats,
        initial: bool,
    ) -> Result<Params> {
        let (n, d, k) = (x.nrows(), x.ncols(), self.n_components);
        stats.nk.iter_mut().for_each(|v| *v += 10.0 * f64::EPSILON);
        let means: Vec<f64> = (0..k * d)
            .map(|i| stats.sx[(i / d, i % d)] / stats.nk[i / d])
            .collect();
        let kind = self.covariance_type;
        let cov = covariance::estimate(kind, x, resp, xtx, &stats, &means, self.reg_covar)?;
        let m2 = match xtx {
            Some(g) => Mat::from_fn(1, d, |_, j| g[(j, j)] / n as f64),
            None => Mat::from_fn(k, d, |c, j| stats.sxx[(c, j)] / stats.nk[c]),
        };
        let prec = covariance::precision_cholesky(kind, &cov, k, d, &m2)?;
        let total: f64 = if initial {
            n as f64
        } else {
            stats.nk.iter().sum()
        };
        Ok(Params {
            kind,
            k,
            d,
            weights: stats.nk.iter().map(|v| v / total).collect(),
            means,
            covariances: cov,
            precisions_cholesky: prec,
        })
    }
}
