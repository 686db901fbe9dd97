//! A mixture's components for the explorer: their means as images with
//! their weights, and draws from one chosen component.

use crate::families::mixture::Mixture;
use crate::mixture::{BernoulliMixture, CovarianceType, GaussianMixture, Mat, rows_of};
use crate::run::Run;
use crate::serve::explore::MixtureView;
use crate::{Error, Result};

/// The components of a mixture run; `None` for other families.
pub fn mixture_view(run: &Run) -> Result<Option<MixtureView>> {
    let Some(mixture) = run.model.as_any().downcast_ref::<Mixture>() else {
        return Ok(None);
    };
    let (weights, means) = match mixture {
        Mixture::Gmm(g) => {
            let d = g.gmm.n_features();
            let k = g.gmm.n_components();
            let m = Mat::from_fn(k, d, |i, j| g.gmm.means()[i * d + j]); // [K, d]
            let m = match &g.pca {
                Some(p) => p.inverse_transform(m.as_ref())?, // [K, pixels]
                None => m,
            };
            (g.gmm.weights().to_vec(), m)
        }
        Mixture::Bernoulli(b) => (b.weights.clone(), b.probs.clone()),
    };
    let dim = means.ncols();
    let pixels: Vec<f32> = rows_of(means.as_ref())
        .into_iter()
        .map(|v| v.clamp(0.0, 1.0) as f32)
        .collect();
    Ok(Some(MixtureView {
        weights,
        means: pixels.chunks(dim.max(1)).map(<[f32]>::to_vec).collect(),
    }))
}

/// `n` draws from component `c` of a mixture run, `[n, dim]` in [0, 1]: for
/// a GMM x ~ N(μ_c, Σ_c) mapped back through its PCA and clipped; for a
/// Bernoulli mixture, binary pixels x_j ~ Bernoulli(p_cj).
pub fn sample_component(run: &Run, c: usize, n: usize, seed: u64) -> Result<Vec<f32>> {
    let mixture = run
        .model
        .as_any()
        .downcast_ref::<Mixture>()
        .ok_or_else(|| Error::invalid(format!("a {} model has no components", run.kind())))?;
    let x = match mixture {
        Mixture::Gmm(g) => {
            let one = gmm_component(&g.gmm, c)?;
            let (z, _) = one.sample(n, seed)?; // [n, features]
            match &g.pca {
                Some(p) => p.inverse_transform(z.as_ref())?,
                None => z,
            }
        }
        Mixture::Bernoulli(b) => {
            let one = bernoulli_component(b, c)?;
            one.sample(n, seed).0 // [n, pixels] of 0 and 1
        }
    };
    Ok(rows_of(x.as_ref())
        .into_iter()
        .map(|v| v.clamp(0.0, 1.0) as f32)
        .collect())
}

fn check_component(c: usize, k: usize) -> Result<()> {
    if c >= k {
        return Err(Error::invalid(format!(
            "component {c} is out of range: the mixture has {k} components (0..{k})"
        )));
    }
    Ok(())
}

/// Component `c` of `gmm` alone, as a mixture of one.
fn gmm_component(gmm: &GaussianMixture, c: usize) -> Result<GaussianMixture> {
    let (k, d) = (gmm.n_components(), gmm.n_features());
    check_component(c, k)?;
    let kind = gmm.covariance_type();
    let cov = gmm.covariances();
    // The slice of component c in the covariance array of `kind` (see
    // CovarianceType::shape); a tied covariance is shared by all.
    let one = match kind {
        CovarianceType::Full => cov[c * d * d..(c + 1) * d * d].to_vec(),
        CovarianceType::Tied => cov.to_vec(),
        CovarianceType::Diag => cov[c * d..(c + 1) * d].to_vec(),
        CovarianceType::Spherical => vec![cov[c]],
    };
    let mean = gmm.means()[c * d..(c + 1) * d].to_vec();
    GaussianMixture::from_parts(kind, vec![1.0], mean, one, gmm.convergence)
}

/// Component `c` of `b` alone, as a mixture of one.
fn bernoulli_component(b: &BernoulliMixture, c: usize) -> Result<BernoulliMixture> {
    check_component(c, b.n_components())?;
    let d = b.n_features();
    let probs = Mat::from_fn(1, d, |_, j| b.probs[(c, j)]); // [1, d]
    BernoulliMixture::from_parts(vec![1.0], probs, b.convergence)
}
