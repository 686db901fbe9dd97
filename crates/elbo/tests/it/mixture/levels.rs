//! The GMM's NLL is dequantized at the data's real number of grey levels
//! (17 for the embedded digits, 256 for 8-bit images), checked against a
//! closed form and through a digits run.

use elbo::data::DataSpec;
use elbo::eval::{EvalOptions, NllMethod};
use elbo::mixture::{GaussianMixtureParams, dequantization_nats, dequantize, matrix_from_rows};
use elbo::report::plan;
use elbo::train::DataConfig;

/// One-pixel images whose `levels` values k/(levels − 1) occur equally
/// often dequantize to exactly U(0, 1), whose best Gaussian has variance
/// 1/12 and −log density ½ ln(2πe/12). So a one-component GMM's bound is
/// ln L + ½ ln(2πe/12), just above the true −log P = ln L of a uniform
/// draw among L levels; dequantizing at the wrong count misses it by
/// ln(256/L).
#[test]
fn one_gaussian_on_uniform_levels_scores_the_closed_form_bound() {
    let gap = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E / 12.0).ln();
    for levels in [2u32, 17, 256] {
        let top = (levels - 1) as f32;
        let pixels: Vec<f32> = (0..levels * 300)
            .map(|i| (i % levels) as f32 / top)
            .collect();
        let x = matrix_from_rows(&dequantize(&pixels, levels, 7), 1).unwrap();
        let gmm = GaussianMixtureParams::new(1).fit(x.as_ref()).unwrap();
        let nll = dequantization_nats(1, levels) - gmm.score(x.as_ref()).unwrap();
        let want = f64::from(levels).ln() + gap;
        assert!(
            (nll - want).abs() < 0.02,
            "{levels} levels: {nll} vs {want}"
        );
        assert!(nll > f64::from(levels).ln(), "a bound above the truth");
    }
}

#[test]
fn a_digits_gmm_reports_its_bound_at_seventeen_levels() {
    let data = DataConfig::new(DataSpec::Digits);
    let splits = data.load().unwrap();
    assert_eq!(splits.test.levels, 17);
    let dir = tempfile::tempdir().unwrap();
    let config = plan::config("gmm", &data, &splits, 3).unwrap();
    elbo::families::mixture::train(&config, dir.path(), true, None).unwrap();
    let run = elbo::run::Run::load(dir.path()).unwrap();
    // Recorded in config.toml with the run, so eval needs no data to know it.
    let config = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(config.contains("levels = 17"), "{config}");
    let nll = run
        .evaluate(&splits.test, &EvalOptions::default())
        .unwrap()
        .nll
        .unwrap();
    assert!(
        matches!(nll.method, NllMethod::DequantizedBound { levels: 17, .. }),
        "{:?}",
        nll.method
    );
    assert!(nll.method.describe().contains("17 grey levels"));
    // Positive as −log of a probability, and better than a uniform draw of
    // 17 levels per pixel (64 ln 17 ≈ 181 nats); at 256 levels the bound
    // would carry 64 ln(256/17) ≈ 174 nats of dequantization on top.
    let uniform = 64.0 * 17f64.ln();
    assert!(
        nll.nats > 0.0 && nll.nats < uniform,
        "{} vs {uniform}",
        nll.nats
    );
}
