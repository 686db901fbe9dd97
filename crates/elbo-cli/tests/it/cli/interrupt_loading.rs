//! Ctrl-C while a large image folder loads: the load stops at the next
//! image, nothing is written, and `elbo` exits 130 with one line.
#![cfg(unix)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// Images in the folder, each decoded and resized: seconds of loading.
const IMAGES: usize = 300;

#[test]
fn ctrl_c_while_an_image_folder_loads_stops_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("images");
    std::fs::create_dir(&dir).unwrap();
    let first = dir.join("0000.png");
    image::GrayImage::from_fn(1200, 1200, |x, y| image::Luma([((x * y) % 251) as u8]))
        .save(&first)
        .unwrap();
    for i in 1..IMAGES {
        std::fs::copy(&first, dir.join(format!("{i:04}.png"))).unwrap();
    }
    let out_dir = tmp.path().join("out");
    let data = format!("images:{}", dir.display());
    let out_s = path_str(&out_dir);
    let args = [
        "train",
        "vae",
        "--data",
        &data,
        "--image-size",
        "28x28",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &out_s,
    ];
    let started = Instant::now();
    let child = elbo_cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success(), "kill -INT failed");
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{}", describe(&out));
    assert!(
        err.starts_with("error: interrupted") && err.contains("images"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        !out_dir.exists(),
        "an interrupted load must not start the run folder"
    );
    eprintln!("stopped {took:?} after the start");
}
