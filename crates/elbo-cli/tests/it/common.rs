//! Helpers shared by the command-line integration tests: run the `elbo`
//! binary, check its errors, read run folders and PNGs.
//!
//! Not every parsed field is read by a test (`Safetensors::metadata` is read
//! by none), hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `elbo` binary built for these tests.
pub const ELBO: &str = env!("CARGO_BIN_EXE_elbo");

/// A command running `elbo` with `args`. `RUST_BACKTRACE` is removed so that
/// a panic would print its usual "run with `RUST_BACKTRACE=1`" note, which
/// the error checks look for.
pub fn elbo_cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(ELBO);
    cmd.args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    cmd
}

/// Runs `elbo` with `args` to completion.
pub fn elbo<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    elbo_cmd(args).output().expect("the elbo binary runs")
}

/// The process's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The process's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A one-paragraph description of a finished process, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// Asserts that the process exited 0.
pub fn assert_ok(out: &Output) {
    assert!(out.status.success(), "expected success\n{}", describe(out));
}

/// Asserts that the process failed cleanly: a non-zero exit, stderr starting
/// with `error:`, no panic or backtrace hint, and every needle (lower-cased
/// comparison) somewhere in stderr. Returns stderr.
pub fn assert_clean_error(out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "expected failure\n{}", describe(out));
    assert!(
        out.status.code().is_some(),
        "killed by a signal\n{}",
        describe(out)
    );
    assert!(
        err.starts_with("error:"),
        "stderr must start with 'error:'\n{}",
        describe(out)
    );
    assert!(!err.contains("panicked"), "panic\n{}", describe(out));
    assert!(
        !err.contains("RUST_BACKTRACE"),
        "backtrace hint\n{}",
        describe(out)
    );
    let lower = err.to_lowercase();
    for needle in needles {
        assert!(
            lower.contains(&needle.to_lowercase()),
            "stderr should mention {needle:?}\n{}",
            describe(out)
        );
    }
    err
}

/// Like [`assert_clean_error`] for errors the library reports (not clap's):
/// also exit code 1 and exactly one line on stderr.
pub fn assert_app_error(out: &Output, needles: &[&str]) -> String {
    let err = assert_clean_error(out, needles);
    assert_eq!(
        out.status.code(),
        Some(1),
        "errors exit 1\n{}",
        describe(out)
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line of error\n{}",
        describe(out)
    );
    err
}

/// `elbo train vae` on digits, quiet and without pictures, into `dir` with
/// `extra` flags; returns the output whatever it is.
pub fn train_digits_raw(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = [
        "train",
        "vae",
        "--data",
        "digits",
        "--quiet",
        "--no-pictures",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(["--out".into(), path_str(dir)]);
    args.extend(extra.iter().map(|s| s.to_string()));
    elbo(&args)
}

/// Trains a VAE on digits into `dir` for `epochs` epochs, quietly and without
/// pictures, with `extra` flags; asserts success.
pub fn train_digits(dir: &Path, epochs: usize, extra: &[&str]) -> Output {
    let epochs = epochs.to_string();
    let mut flags = vec!["--epochs", epochs.as_str()];
    flags.extend_from_slice(extra);
    let out = train_digits_raw(dir, &flags);
    assert_ok(&out);
    out
}

/// A fresh temporary folder and, in its `run` subfolder, a VAE trained on
/// digits for one epoch with `extra` flags (the set-up of most CLI tests).
/// Keep the folder: the run is removed with it.
pub fn one_epoch_run(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, extra);
    (tmp, run)
}

/// `elbo train gmm` with 2 components and no pictures into `dir`.
pub fn train_small_gmm(dir: &Path) -> Output {
    let args = [
        "train",
        "gmm",
        "--components",
        "2",
        "--no-pictures",
        "--out",
    ];
    elbo(args.iter().chain(&[path_str(dir).as_str()]))
}

/// `path` as a `String` (tests use UTF-8 temp paths).
pub fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// Every line of `metrics.jsonl` as JSON.
pub fn read_metrics(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: bad line {l:?}: {e}", path.display()))
        })
        .collect()
}

/// A finite number field of a JSON object.
pub fn num(v: &serde_json::Value, key: &str) -> f64 {
    let x = v
        .get(key)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("no number {key:?} in {v}"));
    assert!(x.is_finite(), "{key} = {x} is not finite in {v}");
    x
}

/// (width, height) of the PNG at `path`, after checking that it decodes.
pub fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{} does not decode as PNG: {e}", path.display()));
    (img.width(), img.height())
}

/// Every file in `dir` and its checkpoint folders with its bytes, but the
/// write lock `.lock` (it holds the PID of the last process that locked it).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() && name.starts_with("checkpoint.") {
            files.extend(snapshot(&path));
        } else if path.is_file() && name != ".lock" {
            let bytes = std::fs::read(&path).unwrap();
            files.insert(path, bytes);
        }
    }
    files
}

/// The current checkpoint folder of the run in `dir`, as `state.json` names it.
pub fn checkpoint_dir(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(dir.join("state.json"))
        .unwrap_or_else(|e| panic!("{}/state.json: {e}", dir.display()));
    let state: serde_json::Value = serde_json::from_str(&text).expect("state.json parses");
    dir.join(
        state["checkpoint"]
            .as_str()
            .expect("state.json names its checkpoint"),
    )
}

/// Asserts that `dir` holds exactly the files of `before`, byte for byte.
pub fn assert_unchanged(dir: &Path, before: &BTreeMap<PathBuf, Vec<u8>>) {
    let after = snapshot(dir);
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&after),
        names(before),
        "the files of {} changed",
        dir.display()
    );
    for (path, bytes) in before {
        assert!(after[path] == *bytes, "{} was modified", path.display());
    }
}

/// A parsed safetensors file: the tensor table (name → dtype, shape, offsets)
/// without the free-form `__metadata__`, the metadata, and the data bytes.
pub struct Safetensors {
    pub tensors: serde_json::Map<String, serde_json::Value>,
    pub metadata: Option<serde_json::Value>,
    pub data: Vec<u8>,
}

/// Parses a safetensors file by its documented layout: an 8-byte
/// little-endian header length, the JSON header, then the tensor bytes.
pub fn read_safetensors(path: &Path) -> Safetensors {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + len]).expect("safetensors header is JSON");
    let mut tensors = header.as_object().expect("header is an object").clone();
    let metadata = tensors.remove("__metadata__");
    Safetensors {
        tensors,
        metadata,
        data: bytes[8 + len..].to_vec(),
    }
}

/// Writes an `.npy` file (format 1.0) with the given dtype string, shape and
/// raw little-endian data.
pub fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    let unpadded = 6 + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

/// An IDX file: big-endian magic, dimensions, then `data`.
pub fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

/// IDX magic of `u8` images `[n, rows, cols]`.
pub const IDX_IMAGES: u32 = 0x0000_0803;
/// IDX magic of `u8` labels `[n]`.
pub const IDX_LABELS: u32 = 0x0000_0801;

/// Writes a complete, valid 4x4 MNIST-like folder (`n_train` and `n_test`
/// images, labels cycling 0..10) into `dir`.
pub fn write_mnist(dir: &Path, n_train: u32, n_test: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let pixels: Vec<u8> = (0..n * 16).map(|i| (i * 37 % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            idx_bytes(IDX_IMAGES, &[n, 4, 4], &pixels),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            idx_bytes(IDX_LABELS, &[n], &labels),
        )
        .unwrap();
    }
}
