//! Finite mixtures fitted by expectation-maximization (Dempster, Laird &
//! Rubin 1977), and PCA to fit them on images.
//!
//! - [`GaussianMixture`]: P(x) = Σ_m P(m) N(x; μ_m, Σ_m), feature for feature
//!   with scikit-learn's `GaussianMixture` (covariance types, `reg_covar`,
//!   initializations, restarts, warm start, BIC/AIC), numerics in log space
//!   with Cholesky factors of the precisions.
//! - [`BernoulliMixture`]: P(x) = Σ_m P(m) Π_j μ_mj^x_j (1 − μ_mj)^(1 − x_j)
//!   for binary images, with its exact log-likelihood.
//! - [`Pca`]: principal components, to fit a GMM on the first d components
//!   of images and map its samples back to pixels.
//!
//! Data are `n × d` matrices (faer's [`Mat`]/[`MatRef`], one sample per row);
//! [`matrix_from_rows`] builds one from row-major values. EM needs no
//! autodiff: everything is plain `f64` with faer's matrix products and
//! Cholesky factorizations, split over row blocks with rayon.

mod bernoulli;
mod config;
mod covariance;
mod estep;
mod fitted;
mod gaussian;
mod gmm;
pub mod io;
mod kmeans;
mod pca;

pub use bernoulli::{BernoulliMixture, BernoulliMixtureParams};
pub use config::{BernoulliMixtureConfig, GmmConfig};
pub use covariance::CovarianceType;
pub use faer::{Mat, MatRef};
pub use fitted::Convergence;
pub use gmm::{GaussianMixture, GaussianMixtureParams, Init};
pub use kmeans::{kmeans, kmeans_plusplus};
pub use pca::Pca;

use crate::{Error, Result};

/// An `n × d` matrix from `n · d` row-major values.
///
/// ```
/// let x = elbo::mixture::matrix_from_rows(&[1.0f32, 2.0, 3.0, 4.0], 2)?;
/// assert_eq!((x.nrows(), x.ncols()), (2, 2));
/// assert_eq!(x[(1, 0)], 3.0);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn matrix_from_rows<T: Copy + Into<f64> + Sync>(values: &[T], d: usize) -> Result<Mat<f64>> {
    if d == 0 || !values.len().is_multiple_of(d) {
        return Err(Error::invalid(format!(
            "{} values do not make rows of {d} features",
            values.len()
        )));
    }
    let n = values.len() / d;
    let mut x = Mat::<f64>::zeros(n, d); // [n, d], column-major
    transpose_into(values, d, x.as_mut());
    Ok(x)
}

/// Writes the row-major `values` (`d` per row) into the column-major `out`
/// in square tiles. The plain element loop reads `values` with a stride of
/// `d` for every value it writes, a cache miss each time once a row is
/// larger than a cache line. A tile's source rows (TILE × TILE values)
/// stay in L1 while its columns are written; column blocks are disjoint,
/// so they run in parallel.
fn transpose_into<T: Copy + Into<f64> + Sync>(values: &[T], d: usize, out: faer::MatMut<'_, f64>) {
    use faer::prelude::ReborrowMut;
    use rayon::prelude::*;
    const TILE: usize = 32;
    let n = out.nrows();
    out.par_col_chunks_mut(TILE)
        .enumerate()
        .for_each(|(b, mut block)| {
            let j0 = b * TILE;
            for i0 in (0..n).step_by(TILE) {
                let i1 = (i0 + TILE).min(n);
                for jj in 0..block.ncols() {
                    let col = block.rb_mut().col_mut(jj);
                    let col = col
                        .try_as_col_major_mut()
                        .expect("an owned matrix's columns are contiguous")
                        .as_slice_mut();
                    for (i, slot) in (i0..i1).zip(&mut col[i0..i1]) {
                        *slot = values[i * d + j0 + jj].into();
                    }
                }
            }
        });
}

/// Dequantizes pixels of `levels` grey levels given as k/(levels − 1) in
/// [0, 1] (u8/255 for 8-bit images, v/16 for the digits):
/// x = (k + u) / levels with u ~ U(0, 1), so a density p(x) on [0, 1]^D
/// gives the probability of the quantized image as at least
/// exp(E_u log p(x) − D ln levels) (Theis et al. 2016, Eq. 3): add
/// [`dequantization_nats`] to −log p(x) for nats per image.
pub fn dequantize(pixels: &[f32], levels: u32, seed: u64) -> Vec<f64> {
    let top = f64::from(levels.max(2) - 1);
    let mut rng = crate::seeds::rng(seed, 0, 0, crate::seeds::Purpose::Noise);
    pixels
        .iter()
        .map(|&p| {
            let level = (f64::from(p) * top).round().clamp(0.0, top);
            (level + rand::RngExt::random::<f64>(&mut rng)) / (top + 1.0)
        })
        .collect()
}

