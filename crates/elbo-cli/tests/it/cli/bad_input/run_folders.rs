//! Run folders that cannot be used: an existing run without `--force`,
//! missing or corrupt weights, folders that are not runs, and data or counts
//! that do not fit the run. Nothing saved may change.

use super::train_with;
use crate::common::*;

// ------------------------------------------------------------------- run folders

#[test]
fn existing_run_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("out");
    train_digits(&run, 1, &[]);
    let model = std::fs::read(run.join("model.safetensors")).unwrap();
    let metrics = std::fs::read(run.join("metrics.jsonl")).unwrap();
    let before = snapshot(&run);

    // Different settings, so that an overwrite would show.
    let out = train_with(tmp.path(), &["--epochs", "2", "--seed", "9"]);
    assert_app_error(&out, &["already holds a run", "--force"]);
    assert!(
        std::fs::read(run.join("model.safetensors")).unwrap() == model,
        "model.safetensors changed"
    );
    assert!(
        std::fs::read(run.join("metrics.jsonl")).unwrap() == metrics,
        "metrics.jsonl changed"
    );
    assert_unchanged(&run, &before);

    let out = train_with(tmp.path(), &["--epochs", "2", "--seed", "9", "--force"]);
    assert_ok(&out);
    assert_eq!(
        read_metrics(&run.join("metrics.jsonl")).len(),
        2,
        "--force starts the metrics afresh"
    );
    assert!(
        std::fs::read(run.join("model.safetensors")).unwrap() != model,
        "--force wrote new weights"
    );
}

#[test]
fn resume_with_missing_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    std::fs::remove_file(checkpoint_dir(&run).join("model.safetensors")).unwrap();
    let before = snapshot(&run);
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "2",
        "--quiet",
    ]);
    assert_app_error(&out, &["model.safetensors", "missing"]);
    assert_unchanged(&run, &before);
}

#[test]
fn resume_with_corrupted_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let garbage: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(run.join("model.safetensors"), &garbage).unwrap();
    let before = snapshot(&run);
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "2",
        "--quiet",
    ]);
    assert_app_error(&out, &["model.safetensors", "corrupt"]);
    assert_unchanged(&run, &before);
    // Reading the run for inference fails just as clearly.
    let out = elbo(["sample", "--model", &path_str(&run)]);
    assert_app_error(&out, &["model.safetensors", "not a valid safetensors file"]);
    assert_unchanged(&run, &before);
}

#[test]
fn resume_of_a_folder_that_is_not_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = elbo(["train", "--resume", &path_str(tmp.path()), "--epochs", "2"]);
    assert_app_error(&out, &["config.toml", "not an elbo run folder"]);
    assert!(
        snapshot(tmp.path()).is_empty(),
        "nothing written into the folder"
    );
}

#[test]
fn checkpoint_shapes_that_do_not_match_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("hidden = [400]"), "{config}");
    std::fs::write(
        run.join("config.toml"),
        config.replace("hidden = [400]", "hidden = [300]"),
    )
    .unwrap();
    let before = snapshot(&run);

    let out = elbo(["sample", "--model", &path_str(&run)]);
    assert_app_error(
        &out,
        &["model.safetensors", "encoder.0.weight", "400", "300"],
    );
    assert_unchanged(&run, &before);

    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "2",
        "--quiet",
    ]);
    assert_app_error(&out, &["model.safetensors", "encoder.0.weight"]);
    assert_unchanged(&run, &before);
}

#[test]
fn sample_from_a_folder_that_is_not_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("readme.txt"), "hello").unwrap();
    let before = snapshot(tmp.path());
    let out = elbo(["sample", "--model", &path_str(tmp.path())]);
    assert_app_error(&out, &["config.toml", "not an elbo run folder"]);
    assert_unchanged(tmp.path(), &before);
}

#[test]
fn sample_from_a_folder_that_does_not_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-run");
    let out = elbo(["sample", "--model", &path_str(&missing)]);
    assert_app_error(&out, &["no-such-run", "not found"]);
    assert!(!missing.exists());
}

#[test]
fn reconstruct_with_data_of_another_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let npy = tmp.path().join("big.npy");
    write_npy(&npy, "|u1", &[4, 28, 28], &[128u8; 4 * 28 * 28]);
    let before = snapshot(&run);
    let spec = format!("npy:{}", npy.display());

    let out = elbo(["reconstruct", "--model", &path_str(&run), "--data", &spec]);
    assert_app_error(&out, &["28x28x1", "8x8x1"]);
    assert_unchanged(&run, &before);

    for cmd in ["eval", "interpolate"] {
        let out = elbo([cmd, "--model", &path_str(&run), "--data", &spec]);
        assert_app_error(&out, &["28x28x1", "8x8x1"]);
    }
    assert_unchanged(&run, &before);
}

#[test]
fn a_run_whose_training_data_is_gone_says_to_pass_data() {
    // A run folder copied to another machine: its config.toml names a
    // data file that is not there.
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let npy = tmp.path().join("train.npy");
    write_npy(&npy, "|u1", &[20, 8, 8], &[128u8; 20 * 8 * 8]);
    let spec = format!("npy:{}", npy.display());
    assert_ok(&elbo([
        "train",
        "vae",
        "--data",
        &spec,
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&run),
    ]));
    std::fs::remove_file(&npy).unwrap();
    let before = snapshot(&run);
    for cmd in ["eval", "reconstruct"] {
        let out = elbo([cmd, "--model", &path_str(&run)]);
        assert_app_error(&out, &["train.npy", "config.toml", "pass --data"]);
    }
    assert_unchanged(&run, &before);
    assert_ok(&elbo([
        "eval",
        "--model",
        &path_str(&run),
        "--data",
        "digits",
    ]));
}

#[test]
fn commands_reject_out_of_range_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let before = snapshot(&run);
    let r = path_str(&run);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["sample", "--model", &r, "-n", "0"],
            &["-n/--count must be positive"],
        ),
        (
            &["reconstruct", "--model", &r, "-n", "0"],
            &["-n/--count must be positive"],
        ),
        (
            &["interpolate", "--model", &r, "--steps", "1"],
            &["at least 2 steps"],
        ),
        (
            &["interpolate", "--model", &r, "--from", "99999"],
            &["99999", "out of range"],
        ),
    ];
    for (args, needles) in cases {
        let out = elbo(*args);
        assert_app_error(&out, needles);
    }
    assert_unchanged(&run, &before);
}
