//! The two leading principal components of a point cloud, for drawing
//! latent codes of more than two dimensions in the plane.
//!
//! Private to the plot module on purpose: a full PCA (any number of
//! components, for the GMM work) is being written elsewhere; once it is in
//! the library this file can be replaced by a call to it. Latent dimensions
//! are at most a few hundred, so an eigen-decomposition of the d × d
//! covariance by cyclic Jacobi rotations (O(d³) per sweep, a handful of
//! sweeps) is fast and needs no linear-algebra crate.

use crate::{Error, Result};

/// The projection of a point cloud on its first two principal axes.
#[derive(Debug, Clone)]
pub(crate) struct Pca2 {
    /// (PC1, PC2) coordinates of each point, centred.
    pub coords: Vec<(f64, f64)>,
    /// Fraction of the total variance along each of the two axes.
    pub explained: [f64; 2],
    /// The two principal axes (unit vectors of length `dim`); the tests read
    /// them, the shared PCA will expose them.
    #[cfg_attr(not(test), allow(dead_code))]
    pub axes: [Vec<f64>; 2],
}

/// PCA of the rows of `data` (`[n, dim]` row-major, `dim ≥ 2`, `n ≥ 2`).
/// Each axis's sign is fixed so that its largest-magnitude entry is
/// positive, so the picture does not flip between runs.
pub(crate) fn pca2(data: &[f32], dim: usize) -> Result<Pca2> {
    if dim < 2 || data.len() < 2 * dim || !data.len().is_multiple_of(dim) {
        return Err(Error::invalid(format!(
            "PCA to 2-D needs at least 2 points of at least 2 dimensions (got {} values of dimension {dim})",
            data.len()
        )));
    }
    let (centred, cov) = centred_covariance(data, dim); // [n, dim], [dim, dim]
    let total: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
    let (values, vectors) = jacobi_eigen(cov, dim);
    let mut order: Vec<usize> = (0..dim).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let axis = |k: usize| -> Vec<f64> {
        let col: Vec<f64> = (0..dim).map(|r| vectors[r * dim + order[k]]).collect();
        let big = col
            .iter()
            .copied()
            .fold(0.0f64, |b, v| if v.abs() > b.abs() { v } else { b });
        col.iter()
            .map(|v| if big < 0.0 { -v } else { *v })
            .collect()
    };
    let axes = [axis(0), axis(1)];
    let dot = |row: &[f64], a: &[f64]| row.iter().zip(a).map(|(x, y)| x * y).sum::<f64>();
    let coords = centred
        .chunks_exact(dim)
        .map(|row| (dot(row, &axes[0]), dot(row, &axes[1])))
        .collect();
    let frac = |k: usize| {
        if total > 0.0 {
            values[order[k]].max(0.0) / total
        } else {
            0.0
        }
    };
    Ok(Pca2 {
        coords,
        explained: [frac(0), frac(1)],
        axes,
    })
}

/// The rows of `data` (`[n, dim]`) minus their mean, and their sample
/// covariance (divided by n − 1), `[dim, dim]` row-major.
fn centred_covariance(data: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let n = data.len() / dim;
    let mut mean = vec![0.0f64; dim];
    for row in data.chunks_exact(dim) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centred: Vec<f64> = data
        .chunks_exact(dim)
        .flat_map(|row| row.iter().zip(&mean).map(|(&v, m)| v as f64 - m))
        .collect(); // [n, dim]
    let mut cov = vec![0.0f64; dim * dim]; // [dim, dim], upper triangle first
    for row in centred.chunks_exact(dim) {
        for i in 0..dim {
            let ri = row[i];
            for j in i..dim {
                cov[i * dim + j] += ri * row[j];
            }
        }
    }
    for i in 0..dim {
        for j in i..dim {
            let c = cov[i * dim + j] / (n - 1) as f64;
            cov[i * dim + j] = c;
            cov[j * dim + i] = c;
        }
    }
    (centred, cov)
}