/// D ln levels: the correction from a density on [0, 1]^D to the
/// probability of an image of `d` values with `levels` grey levels each
/// (−log P = −log p + D ln levels; D ln 256 for 8-bit images).
pub fn dequantization_nats(d: usize, levels: u32) -> f64 {
    d as f64 * f64::from(levels).ln()
}

/// The rows of `x` as row-major values.
pub fn rows_of(x: MatRef<'_, f64>) -> Vec<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let mut out = Vec::with_capacity(n * d);
    for i in 0..n {
        out.extend((0..d).map(|j| x[(i, j)]));
    }
    out
}

/// Checks that `x` has at least `min_rows` rows, at least one column, and
/// only finite values.
pub(crate) fn check_data(x: MatRef<'_, f64>, min_rows: usize, what: &str) -> Result<()> {
    if x.ncols() == 0 {
        return Err(Error::invalid(format!("{what}: the data has no features")));
    }
    if x.nrows() < min_rows.max(1) {
        return Err(Error::invalid(format!(
            "{what}: needs at least {} samples, the data has {}",
            min_rows.max(1),
            x.nrows()
        )));
    }
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            let v = x[(i, j)];
            if !v.is_finite() {
                return Err(Error::invalid(format!(
                    "{what}: the data holds {v} at sample {i}, feature {j}; only finite values can be fitted"
                )));
            }
        }
    }
    Ok(())
}

/// Below this, exp(x) < 1e-221; from |x| ≥ 512 on, glibc's exp leaves its
/// fast path for a special case with an underflow check.
const EXP_CUTOFF: f64 = -511.0;

/// exp(x), or exactly 0 where exp(x) < 1e-221.
///
/// Why: in high dimensions (784 pixels) most components' log-probabilities
/// sit hundreds or thousands of nats below the best one, and glibc's exp
/// takes a slow special-case path for each such argument: measured with
/// `perf` on the pixel, diag, K = 50 benchmark, exp and its underflow check
/// were 36 % of EM time. Next to the largest term of a log-sum-exp (1) a
/// term below 1e-221 is invisible in f64 (the sum is bit-identical), and a
/// responsibility below it carries no weight in any statistic.
pub(crate) fn exp_or_zero(x: f64) -> f64 {
    // exp is clamped as well as skipped: LLVM may evaluate it before the
    // select, and only an argument in range keeps it on the fast path.
    let e = x.max(EXP_CUTOFF).exp();
    if x < EXP_CUTOFF { 0.0 } else { e }
}

/// Row blocks for parallel passes: a fixed split of `0..n` that depends only
/// on `n`, so sums reduced in block order are the same for any thread count.
pub(crate) fn row_blocks(n: usize) -> Vec<(usize, usize)> {
    let blocks = n.div_ceil(512).clamp(1, 16);
    let size = n.div_ceil(blocks);
    (0..blocks)
        .map(|b| (b * size, ((b + 1) * size).min(n)))
        .filter(|(s, e)| e > s)
        .collect()
}

/// Rows per sub-chunk inside a block, so a chunk's `rows × width` scratch
/// stays near 8 MB.
pub(crate) fn chunk_rows(width: usize) -> usize {
    (1usize << 20) / width.max(1).clamp(64, 2048)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_from_rows_puts_every_value_at_its_row_and_column() {
        // Sizes that are not multiples of the tile, with partial tiles in
        // both directions, and one smaller than a tile.
        for (n, d) in [(70, 45), (33, 64), (5, 3), (1, 100)] {
            let values: Vec<u32> = (0..n * d).map(|v| v as u32 * 7 + 1).collect();
            let x = matrix_from_rows(&values, d).expect("whole rows");
            assert_eq!((x.nrows(), x.ncols()), (n, d));
            for i in 0..n {
                for j in 0..d {
                    assert_eq!(
                        x[(i, j)],
                        f64::from(values[i * d + j]),
                        "({i}, {j}) of {n}×{d}"
                    );
                }
            }
            assert_eq!(
                rows_of(x.as_ref()),
                values.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()
            );
        }
        assert!(
            matrix_from_rows(&[1u8, 2, 3], 2).is_err(),
            "3 values are not rows of 2"
        );
    }
}
