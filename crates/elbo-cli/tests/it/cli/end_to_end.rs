//! End to end through the `elbo` binary on the embedded digits set: train,
//! then every command that reads a run, checking exit codes, files, PNG sizes
//! and the JSON outputs.

use crate::common::*;

/// Digits images are 8x8 grey.
const SIDE: u32 = 8;

/// Expected (width, height) of a grid of `count` images of SIDExSIDE laid out
/// in `cols` columns, derived here from the layout rules (pixels scaled up to
/// at least 112 px, 2 px of separator around and between cells, an 8 px gap
/// between groups of `group` rows when `group` > 0), independently of the
/// library's code.
fn grid_size_grouped(count: u32, cols: u32, group: u32) -> (u32, u32) {
    let scale = 112u32.div_ceil(SIDE); // 14 for 8x8
    let padding = 2;
    let cell = SIDE * scale + padding; // 114
    let rows = count.div_ceil(cols).max(1);
    let used_cols = cols.min(count.max(1));
    let gaps = (rows - 1).checked_div(group).unwrap_or(0);
    (used_cols * cell + padding, rows * cell + padding + 8 * gaps)
}

fn grid_size(count: u32, cols: u32) -> (u32, u32) {
    grid_size_grouped(count, cols, 0)
}

/// Samples: a square-ish grid with ceil(sqrt(n)) columns.
fn samples_size(n: u32) -> (u32, u32) {
    let cols = (n as f64).sqrt().ceil() as u32;
    grid_size(n, cols)
}

/// Reconstructions: rows of up to 8 originals each followed by a row of their
/// reconstructions, pairs set apart; a short last pair of rows is padded to
/// full width.
fn reconstructions_size(n: u32) -> (u32, u32) {
    let cols = n.clamp(1, 8);
    let row_pairs = n.div_ceil(cols);
    grid_size_grouped(2 * row_pairs * cols, cols, 2)
}

/// Interpolation: one strip of image a, `steps` decoded points, image b.
fn interpolation_size(steps: u32) -> (u32, u32) {
    grid_size(steps + 2, steps + 2)
}

#[test]
fn expected_sizes_match_hand_computed_values() {
    // 114 px per 8x8 cell (14x scale + 2 separator), plus 2 px of edge.
    assert_eq!(samples_size(64), (914, 914));
    assert_eq!(samples_size(10), (458, 344));
    // Two pairs of rows with an 8 px gap between them.
    assert_eq!(reconstructions_size(16), (914, 466));
    assert_eq!(reconstructions_size(5), (572, 230));
    assert_eq!(interpolation_size(10), (1370, 116));
}

