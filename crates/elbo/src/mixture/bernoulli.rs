//! A mixture of Bernoullis for binary images, fitted by EM:
//! P(x) = Σ_m P(m) Π_j μ_mj^x_j (1 − μ_mj)^(1 − x_j). Its log-likelihood is
//! exact, in nats per image, so it compares directly with the VAE's and
//! PixelCNN's numbers (Larochelle & Murray 2011 report about 137.6 nats on
//! binarized MNIST test with 500 components).

use crate::kernels::gemm::matmul_clean as matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand::RngExt;

use super::estep::{self, Components, Source, Want};
use super::fitted::Convergence;
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

/// Settings of a Bernoulli mixture fit.
#[derive(Debug, Clone, PartialEq)]
pub struct BernoulliMixtureParams {
    /// Number of components K.
    pub n_components: usize,
    /// Most EM iterations.
    pub max_iter: usize,
    /// EM stops when the mean log-likelihood changes by less than this.
    pub tol: f64,
    /// Pseudo-count of a symmetric Beta(α + 1, α + 1) prior on each pixel
    /// probability: μ = (Σ r x + α) / (Σ r + 2α), the MAP M-step. It keeps
    /// μ away from 0 and 1, where a test image would cost infinite nats.
    pub alpha: f64,
    /// Seeds the initialization.
    pub seed: u64,
}

impl BernoulliMixtureParams {
    /// `k` components, 100 iterations, tol 1e-3, α = 1e-2.
    pub fn new(k: usize) -> Self {
        BernoulliMixtureParams {
            n_components: k,
            max_iter: 100,
            tol: 1e-3,
            alpha: 1e-2,
            seed: 0,
        }
    }

    /// Fits by EM. Each component starts halfway between a distinct random
    /// sample and the data mean, with equal weights. `x` must be binary.
    ///
    /// ```
    /// use elbo::mixture::{matrix_from_rows, BernoulliMixtureParams};
    /// let x = matrix_from_rows(&[1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0], 3)?;
    /// let bmm = BernoulliMixtureParams::new(2).fit(x.as_ref())?;
    /// assert!(bmm.score(x.as_ref())? > -0.8); // near log(1/2): two patterns, half each
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn fit(&self, x: MatRef<'_, f64>) -> Result<BernoulliMixture> {
        let (n, d, k) = (x.nrows(), x.ncols(), self.n_components);
        check_binary(x)?;
        if k == 0 || k > n {
            return Err(Error::invalid(format!(
                "a mixture of {k} components needs 1 ≤ K ≤ {n} (the number of samples)"
            )));
        }
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(self.alpha) || !ok(self.tol) {
            return Err(Error::invalid("alpha and tol must be non-negative numbers"));
        }
        let mut rng = seeds::rng(self.seed, 0, 0, Purpose::Init);
        let perm = rand::seq::index::sample(&mut rng, n, k);
        let mean: Vec<f64> = (0..d)
            .map(|j| x.col(j).iter().sum::<f64>() / n as f64)
            .collect();
        let probs = Mat::from_fn(k, d, |c, j| 0.5 * (x[(perm.index(c), j)] + mean[j]));
        let mut model = BernoulliMixture::from_parts(
            vec![1.0 / k as f64; k],
            probs,
            Convergence::default_for(self.max_iter, self.tol),
        )?;
        let want = Want {
            stats: true,
            second: false,
            log_prob: false,
            resp: false,
        };
        let mut lb = f64::NEG_INFINITY;
        let stage = crate::progress::Stage::start("EM", self.max_iter, "iterations at most");
        for iter in 1..=self.max_iter {
            stage.inc(1);
            let prev = lb;
            let (stats, _) = estep::pass(Source::Model(&model.prepared()), x, want);
            lb = stats.ll_sum / n as f64;
            let total: f64 = stats.nk.iter().sum();
            let probs = Mat::from_fn(k, d, |c, j| {
                (stats.sx[(c, j)] + self.alpha) / (stats.nk[c] + 2.0 * self.alpha)
            });
            model = BernoulliMixture::from_parts(
                stats.nk.iter().map(|v| v / total).collect(),
                probs,
                model.convergence,
            )?;
            model.convergence.n_iter = iter;
            model.convergence.lower_bound = lb;
            if (lb - prev).abs() < self.tol {
                model.convergence.converged = true;
                break;
            }
            // A stop request (Ctrl-C) keeps this iteration's model.
            if iter < self.max_iter && crate::device::take_stop_request() {
                break;
            }
        }
        stage.finish();
        Ok(model)
    }
}

/// Refuses data that is not all 0 or 1, naming the first offender.
fn check_binary(x: MatRef<'_, f64>) -> Result<()> {
    super::check_data(x, 1, "Bernoulli mixture")?;
    for j in 0..x.ncols() {
        if let Some(i) = x.col(j).iter().position(|&v| v != 0.0 && v != 1.0) {
            return Err(Error::invalid(format!(
                "the Bernoulli mixture needs binary data (0 or 1), but sample {i}, feature {j} is {}; binarize it (--pixels binary) or use a Gaussian mixture",
                x[(i, j)]
            )));
        }
    }
    Ok(())
}

/// Probabilities closer to 0 or 1 than this are clamped, so every image
/// has a finite log-likelihood even with α = 0.
const CLAMP: f64 = 1e-12;

/// A fitted mixture of Bernoullis.
#[derive(Debug, Clone, PartialEq)]
pub struct BernoulliMixture {
    /// P(m): `[K]`.
    pub weights: Vec<f64>,
    /// Pixel probabilities μ: `[K, d]`, in [1e-12, 1 − 1e-12].
    pub probs: Mat<f64>,
    /// How EM ended.
    pub convergence: Convergence,
}

