//! What the one training loop and the family configs promise every family:
//! a setting that does not apply is an error at config time (never silently
//! dropped), `test_every` holds for the pixel models too, and NADE trains
//! on binary `amat:` data with an exact test NLL.

use elbo::data::{DataSpec, PixelMode};
use elbo::eval::{EvalOptions, NllMethod};
use elbo::families::nade::NadeConfig;
use elbo::families::{ModelConfig, RunConfig};
use elbo::folder::metrics;
use elbo::mixture::{BernoulliMixtureConfig, GmmConfig};
use elbo::models::VaeConfig;
use elbo::models::pixel::PixelConfig;
use elbo::run::Run;
use elbo::train::{DataConfig, TrainConfig, TrainOptions, TrainOutcome};

fn binary_digits() -> DataConfig {
    let mut data = DataConfig::new(DataSpec::Digits);
    data.pixels = PixelMode::Binary;
    data
}

fn small_pixelcnn() -> ModelConfig {
    let mut p = PixelConfig::new();
    (p.hidden, p.layers, p.output_hidden) = (4, 1, 8);
    ModelConfig::PixelCnn(p)
}

fn small_nade() -> ModelConfig {
    let mut n = NadeConfig::new(0);
    n.hidden = 8;
    ModelConfig::Nade(n)
}

#[test]
fn vae_only_settings_are_refused_by_every_other_family() {
    let others = [
        ModelConfig::Ae(VaeConfig::new(0)),
        ModelConfig::Gmm(GmmConfig::new(2)),
        ModelConfig::BernoulliMixture(BernoulliMixtureConfig::new(2)),
        small_pixelcnn(),
        small_nade(),
    ];
    let settings: [fn(&mut TrainConfig); 4] = [
        |t| t.beta = 2.0,
        |t| t.warmup_epochs = 1,
        |t| t.free_bits = 0.5,
        |t| t.iwae_samples = 5,
    ];
    for model in others {
        for set in settings {
            let mut train = TrainConfig::default();
            set(&mut train);
            let config = RunConfig {
                model: model.clone(),
                data: binary_digits(),
                train,
            };
            let err = config
                .validate()
                .expect_err("a VAE-only setting is refused");
            assert!(
                err.to_string().contains("no KL term"),
                "{}: {err}",
                model.kind()
            );
        }
    }
    // The VAE itself takes them.
    let train = TrainConfig {
        beta: 2.0,
        ..TrainConfig::default()
    };
    let vae = RunConfig {
        model: ModelConfig::Vae(VaeConfig::new(0)),
        data: binary_digits(),
        train,
    };
    vae.validate().expect("beta applies to the VAE");
}

#[test]
fn nade_refuses_grey_pixels() {
    let config = RunConfig {
        model: small_nade(),
        data: DataConfig::new(DataSpec::Digits),
        train: TrainConfig::default(),
    };
    let err = config.validate().expect_err("grey pixels are refused");
    assert!(err.to_string().contains("binary"), "{err}");
}

#[test]
fn pixel_models_score_the_test_set_every_nth_and_the_last_epoch() {
    let _training = crate::common::training();
    let tmp = tempfile::tempdir().unwrap();
    let config = RunConfig {
        model: small_pixelcnn(),
        data: binary_digits(),
        train: TrainConfig {
            epochs: 3,
            batch_size: 256,
            test_every: 2,
            ..TrainConfig::default()
        },
    };
    let opts = TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    elbo::run::train(&config, &tmp.path().join("run"), &opts).expect("trains");
    let tested: Vec<bool> = metrics::read(&tmp.path().join("run/metrics.jsonl"))
        .unwrap()
        .iter()
        .map(|m| m.tested())
        .collect();
    assert_eq!(tested, [false, true, true]);
}

/// Digits `from..to`, binarized and scaled 3x into the middle of 28x28, as
/// an `.amat` file (784 values per line, the binarized-MNIST format).
fn write_amat(path: &std::path::Path, from: usize, to: usize) {
    let set = DataSpec::Digits
        .load(&Default::default())
        .expect("digits")
        .train;
    let mut text = String::new();
    for i in from..to {
        let img = set.image(i); // [8, 8]
        let line: Vec<&str> = (0..784)
            .map(|p| {
                let (r, c) = (p / 28, p % 28);
                let inside = (2..26).contains(&r) && (2..26).contains(&c);
                let on = inside && img[(r - 2) / 3 * 8 + (c - 2) / 3] >= 0.5;
                if on { "1" } else { "0" }
            })
            .collect();
        text.push_str(&line.join(" "));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn nade_trains_on_amat_data_and_its_exact_nll_matches_the_log() {
    let _training = crate::common::training();
    let tmp = tempfile::tempdir().unwrap();
    // A `_train` file with its `_valid` sibling: the validation images are
    // the test split, as for binarized MNIST.
    let file = tmp.path().join("digits_train.amat");
    write_amat(&file, 0, 300);
    write_amat(&tmp.path().join("digits_valid.amat"), 300, 400);
    let mut data = DataConfig::new(DataSpec::Amat(file.clone()));
    data.pixels = PixelMode::Binary;
    let config = RunConfig {
        model: small_nade(),
        data,
        train: TrainConfig {
            epochs: 3,
            batch_size: 32,
            ..TrainConfig::default()
        },
    };
    let dir = tmp.path().join("nade");
    let opts = TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    let outcome = elbo::run::train(&config, &dir, &opts).expect("NADE trains");
    let TrainOutcome::Finished(Some(last)) = outcome else {
        panic!("training finished with a last epoch")
    };
    let log = metrics::read(&dir.join("metrics.jsonl")).unwrap();
    assert!(
        log[2].train_loss < log[0].train_loss,
        "training lowers the NLL: {log:?}"
    );
    let run = Run::load(&dir).expect("the run loads");
    let test = elbo::run::test_images(&run, None).unwrap();
    assert_eq!(test.n, 100, "the _valid file is the test split");
    let e = run
        .evaluate(
            &test,
            &EvalOptions {
                seed: 0,
                iwae_samples: None,
            },
        )
        .unwrap();
    let nll = e.nll.expect("NADE has an exact NLL");
    assert_eq!(nll.method, NllMethod::ExactAutoregressive);
    // Static binary pixels do not depend on the seed: the same figure as
    // the test pass after the last epoch.
    assert!(
        (nll.nats - last.test_loss).abs() < 1e-4,
        "{} vs {}",
        nll.nats,
        last.test_loss
    );
    let samples = run.sample(4, 0).unwrap();
    assert_eq!(samples.len(), 4 * 784);
    assert!(samples.iter().all(|&v| v == 0.0 || v == 1.0));
}
