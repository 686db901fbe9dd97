//! The run API's array operations that bindings call: a VAE's codes and
//! decoder means (`Run::encode`, `Run::decode`) and an autoregressive
//! model's completions (`Run::complete`).

use elbo::data::{DataSpec, PixelMode};
use elbo::families::{ModelConfig, RunConfig};
use elbo::models::VaeConfig;
use elbo::models::pixel::PixelConfig;
use elbo::run::{Run, test_images};
use elbo::train::{DataConfig, TrainConfig, TrainOptions};

fn train_digits(model: ModelConfig, pixels: PixelMode, dir: &std::path::Path) -> Run {
    let mut data = DataConfig::new(DataSpec::Digits);
    data.pixels = pixels;
    let config = RunConfig {
        model,
        data,
        train: TrainConfig {
            epochs: 1,
            batch_size: 64,
            ..TrainConfig::default()
        },
    };
    let opts = TrainOptions {
        quiet: true,
        ..Default::default()
    };
    elbo::run::train(&config, dir, &opts).expect("a small run trains");
    Run::load(dir).expect("the run loads")
}

#[test]
fn encode_then_decode_gives_the_reconstructions() {
    let _training = crate::common::training();
    let tmp = tempfile::tempdir().expect("tempdir");
    let vae = VaeConfig {
        hidden: vec![16],
        latent: 3,
        ..VaeConfig::new(0)
    };
    let run = train_digits(ModelConfig::Vae(vae), PixelMode::Grey, tmp.path());
    let test = test_images(&run, None).expect("test split");
    let images = &test.pixels[..5 * 64];
    let codes = run.encode(images).expect("encode");
    assert_eq!(codes.len(), 5 * 3, "[5, latent]");
    let decoded = run.decode(&codes).expect("decode");
    let recon = run.reconstruct(images).expect("reconstruct");
    assert_eq!(decoded.len(), 5 * 64);
    for (a, b) in decoded.iter().zip(&recon) {
        assert!(
            (a - b).abs() < 1e-6,
            "decode(encode(x)) {a} vs reconstruct(x) {b}"
        );
    }
    let err = run.decode(&codes[..4]).expect_err("partial codes");
    assert!(err.to_string().contains("whole codes of 3"), "{err}");
}

#[test]
fn complete_keeps_the_given_rows_and_draws_binary_pixels_below() {
    let _training = crate::common::training();
    let tmp = tempfile::tempdir().expect("tempdir");
    let pixel = PixelConfig {
        hidden: 4,
        layers: 1,
        first_kernel: 3,
        output_hidden: 8,
        ..PixelConfig::new()
    };
    let run = train_digits(ModelConfig::PixelCnn(pixel), PixelMode::Binary, tmp.path());
    let test = test_images(&run, None).expect("test split");
    let given: Vec<f32> = test.pixels[..3 * 64]
        .iter()
        .map(|&v| if v > 0.5 { 1.0 } else { 0.0 })
        .collect();
    let out = run.complete(given.clone(), 3, 7, None).expect("complete");
    assert_eq!(out.len(), given.len());
    for img in 0..3 {
        let (a, b) = (
            &out[img * 64..img * 64 + 24],
            &given[img * 64..img * 64 + 24],
        );
        assert_eq!(a, b, "image {img}: the 3 given rows are kept");
    }
    assert!(out.iter().all(|&v| v == 0.0 || v == 1.0), "binary pixels");
    for rows in [0, 8] {
        let err = run
            .complete(given.clone(), rows, 7, None)
            .expect_err("rows out of range");
        assert!(err.to_string().contains("between 1 and 7"), "{err}");
    }
}
