//! What the result commands print: `eval` on a whole file or a split, the
//! image count in every result, `--json` with one schema per kind, progress
//! on stderr, `--log-every`, `plot` per family, imported runs' data.

use std::path::Path;

use crate::common::*;

/// Writes `n` 8x8 grey images (u8) as an `.npy` file.
fn digits_like_npy(path: &Path, n: usize) {
    let data: Vec<u8> = (0..n * 64).map(|i| ((i * 37) % 17 * 15) as u8).collect();
    write_npy(path, "|u1", &[n, 8, 8], &data);
}

/// One JSON object from the process's stdout, and nothing else there.
fn json(out: &std::process::Output) -> serde_json::Value {
    assert_ok(out);
    let text = stdout(out);
    assert_eq!(text.trim().lines().count(), 1, "{}", describe(out));
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}\n{}", describe(out)))
}

#[test]
fn eval_on_a_file_scores_all_of_it_unless_a_split_is_asked() {
    let (tmp, run) = one_epoch_run(&[]);
    let run_s = path_str(&run);
    let npy = tmp.path().join("seven.npy");
    digits_like_npy(&npy, 7);
    let spec = format!("npy:{}", path_str(&npy));
    let count = |extra: &[&str]| {
        let mut args = vec!["eval", "--model", &run_s, "--data", &spec, "--json"];
        args.extend_from_slice(extra);
        num(&json(&elbo(&args)), "images") as usize
    };
    assert_eq!(count(&[]), 7, "all of the file by default");
    assert_eq!(count(&["--split", "all"]), 7);
    assert_eq!(
        count(&["--split", "test"]),
        1,
        "the run's 10% held out, at least 1"
    );
    assert_eq!(count(&["--split", "train"]), 6);
    let text = elbo(["eval", "--model", &run_s, "--data", &spec]);
    assert_ok(&text);
    assert!(
        stdout(&text).contains("over 7 images"),
        "{}",
        describe(&text)
    );
    // The run's own data: its test split, 180 of the digits.
    let own = elbo(["eval", "--model", &run_s]);
    assert!(
        stdout(&own).contains("over 180 images"),
        "{}",
        describe(&own)
    );

    let one = tmp.path().join("one.npy");
    digits_like_npy(&one, 1);
    let spec = format!("npy:{}", path_str(&one));
    let out = elbo(["eval", "--model", &run_s, "--data", &spec]);
    assert_ok(&out);
    assert!(stdout(&out).contains("over 1 images"), "{}", describe(&out));
    let bad = elbo(["eval", "--model", &run_s, "--split", "validation"]);
    assert!(!bad.status.success());
}

#[test]
fn every_result_command_prints_one_json_object() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("vae");
    let out = train_digits_raw(&run, &["--epochs", "2", "--json"]);
    let v = json(&out);
    assert_eq!(
        (v["result"].as_str(), v["kind"].as_str()),
        (Some("train"), Some("vae"))
    );
    assert_eq!(v["last_epoch"]["epoch"], 2);
    num(&v["last_epoch"], "test_loss");

    let gmm = tmp.path().join("gmm");
    let args = ["train", "gmm", "--components", "2", "--json", "--out"];
    let v = json(&elbo(args.iter().chain(&[path_str(&gmm).as_str()])));
    assert_eq!(
        (v["result"].as_str(), v["kind"].as_str()),
        (Some("mixture-fit"), Some("gmm"))
    );
    assert_eq!(v["fit"]["test"]["images"], 180);

    let csv = tmp.path().join("scores.csv");
    let args = ["score", "--model", &path_str(&run), "--iwae", "3", "--json"];
    let v = json(&elbo(args.iter().chain(&["--out", &path_str(&csv)])));
    assert_eq!(
        (v["result"].as_str(), v["images"].as_u64()),
        (Some("score"), Some(180))
    );
    assert!(csv.is_file());

    let sel = tmp.path().join("select");
    let args = [
        "select",
        "gmm",
        "--components",
        "1..3",
        "--covariance",
        "diag",
    ];
    let v = json(&elbo(args.iter().chain(&[
        "--json",
        "--out",
        &path_str(&sel),
    ])));
    assert_eq!(v["result"], "select");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    let best = v["best_k"].as_u64().expect("best_k");
    assert_eq!(v["best_at_edge"].as_bool(), Some(best == 3), "{v}");
}

#[test]
fn a_best_k_at_the_edge_of_the_range_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    // On the digits BIC keeps falling past K = 2: the best of 1..2 is 2.
    let out = elbo([
        "select",
        "gmm",
        "--components",
        "1..2",
        "--covariance",
        "diag",
        "--out",
        &path_str(tmp.path()),
    ]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("best K by BIC: 2 (the edge of the range tried"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("largest K tried"),
        "{}",
        describe(&out)
    );
}