/// E-step operands: log P(x | m) = x · (log μ − log(1 − μ)) + Σ log(1 − μ).
struct Prepared {
    /// `[d, K]`.
    lin: Mat<f64>,
    /// Σ_j log(1 − μ_mj) + log P(m).
    bias: Vec<f64>,
}

impl Components for Prepared {
    fn k(&self) -> usize {
        self.bias.len()
    }

    fn weighted_log_prob(
        &self,
        xc: MatRef<'_, f64>,
        _x2: MatRef<'_, f64>,
        mut out: MatMut<'_, f64>,
    ) {
        matmul(
            out.as_mut(),
            Accum::Replace,
            xc,
            self.lin.as_ref(),
            1.0,
            Par::Seq,
        );
        for (c, b) in self.bias.iter().enumerate() {
            for i in 0..xc.nrows() {
                out[(i, c)] += b;
            }
        }
    }
}

impl BernoulliMixture {
    /// A mixture from weights `[K]` and probabilities `[K, d]`
    /// (probabilities are clamped into [1e-12, 1 − 1e-12]).
    pub fn from_parts(
        weights: Vec<f64>,
        mut probs: Mat<f64>,
        convergence: Convergence,
    ) -> Result<Self> {
        let total: f64 = weights.iter().sum();
        if weights.len() != probs.nrows() || weights.is_empty() || probs.ncols() == 0 {
            return Err(Error::invalid(format!(
                "{} weights for {} components",
                weights.len(),
                probs.nrows()
            )));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || (total - 1.0).abs() > 1e-6 {
            return Err(Error::invalid(
                "mixture weights must be non-negative and sum to 1",
            ));
        }
        for j in 0..probs.ncols() {
            for c in 0..probs.nrows() {
                let p = probs[(c, j)];
                if !(0.0..=1.0).contains(&p) {
                    return Err(Error::invalid(format!(
                        "pixel probability {p} of component {c} is outside [0, 1]"
                    )));
                }
                probs[(c, j)] = p.clamp(CLAMP, 1.0 - CLAMP);
            }
        }
        Ok(BernoulliMixture {
            weights,
            probs,
            convergence,
        })
    }

    /// Refuses data that is not binary or not of the fitted width.
    fn check(&self, x: MatRef<'_, f64>) -> Result<()> {
        check_binary(x)?;
        if x.ncols() != self.n_features() {
            return Err(Error::invalid(format!(
                "the data has {} pixels per image but the mixture was fitted on {}",
                x.ncols(),
                self.n_features()
            )));
        }
        Ok(())
    }

    fn prepared(&self) -> Prepared {
        let (k, d) = (self.probs.nrows(), self.probs.ncols());
        let lin = Mat::from_fn(d, k, |j, c| {
            let p = self.probs[(c, j)];
            p.ln() - (-p).ln_1p()
        });
        let bias = (0..k)
            .map(|c| {
                (0..d).map(|j| (-self.probs[(c, j)]).ln_1p()).sum::<f64>() + self.weights[c].ln()
            })
            .collect();
        Prepared { lin, bias }
    }

    /// Number of components K.
    pub fn n_components(&self) -> usize {
        self.weights.len()
    }

    /// Pixels per image d.
    pub fn n_features(&self) -> usize {
        self.probs.ncols()
    }

    /// Exact log P(x_i) in nats for every (binary) row of `x`.
    pub fn score_samples(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        self.check(x)?;
        let want = Want {
            stats: false,
            second: false,
            log_prob: true,
            resp: false,
        };
        Ok(estep::pass(Source::Model(&self.prepared()), x, want)
            .1
            .log_prob)
    }

    /// Responsibilities P(m | x_i) of every (binary) row of `x`: `[n, K]`,
    /// rows summing to 1.
    pub fn predict_proba(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        self.check(x)?;
        let want = Want {
            stats: false,
            second: false,
            log_prob: false,
            resp: true,
        };
        let resp = estep::pass(Source::Model(&self.prepared()), x, want).1.resp;
        let k = self.n_components();
        Ok(Mat::from_fn(x.nrows(), k, |i, c| resp[i * k + c]))
    }

    /// Mean log P(x) in nats per image.
    pub fn score(&self, x: MatRef<'_, f64>) -> Result<f64> {
        let s = self.score_samples(x)?;
        Ok(s.iter().sum::<f64>() / s.len() as f64)
    }

    /// Free parameters: K·d probabilities and K − 1 weights.
    pub fn n_parameters(&self) -> usize {
        self.n_components() * self.n_features() + self.n_components() - 1
    }

    /// `n` binary samples: m ~ P(m), then x_j ~ Bernoulli(μ_mj). Returns the
    /// samples `[n, d]` and, as pictures, the component means μ_m in `means`.
    pub fn sample(&self, n: usize, seed: u64) -> (Mat<f64>, Vec<usize>) {
        let mut rng = seeds::rng(seed, 0, 0, Purpose::Noise);
        let d = self.n_features();
        let mut out = Mat::<f64>::zeros(n, d);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let m = self.weights.iter().position(|w| {
                acc += w;
                acc > u
            });
            let m = m.unwrap_or(self.weights.len() - 1);
            for j in 0..d {
                out[(i, j)] = f64::from(u8::from(rng.random::<f64>() < self.probs[(m, j)]));
            }
            labels.push(m);
        }
        (out, labels)
    }
}
