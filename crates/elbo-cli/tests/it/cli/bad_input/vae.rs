//! The VAE's own bad inputs (objectives, likelihoods, importance sampling,
//! interop files). Each must be one clear `error:` line, exit 1, no panic, and
//! no run folder or output file left behind.

use crate::common::*;

#[test]
fn zero_importance_samples_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &[]);
    let out = elbo(["eval", "--model", &path_str(&run), "--iwae", "0"]);
    assert_app_error(&out, &["importance samples", "positive"]);
    let out = elbo([
        "score",
        "--model",
        &path_str(&run),
        "--iwae",
        "0",
        "--out",
        &path_str(&tmp.path().join("s.csv")),
    ]);
    assert_clean_error(&out, &["positive"]);
    assert!(!tmp.path().join("s.csv").exists());
}

#[test]
fn negative_beta_is_an_error_not_a_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_digits_raw(&tmp.path().join("out"), &["--epochs", "1", "--beta", "-1"]);
    assert_app_error(&out, &["beta", "non-negative", "-1"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn negative_free_bits_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_digits_raw(
        &tmp.path().join("out"),
        &["--epochs", "1", "--free-bits", "-0.5"],
    );
    assert_app_error(&out, &["free bits", "non-negative"]);
}

#[test]
fn warm_up_longer_than_training_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_digits_raw(
        &tmp.path().join("out"),
        &["--epochs", "2", "--warmup-epochs", "5"],
    );
    assert_app_error(&out, &["warm-up", "5 epochs", "2 epochs"]);
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn gaussian_decoder_on_binary_pixels_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    for pixels in ["binary", "dynamic"] {
        for likelihood in ["gaussian", "gaussian-learned"] {
            let out = train_digits_raw(
                &tmp.path().join("out"),
                &[
                    "--epochs",
                    "1",
                    "--pixels",
                    pixels,
                    "--likelihood",
                    likelihood,
                ],
            );
            assert_app_error(&out, &[likelihood, pixels, "bernoulli"]);
            assert!(!tmp.path().join("out").exists());
        }
    }
}

#[test]
fn import_with_missing_or_misshapen_keys_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Valid safetensors files whose tensors are not the pytorch/examples VAE.
    let write = |name: &str, tensors: &[(&str, Vec<usize>)]| {
        let path = dir.join(name);
        write_zero_safetensors(&path, tensors);
        path
    };
    let missing = write("missing.safetensors", &[("fc1.weight", vec![400, 784])]);
    let out_run = dir.join("run");
    let out = elbo([
        "import",
        "torch-vae",
        &path_str(&missing),
        "--out",
        &path_str(&out_run),
    ]);
    assert_app_error(&out, &["missing.safetensors", "is missing"]);
    assert!(!out_run.exists());

    let full = |fc4_in: usize| {
        vec![
            ("fc1.weight", vec![400, 784]),
            ("fc1.bias", vec![400]),
            ("fc21.weight", vec![20, 400]),
            ("fc21.bias", vec![20]),
            ("fc22.weight", vec![20, 400]),
            ("fc22.bias", vec![20]),
            ("fc3.weight", vec![400, 20]),
            ("fc3.bias", vec![400]),
            ("fc4.weight", vec![784, fc4_in]),
            ("fc4.bias", vec![784]),
        ]
    };
    let misshapen = write("misshapen.safetensors", &full(399));
    let out = elbo([
        "import",
        "torch-vae",
        &path_str(&misshapen),
        "--out",
        &path_str(&out_run),
    ]);
    assert_app_error(&out, &["misshapen.safetensors", "fc4.weight"]);
    assert!(!out_run.exists());
    // The same layout with consistent shapes imports: the checks are not
    // rejecting everything.
    let good = write("good.safetensors", &full(400));
    assert_ok(&elbo([
        "import",
        "torch-vae",
        &path_str(&good),
        "--out",
        &path_str(&out_run),
    ]));
}

/// Writes a safetensors file (8-byte little-endian header length, JSON
/// header, data) holding zero-filled F32 tensors of the given shapes.
fn write_zero_safetensors(path: &std::path::Path, tensors: &[(&str, Vec<usize>)]) {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape) in tensors {
        let bytes = 4 * shape.iter().product::<usize>();
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let json = serde_json::to_vec(&header).unwrap();
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out.resize(out.len() + offset, 0);
    std::fs::write(path, out).unwrap();
}