#[test]
fn long_jobs_say_their_stages_when_piped() {
    let (tmp, run) = one_epoch_run(&[]);
    let lines = |args: &[&str]| {
        elbo_cmd(args)
            .env("ELBO_PROGRESS", "lines")
            .output()
            .unwrap()
    };
    let out = lines(&["eval", "--model", &path_str(&run), "--iwae", "4"]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("IWAE bound, K = 4: 180 images"),
        "{}",
        describe(&out)
    );
    let stdout_text = stdout(&out);
    assert!(
        stdout_text
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("IWAE (K = 4)")),
        "the IWAE bound is the headline: {stdout_text}"
    );
    let gmm = tmp.path().join("gmm");
    let args = [
        "train",
        "gmm",
        "--components",
        "2",
        "--no-pictures",
        "--out",
    ];
    let gmm_s = path_str(&gmm);
    let out = lines(&[args.as_slice(), &[gmm_s.as_str()]].concat());
    assert_ok(&out);
    assert!(
        stderr(&out).contains("EM: 100 iterations at most"),
        "{}",
        describe(&out)
    );
    // A stage of steps says each step.
    let sel = path_str(&tmp.path().join("select"));
    let out = lines(&[
        "select",
        "gmm",
        "--components",
        "1..2",
        "--covariance",
        "diag",
        "--out",
        &sel,
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("fitting mixtures: 2 sizes") && err.contains("fitting mixtures: K = 2"),
        "{}",
        describe(&out)
    );
    assert!(!err.contains("EM:"), "no EM lines inside select: {err}");
    // Piped without ELBO_PROGRESS, a short job writes no stage lines.
    let out = elbo(["eval", "--model", &path_str(&run), "--iwae", "4"]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("IWAE bound"), "{}", describe(&out));
}

#[test]
fn log_every_thins_the_epoch_lines_and_keeps_every_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = elbo([
        "train",
        "vae",
        "--epochs",
        "5",
        "--log-every",
        "2",
        "--no-pictures",
        "--out",
        &path_str(&run),
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    let epochs: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("epoch "))
        .map(|l| l.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        epochs,
        ["epoch 1", "epoch 2", "epoch 4", "epoch 5"],
        "{}",
        describe(&out)
    );
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 5);
    let bad = train_digits_raw(&tmp.path().join("bad"), &["--log-every", "0"]);
    assert!(!bad.status.success());
}

#[test]
fn plot_draws_what_each_family_has() {
    let tmp = tempfile::tempdir().unwrap();
    let gmm = tmp.path().join("gmm");
    assert_ok(&train_small_gmm(&gmm));
    let err = assert_app_error(&elbo(["plot", &path_str(&gmm)]), &["gmm", "EM"]);
    assert!(!err.contains("missing field"), "{err}");
    assert!(!gmm.join("loss.png").exists());

    let nade = tmp.path().join("nade");
    let out = elbo([
        "train",
        "nade",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&nade),
    ]);
    assert_ok(&out);
    let out = elbo(["plot", "--model", &path_str(&nade)]);
    assert_ok(&out);
    assert!(nade.join("loss.png").is_file());
    assert!(!nade.join("kl.png").exists() && !nade.join("active_units.png").exists());
}

#[test]
fn an_imported_model_records_the_data_it_belongs_to() {
    let (tmp, run) = one_epoch_run(&["--pixels", "binary"]);
    let file = tmp.path().join("vae.safetensors");
    let args = [
        "export",
        "torch-vae",
        &path_str(&run),
        "--out",
        &path_str(&file),
    ];
    assert_ok(&elbo(args));
    let imported = tmp.path().join("imported");
    let out = elbo([
        "import",
        "torch-vae",
        &path_str(&file),
        "--shape",
        "8x8x1",
        "--data",
        "digits",
        "--out",
        &path_str(&imported),
    ]);
    assert_ok(&out);
    let config = std::fs::read_to_string(imported.join("config.toml")).unwrap();
    assert!(config.contains("spec = \"digits\""), "{config}");
    // eval finds the data without MNIST in a cache folder.
    let out = elbo_cmd(["eval", "--model", &path_str(&imported)])
        .env("ELBO_CACHE", tmp.path().join("no-cache"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        stdout(&out).contains("over 180 images"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_vaes_mean_z_loss_is_the_same_for_every_seed_and_the_sampled_one_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 2, &[]);
    let eval = |seed: &str| {
        json(&elbo([
            "eval",
            "--model",
            &path_str(&run),
            "--mean-z",
            "--seed",
            seed,
            "--json",
        ]))
    };
    let (a, b) = (eval("1"), eval("2"));
    assert_eq!(a["mean_z_loss"], b["mean_z_loss"], "z = mean draws nothing");
    assert_eq!(a["mean_z_loss"]["images"], 180);
    num(&a["mean_z_loss"], "loss");
    assert_ne!(
        a["loss"]["loss"], b["loss"]["loss"],
        "one sampled z per image"
    );
    let text = elbo(["eval", "--model", &path_str(&run), "--mean-z"]);
    assert!(
        stdout(&text).contains("at z = the posterior mean"),
        "{}",
        describe(&text)
    );
    let gmm = tmp.path().join("gmm");
    assert_ok(&train_small_gmm(&gmm));
    let out = elbo(["eval", "--model", &path_str(&gmm), "--mean-z"]);
    assert_app_error(&out, &["gmm"]);
}
