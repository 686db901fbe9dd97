//! The autoregressive models through the `elbo` binary: train, eval, sample
//! (fast and naive), complete for each model, and their bad input.

use std::path::{Path, PathBuf};

use crate::common::*;

/// Trains a tiny `kind` model on the embedded digits into `dir`.
fn train_pixel(dir: &Path, kind: &str, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = [
        "train", kind, "--data", "digits", "--epochs", "1", "--hidden", "4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(["--layers", "1", "--output-hidden", "8", "--quiet", "--out"].map(String::from));
    args.push(path_str(dir));
    args.extend(extra.iter().map(|s| s.to_string()));
    elbo(args)
}

fn binary_model(tmp: &Path, kind: &str, extra: &[&str]) -> PathBuf {
    let dir = tmp.join(kind);
    let mut flags = vec!["--pixels", "binary"];
    flags.extend_from_slice(extra);
    assert_ok(&train_pixel(&dir, kind, &flags));
    dir
}

/// A u8 `.npy` of `n` images `h × w × c` (c = 0 writes `[n, h, w]`), binary or grey.
fn npy(tmp: &Path, name: &str, n: usize, h: usize, w: usize, c: usize, binary: bool) -> String {
    let count = n * h * w * c.max(1);
    let data: Vec<u8> = (0..count)
        .map(|i| {
            if binary {
                if i % 3 == 0 { 255 } else { 0 }
            } else {
                (i * 37 % 256) as u8
            }
        })
        .collect();
    let path = tmp.join(name);
    let shape: Vec<usize> = if c == 0 {
        vec![n, h, w]
    } else {
        vec![n, h, w, c]
    };
    write_npy(&path, "|u1", &shape, &data);
    format!("npy:{}", path_str(&path))
}

#[test]
fn each_model_trains_evaluates_samples_and_completes() {
    let tmp = tempfile::tempdir().unwrap();
    for kind in ["pixelcnn", "gated-pixelcnn", "pixelrnn"] {
        let dir = binary_model(tmp.path(), kind, &[]);
        assert!(dir.join("samples.png").is_file(), "{kind}: no samples.png");
        let m = path_str(&dir);
        let out = elbo(["eval", "--model", &m, "--json"]);
        assert_ok(&out);
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        let (nats, bpd) = (num(&v["nll"], "nats"), num(&v["nll"], "bits_per_dim"));
        assert!(
            nats > 5.0 && nats < 64.0 * 2f64.ln() * 1.5,
            "{kind}: {nats}"
        );
        assert!((bpd - nats / (64.0 * 2f64.ln())).abs() < 1e-9);
        let (fast, naive) = (tmp.path().join("fast.png"), tmp.path().join("naive.png"));
        for (flag, out) in [("--fast", &fast), ("--naive", &naive)] {
            assert_ok(&elbo([
                "sample",
                "--model",
                &m,
                "-n",
                "4",
                flag,
                "--seed",
                "3",
                "--out",
                &path_str(out),
            ]));
        }
        assert_eq!(
            std::fs::read(&fast).unwrap(),
            std::fs::read(&naive).unwrap(),
            "{kind}: fast != naive"
        );
        let completions = tmp.path().join("complete.png");
        assert_ok(&elbo([
            "complete",
            "--model",
            &m,
            "-n",
            "3",
            "--out",
            &path_str(&completions),
        ]));
        assert!(completions.is_file());
    }
}

#[test]
fn diagonal_bilstm_layer_is_saved_and_restored_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("diagonal");
    let flags = ["--pixels", "binary", "--layer", "diagonal-bilstm"];
    assert_ok(&train_pixel(&dir, "pixelrnn", &flags));
    let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    for line in ["kind = \"pixelrnn\"", "layer = \"diagonal-bilstm\""] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    // eval rebuilds the network from config.toml: a Row LSTM would not
    // take these weights (other shapes), so success means the layer was read.
    let m = path_str(&dir);
    let out = elbo(["eval", "--model", &m, "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(num(&v["nll"], "nats") > 5.0, "{v}");
    let (fast, naive) = (tmp.path().join("fast.png"), tmp.path().join("naive.png"));
    for (flag, out) in [("--fast", &fast), ("--naive", &naive)] {
        let out = path_str(out);
        assert_ok(&elbo([
            "sample", "--model", &m, "-n", "3", flag, "--out", &out,
        ]));
    }
    assert_eq!(
        std::fs::read(&fast).unwrap(),
        std::fs::read(&naive).unwrap()
    );
    let completions = path_str(&tmp.path().join("complete.png"));
    assert_ok(&elbo([
        "complete",
        "--model",
        &m,
        "-n",
        "2",
        "--out",
        &completions,
    ]));
    // The alias, and a layer that does not exist.
    let alias = tmp.path().join("alias");
    assert_ok(&train_pixel(
        &alias,
        "pixelrnn",
        &["--pixels", "binary", "--layer", "diagonal", "--no-pictures"],
    ));
    let out = train_pixel(
        &tmp.path().join("bad"),
        "pixelrnn",
        &["--layer", "column-lstm"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("row-lstm or diagonal-bilstm"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_recurrent_layer_in_a_pixelcnn_config_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.toml");
    std::fs::write(&file, "[model]\nlayer = \"diagonal-bilstm\"\n").unwrap();
    let out = train_pixel(
        &tmp.path().join("run"),
        "pixelcnn",
        &["--config", &path_str(&file)],
    );
    assert_app_error(&out, &["layer = diagonal-bilstm", "pixelrnn only"]);
}

#[test]
fn conditional_gated_model_samples_a_label() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = binary_model(tmp.path(), "gated-pixelcnn", &["--classes", "10"]);
    let m = path_str(&dir);
    let out = tmp.path().join("three.png");
    assert_ok(&elbo([
        "sample",
        "--model",
        &m,
        "-n",
        "4",
        "--label",
        "3",
        "--out",
        &path_str(&out),
    ]));
    assert_app_error(
        &elbo(["sample", "--model", &m, "--label", "10"]),
        &["label 10", "0..10"],
    );
    let plain = binary_model(tmp.path(), "pixelcnn", &[]);
    assert_app_error(
        &elbo(["sample", "--model", &path_str(&plain), "--label", "1"]),
        &["conditional"],
    );
    // Only the gated model takes labels: --classes is not a flag of the others.
    assert_clean_error(
        &train_pixel(&tmp.path().join("x"), "pixelcnn", &["--classes", "3"]),
        &["unexpected argument", "--classes"],
    );
}

#[test]
fn images_of_another_size_are_refused_and_rgb_is_converted_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let m = path_str(&binary_model(tmp.path(), "pixelcnn", &[]));
    let big = npy(tmp.path(), "big.npy", 4, 10, 10, 0, true);
    assert_app_error(
        &elbo(["eval", "--model", &m, "--data", &big]),
        &["10x10", "8x8"],
    );
    // RGB data to a grey model: converted to luma by the loader (and
    // binarized by the run's --pixels binary), with a warning.
    let rgb = npy(tmp.path(), "rgb.npy", 4, 8, 8, 3, false);
    let out = elbo(["eval", "--model", &m, "--data", &rgb]);
    assert_ok(&out);
    let warning = "holds RGB images but the model is grey";
    assert!(stderr(&out).contains(warning), "{}", describe(&out));
    // Grey data is not flagged.
    let grey = npy(tmp.path(), "grey.npy", 4, 8, 8, 0, false);
    let out = elbo(["eval", "--model", &m, "--data", &grey]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("warning"), "{}", describe(&out));
    assert_app_error(
        &elbo(["complete", "--model", &m, "--data", &big]),
        &["10x10"],
    );
}

#[test]
fn non_binary_data_to_a_bernoulli_model_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // Grey digits with a Bernoulli output: refused before any run folder exists.
    let dir = tmp.path().join("b");
    let out = train_pixel(&dir, "pixelcnn", &["--output", "bernoulli"]);
    assert_app_error(&out, &["non-binary", "--pixels binary"]);
    assert!(!dir.join("model.safetensors").exists());
    // A model trained on binary values presented as grey, then given grey data.
    let binary = npy(tmp.path(), "bin.npy", 64, 8, 8, 0, true);
    let dir = tmp.path().join("g");
    assert_ok(&elbo([
        "train",
        "pixelcnn",
        "--data",
        &binary,
        "--epochs",
        "1",
        "--hidden",
        "4",
        "--layers",
        "1",
        "--batch-size",
        "8",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&dir),
    ]));
    let grey = npy(tmp.path(), "grey.npy", 8, 8, 8, 0, false);
    assert_app_error(
        &elbo(["eval", "--model", &path_str(&dir), "--data", &grey]),
        &["non-binary"],
    );
}

#[test]
fn binary_data_to_a_256_way_model_warns_but_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let mut args: Vec<String> = [
        "train", "pixelcnn", "--data", "digits", "--epochs", "1", "--hidden", "4",
    ]
    .map(String::from)
    .to_vec();
    args.extend(
        [
            "--layers",
            "1",
            "--pixels",
            "binary",
            "--output",
            "categorical",
            "--no-pictures",
            "--out",
        ]
        .map(String::from),
    );
    args.push(path_str(&dir));
    let out = elbo(args);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("warning: binary data given to a 256-way"),
        "{}",
        describe(&out)
    );
    let eval = elbo(["eval", "--model", &path_str(&dir)]);
    assert_ok(&eval);
    assert!(stderr(&eval).contains("warning"), "{}", describe(&eval));
}

