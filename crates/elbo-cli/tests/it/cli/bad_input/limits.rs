//! Sizes that cannot fit: a model, a data set or a sample count too large
//! for the memory limit is refused up front with an error naming the flag
//! or key and the estimate, quickly and without allocating (each case runs
//! under `--max-memory 2G`, and must finish well before it could have
//! filled that).

use std::time::{Duration, Instant};

use super::train_with;
use crate::common::*;

/// Generous for a process that reads the embedded digits and stops; far
/// less than allocating or initializing gigabytes takes.
const QUICK: Duration = Duration::from_secs(30);

/// `elbo train vae` on digits with `flags` under `--max-memory 2G`: a clean
/// error naming every needle, in [`QUICK`] time, no run folder.
fn refused(flags: &[&str], needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = vec!["--max-memory", "2G", "--epochs", "1"];
    all.extend_from_slice(flags);
    let started = Instant::now();
    let out = train_with(tmp.path(), &all);
    let took = started.elapsed();
    let err = assert_app_error(&out, needles);
    assert!(
        err.contains("needs about") || err.contains("overflows"),
        "{err}"
    );
    assert!(took < QUICK, "took {took:?}\n{}", describe(&out));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn a_billion_hidden_units_are_refused_naming_the_flag() {
    refused(
        &["--hidden", "1000000000"],
        &["--hidden", "--max-memory", "2.1 GB"],
    );
}

#[test]
fn a_billion_latent_dimensions_are_refused_naming_the_flag() {
    refused(&["--latent", "1000000000"], &["--latent"]);
}

#[test]
fn a_million_training_importance_samples_are_refused() {
    refused(&["--iwae-samples", "1000000"], &["--iwae-samples"]);
}

#[test]
fn a_huge_image_size_is_refused_before_resizing() {
    refused(
        &["--image-size", "100000x100000"],
        &["--image-size", "100000x100000"],
    );
}

#[test]
fn huge_sizes_in_config_toml_are_refused_naming_the_key() {
    for (text, needle) in [
        ("[model]\nhidden = [1000000000]\n", "[model] hidden"),
        ("[model]\nhidden = [9223372036854775807]\n", "overflows"),
        ("[model]\nlatent = 1000000000\n", "latent"),
        ("[model]\nlatent = 9223372036854775807\n", "overflows"),
        ("[data]\nimage_size = [100000, 100000]\n", "image_size"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = tmp.path().join("big.toml");
        std::fs::write(&cfg, text).unwrap();
        let flags = ["--config", &path_str(&cfg)];
        refused(&flags, &[needle]);
    }
}

#[test]
fn a_width_beyond_toml_integers_is_a_clean_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("max.toml");
    std::fs::write(&cfg, "[model]\nhidden = [18446744073709551615]\n").unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--config", &path_str(&cfg)]);
    assert_app_error(&out, &["max.toml", "too large"]);
}

#[test]
fn a_width_that_overflows_every_size_is_refused_not_a_panic() {
    refused(
        &["--hidden", "18446744073709551615"],
        &["overflows", "--hidden"],
    );
}

#[test]
fn a_million_samples_or_a_huge_grid_or_path_are_refused_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &["--hidden", "8", "--latent", "2"]);
    let started = Instant::now();
    let out = elbo([
        "sample",
        "--model",
        &path_str(&run),
        "-n",
        "1000000",
        "--max-memory",
        "2G",
    ]);
    let err = assert_app_error(&out, &["-n", "1000000 samples", "needs about"]);
    assert!(started.elapsed() < QUICK, "{err}");
    assert!(!run.join("samples.png").exists());
    let model = path_str(&run);
    let out = elbo([
        "manifold",
        "--model",
        &model,
        "-n",
        "100000",
        "--max-memory",
        "2G",
    ]);
    assert_app_error(&out, &["-n (points per side)", "10000000000 grid images"]);
    let steps = ["interpolate", "--model", &model, "--steps", "100000000"];
    let out = elbo(steps.iter().chain(&["--max-memory", "2G"]));
    assert_app_error(&out, &["--steps", "needs about"]);
}

#[test]
fn max_memory_accepts_sizes_and_refuses_nonsense() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--max-memory", "lots", "--epochs", "1"]);
    assert_app_error(&out, &["--max-memory", "lots"]);
    let out = train_with(
        tmp.path(),
        &["--max-memory", "4G", "--epochs", "1", "--hidden", "8"],
    );
    assert_ok(&out);
}

#[test]
fn the_environment_variable_sets_the_limit_when_the_flag_is_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let out = elbo_cmd([
        "train",
        "vae",
        "--data",
        "digits",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &path_str(&tmp.path().join("out")),
    ])
    .env("ELBO_MAX_MEMORY", "1M")
    .output()
    .unwrap();
    assert_app_error(&out, &["ELBO_MAX_MEMORY", "1.0 MB"]);
}

#[test]
fn a_conv_stack_deeper_than_sizes_can_halve_is_refused_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let channels = vec!["1"; 70].join(",");
    let flags = ["--epochs", "1", "--arch", "conv", "--channels", &channels];
    let out = train_with(tmp.path(), &flags);
    assert_app_error(&out, &["70 stride-2 layers"]);
}
