//! A loss that turns NaN or infinite stops training with a clear error, and the
//! last good checkpoint stays intact.

use elbo::data::DataSpec;
use elbo::families::{ModelConfig, RunConfig};
use elbo::models::VaeConfig;
use elbo::train::{DataConfig, TrainConfig, TrainOptions, TrainOutcome};

fn config(epochs: usize) -> RunConfig {
    RunConfig {
        model: ModelConfig::Vae(VaeConfig {
            hidden: vec![32],
            latent: 4,
            ..VaeConfig::new(0)
        }),
        data: DataConfig::new(DataSpec::Digits),
        train: TrainConfig {
            epochs,
            batch_size: 64,
            lr: 1e-3,
            seed: 3,
            ..TrainConfig::default()
        },
    }
}

#[test]
fn nonfinite_loss_stops_training_and_keeps_the_last_checkpoint() {
    let _training = crate::common::training();
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let quiet = TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    let outcome = elbo::run::train(&config(1), &run, &quiet).expect("first epoch trains");
    assert!(matches!(outcome, TrainOutcome::Finished(Some(_))));
    let before = checkpoint_files(&run);

    // An absurd learning rate drives the weights, then the loss, to inf/NaN.
    let config_path = run.join("config.toml");
    let text = std::fs::read_to_string(&config_path).expect("config");
    std::fs::write(&config_path, text.replace("lr = 0.001", "lr = 1e30")).expect("write config");
    let err = elbo::run::resume(&run, Some(50), &quiet).expect_err("training must stop");
    let msg = err.to_string();
    assert!(matches!(err, elbo::Error::NonFinite { .. }), "{msg}");
    assert!(
        msg.contains("loss became") && msg.contains("last good checkpoint"),
        "{msg}"
    );

    let after = checkpoint_files(&run);
    // Epochs that finished before the blow-up may have been checkpointed; the
    // files must still form a loadable, consistent checkpoint with finite weights.
    let state: serde_json::Value = serde_json::from_slice(&after[2]).expect("state parses");
    let done = state["epochs_done"].as_u64().expect("epochs_done");
    assert!(done >= 1);
    if done == 1 {
        assert_eq!(
            before, after,
            "nothing may change when the first resumed epoch fails"
        );
    }
    elbo::run::Run::load(&run).expect("the kept checkpoint loads (finite weights)");
}

/// The checkpoint's weights and optimizer (in the folder `state.json`
/// names), `state.json` and `metrics.jsonl`.
fn checkpoint_files(run: &std::path::Path) -> Vec<Vec<u8>> {
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("state.json")).expect("state.json"))
            .expect("state parses");
    let folder = run.join(state["checkpoint"].as_str().expect("a checkpoint folder"));
    [
        folder.join("model.safetensors"),
        folder.join("optimizer.bpk"),
        run.join("state.json"),
        run.join("metrics.jsonl"),
    ]
    .iter()
    .map(|f| std::fs::read(f).expect("checkpoint file"))
    .collect()
}
