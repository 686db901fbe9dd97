//! `test_every` skips the per-epoch test pass between evaluations (a one-hour
//! benchmark spent ~10% of its time there), while the last epoch is always
//! evaluated.

use elbo::data::DataSpec;
use elbo::families::{ModelConfig, RunConfig};
use elbo::folder::EpochMetrics;
use elbo::models::VaeConfig;
use elbo::train::{DataConfig, TrainConfig, TrainOptions, TrainOutcome};

fn config(epochs: usize, test_every: usize) -> RunConfig {
    RunConfig {
        model: ModelConfig::Vae(VaeConfig {
            hidden: vec![16],
            latent: 3,
            ..VaeConfig::new(0)
        }),
        data: DataConfig::new(DataSpec::Digits),
        train: TrainConfig {
            epochs,
            batch_size: 256,
            test_every,
            ..TrainConfig::default()
        },
    }
}

fn lines(run: &std::path::Path) -> Vec<EpochMetrics> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .expect("metrics.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("metrics line parses"))
        .collect()
}

#[test]
fn test_every_n_scores_every_nth_and_the_last_epoch() {
    let _training = crate::common::training();
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let quiet = TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    let outcome = elbo::run::train(&config(5, 2), &run, &quiet).expect("trains");
    let TrainOutcome::Finished(Some(last)) = outcome else {
        panic!("training finished with a last epoch")
    };
    assert!(last.tested() && last.test_loss.is_finite());
    let m = lines(&run);
    let tested: Vec<bool> = m.iter().map(EpochMetrics::tested).collect();
    assert_eq!(tested, [false, true, false, true, true]);
    for e in &m {
        assert!(e.train_loss.is_finite());
        assert_eq!(e.active_units.is_some(), e.tested(), "epoch {}", e.epoch);
    }
    let raw = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    let first = raw.lines().next().expect("a line");
    assert!(
        !first.contains("test_loss") && !first.contains("null"),
        "{first}"
    );
    elbo::plot::save_training_curves(&run, dir.path()).expect("curves skip untested epochs");
}

#[test]
fn test_every_zero_is_rejected() {
    let msg = config(2, 0).train.validate().expect_err("zero").to_string();
    assert!(msg.contains("--test-every"), "{msg}");
}
