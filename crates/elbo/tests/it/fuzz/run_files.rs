//! The files of a run folder under mutation: `config.toml` (then resolved
//! against the data), `state.json`, `metrics.jsonl`, and a
//! `model.safetensors` from outside loaded into a run and sampled from.
//! Each starts from the files of one small VAE trained once per process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use elbo::data::{DataSpec, LoadOptions, Splits};
use elbo::families::{ModelConfig, RunConfig};
use elbo::folder::{RunDir, metrics};
use elbo::models::VaeConfig;
use elbo::run::Run;
use elbo::train::{DataConfig, TrainConfig, TrainOptions};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Mutation, clean_error, fuzz, mutate, mutations};

/// A finished run of a small VAE on the embedded digits (2 epochs).
fn template() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let _guard = crate::common::training();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut vae = VaeConfig::new(0);
        (vae.hidden, vae.latent) = (vec![16], 2);
        let mut train = TrainConfig::default();
        (train.epochs, train.batch_size) = (2, 64);
        let config = RunConfig {
            model: ModelConfig::Vae(vae),
            data: DataConfig::new(DataSpec::Digits),
            train,
        };
        let opts = TrainOptions {
            quiet: true,
            ..TrainOptions::default()
        };
        elbo::run::train(&config, &dir.path().join("run"), &opts).expect("template trains");
        dir
    })
    .path()
}

/// The embedded digits, split as a run's data section does by default.
fn digits() -> &'static Splits {
    static SPLITS: OnceLock<Splits> = OnceLock::new();
    SPLITS.get_or_init(|| {
        DataSpec::Digits
            .load(&LoadOptions::default())
            .expect("digits")
    })
}

/// A fresh copy of the template run (every file, at any depth).
fn copy_run(to: &Path) -> Result<PathBuf, TestCaseError> {
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            match entry.file_type()?.is_dir() {
                true => copy(&entry.path(), &target)?,
                false => std::fs::copy(entry.path(), &target).map(drop)?,
            }
        }
        Ok(())
    }
    let run = to.join("run");
    copy(&template().join("run"), &run).map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(run)
}

/// Every file called `name` under `dir` (a checkpoint may keep its files
/// in a sub-folder).
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_named(&p, name));
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
    out
}

/// Rewrites every file called `name` in `run` through `change`.
fn rewrite(
    run: &Path,
    name: &str,
    change: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Result<(), TestCaseError> {
    let files = files_named(run, name);
    prop_assert!(!files.is_empty(), "the template run has no {}", name);
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| TestCaseError::fail(e.to_string()))?;
        std::fs::write(&f, change(bytes)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    Ok(())
}

/// Numbers a config or a JSON file may be edited to hold.
fn odd_number() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("0"),
        Just("1"),
        Just("-1"),
        Just("1000000000"),
        Just("18446744073709551615"),
        Just("1e308"),
        Just("nan"),
        Just("4294967296"),
    ]
}

/// `text` with its `which`-th run of digits (mod their count) replaced by `by`.
fn replace_number(text: &str, which: usize, by: &str) -> String {
    let bytes = text.as_bytes();
    let starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .collect();
    let Some(&start) = starts.get(which % starts.len().max(1)) else {
        return text.to_string();
    };
    let end = (start..bytes.len())
        .find(|&i| !bytes[i].is_ascii_digit())
        .unwrap_or(bytes.len());
    format!("{}{by}{}", &text[..start], &text[end..])
}

/// Edits of a text file: a number replaced, then byte mutations.
fn text_edits() -> impl Strategy<Value = (Option<(usize, &'static str)>, Vec<Mutation>)> {
    (
        proptest::option::of((any::<usize>(), odd_number())),
        mutations(2),
    )
}

fn edited(bytes: Vec<u8>, number: &Option<(usize, &str)>, muts: &[Mutation]) -> Vec<u8> {
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let text = match number {
        Some((which, by)) => replace_number(&text, *which, by),
        None => text,
    };
    mutate(text.into_bytes(), muts)
}

#[test]
fn config_toml_never_panics_when_parsed_and_resolved() {
    let text = std::fs::read(template().join("run/config.toml")).expect("config");
    fuzz("config.toml", text_edits(), |(number, muts)| {
        let bytes = edited(text.clone(), &number, &muts);
        let Ok(s) = String::from_utf8(bytes) else {
            return Ok(());
        };
        let path = Path::new("config.toml");
        let mut config = match RunConfig::from_toml(&s, path) {
            Ok(c) => c,
            Err(e) => return clean_error(&e),
        };
        match config.resolve(digits()) {
            Ok(()) => Ok(()),
            Err(e) => clean_error(&e),
        }
    });
}

#[test]
fn state_json_never_panics_when_a_checkpoint_is_read() {
    fuzz("state.json", text_edits(), |(number, muts)| {
        let tmp = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let run = copy_run(tmp.path())?;
        rewrite(&run, "state.json", |b| edited(b, &number, &muts))?;
        if let Err(e) = RunDir::new(&run).load_checkpoint() {
            clean_error(&e)?;
        }
        match Run::load(&run) {
            Ok(_) => Ok(()),
            Err(e) => clean_error(&e),
        }
    });
}

#[test]
fn metrics_jsonl_never_panics_when_read() {
    let text = std::fs::read(template().join("run/metrics.jsonl")).expect("metrics");
    fuzz("metrics.jsonl", text_edits(), |(number, muts)| {
        let tmp = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = tmp.path().join("metrics.jsonl");
        std::fs::write(&path, edited(text.clone(), &number, &muts))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        match metrics::read(&path) {
            Ok(_) => Ok(()),
            Err(e) => clean_error(&e),
        }
    });
}

#[test]
fn safetensors_from_outside_never_panic_when_loaded_and_sampled() {
    let case = (
        proptest::option::of((any::<usize>(), odd_number())),
        mutations(3),
    );
    fuzz("safetensors", case, |(number, muts)| {
        let tmp = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let run = copy_run(tmp.path())?;
        rewrite(&run, "model.safetensors", |bytes| {
            // The JSON header (after its 8-byte length) holds the shapes and
            // offsets: edit a number there, then the bytes anywhere.
            let bytes = match number {
                Some((which, by)) => edit_header(bytes, which, by),
                None => bytes,
            };
            mutate(bytes, &muts)
        })?;
        match Run::load(&run).and_then(|r| r.sample(2, 0)) {
            Ok(pixels) => {
                prop_assert!(!pixels.is_empty());
                Ok(())
            }
            Err(e) => clean_error(&e),
        }
    });
}

/// A safetensors file with one number of its JSON header replaced and the
/// header's length field updated to match.
fn edit_header(bytes: Vec<u8>, which: usize, by: &str) -> Vec<u8> {
    let Some(len) = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    else {
        return bytes;
    };
    let end = 8usize.saturating_add(len as usize);
    let Some(Ok(header)) = bytes.get(8..end).map(std::str::from_utf8) else {
        return bytes;
    };
    let header = replace_number(header, which, by);
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&bytes[end..]);
    out
}
