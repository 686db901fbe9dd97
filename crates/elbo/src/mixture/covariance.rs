//! Covariance types, the M-step's covariance estimates, and the Cholesky
//! factors of the precisions that the E-step uses (scikit-learn's layout:
//! `precisions_cholesky` U with U Uᵀ = Σ⁻¹, U = L⁻ᵀ for Σ = L Lᵀ; never an
//! explicit inverse or determinant of Σ).

use std::fmt;
use std::str::FromStr;

use crate::kernels::gemm::matmul_clean as matmul;
use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::{Accum, Mat, MatRef, Par, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::estep::Stats;
use crate::{Error, Result};

/// The form of each component's covariance matrix (scikit-learn's
/// `covariance_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CovarianceType {
    /// A general covariance matrix per component: `[K, d, d]`.
    #[default]
    Full,
    /// One general covariance matrix shared by all components: `[d, d]`.
    Tied,
    /// A diagonal covariance per component: `[K, d]`.
    Diag,
    /// One variance per component: `[K]`.
    Spherical,
}

impl CovarianceType {
    /// All types, in scikit-learn's order.
    pub const ALL: [CovarianceType; 4] = [Self::Full, Self::Tied, Self::Diag, Self::Spherical];

    /// The shape of the covariance (and precision Cholesky) array.
    pub fn shape(self, k: usize, d: usize) -> Vec<usize> {
        match self {
            Self::Full => vec![k, d, d],
            Self::Tied => vec![d, d],
            Self::Diag => vec![k, d],
            Self::Spherical => vec![k],
        }
    }

    /// Free parameters of the covariances (symmetric matrices count once).
    pub fn n_parameters(self, k: usize, d: usize) -> usize {
        match self {
            Self::Full => k * d * (d + 1) / 2,
            Self::Tied => d * (d + 1) / 2,
            Self::Diag => k * d,
            Self::Spherical => k,
        }
    }
}

impl fmt::Display for CovarianceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "full",
            Self::Tied => "tied",
            Self::Diag => "diag",
            Self::Spherical => "spherical",
        })
    }
}

impl FromStr for CovarianceType {
    type Err = Error;

    /// Parses `full`, `tied`, `diag` and `spherical`, ignoring case.
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.to_string().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown covariance type '{s}': expected full, tied, diag or spherical"
                ))
            })
    }
}

/// A covariance estimate's variance left after conditioning on the other
/// features (a Cholesky pivot, or a diagonal variance) at or below this
/// fraction of the feature's raw second moment is rounding noise: EM's
/// sums carry errors of about ε times that moment.
const SINGULAR_RTOL: f64 = 1e3 * f64::EPSILON;

fn singular(component: Option<usize>, feature: usize, variance: f64) -> Error {
    let which = component.map_or("the tied covariance".to_string(), |k| {
        format!("component {k}'s covariance")
    });
    Error::invalid(format!(
        "{which} is singular: feature {feature} is constant or a linear combination of the others \
         within the component (variance {variance:.3e}), e.g. a collapsed component or a constant \
         feature; set reg_covar > 0 (e.g. 1e-6; now too small for the data's scale), use fewer \
         components, or scale the data"
    ))
}

/// The M-step's covariances (scikit-learn's `_estimate_gaussian_covariances_*`),
/// flat in [`CovarianceType::shape`] order. `resp` (row-major `[n, K]`) is
/// needed for `Full`, `xtx` (Xᵀ X) for `Tied`.
pub(crate) fn estimate(
    kind: CovarianceType,
    x: MatRef<'_, f64>,
    resp: Option<&[f64]>,
    xtx: Option<&Mat<f64>>,
    stats: &Stats,
    means: &[f64],
    reg: f64,
) -> Result<Vec<f64>> {
    let (k, d) = (stats.nk.len(), x.ncols());
    Ok(match kind {
        CovarianceType::Full => {
            let resp =
                resp.ok_or_else(|| Error::invalid("full covariances need responsibilities"))?;
            full(x, resp, stats, means, reg)
        }
        CovarianceType::Tied => {
            let xtx = xtx.ok_or_else(|| Error::invalid("tied covariance needs XᵀX"))?;
            let total: f64 = stats.nk.iter().sum();
            let mut cov = vec![0.0; d * d];
            for a in 0..d {
                for b in 0..d {
                    let mm: f64 = (0..k)
                        .map(|c| stats.nk[c] * means[c * d + a] * means[c * d + b])
                        .sum();
                    cov[a * d + b] = (xtx[(a, b)] - mm) / total + if a == b { reg } else { 0.0 };
                }
            }
            cov
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let diag: Vec<f64> = (0..k * d)
                .map(|i| stats.sxx[(i / d, i % d)] / stats.nk[i / d] - means[i] * means[i] + reg)
                .collect();
            if kind == CovarianceType::Diag {
                diag
            } else {
                diag.chunks(d)
                    .map(|r| r.iter().sum::<f64>() / d as f64)
                    .collect()
            }
        }
    })
}

