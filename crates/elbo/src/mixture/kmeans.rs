//! k-means++ seeding (Arthur & Vassilvitskii 2007, with scikit-learn's
//! greedy 2 + ⌊ln K⌋ local trials) and Lloyd's k-means: the default
//! initializations of EM.

use crate::kernels::gemm::matmul_clean as matmul;
use faer::{Accum, Mat, MatRef, Par};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::{Error, Result};

/// Squared distances from every row of `x` (`[n, d]`) to `c` (`[d]`).
fn dist_to(x: MatRef<'_, f64>, c: &[f64]) -> Vec<f64> {
    super::row_blocks(x.nrows())
        .par_iter()
        .flat_map_iter(|&(s, e)| {
            let mut acc = vec![0.0; e - s];
            for (j, cj) in c.iter().enumerate() {
                let col = x.col(j);
                for (a, i) in acc.iter_mut().zip(s..e) {
                    let v = col[i] - cj;
                    *a += v * v;
                }
            }
            acc
        })
        .collect()
}

/// Index of the first cumulative weight above `u · total`.
fn draw(weights: &[f64], rng: &mut Xoshiro256PlusPlus) -> usize {
    let total: f64 = weights.iter().sum();
    let target = rng.random::<f64>() * total;
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if acc > target {
            return i;
        }
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// `k` seed rows of `x` by k-means++: each next seed drawn with probability
/// proportional to its squared distance to the nearest seed so far, the
/// best of 2 + ⌊ln k⌋ such draws kept. Returns their row indices.
///
/// ```
/// use elbo::mixture::{kmeans_plusplus, matrix_from_rows};
/// let x = matrix_from_rows(&[0.0, 0.1, 10.0, 10.1], 1)?;
/// let seeds = kmeans_plusplus(x.as_ref(), 2, 0)?;
/// assert_eq!(seeds.len(), 2);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn kmeans_plusplus(x: MatRef<'_, f64>, k: usize, seed: u64) -> Result<Vec<usize>> {
    let mut rng = crate::seeds::rng(seed, 0, 0, crate::seeds::Purpose::Init);
    seeds(x, k, &mut rng)
}

pub(crate) fn seeds(
    x: MatRef<'_, f64>,
    k: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<Vec<usize>> {
    let n = x.nrows();
    if k == 0 || k > n {
        return Err(Error::invalid(format!(
            "k-means++ needs 1 to {n} centers, got {k}"
        )));
    }
    let row = |i: usize| (0..x.ncols()).map(|j| x[(i, j)]).collect::<Vec<_>>();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut chosen = vec![rng.random_range(0..n)];
    let mut closest = dist_to(x, &row(chosen[0]));
    while chosen.len() < k {
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let cand = draw(&closest, rng);
            let d = dist_to(x, &row(cand));
            let merged: Vec<f64> = closest.iter().zip(&d).map(|(a, b)| a.min(*b)).collect();
            let pot: f64 = merged.iter().sum();
            if best.as_ref().is_none_or(|b| pot < b.0) {
                best = Some((pot, cand, merged));
            }
        }
        let Some((_, cand, merged)) = best else { break };
        chosen.push(cand);
        closest = merged;
    }
    Ok(chosen)
}

/// The nearest row of `centers` (`[K, d]`) for every row of `x`, and the
/// squared distance to it, via ‖x‖² − 2 x·c + ‖c‖² (one GEMM per chunk).
pub(crate) fn nearest(x: MatRef<'_, f64>, centers: MatRef<'_, f64>) -> (Vec<usize>, Vec<f64>) {
    let (k, d) = (centers.nrows(), centers.ncols());
    let cn: Vec<f64> = (0..k)
        .map(|c| (0..d).map(|j| centers[(c, j)].powi(2)).sum())
        .collect();
    let parts: Vec<Vec<(usize, f64)>> = super::row_blocks(x.nrows())
        .par_iter()
        .map(|&(s, e)| {
            let xb = x.subrows(s, e - s);
            let mut g = Mat::<f64>::zeros(e - s, k); // [m, K]
            matmul(
                g.as_mut(),
                Accum::Replace,
                xb,
                centers.transpose(),
                -2.0,
                Par::Seq,
            );
            (0..e - s)
                .map(|i| {
                    let xn: f64 = (0..d).map(|j| xb[(i, j)].powi(2)).sum();
                    (0..k)
                        .map(|c| (c, (xn + g[(i, c)] + cn[c]).max(0.0)))
                        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
                })
                .collect()
        })
        .collect();
    parts.into_iter().flatten().unzip()
}

/// Lloyd's k-means from k-means++ seeds until the centers move less than
/// `tol` × the mean feature variance (squared, summed; scikit-learn's rule)
/// or after `max_iter` rounds. Returns (centers `[K, d]`, labels). An
/// emptied cluster is moved to the point farthest from its center.
///
/// ```
/// use elbo::mixture::{kmeans, matrix_from_rows};
/// let x = matrix_from_rows(&[0.0, 0.2, 10.0, 10.2], 1)?;
/// let (centers, labels) = kmeans(x.as_ref(), 2, 300, 1e-4, 0)?;
/// assert_eq!(labels[0], labels[1]);
/// assert!((centers[(labels[2], 0)] - 10.1).abs() < 1e-12);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn kmeans(
    x: MatRef<'_, f64>,
    k: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
) -> Result<(Mat<f64>, Vec<usize>)> {
    let mut rng = crate::seeds::rng(seed, 0, 0, crate::seeds::Purpose::Init);
    lloyd(x, k, max_iter, tol, &mut rng)
}

pub(crate) fn lloyd(
    x: MatRef<'_, f64>,
    k: usize,
    max_iter: usize,
    tol: f64,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<(Mat<f64>, Vec<usize>)> {
    let (n, d) = (x.nrows(), x.ncols());
    let idx = seeds(x, k, rng)?;
    let mut centers = Mat::from_fn(k, d, |c, j| x[(idx[c], j)]);
    let mean_var = (0..d)
        .map(|j| {
            let m = (0..n).map(|i| x[(i, j)]).sum::<f64>() / n as f64;
            (0..n).map(|i| (x[(i, j)] - m).powi(2)).sum::<f64>() / n as f64
        })
        .sum::<f64>()
        / d as f64;
    let mut labels = nearest(x, centers.as_ref()).0;
    for _ in 0..max_iter {
        let mut sums = Mat::<f64>::zeros(k, d);
        let mut counts = vec![0usize; k];
        for &l in &labels {
            counts[l] += 1;
        }
        for j in 0..d {
            let col = x.col(j);
            for (i, &l) in labels.iter().enumerate() {
                sums[(l, j)] += col[i];
            }
        }
        let (_, dist) = nearest(x, centers.as_ref());
        let mut shift = 0.0;
        for c in 0..k {
            let new: Vec<f64> = if counts[c] == 0 {
                let far = dist
                    .iter()
                    .enumerate()
                    .fold((0, -1.0), |a, (i, &v)| if v > a.1 { (i, v) } else { a })
                    .0;
                (0..d).map(|j| x[(far, j)]).collect()
            } else {
                (0..d).map(|j| sums[(c, j)] / counts[c] as f64).collect()
            };
            for (j, v) in new.into_iter().enumerate() {
                shift += (centers[(c, j)] - v).powi(2);
                centers[(c, j)] = v;
            }
        }
        labels = nearest(x, centers.as_ref()).0;
        if shift <= tol * mean_var {
            break;
        }
    }
    Ok((centers, labels))
}