/// Eigenvalues and eigenvectors (columns of the returned `[n, n]` matrix)
/// of the symmetric `a` (`[n, n]` row-major), by cyclic Jacobi rotations
/// (Golub & Van Loan, *Matrix Computations*, §8.5): each rotation zeroes
/// one off-diagonal pair; sweeps repeat until the off-diagonal mass is
/// negligible against the matrix norm.
fn jacobi_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let norm2: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..64 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        if off <= 1e-30 * norm2 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut v, n, p, q);
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// One Jacobi rotation J(p, q, θ) with A ← JᵀAJ and V ← VJ, θ chosen so
/// that the new A[p, q] is zero (the smaller of the two angles).
fn rotate(a: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = a[p * n + q];
    if apq == 0.0 {
        return;
    }
    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..n {
        let (akp, akq) = (a[k * n + p], a[k * n + q]);
        a[k * n + p] = c * akp - s * akq;
        a[k * n + q] = s * akp + c * akq;
    }
    for k in 0..n {
        let (apk, aqk) = (a[p * n + k], a[q * n + k]);
        a[p * n + k] = c * apk - s * aqk;
        a[q * n + k] = s * apk + c * aqk;
    }
    for k in 0..n {
        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * vkp - s * vkq;
        v[k * n + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue4_jacobi_matches_the_closed_form_spectrum_of_the_second_difference_matrix() {
        // tridiag(-1, 2, -1) of size n has eigenvalues 2 − 2 cos(kπ/(n+1)).
        let n = 12;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = 2.0;
            if i + 1 < n {
                a[i * n + i + 1] = -1.0;
                a[(i + 1) * n + i] = -1.0;
            }
        }
        let (mut got, v) = jacobi_eigen(a.clone(), n);
        // Every column is an eigenvector: A v = λ v.
        for (j, &lambda) in got.iter().enumerate() {
            for i in 0..n {
                let av: f64 = (0..n).map(|k| a[i * n + k] * v[k * n + j]).sum();
                assert!((av - lambda * v[i * n + j]).abs() < 1e-10);
            }
        }
        got.sort_by(f64::total_cmp);
        for (k, g) in got.iter().enumerate() {
            let want = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
            assert!((g - want).abs() < 1e-12, "eigenvalue {k}: {g} vs {want}");
        }
    }

    #[test]
    fn issue4_pca_recovers_known_axes_variances_and_coordinates() {
        // Points a·u + b·w + c in 5-D with u, w orthonormal, (a, b) over the
        // four corners (±2, ±1): var(a) = 16/3, var(b) = 4/3 (n − 1 = 3),
        // uncorrelated, so PC1 = ±u with 80 % of the variance, PC2 = ±w with
        // 20 %, and the coordinates are (±a, ±b).
        let s = 0.5f64;
        let u = [s, s, s, s, 0.0];
        let w = [s, -s, s, -s, 0.0];
        let c = [1.0, -2.0, 3.0, 0.5, 7.0];
        let corners = [(2.0, 1.0), (2.0, -1.0), (-2.0, 1.0), (-2.0, -1.0)];
        let data: Vec<f32> = corners
            .iter()
            .flat_map(|&(a, b)| (0..5).map(move |k| (a * u[k] + b * w[k] + c[k]) as f32))
            .collect();
        let pca = pca2(&data, 5).expect("pca");
        assert!((pca.explained[0] - 0.8).abs() < 1e-6, "{:?}", pca.explained);
        assert!((pca.explained[1] - 0.2).abs() < 1e-6, "{:?}", pca.explained);
        let cos = |x: &[f64], y: &[f64; 5]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        assert!((cos(&pca.axes[0], &u).abs() - 1.0).abs() < 1e-6);
        assert!((cos(&pca.axes[1], &w).abs() - 1.0).abs() < 1e-6);
        for ((x, y), (a, b)) in pca.coords.iter().zip(corners) {
            assert!((x.abs() - f64::abs(a)).abs() < 1e-5 && (y.abs() - f64::abs(b)).abs() < 1e-5);
        }
        // Signs: the largest entry of each axis is positive.
        for axis in &pca.axes {
            let big = axis
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            assert!(big > 0.0);
        }
    }

    #[test]
    fn pca_refuses_too_few_points_or_dimensions() {
        assert!(pca2(&[1.0, 2.0], 2).is_err());
        assert!(pca2(&[1.0, 2.0, 3.0], 1).is_err());
        assert!(pca2(&[1.0, 2.0, 3.0], 2).is_err());
    }
}
