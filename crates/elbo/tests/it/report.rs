//! What the report needs from the models beside the VAE: a pixel likelihood for
//! the GMM on PCA components (probabilistic PCA's residual), and fitting to a
//! deadline that can fall inside an epoch.

use elbo::data::{DataSpec, Splits};
use elbo::mixture::{Mat, Pca, matrix_from_rows};
use elbo::report::{fit, plan};
use elbo::train::DataConfig;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// 3-D data with variances about 9, 4 and 0.25 along the axes.
fn gaussian_3d(n: usize) -> Mat<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut normal = move || {
        // Box–Muller: independent of the crate's own samplers.
        let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let rows: Vec<f32> = (0..n)
        .flat_map(|_| [3.0 * normal() + 1.0, 2.0 * normal() - 2.0, 0.5 * normal()])
        .map(|v| v as f32)
        .collect();
    matrix_from_rows(&rows, 3).unwrap()
}

/// With d = D − 1 the residual is one coordinate along the last principal
/// axis, whose variance is the discarded eigenvalue: the residual density
/// must be that one-dimensional normal density.
#[test]
fn pca_residual_density_is_the_discarded_axis_normal() {
    let x = gaussian_3d(2000);
    let full = Pca::fit(x.as_ref(), 3).unwrap();
    let two = Pca::fit(x.as_ref(), 2).unwrap();
    let var = full.explained_variance[2];
    assert!((two.noise_variance() - var).abs() < 1e-9 * var.max(1.0));
    let z = two.transform(x.as_ref()).unwrap();
    let got = two.residual_log_density(x.as_ref(), z.as_ref()).unwrap();
    let along = full.transform(x.as_ref()).unwrap();
    for i in [0, 17, 999] {
        let r = along[(i, 2)];
        let want = -0.5 * (2.0 * std::f64::consts::PI * var).ln() - r * r / (2.0 * var);
        assert!(
            (got[i] - want).abs() < 1e-8,
            "row {i}: {} vs {want}",
            got[i]
        );
    }
}

#[test]
fn pca_residual_refuses_mismatched_shapes() {
    let x = gaussian_3d(50);
    let pca = Pca::fit(x.as_ref(), 2).unwrap();
    let z = pca.transform(x.as_ref()).unwrap();
    assert!(pca.residual_log_density(z.as_ref(), z.as_ref()).is_err());
}

/// A GMM on PCA coordinates of the digits gets a finite pixel NLL, and the
/// residual makes it a density of all 64 pixels: it is not the PCA-space
/// score shifted by D ln 256 alone.
#[test]
fn gmm_on_pca_reports_a_pixel_nll() {
    let data = DataConfig::new(DataSpec::Digits);
    let splits: Splits = data.load().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = plan::config("gmm", &data, &splits, 3).unwrap();
    let fitted = elbo::families::mixture::train(&config, dir.path(), true, None).unwrap();
    let nll = fitted.test.nll_nats.expect("a dequantized GMM has an NLL");
    let d_ln_256 = 64.0 * 256f64.ln();
    assert!(nll.is_finite() && nll > 0.0 && nll < d_ln_256, "{nll}");
    assert!((nll - (d_ln_256 - fitted.test.log_likelihood)).abs() > 1.0);
}

/// The deadline stops training inside the first epoch when the budget is
/// shorter than an epoch, and the run folder it leaves loads and resumes.
#[test]
fn fit_within_stops_at_the_deadline_with_a_resumable_run() {
    let _training = crate::common::training_alone();
    let data = DataConfig::new(DataSpec::Digits);
    let splits = data.load().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = plan::config("pixelcnn", &data, &splits, 1).unwrap();
    config.train.batch_size = 1; // about 1,400 steps per epoch: far more than 0.3 s
    let steps = splits.train.n;
    let (epochs, _) = fit::fit_within(&config, dir.path(), 0.3, 50, steps).unwrap();
    assert!(epochs > 0.0 && epochs < 1.0, "{epochs} epochs");
    let run = elbo::run::Run::load(dir.path()).unwrap();
    let opts = elbo::eval::EvalOptions {
        seed: 0,
        iwae_samples: None,
    };
    let nll = run.evaluate(&splits.test, &opts).unwrap().nll.unwrap();
    assert!(nll.nats.is_finite());
    let opts = elbo::train::TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    elbo::run::resume(dir.path(), Some(1), &opts).unwrap();
}
