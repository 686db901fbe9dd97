//! Bad input through the `elbo` binary: every case must fail with one clear
//! `error:` line naming the file or the problem, exit non-zero, never panic,
//! and leave what was already saved untouched.

mod bombs;
mod data;
mod limits;
mod run_folders;
mod settings;
mod vae;

use std::path::Path;

use crate::common::*;

/// Runs `elbo train vae --data SPEC` (one epoch, quiet) into `tmp/out` and
/// returns the output; asserts that no run folder was started.
fn train_on(tmp: &Path, spec: &str) -> std::process::Output {
    let out_dir = tmp.join("out");
    let out = elbo([
        "train",
        "vae",
        "--data",
        spec,
        "--epochs",
        "1",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&out_dir),
    ]);
    assert!(
        !out_dir.exists(),
        "a failed load must not create the run folder\n{}",
        describe(&out)
    );
    out
}

/// Runs `elbo train vae` (digits, quiet) with extra flags into `tmp/out`.
fn train_with(tmp: &Path, flags: &[&str]) -> std::process::Output {
    train_digits_raw(&tmp.join("out"), flags)
}
