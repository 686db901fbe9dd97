//! Files that lie about their size: small compressed files that expand to
//! hundreds of megabytes, a gzip trailer that claims 4 GB, a small PNG of a
//! huge image, and a FIFO. Each is refused (or read) with the peak memory of
//! the `elbo` process bounded, measured as its `ru_maxrss`.
#![cfg(unix)]

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;

/// What a process that reads such a file may hold at its peak. The figure
/// measured is `ru_maxrss`, an upper bound on the child's own peak: Linux
/// counts the test process's peak in it too (the child starts as a clone of
/// it), so the bound leaves room for that; each bomb expands to more.
const BOUNDED_KB: u64 = 300 * 1024;

/// Decompressed size of the bombs: 512 MiB of zeros (about 500 kB gzipped).
const BOMB_BYTES: usize = 512 << 20;

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

/// Waits for `child` and returns its output and its peak RSS in kB
/// (`ru_maxrss` from `wait4`: never below the child's own peak, even for a
/// child that exits at once; see [`BOUNDED_KB`]). A child still running
/// after two minutes (a read that blocks) is killed.
fn run_measured(mut child: Child) -> (Output, u64) {
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes)
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !done.load(Ordering::SeqCst) {
                if Instant::now() > deadline {
                    let pid = pid.to_string();
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", &pid])
                        .status();
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own
    // child, not yet reaped (std's `Child` is never waited on here).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    done.store(true, Ordering::SeqCst);
    watchdog.join().unwrap();
    assert_eq!(reaped, pid as libc::pid_t, "wait4 failed");
    let output = Output {
        status: ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap().unwrap(),
        stderr: stderr.join().unwrap().unwrap(),
    };
    eprintln!("elbo's peak RSS: {} kB", usage.ru_maxrss);
    (output, usage.ru_maxrss as u64)
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
    assert!(peak > 1000 && peak < BOUNDED_KB, "peak RSS {peak} kB");
}

#[test]
fn an_amat_with_one_huge_line_is_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("huge-line.amat.gz");
    std::fs::write(&bomb, gzip_bomb(b"0 1 ")).unwrap();
    let (out, peak) = train_measured(tmp.path(), &format!("amat:{}", bomb.display()), &[]);
    assert_app_error(&out, &["huge-line.amat.gz", "line 1 is longer than"]);
    assert!(peak > 1000 && peak < BOUNDED_KB, "peak RSS {peak} kB");
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
    assert!(peak > 1000 && peak < BOUNDED_KB, "peak RSS {peak} kB");
}

#[test]
fn a_small_png_of_a_huge_image_is_resized_before_float_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("big");
    std::fs::create_dir(&dir).unwrap();
    // 8000x8000 grey: 64 MB as decoded bytes, 768 MB as RGB floats (before
    // the resize, as the image was converted before).
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
    assert!(peak > 1000 && peak < 2 * BOUNDED_KB, "peak RSS {peak} kB");
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
