//! Crash safety of run folders, proved step by step: `ELBO_FAULT_AT=N`
//! makes the N-th filesystem step that changes the run folder (each write,
//! fsync, rename, link, mkdir, remove and metrics append) abort the
//! process, as `kill -9` would there, or fail with "no space left on
//! device". For every N until a run gets through untouched, the folder
//! must hold a complete checkpoint (the old one or the new one): `sample`
//! draws exactly what the reference run's checkpoint of that epoch draws,
//! `metrics.jsonl` parses and agrees with `state.json`, and `--resume`
//! (or, when the crash came before `config.toml` existed, training again)
//! finishes the run with the reference run's weights and losses.
#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

/// The loss fields of `metrics.jsonl` (timings differ between runs).
const LOSS_FIELDS: [&str; 4] = ["epoch", "train_loss", "test_loss", "test_kl"];

/// A tiny model trained for two epochs: two checkpoints, the second
/// replacing the first.
const EPOCHS: usize = 2;

/// The model's flags: `train vae` or `train pixelcnn` on digits.
#[derive(Clone, Copy)]
struct Model {
    family: &'static str,
    flags: &'static [&'static str],
}

const VAE: Model = Model {
    family: "vae",
    flags: &["--hidden", "16", "--latent", "2", "--threads", "1"],
};

const PIXELCNN: Model = Model {
    family: "pixelcnn",
    flags: &[
        "--hidden",
        "4",
        "--layers",
        "1",
        "--output-hidden",
        "8",
        "--pixels",
        "binary",
        "--threads",
        "1",
    ],
};

fn train_cmd(model: Model, dir: &Path, epochs: usize) -> std::process::Command {
    let epochs = epochs.to_string();
    let mut args = vec!["train", model.family, "--data", "digits", "--quiet"];
    args.extend_from_slice(&["--no-pictures", "--epochs", &epochs]);
    args.extend_from_slice(model.flags);
    let dir_s = path_str(dir);
    args.extend_from_slice(&["--out", &dir_s]);
    elbo_cmd(&args)
}

fn resume(dir: &Path) -> Output {
    let epochs = EPOCHS.to_string();
    elbo([
        "--threads",
        "1",
        "train",
        "--resume",
        &path_str(dir),
        "--epochs",
        &epochs,
        "--quiet",
        "--no-pictures",
    ])
}

/// Draws 4 images (seed 5) from the run in `dir` into `png`.
fn sample(dir: &Path, png: &Path) -> Output {
    elbo([
        "--threads",
        "1",
        "sample",
        "--model",
        &path_str(dir),
        "-n",
        "4",
        "--seed",
        "5",
        "--out",
        &path_str(png),
    ])
}

fn sample_bytes(dir: &Path, png: &Path) -> Vec<u8> {
    assert_ok(&sample(dir, png));
    std::fs::read(png).unwrap()
}

/// The loss fields of each line of `metrics.jsonl` (none before the file
/// exists).
fn loss_fields(dir: &Path) -> Vec<Vec<serde_json::Value>> {
    if !dir.join("metrics.jsonl").exists() {
        return Vec::new();
    }
    read_metrics(&dir.join("metrics.jsonl"))
        .iter()
        .map(|m| LOSS_FIELDS.iter().map(|k| m[*k].clone()).collect())
        .collect()
}

/// `state.json`'s completed epochs; 0 without a checkpoint.
fn epochs_done(dir: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(dir.join("state.json")) else {
        return 0;
    };
    let v: serde_json::Value = serde_json::from_str(&text).expect("state.json parses");
    v["epochs_done"].as_u64().expect("epochs_done") as usize
}

/// What the reference run looks like after each epoch.
struct Reference {
    /// Sample PNG bytes after epoch 1, 2 (index 0 unused).
    samples: Vec<Vec<u8>>,
    /// Loss fields of the finished run.
    losses: Vec<Vec<serde_json::Value>>,
    /// The finished run's top-level weights.
    weights: Vec<u8>,
}