/// Σ_k = Σ_i r_ik (x_i − μ_k)(x_i − μ_k)ᵀ / n_k + reg·I, one GEMM per chunk of
/// rows; components in parallel.
fn full(x: MatRef<'_, f64>, resp: &[f64], stats: &Stats, means: &[f64], reg: f64) -> Vec<f64> {
    let (n, d, k) = (x.nrows(), x.ncols(), stats.nk.len());
    let rows = super::chunk_rows(d);
    let per: Vec<Vec<f64>> = (0..k)
        .into_par_iter()
        .map(|c| {
            let mut s = Mat::<f64>::zeros(d, d);
            let mut diff = Mat::<f64>::zeros(rows, d);
            let mut wdiff = Mat::<f64>::zeros(rows, d);
            for start in (0..n).step_by(rows) {
                let m = rows.min(n - start);
                let r: Vec<f64> = (start..start + m).map(|i| resp[i * k + c]).collect();
                for j in 0..d {
                    let mu = means[c * d + j];
                    let xc = x.col(j).subrows(start, m);
                    let dcol = &mut diff.col_as_slice_mut(j)[..m];
                    for (dv, xv) in dcol.iter_mut().zip(xc.iter()) {
                        *dv = xv - mu;
                    }
                    let dcol = &diff.col_as_slice(j)[..m];
                    let wcol = &mut wdiff.col_as_slice_mut(j)[..m];
                    for ((w, dv), rv) in wcol.iter_mut().zip(dcol).zip(&r) {
                        *w = dv * rv;
                    }
                }
                let (dv, wv) = (diff.as_ref().subrows(0, m), wdiff.as_ref().subrows(0, m));
                matmul(s.as_mut(), Accum::Add, wv.transpose(), dv, 1.0, Par::Seq);
            }
            let mut out = vec![0.0; d * d];
            for a in 0..d {
                for b in 0..d {
                    out[a * d + b] = s[(a, b)] / stats.nk[c] + if a == b { reg } else { 0.0 };
                }
            }
            out
        })
        .collect();
    per.concat()
}

/// The first feature j whose leading (j+1)×(j+1) block is not positive
/// definite (by bisection: once a leading block fails, all larger ones do).
fn first_failing_pivot(c: MatRef<'_, f64>) -> usize {
    let (mut lo, mut hi) = (0, c.nrows().saturating_sub(1));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if c.submatrix(0, 0, mid + 1, mid + 1)
            .llt(Side::Lower)
            .is_err()
        {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// U = L⁻ᵀ (row-major) for the covariance `cov` = L Lᵀ (row-major `d × d`),
/// or the index of the first (near-)zero pivot with its value. `m2` holds
/// each feature's raw second moment, the scale of the rounding noise.
fn upper_precision_cholesky(cov: &[f64], d: usize, m2: &[f64]) -> Result<Vec<f64>, (usize, f64)> {
    let c = MatRef::from_row_major_slice(cov, d, d);
    let llt = c
        .llt(Side::Lower)
        .map_err(|_| (first_failing_pivot(c), 0.0))?;
    let l = llt.L();
    for j in 0..d {
        let pivot = l[(j, j)] * l[(j, j)];
        if pivot.is_nan() || pivot <= SINGULAR_RTOL * m2[j] {
            return Err((j, pivot));
        }
    }
    let mut inv = Mat::<f64>::identity(d, d);
    solve_lower_triangular_in_place(l, inv.as_mut(), Par::Seq); // L⁻¹
    // Row-major U = L⁻ᵀ is column-major L⁻¹.
    let mut u = vec![0.0; d * d];
    for j in 0..d {
        for i in j..d {
            u[j * d + i] = inv[(i, j)];
        }
    }
    Ok(u)
}

/// scikit-learn's `_compute_precision_cholesky`: U per component (full),
/// shared (tied), or 1/√σ² (diag, spherical). `stats` gives the second
/// moments that set the singularity threshold.
pub(crate) fn precision_cholesky(
    kind: CovarianceType,
    cov: &[f64],
    k: usize,
    d: usize,
    m2: &Mat<f64>,
) -> Result<Vec<f64>> {
    let m2_row = |c: usize| (0..d).map(|j| m2[(c, j)]).collect::<Vec<_>>();
    match kind {
        CovarianceType::Full => {
            let per: Vec<Result<Vec<f64>>> = (0..k)
                .into_par_iter()
                .map(|c| {
                    upper_precision_cholesky(&cov[c * d * d..(c + 1) * d * d], d, &m2_row(c))
                        .map_err(|(j, v)| singular(Some(c), j, v))
                })
                .collect();
            Ok(per.into_iter().collect::<Result<Vec<_>>>()?.concat())
        }
        CovarianceType::Tied => {
            upper_precision_cholesky(cov, d, &m2_row(0)).map_err(|(j, v)| singular(None, j, v))
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let width = if kind == CovarianceType::Diag { d } else { 1 };
            cov.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let (c, j) = (i / width, i % width);
                    let scale = if width == 1 {
                        m2_row(c).iter().sum::<f64>() / d as f64
                    } else {
                        m2[(c, j)]
                    };
                    if v > SINGULAR_RTOL * scale && v.is_finite() {
                        Ok(1.0 / v.sqrt())
                    } else {
                        Err(singular(Some(c), j, v))
                    }
                })
                .collect()
        }
    }
}