#[test]
fn train_then_every_command_works_on_digits() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let run_s = path_str(&run);

    // Train one epoch, with the pictures.
    let out = elbo([
        "train", "vae", "--data", "digits", "--epochs", "1", "--quiet", "--out", &run_s,
    ]);
    assert_ok(&out);
    assert!(
        stderr(&out).trim().is_empty(),
        "--quiet prints nothing on stderr\n{}",
        describe(&out)
    );
    for f in [
        "config.toml",
        "model.safetensors",
        "state.json",
        "metrics.jsonl",
    ] {
        assert!(run.join(f).is_file(), "{f} missing after training");
    }
    for f in ["model.safetensors", "optimizer.bpk"] {
        assert!(
            checkpoint_dir(&run).join(f).is_file(),
            "the checkpoint's {f} missing after training"
        );
    }
    assert_eq!(png_size(&run.join("samples.png")), samples_size(64));
    assert_eq!(
        png_size(&run.join("reconstructions.png")),
        reconstructions_size(16)
    );
    assert_eq!(
        png_size(&run.join("interpolation.png")),
        interpolation_size(10)
    );

    // metrics.jsonl: exactly one epoch, finite losses.
    let metrics = read_metrics(&run.join("metrics.jsonl"));
    assert_eq!(metrics.len(), 1, "{metrics:?}");
    let m = &metrics[0];
    assert_eq!(m["epoch"].as_u64(), Some(1), "{m}");
    let (train_loss, test_loss) = (num(m, "train_loss"), num(m, "test_loss"));
    assert!(train_loss > 0.0 && test_loss > 0.0, "{m}");
    let parts = num(m, "test_recon") + num(m, "test_kl");
    assert!(
        (test_loss - parts).abs() <= 1e-9 * test_loss.abs(),
        "test_loss != recon + kl in {m}"
    );

    // config.toml: the resolved settings.
    let config: toml::Table =
        toml::from_str(&std::fs::read_to_string(run.join("config.toml")).unwrap()).unwrap();
    assert_eq!(
        config["model"]["input_dim"].as_integer(),
        Some(64),
        "{config}"
    );
    assert_eq!(config["train"]["epochs"].as_integer(), Some(1), "{config}");
    assert_eq!(config["data"]["spec"].as_str(), Some("digits"), "{config}");

    // sample, to a chosen file and to the default one.
    let png = tmp.path().join("s10.png");
    let out = elbo([
        "sample",
        "--model",
        &run_s,
        "-n",
        "10",
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&out);
    assert_eq!(png_size(&png), samples_size(10));
    std::fs::remove_file(run.join("samples.png")).unwrap();
    assert_ok(&elbo(["sample", "--model", &run_s, "-n", "5"]));
    assert_eq!(png_size(&run.join("samples.png")), samples_size(5));

    // reconstruct: 11 images make two pairs of rows of 8.
    let png = tmp.path().join("r11.png");
    let out = elbo([
        "reconstruct",
        "--model",
        &run_s,
        "-n",
        "11",
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&out);
    assert_eq!(png_size(&png), reconstructions_size(11));
    let png = tmp.path().join("r5.png");
    assert_ok(&elbo([
        "reconstruct",
        "--model",
        &run_s,
        "-n",
        "5",
        "--out",
        &path_str(&png),
    ]));
    assert_eq!(png_size(&png), reconstructions_size(5));

    // interpolate between chosen test images.
    let png = tmp.path().join("i5.png");
    let out = elbo([
        "interpolate",
        "--model",
        &run_s,
        "--from",
        "2",
        "--to",
        "7",
        "--steps",
        "5",
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&out);
    assert_eq!(png_size(&png), interpolation_size(5));
    std::fs::remove_file(run.join("interpolation.png")).unwrap();
    assert_ok(&elbo(["interpolate", "--model", &run_s]));
    assert_eq!(
        png_size(&run.join("interpolation.png")),
        interpolation_size(10)
    );

    // eval, as text.
    let out = elbo(["eval", "--model", &run_s]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("negative ELBO")
            && text.contains("nats/image")
            && text.contains("over 180 images")
            && text.contains("one sampled z"),
        "{text}"
    );

    // eval --json: one object (the Evaluation schema) whose loss is recon +
    // kl, over the 180 held-out images (10% of 1,797).
    let out = elbo(["eval", "--model", &run_s, "--json"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    let l = &v["loss"];
    let (loss, recon, kl) = (num(l, "loss"), num(l, "recon"), num(l, "kl"));
    assert!(
        (loss - (recon + kl)).abs() <= 1e-9 * loss.abs(),
        "loss != recon + kl in {v}"
    );
    assert!(recon > 0.0 && kl >= 0.0, "{v}");
    assert_eq!(v["images"].as_u64(), Some(180), "{v}");

    // Same seed, same answer.
    let again = elbo(["eval", "--model", &run_s, "--json"]);
    assert_ok(&again);
    assert_eq!(stdout(&again), stdout(&out), "eval --json is deterministic");
}

#[test]
fn config_file_is_merged_under_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("partial.toml");
    std::fs::write(&cfg, "[train]\nepochs = 2\n[model]\nlatent = 5\n").unwrap();
    let run = tmp.path().join("run");
    let out = elbo([
        "train",
        "vae",
        "--config",
        &path_str(&cfg),
        "--epochs",
        "1",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&run),
    ]);
    assert_ok(&out);
    assert_eq!(
        read_metrics(&run.join("metrics.jsonl")).len(),
        1,
        "--epochs 1 overrides the file's 2"
    );
    let config: toml::Table =
        toml::from_str(&std::fs::read_to_string(run.join("config.toml")).unwrap()).unwrap();
    assert_eq!(config["model"]["latent"].as_integer(), Some(5), "{config}");
    assert_eq!(config["train"]["epochs"].as_integer(), Some(1), "{config}");
    // What the file leaves out keeps its default.
    assert_eq!(
        config["train"]["batch_size"].as_integer(),
        Some(128),
        "{config}"
    );
    assert_eq!(
        config["model"]["hidden"].as_array().map(Vec::len),
        Some(1),
        "{config}"
    );
    assert!(
        !run.join("samples.png").exists(),
        "--no-pictures writes no pictures"
    );
    // The weights have the configured latent size: mean.weight is [400, 5].
    let st = read_safetensors(&run.join("model.safetensors"));
    assert_eq!(
        st.tensors["mean.weight"]["shape"],
        serde_json::json!([400, 5]),
        "{:?}",
        st.tensors
    );
}

#[test]
fn help_works_for_every_subcommand() {
    let commands: &[&[&str]] = &[
        &[],
        &["train"],
        &["train", "vae"],
        &["sample"],
        &["reconstruct"],
        &["interpolate"],
        &["eval"],
        &["data"],
        &["data", "download"],
    ];
    for cmd in commands {
        let mut args: Vec<&str> = cmd.to_vec();
        args.push("--help");
        let out = elbo(&args);
        assert_ok(&out);
        let text = stdout(&out);
        assert!(text.contains("Usage: elbo"), "{args:?}: {text}");
    }
    let out = elbo(["--version"]);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("elbo "), "{}", describe(&out));
}
