//! Conv and conditional VAEs through the `elbo` binary, the plain autoencoder,
//! `sample --label`, `compare-ae`, and their bad input.

use std::path::Path;

use crate::common::*;

/// Trains `elbo train FAMILY` on digits into `dir` (quiet, no pictures).
fn train_family(family: &str, dir: &Path, epochs: usize, extra: &[&str]) {
    let epochs = epochs.to_string();
    let mut args = vec![
        "train",
        family,
        "--data",
        "digits",
        "--quiet",
        "--no-pictures",
        "--epochs",
        &epochs,
    ];
    let out_dir = path_str(dir);
    args.extend(["--out", &out_dir]);
    args.extend_from_slice(extra);
    assert_ok(&elbo(&args));
}

#[test]
fn conditional_conv_run_samples_a_label_reads_labels_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("cvae");
    train_digits(&run, 3, &["--conditional", "--arch", "conv"]);
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("conditional = true"), "{config}");
    assert!(config.contains("classes = 10"), "{config}");
    let png = tmp.path().join("threes.png");
    let out = elbo([
        "sample",
        "--model",
        &path_str(&run),
        "--label",
        "3",
        "-n",
        "9",
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&out);
    // 3x3 digits of 8x8 scaled by 14 with 2 px separators: 3·114 + 2.
    assert_eq!(png_size(&png), (344, 344));
    // Reconstruct, interpolate, eval and IWAE read the labels from the data.
    for args in [
        vec!["reconstruct", "-n", "4"],
        vec!["interpolate", "--steps", "3"],
        vec!["eval", "--iwae", "5"],
    ] {
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        full.extend(["--model".into(), path_str(&run)]);
        assert_ok(&elbo(&full));
    }
    // Resume continues a conditional conv run.
    assert_ok(&elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "4",
        "--quiet",
    ]));
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 4);
}

#[test]
fn label_outside_the_trained_classes_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("cvae");
    train_digits(&run, 1, &["--conditional"]);
    let out = elbo(["sample", "--model", &path_str(&run), "--label", "10"]);
    assert_app_error(&out, &["label 10", "10 classes", "0..=9"]);
}

#[test]
fn label_on_an_unconditional_model_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("vae");
    train_digits(&run, 1, &[]);
    let out = elbo(["sample", "--model", &path_str(&run), "--label", "3"]);
    assert_app_error(&out, &["--label", "conditional", &path_str(&run)]);
}

#[test]
fn conditional_training_on_data_without_labels_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("nolabels.npy");
    write_npy(&npy, "|u1", &[20, 4, 4], &[128u8; 20 * 16]);
    let out_dir = tmp.path().join("out");
    let out = elbo([
        "train",
        "vae",
        "--data",
        &format!("npy:{}", npy.display()),
        "--conditional",
        "--batch-size",
        "4",
        "--quiet",
        "--out",
        &path_str(&out_dir),
    ]);
    assert_app_error(&out, &["nolabels.npy", "labels"]);
    assert!(!out_dir.exists(), "no run folder is started");
}

#[test]
fn conv_on_images_its_strides_do_not_divide_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("odd.npy");
    write_npy(&npy, "|u1", &[20, 6, 6], &[100u8; 20 * 36]);
    let out = elbo([
        "train",
        "vae",
        "--data",
        &format!("npy:{}", npy.display()),
        "--arch",
        "conv",
        "--batch-size",
        "4",
        "--quiet",
        "--out",
        &path_str(&tmp.path().join("out")),
    ]);
    assert_app_error(&out, &["odd.npy", "6x6x1", "divisible by 4"]);
}

#[test]
fn autoencoder_has_no_likelihood_bound_but_resumes_and_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let ae = tmp.path().join("ae");
    train_family("ae", &ae, 2, &[]);
    let config = std::fs::read_to_string(ae.join("config.toml")).unwrap();
    assert!(config.contains("kind = \"ae\""), "{config}");
    let out = elbo(["eval", "--model", &path_str(&ae)]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("reconstruction loss"),
        "{}",
        describe(&out)
    );
    assert!(
        stdout(&out).contains("no likelihood bound"),
        "{}",
        describe(&out)
    );
    let out = elbo(["eval", "--model", &path_str(&ae), "--iwae", "10"]);
    assert_app_error(&out, &["autoencoder", "no likelihood bound"]);
    let out = elbo([
        "score",
        "--model",
        &path_str(&ae),
        "--out",
        &path_str(&tmp.path().join("s.csv")),
    ]);
    assert_app_error(&out, &["autoencoder"]);
    let torch = path_str(&tmp.path().join("t.safetensors"));
    let out = elbo(["export", "torch-vae", &path_str(&ae), "--out", &torch]);
    assert_app_error(&out, &["autoencoder"]);
    // Pictures, resume and sampling work as for a VAE.
    assert_ok(&elbo([
        "train",
        "--resume",
        &path_str(&ae),
        "--epochs",
        "3",
        "--quiet",
    ]));
    assert_ok(&elbo(["sample", "--model", &path_str(&ae), "-n", "4"]));
}

#[test]
fn autoencoder_rejects_vae_only_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = path_str(&tmp.path().join("out"));
    let base = [
        "train", "ae", "--data", "digits", "--quiet", "--out", &out_dir,
    ];
    // The VAE's objective flags are not flags of `train ae` at all.
    for flags in [["--beta", "2"], ["--iwae-samples", "5"]] {
        let out = elbo(base.iter().chain(&flags));
        assert_clean_error(&out, &["unexpected argument", flags[0]]);
    }
    let out = elbo(base.iter().chain(&["--conditional"]));
    assert_app_error(&out, &["autoencoder"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn compare_ae_draws_the_grid_and_rejects_swapped_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (vae, ae) = (tmp.path().join("vae"), tmp.path().join("ae"));
    train_family("vae", &vae, 2, &[]);
    train_family("ae", &ae, 2, &[]);
    let png = tmp.path().join("why.png");
    let out = elbo([
        "compare-ae",
        "--vae",
        &path_str(&vae),
        "--ae",
        &path_str(&ae),
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&out);
    // 21 columns (10 + blank + 10) and 6 rows of 114 px cells, 2 px separators.
    assert_eq!(png_size(&png), (21 * 114 + 2, 6 * 114 + 2));
    let swapped = elbo([
        "compare-ae",
        "--vae",
        &path_str(&ae),
        "--ae",
        &path_str(&vae),
        "--out",
        &path_str(&png),
    ]);
    assert_app_error(&swapped, &["not a VAE run", &path_str(&ae)]);
}
