//! Principal component analysis: the top eigenvectors of the sample
//! covariance, so a mixture can be fitted on the first d components of
//! images and its samples mapped back to pixels (scikit-learn's digits
//! density-estimation example).

use crate::kernels::gemm::matmul_clean as matmul;
use faer::{Accum, Mat, MatRef, Par, Side};

use crate::{Error, Result};

/// A fitted PCA: x ≈ mean + z · components.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Per-feature mean: `[D]`.
    pub mean: Vec<f64>,
    /// Principal axes, one per row, orthonormal, by decreasing variance: `[d, D]`.
    pub components: Mat<f64>,
    /// Variance along each axis (sample variance, n − 1 denominator): `[d]`.
    pub explained_variance: Vec<f64>,
    /// Total variance of the data (the sum over all D axes).
    pub total_variance: f64,
}

impl Pca {
    /// Fits `d` components to `x` (`[n, D]`, n ≥ 2, d ≤ min(n, D)) by the
    /// symmetric eigendecomposition of the covariance matrix. Signs are
    /// fixed so each axis's largest-magnitude entry is positive.
    ///
    /// ```
    /// use elbo::mixture::{matrix_from_rows, Pca};
    /// let x = matrix_from_rows(&[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], 2)?; // on a line
    /// let pca = Pca::fit(x.as_ref(), 1)?;
    /// assert!((pca.explained_variance_ratio()[0] - 1.0).abs() < 1e-12);
    /// let back = pca.inverse_transform(pca.transform(x.as_ref())?.as_ref())?;
    /// assert!((back[(2, 1)] - 2.0).abs() < 1e-12);
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn fit(x: MatRef<'_, f64>, d: usize) -> Result<Pca> {
        super::check_data(x, 2, "PCA")?;
        let (n, dim) = (x.nrows(), x.ncols());
        if d == 0 || d > n.min(dim) {
            return Err(Error::invalid(format!(
                "PCA: the number of components must be between 1 and min(samples, features) = {}, got {d}",
                n.min(dim)
            )));
        }
        let mean: Vec<f64> = (0..dim)
            .map(|j| x.col(j).iter().sum::<f64>() / n as f64)
            .collect();
        let centered = Mat::from_fn(n, dim, |i, j| x[(i, j)] - mean[j]);
        let mut cov = Mat::<f64>::zeros(dim, dim);
        let scale = 1.0 / (n - 1) as f64;
        matmul(
            cov.as_mut(),
            Accum::Replace,
            centered.transpose(),
            centered.as_ref(),
            scale,
            Par::rayon(0),
        );
        let eig = cov
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::invalid(format!("PCA: eigendecomposition failed ({e:?})")))?;
        let (s, u) = (eig.S().column_vector(), eig.U());
        // Eigenvalues ascend: the last d, reversed.
        let order: Vec<usize> = (0..d).map(|r| dim - 1 - r).collect();
        let mut components = Mat::from_fn(d, dim, |r, j| u[(j, order[r])]);
        for r in 0..d {
            let big = (0..dim).fold(0, |b, j| {
                if components[(r, j)].abs() > components[(r, b)].abs() {
                    j
                } else {
                    b
                }
            });
            if components[(r, big)] < 0.0 {
                (0..dim).for_each(|j| components[(r, j)] = -components[(r, j)]);
            }
        }
        Ok(Pca {
            mean,
            components,
            explained_variance: order.iter().map(|&i| s[i].max(0.0)).collect(),
            total_variance: (0..dim).map(|i| s[i].max(0.0)).sum(),
        })
    }

    /// Rebuilds a PCA from saved parts, checking their shapes.
    pub fn from_parts(
        mean: Vec<f64>,
        components: Mat<f64>,
        explained_variance: Vec<f64>,
        total_variance: f64,
    ) -> Result<Pca> {
        if components.ncols() != mean.len()
            || components.nrows() != explained_variance.len()
            || components.nrows() == 0
        {
            return Err(Error::invalid(format!(
                "PCA parts disagree: mean [{}], components [{}, {}], explained variance [{}]",
                mean.len(),
                components.nrows(),
                components.ncols(),
                explained_variance.len()
            )));
        }
        Ok(Pca {
            mean,
            components,
            explained_variance,
            total_variance,
        })
    }

    /// Number of components d.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Number of input features D.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Fraction of the total variance along each axis.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        self.explained_variance
            .iter()
            .map(|v| v / self.total_variance.max(f64::MIN_POSITIVE))
            .collect()
    }

    /// The variance per axis of what the d components leave out,
    /// (total − explained)/(D − d): probabilistic PCA's maximum-likelihood
    /// noise variance (Tipping & Bishop 1999, eq. 8); 0 when d = D.
    pub fn noise_variance(&self) -> f64 {
        let rest = self.n_features() - self.n_components();
        if rest == 0 {
            return 0.0;
        }
        let explained: f64 = self.explained_variance.iter().sum();
        ((self.total_variance - explained) / rest as f64).max(0.0)
    }

    /// Per row, log N(x⊥; 0, σ²I) of the residual x⊥ = x − mean − z·components
    /// (D − d dimensions, σ² = [`Pca::noise_variance`]), where `z` =
    /// [`Pca::transform`]`(x)`. A density q(z) on the coordinates times this
    /// is a density on pixels: the axes are orthonormal, so changing to
    /// (z, x⊥) coordinates has Jacobian 1.
    ///
    /// Errors: shapes that do not match, or no residual variance to model
    /// (the data lies exactly in the subspace) while d < D.
    pub fn residual_log_density(&self, x: MatRef<'_, f64>, z: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let (dim, d) = (self.n_features(), self.n_components());
        if x.ncols() != dim || z.ncols() != d || z.nrows() != x.nrows() {
            return Err(Error::invalid(format!(
                "PCA residual: data [{}, {}] and coordinates [{}, {}] do not fit a PCA of {dim} features and {d} components",
                x.nrows(),
                x.ncols(),
                z.nrows(),
                z.ncols()
            )));
        }
        let rest = (dim - d) as f64;
        if rest == 0.0 {
            return Ok(vec![0.0; x.nrows()]);
        }
        let var = self.noise_variance();
        if var <= 0.0 {
            return Err(Error::invalid(
                "PCA residual: the components explain all the variance, so the residual has no density",
            ));
        }
        let norm = -0.5 * rest * (2.0 * std::f64::consts::PI * var).ln();
        Ok((0..x.nrows())
            .map(|i| {
                let centred: f64 = (0..dim).map(|j| (x[(i, j)] - self.mean[j]).powi(2)).sum();
                let inside: f64 = (0..d).map(|k| z[(i, k)].powi(2)).sum();
                // Pythagoras on orthonormal axes; rounding can leave a tiny negative.
                norm - (centred - inside).max(0.0) / (2.0 * var)
            })
            .collect())
    }

    /// Coordinates z = (x − mean) · componentsᵀ: `[n, D]` → `[n, d]`.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if x.ncols() != self.n_features() {
            return Err(Error::invalid(format!(
                "PCA: the data has {} features but the PCA was fitted on {}",
                x.ncols(),
                self.n_features()
            )));
        }
        let centered = Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - self.mean[j]);
        let mut z = Mat::<f64>::zeros(x.nrows(), self.n_components());
        matmul(
            z.as_mut(),
            Accum::Replace,
            centered.as_ref(),
            self.components.transpose(),
            1.0,
            Par::rayon(0),
        );
        Ok(z)
    }

    /// Back to features: x = mean + z · components, `[n, d]` → `[n, D]`.
    pub fn inverse_transform(&self, z: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if z.ncols() != self.n_components() {
            return Err(Error::invalid(format!(
                "PCA: {} coordinates per sample, but the PCA has {} components",
                z.ncols(),
                self.n_components()
            )));
        }
        let mut x = Mat::from_fn(z.nrows(), self.n_features(), |_, j| self.mean[j]);
        matmul(
            x.as_mut(),
            Accum::Add,
            z,
            self.components.as_ref(),
            1.0,
            Par::rayon(0),
        );
        Ok(x)
    }
}
