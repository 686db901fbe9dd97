//! Pictures people can read: grids drawn at a readable scale by default,
//! `--scale` on every picture command, and `elbo data download`'s flags.

use crate::common::*;

#[test]
fn picture_commands_draw_at_a_readable_scale_and_take_scale() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("vae");
    train_digits(&run, 1, &[]);
    let model = path_str(&run);
    let png = |name: &str| tmp.path().join(name);
    // 4 digits of 8x8 in 2 columns at 14x (112 px) with 2-px separators.
    let out = path_str(&png("default.png"));
    assert_ok(&elbo([
        "sample", "--model", &model, "-n", "4", "--out", &out,
    ]));
    assert_eq!(png_size(&png("default.png")), (230, 230));
    let out = path_str(&png("s3.png"));
    let args = [
        "sample", "--model", &model, "-n", "4", "--scale", "3", "--out", &out,
    ];
    assert_ok(&elbo(args));
    assert_eq!(png_size(&png("s3.png")), (54, 54));
    // 8 test images above their reconstructions: 8 columns, 2 rows.
    let out = path_str(&png("r.png"));
    let args = [
        "reconstruct",
        "--model",
        &model,
        "-n",
        "8",
        "--scale",
        "2",
        "--out",
        &out,
    ];
    assert_ok(&elbo(args));
    assert_eq!(png_size(&png("r.png")), (8 * 18 + 2, 2 * 18 + 2));
    // Two images and 3 steps between them, in one row.
    let out = path_str(&png("i.png"));
    let args = [
        "interpolate",
        "--model",
        &model,
        "--steps",
        "3",
        "--scale",
        "1",
        "--out",
        &out,
    ];
    assert_ok(&elbo(args));
    assert_eq!(png_size(&png("i.png")), (5 * 10 + 2, 12));
    let bad = elbo(["sample", "--model", &model, "--scale", "0"]);
    assert_clean_error(&bad, &["--scale", "1..=64"]);
}

#[test]
fn download_flags_and_names_are_checked_before_any_network() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = path_str(tmp.path());
    let bad = elbo([
        "data",
        "download",
        "cifar10",
        "--dir",
        &dir,
        "--deadline",
        "soon",
    ]);
    assert_clean_error(&bad, &["--deadline", "not a positive number of seconds"]);
    let bad = elbo(["data", "download", "cifar10", "--dir", &dir, "--stall=0"]);
    assert_clean_error(&bad, &["--stall"]);
    let bad = elbo(["data", "download", "svhn", "--dir", &dir]);
    assert_clean_error(&bad, &["svhn", "mnist", "fashion-mnist", "cifar10"]);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
