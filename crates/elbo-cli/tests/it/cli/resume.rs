//! Resume equivalence and determinism through the `elbo` binary.
//!
//! Every random stream of a run is a function of (seed, epoch, step,
//! purpose), so 2 + 2 epochs must replay exactly the 4 of a straight run, and
//! two runs with the same seed and thread count must agree bit for bit.

use std::path::Path;

use crate::common::*;

/// The metrics fields that must agree between equivalent runs (everything
/// but the timing fields `epoch_seconds` and `images_per_second`).
const LOSS_FIELDS: [&str; 7] = [
    "epoch",
    "train_loss",
    "train_recon",
    "train_kl",
    "test_loss",
    "test_recon",
    "test_kl",
];

fn loss_fields(dir: &Path) -> Vec<Vec<(String, serde_json::Value)>> {
    read_metrics(&dir.join("metrics.jsonl"))
        .iter()
        .map(|m| {
            LOSS_FIELDS
                .iter()
                .map(|k| (k.to_string(), m[*k].clone()))
                .collect()
        })
        .collect()
}

/// Asserts that the two weight files hold the same tensors (names, dtypes,
/// shapes, offsets) and the same bytes of tensor data; metadata is not compared.
fn assert_same_weights(a: &Path, b: &Path) {
    let (sa, sb) = (read_safetensors(a), read_safetensors(b));
    assert_eq!(sa.tensors, sb.tensors, "tensor tables differ");
    assert!(
        sa.data == sb.data,
        "tensor data of {} and {} differ",
        a.display(),
        b.display()
    );
}

/// Trains 4 epochs straight into A, and 2 then `--resume` to 4 into B.
fn straight_and_resumed(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (tmp.join("A"), tmp.join("B"));
    train_digits(&a, 4, &[]);
    train_digits(&b, 2, &[]);
    assert_eq!(read_metrics(&b.join("metrics.jsonl")).len(), 2);
    let out = elbo([
        "train",
        "--resume",
        &path_str(&b),
        "--epochs",
        "4",
        "--quiet",
    ]);
    assert_ok(&out);
    (a, b)
}

/// Resuming must continue exactly where training stopped.
#[test]
fn resume_matches_a_straight_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = straight_and_resumed(tmp.path());
    assert_eq!(
        loss_fields(&a),
        loss_fields(&b),
        "metrics of the straight and resumed runs differ"
    );
    assert_eq!(loss_fields(&b).len(), 4);
    assert_same_weights(&a.join("model.safetensors"), &b.join("model.safetensors"));
    let (wa, wb) = (
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap(),
    );
    assert!(
        wa == wb,
        "A/model.safetensors and B/model.safetensors are not byte-identical"
    );
}

/// Weights and losses only: the same check as above without the
/// byte-for-byte comparison of the files (their metadata holds parameter ids).
#[test]
fn resume_matches_a_straight_run_in_weights_and_losses() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = straight_and_resumed(tmp.path());
    assert_eq!(
        loss_fields(&a),
        loss_fields(&b),
        "metrics of the straight and resumed runs differ"
    );
    assert_same_weights(&a.join("model.safetensors"), &b.join("model.safetensors"));
}

#[test]
fn resume_of_a_finished_run_is_a_no_op() {
    // Training up to the epochs already done takes no step.
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 2, &[]);
    let weights = std::fs::read(run.join("model.safetensors")).unwrap();
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "2",
        "--quiet",
    ]);
    assert_ok(&out);
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 2);
    assert!(
        std::fs::read(run.join("model.safetensors")).unwrap() == weights,
        "weights changed"
    );
}

/// `--resume --epochs N` below the epochs already done must not leave a
/// config.toml that contradicts state.json: either refuse, or keep the config.
#[test]
fn resume_to_fewer_epochs_than_done_keeps_the_run_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 3, &[]);
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "1",
        "--quiet",
    ]);
    if !out.status.success() {
        assert_app_error(&out, &["3"]);
    }
    let config: toml::Table =
        toml::from_str(&std::fs::read_to_string(run.join("config.toml")).unwrap()).unwrap();
    let epochs = config["train"]["epochs"].as_integer().unwrap();
    assert!(
        epochs >= 3,
        "config.toml says epochs = {epochs} but 3 epochs are done"
    );
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 3);
}

/// Two fresh runs with the same seed and thread count: byte-identical files.
#[test]
fn same_seed_gives_byte_identical_model_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, d) = (tmp.path().join("C"), tmp.path().join("D"));
    train_digits(&c, 2, &["--threads", "2", "--seed", "3"]);
    train_digits(&d, 2, &["--threads", "2", "--seed", "3"]);
    let (wc, wd) = (
        std::fs::read(c.join("model.safetensors")).unwrap(),
        std::fs::read(d.join("model.safetensors")).unwrap(),
    );
    assert!(
        wc == wd,
        "model.safetensors of two runs with the same seed differ"
    );
}

/// Two fresh runs with the same seed and thread count: identical weights and
/// losses (tensor data compared, file metadata not).
#[test]
fn same_seed_gives_identical_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, d) = (tmp.path().join("C"), tmp.path().join("D"));
    train_digits(&c, 2, &["--threads", "2", "--seed", "3"]);
    train_digits(&d, 2, &["--threads", "2", "--seed", "3"]);
    assert_same_weights(&c.join("model.safetensors"), &d.join("model.safetensors"));
    assert_eq!(loss_fields(&c), loss_fields(&d));
}

#[test]
fn different_seed_gives_different_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, e) = (tmp.path().join("C"), tmp.path().join("E"));
    train_digits(&c, 2, &["--threads", "2", "--seed", "3"]);
    train_digits(&e, 2, &["--threads", "2", "--seed", "4"]);
    let (sc, se) = (
        read_safetensors(&c.join("model.safetensors")),
        read_safetensors(&e.join("model.safetensors")),
    );
    assert_eq!(sc.tensors, se.tensors, "same architecture");
    assert!(sc.data != se.data, "different seeds gave identical weights");
    let bytes = |p: &Path| std::fs::read(p.join("model.safetensors")).unwrap();
    assert!(bytes(&c) != bytes(&e));
    assert_ne!(loss_fields(&c), loss_fields(&e));
}

/// `--no-pictures` works with `--resume` too (the one-hour benchmark resumes
/// a run a dozen times and wants no PNGs in its timed segments).
#[test]
fn resume_no_pictures_skips_the_pngs() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let resume = |epochs: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--resume",
            run.to_str().unwrap(),
            "--epochs",
            epochs,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        assert_ok(&elbo(args));
    };
    resume("2", &["--no-pictures"]);
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 2);
    assert!(
        !run.join("samples.png").exists(),
        "--no-pictures wrote samples.png"
    );
    resume("3", &[]);
    assert!(
        run.join("samples.png").exists(),
        "pictures are written by default"
    );
}
