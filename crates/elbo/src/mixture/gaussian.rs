//! The E-step operands of a Gaussian mixture, rebuilt after every M-step:
//! log N(x; μ, Σ) = −½ (d log 2π + ‖(x − μ) U‖²) + log det U with U the
//! precision's Cholesky factor (scikit-learn's `_estimate_log_gaussian_prob`),
//! written as matrix products so a chunk of rows costs one or two GEMMs.

use crate::kernels::gemm::matmul_clean as matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::covariance::{self, CovarianceType};
use super::estep::Components;

/// Fitted parameters, flat, in scikit-learn's shapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    pub kind: CovarianceType,
    pub k: usize,
    pub d: usize,
    /// `[K]`, summing to 1.
    pub weights: Vec<f64>,
    /// `[K, d]` row-major.
    pub means: Vec<f64>,
    /// [`CovarianceType::shape`] row-major.
    pub covariances: Vec<f64>,
    /// Same shape: U with U Uᵀ = Σ⁻¹ (upper triangular), or 1/σ.
    pub precisions_cholesky: Vec<f64>,
}

/// `Full`/`Tied`: y = x U − μ U per component; `Diag`/`Spherical`:
/// Σ_j p_j (x_j − μ_j)² = x² · p − 2 x · (μ p) + μ² · p.
pub(crate) enum Prepared {
    Cholesky {
        /// `[d, K·d]` (full: U_1 … U_K side by side) or `[d, d]` (tied).
        proj: Mat<f64>,
        /// μ_k U_k: `[K, d]`.
        offset: Mat<f64>,
        /// −½ d log 2π + log det U_k + log P(k).
        bias: Vec<f64>,
    },
    Diagonal {
        /// (−2 μ p)ᵀ: `[d, K]`.
        lin: Mat<f64>,
        /// pᵀ: `[d, K]`.
        quad: Mat<f64>,
        /// −½ (d log 2π + Σ μ² p) + log det U_k + log P(k).
        bias: Vec<f64>,
    },
}

impl Prepared {
    pub fn new(p: &Params) -> Prepared {
        let (k, d) = (p.k, p.d);
        let log_det = covariance::log_det_cholesky(p.kind, &p.precisions_cholesky, k, d);
        let half_log_2pi = 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln();
        let mut bias: Vec<f64> = (0..k)
            .map(|c| log_det[c] - half_log_2pi + p.weights[c].ln())
            .collect();
        match p.kind {
            CovarianceType::Full | CovarianceType::Tied => {
                let blocks = if p.kind == CovarianceType::Full { k } else { 1 };
                let pc = &p.precisions_cholesky;
                // proj[a, b·d + j] = U_b[a, j]
                let proj = Mat::from_fn(d, blocks * d, |a, col| {
                    let (b, j) = (col / d, col % d);
                    pc[b * d * d + a * d + j]
                });
                let offset = Mat::from_fn(k, d, |c, j| {
                    let b = if blocks == 1 { 0 } else { c };
                    (0..d)
                        .map(|a| p.means[c * d + a] * pc[b * d * d + a * d + j])
                        .sum()
                });
                Prepared::Cholesky { proj, offset, bias }
            }
            CovarianceType::Diag | CovarianceType::Spherical => {
                let prec = |c: usize, j: usize| {
                    let u = match p.kind {
                        CovarianceType::Diag => p.precisions_cholesky[c * d + j],
                        _ => p.precisions_cholesky[c],
                    };
                    u * u
                };
                let lin = Mat::from_fn(d, k, |j, c| -2.0 * p.means[c * d + j] * prec(c, j));
                let quad = Mat::from_fn(d, k, |j, c| prec(c, j));
                for (c, b) in bias.iter_mut().enumerate() {
                    let m2p: f64 = (0..d)
                        .map(|j| p.means[c * d + j].powi(2) * prec(c, j))
                        .sum();
                    *b -= 0.5 * m2p;
                }
                Prepared::Diagonal { lin, quad, bias }
            }
        }
    }
}

impl Components for Prepared {
    fn k(&self) -> usize {
        match self {
            Prepared::Cholesky { bias, .. } | Prepared::Diagonal { bias, .. } => bias.len(),
        }
    }

    fn weighted_log_prob(
        &self,
        xc: MatRef<'_, f64>,
        x2: MatRef<'_, f64>,
        mut out: MatMut<'_, f64>,
    ) {
        let m = xc.nrows();
        match self {
            Prepared::Cholesky { proj, offset, bias } => {
                let (k, d) = (offset.nrows(), offset.ncols());
                let mut y = Mat::<f64>::zeros(m, proj.ncols()); // [m, K·d] or [m, d]
                matmul(y.as_mut(), Accum::Replace, xc, proj.as_ref(), 1.0, Par::Seq);
                let shared = proj.ncols() == d;
                for c in 0..k {
                    let col0 = if shared { 0 } else { c * d };
                    let mut acc = vec![0.0; m];
                    for j in 0..d {
                        let o = offset[(c, j)];
                        for (a, v) in acc.iter_mut().zip(y.col_as_slice(col0 + j)) {
                            *a += (v - o) * (v - o);
                        }
                    }
                    for (i, a) in acc.iter().enumerate() {
                        out[(i, c)] = bias[c] - 0.5 * a;
                    }
                }
            }
            Prepared::Diagonal { lin, quad, bias } => {
                matmul(
                    out.as_mut(),
                    Accum::Replace,
                    xc,
                    lin.as_ref(),
                    -0.5,
                    Par::Seq,
                );
                matmul(out.as_mut(), Accum::Add, x2, quad.as_ref(), -0.5, Par::Seq);
                for (c, b) in bias.iter().enumerate() {
                    for i in 0..m {
                        out[(i, c)] += b;
                    }
                }
            }
        }
    }
}
