//! `elbo plot` and `elbo latent-map` through the binary on runs trained on
//! the embedded digits (180 held-out 8x8 images, labels 0..9). Text is drawn
//! with the embedded font, so the commands run with fontconfig pointed at
//! nothing.

use std::path::Path;
use std::process::Output;

use crate::common::*;

/// `elbo` with `args`, with no system fonts reachable through fontconfig.
fn elbo_no_fonts(args: &[&str]) -> Output {
    elbo_cmd(args)
        .env("FONTCONFIG_FILE", "/dev/null")
        .env("FONTCONFIG_PATH", "/nonexistent")
        .output()
        .expect("the elbo binary runs")
}

/// Dark pixels in the top `rows` of the PNG at `path` (the title's text).
fn dark_in_top(path: &Path, rows: u32) -> usize {
    let img = image::open(path).expect("PNG").to_rgb8();
    img.enumerate_pixels()
        .filter(|(_, y, p)| *y < rows && p.0.iter().all(|&c| c < 100))
        .count()
}

#[test]
fn plot_writes_the_training_curves() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 3, &["--latent", "4"]);
    let out = elbo_no_fonts(&["plot", &path_str(&run)]);
    assert_ok(&out);
    for name in ["loss.png", "kl.png", "active_units.png"] {
        let png = run.join(name);
        assert_eq!(png_size(&png), (800, 500), "{name}");
        assert!(dark_in_top(&png, 40) > 30, "{name} has a title drawn");
        assert!(stdout(&out).contains(&png_str(&png)), "{}", describe(&out));
    }
    assert!(stdout(&out).contains("3 epochs"), "{}", describe(&out));
    let charts = tmp.path().join("charts");
    assert_ok(&elbo_no_fonts(&[
        "plot",
        &path_str(&run),
        "--out",
        &path_str(&charts),
    ]));
    assert_eq!(png_size(&charts.join("loss.png")), (800, 500));
}

fn png_str(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn latent_map_of_a_5d_model_uses_pca_and_a_legend() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 2, &["--latent", "5"]);
    let out = elbo_no_fonts(&["latent-map", "--model", &path_str(&run)]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("180 test images") && text.contains("10 classes"),
        "{}",
        describe(&out)
    );
    assert!(text.contains("principal axes of 5 dimensions"), "{text}");
    let png = run.join("latent_map.png");
    assert_eq!(png_size(&png), (820, 680));
    // Legend: a filled dot in each of the first classes' exact colours at
    // the right edge (the dots of the plot itself are translucent).
    let img = image::open(&png).expect("PNG").to_rgb8();
    for rgb in [[31u8, 119, 180], [255, 127, 14], [23, 190, 207]] {
        let n = img
            .enumerate_pixels()
            .filter(|(x, _, p)| *x > 700 && p.0 == rgb)
            .count();
        assert!(n > 50, "legend dot {rgb:?}: {n}");
    }
}

#[test]
fn latent_map_of_a_2d_model_draws_z_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    train_digits(&run, 1, &["--latent", "2"]);
    let png = tmp.path().join("map.png");
    let out = elbo_no_fonts(&[
        "latent-map",
        "--model",
        &path_str(&run),
        "--data",
        "digits",
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&out);
    assert!(stdout(&out).contains("axes: z0, z1"), "{}", describe(&out));
    assert_eq!(png_size(&png), (820, 680));
}

#[test]
fn plot_bad_input_is_one_line_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert_app_error(
        &elbo(["plot", &path_str(&missing)]),
        &["nope", "run folder not found"],
    );
    let dir = tmp.path().join("empty");
    std::fs::create_dir(&dir).unwrap();
    assert_app_error(
        &elbo(["plot", &path_str(&dir)]),
        &["metrics.jsonl", "missing"],
    );
    std::fs::write(dir.join("metrics.jsonl"), "").unwrap();
    assert_app_error(
        &elbo(["plot", &path_str(&dir)]),
        &["metrics.jsonl", "no epochs"],
    );
    std::fs::write(dir.join("metrics.jsonl"), "{\"epoch\": 1}\nnot json\n").unwrap();
    assert_app_error(
        &elbo(["plot", &path_str(&dir)]),
        &["metrics.jsonl", "line 1"],
    );
    assert!(!dir.join("loss.png").exists());
}

#[test]
fn latent_map_bad_input_is_one_line_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let not_a_run = tmp.path().join("folder");
    std::fs::create_dir(&not_a_run).unwrap();
    assert_app_error(
        &elbo(["latent-map", "--model", &path_str(&not_a_run)]),
        &["config.toml"],
    );
    let run = tmp.path().join("run1");
    train_digits(&run, 1, &["--latent", "1"]);
    assert_app_error(
        &elbo(["latent-map", "--model", &path_str(&run)]),
        &["at least 2 latent dimensions"],
    );
    assert!(!run.join("latent_map.png").exists());
}

#[test]
fn plot_commands_have_help() {
    for cmd in ["plot", "latent-map"] {
        let out = elbo([cmd, "--help"]);
        assert_ok(&out);
        assert!(
            stdout(&out).contains(&format!("Usage: elbo {cmd}")),
            "{}",
            describe(&out)
        );
    }
}