#[test]
fn bad_fraction_and_vae_only_commands_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m = path_str(&binary_model(tmp.path(), "pixelrnn", &[]));
    for f in ["0", "1", "1.5", "-0.2"] {
        let f = format!("--fraction={f}");
        let out = elbo(["complete", "--model", &m, &f]);
        assert_app_error(&out, &["--fraction", "between 0 and 1"]);
    }
    assert_app_error(
        &elbo(["reconstruct", "--model", &m]),
        &["pixelrnn", "VAEs only"],
    );
    assert_app_error(&elbo(["manifold", "--model", &m]), &["VAEs only"]);
    assert_app_error(
        &elbo(["eval", "--model", &m, "--iwae", "5"]),
        &["exact likelihood"],
    );
    let vae = tmp.path().join("vae");
    assert_ok(&train_digits(&vae, 1, &[]));
    assert_app_error(
        &elbo(["complete", "--model", &path_str(&vae)]),
        &["vae", "pixelcnn"],
    );
}

#[test]
fn partial_config_file_is_merged_under_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.toml");
    std::fs::write(
        &file,
        "[model]\nhidden = 5\nlayers = 2\n[data]\npixels = \"binary\"\n",
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let out = train_pixel(
        &dir,
        "pixelrnn",
        &["--config", &path_str(&file), "--no-pictures"],
    );
    assert_ok(&out);
    let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    // hidden from the flag (4) wins over the file (5); layers 1 (flag) over 2.
    for line in [
        "kind = \"pixelrnn\"",
        "hidden = 4",
        "layers = 1",
        "pixels = \"binary\"",
        "output = \"bernoulli\"",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

#[test]
fn rgb_256_way_model_on_uniform_noise_is_near_8_bits_per_dim() {
    let tmp = tempfile::tempdir().unwrap();
    // Pseudo-random bytes: no structure, so the exact NLL is close to
    // log2(256) = 8 bits per dimension (above it by what one epoch cannot learn).
    let data: Vec<u8> = (0..40 * 8 * 8 * 3u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = tmp.path().join("rgb.npy");
    write_npy(&path, "|u1", &[40, 8, 8, 3], &data);
    let dir = tmp.path().join("rgb");
    let spec = format!("npy:{}", path_str(&path));
    let out = elbo([
        "train",
        "pixelcnn",
        "--data",
        &spec,
        "--rgb",
        "--epochs",
        "1",
        "--hidden",
        "6",
        "--layers",
        "1",
        "--batch-size",
        "8",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&dir),
    ]);
    assert_ok(&out);
    let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(
        text.contains("colors = 3") && text.contains("output = \"categorical\""),
        "{text}"
    );
    let out = elbo(["eval", "--model", &path_str(&dir), "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let bpd = num(&v["nll"], "bits_per_dim");
    assert!((7.9..8.3).contains(&bpd), "{bpd}");
    let (fast, naive) = (tmp.path().join("f.png"), tmp.path().join("n.png"));
    for (flag, out) in [("--fast", &fast), ("--naive", &naive)] {
        assert_ok(&elbo([
            "sample",
            "--model",
            &path_str(&dir),
            "-n",
            "2",
            flag,
            "--out",
            &path_str(out),
        ]));
    }
    assert_eq!(
        std::fs::read(&fast).unwrap(),
        std::fs::read(&naive).unwrap()
    );
}