fn reference(model: Model, tmp: &Path) -> Reference {
    let mut samples = vec![Vec::new()];
    for epochs in 1..=EPOCHS {
        let dir = tmp.join(format!("reference-{epochs}"));
        assert_ok(&train_cmd(model, &dir, epochs).output().unwrap());
        samples.push(sample_bytes(&dir, &tmp.join("reference.png")));
    }
    let dir = tmp.join(format!("reference-{EPOCHS}"));
    Reference {
        samples,
        losses: loss_fields(&dir),
        weights: std::fs::read(dir.join("model.safetensors")).unwrap(),
    }
}

/// Checks the folder a fault left behind, then finishes the run and
/// compares it with the reference.
fn check_after_fault(model: Model, dir: &Path, reference: &Reference, step: usize) {
    let png = dir.with_extension("png");
    let what = format!("after a fault at step {step}");
    if !dir.join("config.toml").exists() {
        // Killed before the run existed: training again just works.
        let out = train_cmd(model, dir, EPOCHS).output().unwrap();
        assert_ok(&out);
    } else {
        let done = epochs_done(dir);
        assert!(done <= EPOCHS, "{what}: epochs_done = {done}");
        let lines = loss_fields(dir);
        assert!(
            lines.len() == done || lines.len() == done + 1,
            "{what}: {} metrics lines for {done} epochs in state.json",
            lines.len()
        );
        assert_eq!(lines[..done], reference.losses[..done], "{what}: metrics");
        if done == 0 {
            assert_app_error(&sample(dir, &png), &["model.safetensors"]);
        } else {
            let drawn = sample_bytes(dir, &png);
            assert!(
                drawn == reference.samples[done],
                "{what}: sample differs from the epoch-{done} checkpoint's"
            );
        }
        assert_ok(&resume(dir));
    }
    assert_eq!(loss_fields(dir), reference.losses, "{what}: finished run");
    assert_eq!(epochs_done(dir), EPOCHS, "{what}");
    let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
    assert!(weights == reference.weights, "{what}: weights differ");
    assert!(
        sample_bytes(dir, &png) == reference.samples[EPOCHS],
        "{what}: final sample"
    );
    let mut checkpoints = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{what}: {name} left behind");
        if name.starts_with("checkpoint.") {
            checkpoints.push(name);
        }
    }
    // The current checkpoint and at most the one before it.
    assert!(
        checkpoints.len() <= 2,
        "{what}: {checkpoints:?} left behind"
    );
    assert!(
        checkpoint_dir(dir).join("optimizer.bpk").is_file(),
        "{what}"
    );
}

/// Runs training with a fault at every step in turn; returns how many
/// steps there were.
fn every_step(model: Model, fault: &str) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let reference = reference(model, tmp.path());
    for step in 1.. {
        let dir: PathBuf = tmp.path().join(format!("{}-{fault}-{step}", model.family));
        let out = train_cmd(model, &dir, EPOCHS)
            .env("ELBO_FAULT_AT", step.to_string())
            .env("ELBO_FAULT", fault)
            .output()
            .unwrap();
        if out.status.success() {
            assert_eq!(loss_fields(&dir), reference.losses);
            return step - 1;
        }
        if fault == "abort" {
            assert_eq!(out.status.signal(), Some(6), "{}", describe(&out));
        } else {
            assert_app_error(&out, &["no space left on device"]);
        }
        check_after_fault(model, &dir, &reference, step);
        assert!(step < 200, "more filesystem steps than expected");
    }
    unreachable!()
}

#[test]
fn a_kill_at_any_filesystem_step_of_a_vae_run_leaves_a_checkpoint_that_resumes() {
    let steps = every_step(VAE, "abort");
    eprintln!("{steps} injection points, all passed");
    assert!(
        steps >= 2 * 10,
        "only {steps} steps: the hook is not reached"
    );
}

#[test]
fn no_space_at_any_filesystem_step_of_a_vae_run_leaves_a_checkpoint_that_resumes() {
    let steps = every_step(VAE, "enospc");
    eprintln!("{steps} injection points, all passed");
    assert!(
        steps >= 2 * 10,
        "only {steps} steps: the hook is not reached"
    );
}

#[test]
fn a_kill_at_any_filesystem_step_of_a_pixelcnn_run_leaves_a_checkpoint_that_resumes() {
    let steps = every_step(PIXELCNN, "abort");
    eprintln!("{steps} injection points, all passed");
    assert!(
        steps >= 2 * 10,
        "only {steps} steps: the hook is not reached"
    );
}
