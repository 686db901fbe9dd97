//! Mixture run folders through the `elbo` binary (train, sample, eval,
//! select) and their bad input, each a one-line error, never a panic.

use std::path::Path;

use crate::common::*;

fn train_gmm(dir: &Path, flags: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        "gmm",
        "--data",
        "digits",
        "--no-pictures",
        "--force",
    ];
    let out = path_str(dir);
    args.extend(["--out", out.as_str()]);
    args.extend_from_slice(flags);
    elbo(&args)
}

#[test]
fn gmm_run_folder_trains_samples_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("gmm");
    let out = train_gmm(
        &run,
        &[
            "--components",
            "3",
            "--covariance",
            "diag",
            "--max-iter",
            "30",
        ],
    );
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("nats/image") && text.contains("BIC"),
        "{text}"
    );
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        config.contains("kind = \"gmm\"") && config.contains("covariance = \"diag\""),
        "{config}"
    );
    let st = read_safetensors(&run.join("model.safetensors"));
    assert!(st.tensors.contains_key("precisions_cholesky"));
    let png = tmp.path().join("s.png");
    assert_ok(&elbo([
        "sample",
        "--model",
        &path_str(&run),
        "-n",
        "9",
        "--out",
        &path_str(&png),
    ]));
    assert_eq!(png_size(&png).0, png_size(&png).1);
    let eval = elbo(["eval", "--model", &path_str(&run), "--json"]);
    assert_ok(&eval);
    let v: serde_json::Value = serde_json::from_str(stdout(&eval).trim()).unwrap();
    let metrics = read_metrics(&run.join("metrics.jsonl"));
    // eval on the run's own test split with the training seed + 1 repeats
    // the test figure recorded at training only up to dequantization noise.
    let m = &v["mixture"];
    assert!(num(m, "log_likelihood").is_finite() && num(m, "bic") > num(m, "aic"));
    assert_eq!(metrics.len(), 1, "one EM fit, one metrics line");
    assert!((num(&v["nll"], "nats") - num(&metrics[0], "test_loss")).abs() < 5.0);
    let out = elbo(["eval", "--model", &path_str(&run), "--iwae", "10"]);
    assert_app_error(&out, &["--iwae needs a vae"]);
    for cmd in ["reconstruct", "interpolate", "manifold", "embed"] {
        let mut args = vec![cmd.to_string(), "--model".into(), path_str(&run)];
        if cmd == "embed" {
            args.extend(["--out".into(), path_str(&tmp.path().join("e.npy"))]);
        }
        let out = elbo(&args);
        assert_app_error(&out, &["gmm", "needs a vae run"]);
    }
}

#[test]
fn pca_gmm_bernoulli_mixture_and_select_train_and_evaluate() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("pca");
    assert_ok(&train_gmm(&run, &["--components", "4", "--pca", "10"]));
    let e = elbo(["eval", "--model", &path_str(&run)]);
    assert_ok(&e);
    // The PCA coordinates' density times probabilistic PCA's residual is a
    // density of the pixels, so the run has an NLL in nats.
    assert!(
        stdout(&e).contains("NLL") && stdout(&e).contains("isotropic Gaussian on the residual"),
        "{}",
        stdout(&e)
    );
    assert_ok(&elbo(["sample", "--model", &path_str(&run), "-n", "4"]));
    let bmm = tmp.path().join("bmm");
    let out = elbo([
        "train",
        "bernoulli-mixture",
        "--data",
        "digits",
        "--pixels",
        "binary",
        "--components",
        "5",
        "--no-pictures",
        "--out",
        &path_str(&bmm),
    ]);
    assert_ok(&out);
    let e = elbo(["eval", "--model", &path_str(&bmm), "--json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&e).trim()).unwrap();
    assert!((num(&v["nll"], "nats") + num(&v["mixture"], "log_likelihood")).abs() < 1e-9);
    let sel = tmp.path().join("sel");
    let out = elbo([
        "select",
        "gmm",
        "--data",
        "digits",
        "--components",
        "1..3",
        "--covariance",
        "diag",
        "--out",
        &path_str(&sel),
    ]);
    assert_ok(&out);
    let csv = std::fs::read_to_string(sel.join("select.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(stdout(&out).contains("best K by BIC"), "{}", stdout(&out));
    assert_eq!(png_size(&sel.join("select.png")), (640, 400));
}

#[test]
fn bad_input_is_a_one_line_error_and_leaves_no_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("r");
    assert_app_error(
        &train_gmm(&run, &["--components", "0"]),
        &["at least 1 component"],
    );
    assert_app_error(
        &train_gmm(&run, &["--components", "5000"]),
        &["5000 components need at least 5000 samples"],
    );
    assert_app_error(
        &train_gmm(&run, &["--pca", "100"]),
        &["--pca 100 is more than the 64 values"],
    );
    // The digits' corner pixels are always 0: singular without reg_covar.
    let out = train_gmm(
        &run,
        &[
            "--components",
            "2",
            "--init",
            "k-means",
            "--reg-covar",
            "0",
            "--no-dequantize",
        ],
    );
    assert_app_error(&out, &["singular", "reg_covar"]);
    assert!(!run.exists(), "a failed fit must not leave a run folder");
    let out = elbo([
        "train",
        "bernoulli-mixture",
        "--data",
        "digits",
        "--components",
        "2",
        "--out",
        &path_str(&run),
    ]);
    assert_app_error(&out, &["binary", "--pixels binary"]);
    // NaN in the data.
    let npy = tmp.path().join("nan.npy");
    let mut vals = [0.5f32; 4 * 2 * 2];
    vals[5] = f32::NAN;
    let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(&npy, "<f4", &[4, 2, 2], &bytes);
    let out = elbo([
        "train",
        "gmm",
        "--data",
        &format!("npy:{}", npy.display()),
        "--components",
        "1",
        "--out",
        &path_str(&run),
    ]);
    assert_app_error(&out, &["nan"]);
    // A run folder whose covariance type disagrees with its arrays.
    let good = tmp.path().join("good");
    assert_ok(&train_gmm(
        &good,
        &[
            "--components",
            "2",
            "--covariance",
            "diag",
            "--max-iter",
            "5",
        ],
    ));
    let cfg = good.join("config.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("covariance = \"diag\"", "covariance = \"full\"");
    std::fs::write(&cfg, text).unwrap();
    let out = elbo(["sample", "--model", &path_str(&good)]);
    assert_app_error(
        &out,
        &[
            "model.safetensors",
            "tensor 'covariances' has shape [2, 64]",
            "[2, 64, 64]",
        ],
    );
    let out = elbo(["train", "--resume", &path_str(&good)]);
    assert_clean_error(&out, &[]);
    let out = elbo(["select", "gmm", "--components", "5..2"]);
    assert_app_error(&out, &["range of components"]);
}
