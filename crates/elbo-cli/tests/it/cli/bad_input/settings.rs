//! Settings that cannot be used: flag values out of range, and config files
//! that are missing, malformed or hold unknown keys.

use super::{train_on, train_with};
use crate::common::*;

// ------------------------------------------------------------- bad flag values

#[test]
fn unknown_data_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "bogus:x");
    // A clap value-parse error: clap's own `error:` line and exit code 2.
    assert_clean_error(&out, &["bogus:x", "--data", "mnist:DIR"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn zero_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "0"]);
    assert_app_error(&out, &["epochs must be positive"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn zero_batch_size() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--batch-size", "0"]);
    assert_app_error(&out, &["batch size must be positive"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn zero_latent() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--latent", "0"]);
    assert_app_error(&out, &["latent", "positive"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn zero_hidden_width() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--hidden", "400,0"]);
    assert_app_error(&out, &["hidden", "positive"]);
}

#[test]
fn zero_learning_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--lr", "0"]);
    assert_app_error(&out, &["learning rate"]);
}

#[test]
fn test_fraction_of_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--test-fraction", "1"]);
    assert_app_error(&out, &["test fraction"]);
}

#[test]
fn zero_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let out = elbo(["--threads", "0", "eval", "--model", &path_str(tmp.path())]);
    assert_app_error(&out, &["threads must be positive"]);
}

#[test]
fn batch_larger_than_the_data_set() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--batch-size", "100000"]);
    assert_app_error(&out, &["batch size 100000", "1617 training images"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn train_without_a_family_or_resume() {
    let out = elbo(["train"]);
    assert_app_error(&out, &["elbo train vae", "--resume"]);
}

// ---------------------------------------------------------------- config files

#[test]
fn config_file_with_unknown_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bogus-key.toml");
    std::fs::write(&cfg, "[train]\nbogus = 1\n").unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--config", &path_str(&cfg)]);
    assert_app_error(&out, &["bogus-key.toml", "bogus"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn config_file_with_wrong_type() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("wrong-type.toml");
    std::fs::write(&cfg, "[train]\nepochs = \"ten\"\n").unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--config", &path_str(&cfg)]);
    assert_app_error(&out, &["wrong-type.toml", "\"ten\""]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn config_file_that_is_not_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("broken.toml");
    std::fs::write(&cfg, "[train\nepochs = 1\n").unwrap();
    let out = train_with(tmp.path(), &["--epochs", "1", "--config", &path_str(&cfg)]);
    assert_app_error(&out, &["broken.toml", "invalid config"]);
}

#[test]
fn missing_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("absent.toml");
    let out = train_with(tmp.path(), &["--epochs", "1", "--config", &path_str(&cfg)]);
    assert_app_error(&out, &["absent.toml", "no such file"]);
}
