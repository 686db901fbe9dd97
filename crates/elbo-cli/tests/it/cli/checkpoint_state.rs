//! What a checkpoint records is checked before training resumes from it:
//! `state.json` must describe a point inside the configured run, and the
//! optimizer state must belong to the model. And what a run without a
//! checkpoint, or without test images, tells the user.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::common::*;

fn state_path(run: &Path) -> PathBuf {
    run.join("state.json")
}

fn read_state(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(state_path(run)).unwrap()).unwrap()
}

fn write_state(run: &Path, state: &serde_json::Value) {
    std::fs::write(state_path(run), serde_json::to_vec_pretty(state).unwrap()).unwrap();
}

/// The current checkpoint folder named by `state.json`.
fn checkpoint_folder(run: &Path) -> PathBuf {
    let state = read_state(run);
    run.join(
        state["checkpoint"]
            .as_str()
            .expect("state.json names its checkpoint"),
    )
}

fn resume(run: &Path, epochs: &str) -> std::process::Output {
    elbo([
        "train",
        "--resume",
        &path_str(run),
        "--epochs",
        epochs,
        "--quiet",
        "--no-pictures",
    ])
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_step_beyond_the_epoch_in_state_json_is_refused() {
    let (_tmp, run) = one_epoch_run(&["--hidden", "16"]);
    let mut state = read_state(&run);
    state["step"] = serde_json::json!(1_000_000_000_000u64);
    write_state(&run, &state);
    let before = snapshot(&run);
    assert_app_error(&resume(&run, "2"), &["state.json", "step 1000000000000"]);
    assert_unchanged(&run, &before);
}

#[test]
fn more_epochs_done_than_configured_is_refused() {
    let (_tmp, run) = one_epoch_run(&["--hidden", "16"]);
    let mut state = read_state(&run);
    state["epochs_done"] = serde_json::json!(1000);
    write_state(&run, &state);
    let before = snapshot(&run);
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--quiet",
        "--no-pictures",
    ]);
    assert_app_error(&out, &["state.json", "1000 epochs"]);
    assert_unchanged(&run, &before);
}

#[test]
fn a_checkpoint_folder_outside_the_run_is_refused() {
    let (_tmp, run) = one_epoch_run(&["--hidden", "16"]);
    let mut state = read_state(&run);
    state["checkpoint"] = serde_json::json!("../elsewhere");
    write_state(&run, &state);
    assert_app_error(
        &resume(&run, "2"),
        &["state.json", "not a checkpoint folder"],
    );
    let out = elbo(["sample", "--model", &path_str(&run)]);
    assert_app_error(&out, &["state.json", "not a checkpoint folder"]);
}

/// The optimizer state of another model, with its checksum fixed in
/// `state.json`, used to resume and update only part of the weights.
#[test]
fn an_optimizer_state_from_another_model_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, other) = (tmp.path().join("run"), tmp.path().join("other"));
    train_digits(&run, 1, &["--hidden", "16"]);
    train_digits(&other, 1, &["--hidden", "24"]);
    let foreign = std::fs::read(checkpoint_folder(&other).join("optimizer.bpk")).unwrap();
    std::fs::write(checkpoint_folder(&run).join("optimizer.bpk"), &foreign).unwrap();
    let mut state = read_state(&run);
    state["optimizer_sha256"] = serde_json::json!(sha256_hex(&foreign));
    write_state(&run, &state);
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--quiet",
        "--no-pictures",
        "--epochs",
        "2",
    ]);
    assert_app_error(&out, &["optimizer.bpk", "another model"]);
    assert_eq!(read_state(&run), state, "state.json changed");
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 1);
}

/// A loss that blows up in the first epoch of a new run: nothing was saved,
/// and the messages say so instead of pointing at a checkpoint.
#[test]
fn a_run_that_fails_in_its_first_epoch_says_no_checkpoint_exists_and_can_start_again() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = train_digits_raw(&run, &["--epochs", "2", "--hidden", "16", "--lr", "1e30"]);
    let err = assert_app_error(&out, &["loss became", "no checkpoint was saved"]);
    assert!(!err.contains("last good checkpoint"), "{err}");
    assert!(!state_path(&run).exists());

    let again = train_digits_raw(&run, &["--epochs", "2", "--hidden", "16"]);
    let err = assert_app_error(&again, &["before its first checkpoint", "--force"]);
    assert!(err.contains("elbo train resume"), "{err}");
    assert!(err.contains("to start it from its config.toml"), "{err}");

    // --resume starts such a run from its config.toml.
    let text = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let mut config: toml::Table = toml::from_str(&text).unwrap();
    config["train"]["lr"] = toml::Value::Float(0.001);
    std::fs::write(run.join("config.toml"), toml::to_string(&config).unwrap()).unwrap();
    assert_ok(&resume(&run, "2"));
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 2);
    assert_eq!(read_state(&run)["epochs_done"], 2);
}

#[test]
fn a_run_without_test_images_reports_no_test_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = elbo([
        "train",
        "vae",
        "--data",
        "digits",
        "--epochs",
        "1",
        "--hidden",
        "16",
        "--quiet",
        "--test-fraction",
        "0",
        "--out",
        &path_str(&run),
    ]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(!text.contains("test loss"), "{text}");
    assert!(text.contains("no test images"), "{text}");
    let metrics = read_metrics(&run.join("metrics.jsonl"));
    assert!(metrics[0].get("test_loss").is_none(), "{:?}", metrics[0]);
    // The pictures show training images instead.
    assert!(run.join("reconstructions.png").is_file());
    let eval = elbo(["eval", "--model", &path_str(&run)]);
    assert_app_error(&eval, &["no images to evaluate", "--data"]);
}
