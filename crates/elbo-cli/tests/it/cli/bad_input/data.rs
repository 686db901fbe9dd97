//! Bad input through the `elbo` binary: every case must fail with one clear
//! `error:` line naming the file or the problem, exit non-zero, never panic,
//! and leave what was already saved untouched.

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

// ---------------------------------------------------------------- missing data

#[test]
fn missing_mnist_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "mnist:/nonexistent");
    assert_app_error(&out, &["/nonexistent", "not found"]);
}

#[test]
fn missing_npy_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "npy:/nonexistent.npy");
    assert_app_error(&out, &["/nonexistent.npy", "no such file"]);
}

#[test]
fn missing_mnist_file_in_folder_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    std::fs::remove_file(mnist.join("t10k-labels-idx1-ubyte")).unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(
        &out,
        &[
            "t10k-labels-idx1-ubyte",
            "not found",
            "elbo data download mnist",
        ],
    );
}

/// The cause of an I/O error should be said once. `Error::Io` prints
/// "{path}: {source}" and also exposes `source` as its cause, and main.rs
/// joins the whole cause chain, so the OS message appears twice.
#[test]
fn io_error_cause_is_not_repeated() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "npy:/nonexistent.npy");
    let err = assert_app_error(&out, &["/nonexistent.npy"]);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let out = train_on(tmp.path(), "mnist:/nonexistent");
    let err = assert_app_error(&out, &["/nonexistent"]);
    assert_eq!(err.matches("MNIST folder not found").count(), 1, "{err}");
}

// ----------------------------------------------------------------- empty files

#[test]
fn empty_npy_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("empty.npy");
    std::fs::write(&f, b"").unwrap();
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["empty.npy", "empty"]);
}

#[test]
fn empty_amat_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("empty.amat");
    std::fs::write(&f, b"").unwrap();
    let out = train_on(tmp.path(), &format!("amat:{}", f.display()));
    assert_app_error(&out, &["empty.amat", "empty"]);
}

// ------------------------------------------------------------------------- IDX

#[test]
fn truncated_idx_images() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    // The header says 10 images of 4x4, but only 3 follow.
    let images = mnist.join("train-images-idx3-ubyte");
    std::fs::write(&images, idx_bytes(IDX_IMAGES, &[10, 4, 4], &[7u8; 3 * 16])).unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["train-images-idx3-ubyte", "truncated", "10 items"]);
}

#[test]
fn wrong_idx_magic() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    let images = mnist.join("train-images-idx3-ubyte");
    std::fs::write(
        &images,
        idx_bytes(0x1234_5678, &[10, 4, 4], &[0u8; 10 * 16]),
    )
    .unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["train-images-idx3-ubyte", "magic", "0x12345678"]);
}

#[test]
fn swapped_idx_files_are_recognized() {
    // A labels file where the images file should be: the magic says what it is.
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    std::fs::copy(
        mnist.join("train-labels-idx1-ubyte"),
        mnist.join("train-images-idx3-ubyte"),
    )
    .unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["train-images-idx3-ubyte", "magic", "labels"]);
}

#[test]
fn idx_image_label_count_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    let labels = mnist.join("t10k-labels-idx1-ubyte");
    std::fs::write(&labels, idx_bytes(IDX_LABELS, &[3], &[1, 2, 3])).unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["t10k-labels-idx1-ubyte", "3 labels", "4 images"]);
}

// ------------------------------------------------------------------------ amat

fn amat_row(value: &str, count: usize) -> String {
    vec![value; count].join(" ")
}

#[test]
fn amat_line_with_wrong_number_of_values() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.amat");
    let text = format!("{}\n{}\n", amat_row("0", 784), amat_row("1", 783));
    std::fs::write(&f, text).unwrap();
    let out = train_on(tmp.path(), &format!("amat:{}", f.display()));
    assert_app_error(&out, &["bad.amat", "line 2", "783 values", "784"]);
}

#[test]
fn amat_value_other_than_0_or_1() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.amat");
    let mut values = vec!["0"; 784];
    values[4] = "0.5";
    std::fs::write(
        &f,
        format!("{}\n{}\n", amat_row("1", 784), values.join(" ")),
    )
    .unwrap();
    let out = train_on(tmp.path(), &format!("amat:{}", f.display()));
    assert_app_error(
        &out,
        &["bad.amat", "line 2", "column 5", "0.5", "not 0 or 1"],
    );
}

// ------------------------------------------------------------------------- NPY

#[test]
fn npy_with_unsupported_dtype() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f8.npy");
    write_npy(&f, "<f8", &[2, 4, 4], &[0u8; 2 * 16 * 8]);
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["f8.npy", "dtype", "<f8"]);
}

#[test]
fn npy_with_unsupported_rank() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("flat.npy");
    write_npy(&f, "|u1", &[64], &[0u8; 64]);
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["flat.npy", "rank 1", "[N, H, W]"]);
}

#[test]
fn npy_that_is_not_npy() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("text.npy");
    std::fs::write(&f, "hello, world\n").unwrap();
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["text.npy", "not an npy file"]);
}

// --------------------------------------------------------------- image folders

#[test]
fn image_folder_without_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a picture").unwrap();
    let out = train_on(tmp.path(), &format!("images:{}", dir.display()));
    assert_app_error(&out, &["pictures", "no images"]);
}

#[test]
fn image_folder_with_a_png_that_is_not_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    std::fs::create_dir(&dir).unwrap();
    image::GrayImage::new(4, 4).save(dir.join("a.png")).unwrap();
    std::fs::write(dir.join("b.png"), "this is text, not a PNG").unwrap();
    let out = train_on(tmp.path(), &format!("images:{}", dir.display()));
    assert_app_error(&out, &["b.png", "cannot decode"]);
}

#[test]
fn image_folder_with_images_of_different_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    std::fs::create_dir(&dir).unwrap();
    image::GrayImage::new(4, 4).save(dir.join("a.png")).unwrap();
    image::GrayImage::new(6, 5).save(dir.join("b.png")).unwrap();
    let out = train_on(tmp.path(), &format!("images:{}", dir.display()));
    assert_app_error(&out, &["b.png", "a.png", "6x5", "4x4"]);
}

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
    std::fs::remove_file(run.join("model.safetensors")).unwrap();
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
fn commands_reject_out_of_range_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let before = snapshot(&run);
    let r = path_str(&run);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["sample", "--model", &r, "-n", "0"],
            &["-n must be positive"],
        ),
        (
            &["reconstruct", "--model", &r, "-n", "0"],
            &["-n must be positive"],
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