/// Cholesky factors of given precisions P (scikit-learn's
/// `_compute_precision_cholesky_from_precisions`): the lower factor M with
/// M Mᵀ = P per component (full) or shared (tied), or √p (diag,
/// spherical). The E-step needs only M Mᵀ = P and M's diagonal, so this
/// lower factor serves as well as the upper one of [`precision_cholesky`].
pub(crate) fn cholesky_of_precisions(
    kind: CovarianceType,
    prec: &[f64],
    k: usize,
    d: usize,
) -> Result<Vec<f64>> {
    let not_pd = |c: Option<usize>| {
        let which = c.map_or("the tied precision".to_string(), |c| {
            format!("component {c}'s initial precision")
        });
        Error::invalid(format!("{which} is not symmetric positive definite"))
    };
    let lower = |p: &[f64], c: Option<usize>| -> Result<Vec<f64>> {
        let m = MatRef::from_row_major_slice(p, d, d);
        let symmetric = (0..d).all(|a| {
            (0..a).all(|b| {
                (m[(a, b)] - m[(b, a)]).abs()
                    <= 1e-10 * (m[(a, b)].abs() + m[(b, a)].abs()).max(1e-300)
            })
        });
        if !symmetric {
            return Err(not_pd(c));
        }
        let llt = m.llt(Side::Lower).map_err(|_| not_pd(c))?;
        let l = llt.L();
        Ok((0..d * d)
            .map(|i| {
                if i % d <= i / d {
                    l[(i / d, i % d)]
                } else {
                    0.0
                }
            })
            .collect())
    };
    match kind {
        CovarianceType::Full => Ok((0..k)
            .map(|c| lower(&prec[c * d * d..(c + 1) * d * d], Some(c)))
            .collect::<Result<Vec<_>>>()?
            .concat()),
        CovarianceType::Tied => lower(prec, None),
        CovarianceType::Diag | CovarianceType::Spherical => prec
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                if p > 0.0 {
                    Ok(p.sqrt())
                } else {
                    Err(Error::invalid(format!(
                        "initial precision {p} at index {i} is not positive"
                    )))
                }
            })
            .collect(),
    }
}

/// log det U per component (= −½ log det Σ_k): the sum of the logs of U's
/// diagonal (scikit-learn's `_compute_log_det_cholesky`).
pub(crate) fn log_det_cholesky(
    kind: CovarianceType,
    prec_chol: &[f64],
    k: usize,
    d: usize,
) -> Vec<f64> {
    match kind {
        CovarianceType::Full => (0..k)
            .map(|c| (0..d).map(|j| prec_chol[c * d * d + j * d + j].ln()).sum())
            .collect(),
        CovarianceType::Tied => {
            let v: f64 = (0..d).map(|j| prec_chol[j * d + j].ln()).sum();
            vec![v; k]
        }
        CovarianceType::Diag => prec_chol
            .chunks(d)
            .map(|r| r.iter().map(|p| p.ln()).sum())
            .collect(),
        CovarianceType::Spherical => prec_chol.iter().map(|p| d as f64 * p.ln()).collect(),
    }
}

/// Lower Cholesky factor (row-major `d × d`) of component `c`'s covariance,
/// for sampling: x = μ + L z.
pub(crate) fn covariance_factor(
    kind: CovarianceType,
    cov: &[f64],
    c: usize,
    d: usize,
) -> Result<Mat<f64>> {
    Ok(match kind {
        CovarianceType::Full | CovarianceType::Tied => {
            let off = if kind == CovarianceType::Full {
                c * d * d
            } else {
                0
            };
            let m = MatRef::from_row_major_slice(&cov[off..off + d * d], d, d);
            let llt = m.llt(Side::Lower).map_err(|_| {
                Error::invalid(format!(
                    "component {c}'s covariance is not positive definite"
                ))
            })?;
            llt.L().to_owned()
        }
        CovarianceType::Diag => {
            Mat::from_fn(
                d,
                d,
                |i, j| if i == j { cov[c * d + i].sqrt() } else { 0.0 },
            )
        }
        CovarianceType::Spherical => {
            Mat::from_fn(d, d, |i, j| if i == j { cov[c].sqrt() } else { 0.0 })
        }
    })
}
