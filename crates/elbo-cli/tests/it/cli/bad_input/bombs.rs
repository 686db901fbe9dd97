//! Files that lie about their size: small compressed files that expand to
//! hundreds of megabytes, a gzip trailer that claims 4 GB, a small PNG of a
//! huge image, and a FIFO. Each is refused (or read) with the peak memory of
//! the `elbo` process bounded, measured as its `VmHWM` while it runs.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// What a process that reads such a file may hold at its peak: the binary,
/// burn and the embedded digits take well under this; each bomb below
/// expands to at least twice as much.
const BOUNDED_KB: u64 = 200 * 1024;

/// Decompressed size of the bombs: 256 MiB of zeros (about 250 kB gzipped).
const BOMB_BYTES: usize = 256 << 20;

/// `head` followed by [`BOMB_BYTES`] zeros, gzipped, streamed so the test
/// itself never holds them.
fn gzip_bomb(head: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(head).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..BOMB_BYTES >> 20 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

/// The peak RSS in kB of a running child, polled until it exits.
fn run_measured(mut child: Child) -> (Output, u64) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (child.wait_with_output().unwrap(), peak)
}

/// `elbo train vae --data SPEC ...extra` (one epoch) under measurement.
fn train_measured(tmp: &Path, spec: &str, extra: &[&str]) -> (Output, u64) {
    let mut args = vec![
        "train".to_string(),
        "vae".into(),
        "--data".into(),
        spec.into(),
        "--epochs".into(),
        "1".into(),
        "--quiet".into(),
        "--no-pictures".into(),
        "--out".into(),
        path_str(&tmp.join("out")),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = elbo_cmd(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    run_measured(child)
}

fn idx_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    dims.iter()
        .for_each(|d| v.extend_from_slice(&d.to_be_bytes()));
    v
}

#[test]
fn a_gzip_idx_that_expands_past_its_header_is_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    write_mnist(&dir, 20, 10);
    let mut head = idx_header(0x0803, &[20, 28, 28]);
    head.extend(std::iter::repeat_n(7u8, 20 * 28 * 28));
    let bomb = dir.join("train-images-idx3-ubyte.gz");
    let _ = std::fs::remove_file(dir.join("train-images-idx3-ubyte"));
    std::fs::write(&bomb, gzip_bomb(&head)).unwrap();
    let (out, peak) = train_measured(tmp.path(), &format!("mnist:{}", dir.display()), &[]);
    assert_app_error(&out, &["train-images-idx3-ubyte", "unexpected bytes"]);
    assert!(peak > 0 && peak < BOUNDED_KB, "peak RSS {peak} kB");
}

#[test]
fn an_amat_with_one_huge_line_is_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("huge-line.amat.gz");
    std::fs::write(&bomb, gzip_bomb(b"0 1 ")).unwrap();
    let (out, peak) = train_measured(tmp.path(), &format!("amat:{}", bomb.display()), &[]);
    assert_app_error(&out, &["huge-line.amat.gz", "line 1 is longer than"]);
    assert!(peak > 0 && peak < BOUNDED_KB, "peak RSS {peak} kB");
}

#[test]
fn a_gzip_trailer_that_lies_about_the_size_is_a_clean_error() {
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("lying-trailer.npy");
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }\n";
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend([1u8; 12]);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&v).unwrap();
    let mut gz = enc.finish().unwrap();
    let m = gz.len();
    gz[m - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&npy, gz).unwrap();
    let (out, peak) = train_measured(tmp.path(), &format!("npy:{}", npy.display()), &[]);
    assert_app_error(&out, &["lying-trailer.npy", "gzip"]);
    assert!(peak > 0 && peak < BOUNDED_KB, "peak RSS {peak} kB");
}

#[test]
fn a_small_png_of_a_huge_image_is_resized_before_float_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("big");
    std::fs::create_dir(&dir).unwrap();
    // 8000x8000 grey: 64 MB as decoded bytes, 768 MB as RGB floats.
    let img = image::GrayImage::from_fn(8000, 8000, |x, _| image::Luma([(x % 2 * 255) as u8]));
    for name in ["a.png", "b.png"] {
        img.save(dir.join(name)).unwrap();
    }
    drop(img);
    let spec = format!("images:{}", dir.display());
    let flags = [
        "--rgb",
        "--image-size",
        "8x8",
        "--batch-size",
        "1",
        "--test-fraction",
        "0.5",
    ];
    let (out, peak) = train_measured(tmp.path(), &spec, &flags);
    assert_ok(&out);
    assert!(peak > 0 && peak < 2 * BOUNDED_KB, "peak RSS {peak} kB");
}

#[test]
fn a_fifo_as_data_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe.npy");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let started = Instant::now();
    let (out, _) = train_measured(tmp.path(), &format!("npy:{}", fifo.display()), &[]);
    assert_app_error(&out, &["pipe.npy", "not a regular file"]);
    assert!(started.elapsed() < Duration::from_secs(60));
}
