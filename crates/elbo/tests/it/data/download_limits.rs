//! Downloads that cannot hang: an overall deadline, a stall timeout that
//! moves on to the next mirror, no `.part` file left behind, errors naming
//! the mirrors in the order tried; and `elbo data download cifar10`'s
//! archive, served from 127.0.0.1 in the real format.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use elbo::data::catalog::CIFAR10;
use elbo::data::cifar::{CIFAR_RECORD, CIFAR10_TEST, CIFAR10_TRAIN};
use elbo::data::{DataSpec, Dataset, DownloadOptions, LoadOptions, download_files_with};

use super::download::{Server, leftovers, sha};

/// A server that answers every request with a 200 declaring a 100,000-byte
/// body, then sends one byte every `every` until the client hangs up, the
/// guard is dropped, or 30 s pass.
struct Trickle {
    base: String,
    stop: Arc<AtomicBool>,
}

impl Trickle {
    fn start(every: Duration) -> Trickle {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !s.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || trickle(stream, every, &s, deadline));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Trickle { base, stop }
    }
}

impl Drop for Trickle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn trickle(stream: TcpStream, every: Duration, stop: &AtomicBool, deadline: Instant) {
    stream.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        line.clear();
    }
    let mut out = &stream;
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n";
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(every);
        if out.write_all(b"x").and_then(|_| out.flush()).is_err() {
            return;
        }
    }
}

fn opts(deadline: f64, stall: f64) -> DownloadOptions {
    DownloadOptions {
        deadline: Duration::from_secs_f64(deadline),
        stall: Duration::from_secs_f64(stall),
        progress: false,
    }
}

const A: &[u8] = b"the file a good mirror serves";

/// Where `url` appears in the list of mirrors tried that ends `msg`.
fn in_order(msg: &str, url: &str) -> usize {
    let (_, tried) = msg
        .split_once("mirrors tried in order: ")
        .unwrap_or_else(|| panic!("no list of mirrors in {msg}"));
    tried
        .find(url)
        .unwrap_or_else(|| panic!("{url} not in {msg}"))
}

#[test]
fn a_trickling_server_fails_at_the_deadline_naming_the_mirrors_in_order() {
    let _downloading = crate::common::training();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    // One byte every 200 ms: always something, so only the deadline ends it.
    let slow = Trickle::start(Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let hash = sha(A);
    let files = [("a.gz", hash.as_str())];
    let err = download_files_with(dir.path(), &[&dead, &slow.base], &files, &opts(1.5, 60.0))
        .unwrap_err();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let msg = err.to_string();
    assert!(msg.contains("deadline of 1.5 s"), "{msg}");
    let (first, second) = (format!("{dead}a.gz"), format!("{}a.gz", slow.base));
    let at = |u: &str| in_order(&msg, u);
    assert!(at(&first) < at(&second), "{msg}");
    assert!(leftovers(dir.path()).is_empty());
    assert!(!dir.path().join("a.gz").exists());
}

#[test]
fn a_stalled_mirror_is_left_for_the_next_one() {
    let _downloading = crate::common::training();
    // 5 bytes a second: under the 1 KiB a stall window asks for.
    let slow = Trickle::start(Duration::from_millis(200));
    let good = Server::start(&[("/a.gz", A)]);
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let hash = sha(A);
    let files = [("a.gz", hash.as_str())];
    let paths = download_files_with(
        dir.path(),
        &[&slow.base, &good.base],
        &files,
        &opts(30.0, 0.8),
    )
    .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(std::fs::read(&paths[0]).unwrap(), A);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_silent_mirror_stalls_and_every_failure_is_reported_in_order() {
    let _downloading = crate::common::training();
    let silent = Trickle::start(Duration::from_secs(3600));
    let missing = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let hash = sha(A);
    let files = [("a.gz", hash.as_str())];
    let mirrors = [silent.base.as_str(), &missing.base];
    let err = download_files_with(dir.path(), &mirrors, &files, &opts(30.0, 0.5)).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let msg = err.to_string();
    assert!(
        msg.contains("mirrors tried in order") && msg.contains("stalled"),
        "{msg}"
    );
    let (first, second) = (
        format!("{}a.gz", silent.base),
        format!("{}/a.gz", missing.base),
    );
    let at = |u: &str| in_order(&msg, u);
    assert!(at(&first) < at(&second) && msg.contains("404"), "{msg}");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_stop_request_ends_the_download_and_deletes_the_partial_file() {
    // The stop request is what Ctrl-C sets for training too: train alone.
    let _alone = crate::common::training_alone();
    let slow = Trickle::start(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let hash = sha(A);
    let files = [("a.gz", hash.as_str())];
    let stopper = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(400));
        elbo::device::request_stop();
    });
    let start = Instant::now();
    let err = download_files_with(dir.path(), &[&slow.base], &files, &opts(30.0, 60.0));
    stopper.join().unwrap();
    let msg = err.unwrap_err().to_string();
    assert!(msg.contains("interrupted"), "{msg}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(leftovers(dir.path()).is_empty());
    assert!(!dir.path().join("a.gz").exists());
}

/// CIFAR-10's binary archive in its real layout, `n` records per batch.
fn cifar_archive(n: usize) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        let path = format!("cifar-10-batches-bin/{name}");
        tar.append_data(&mut header, path, bytes).unwrap();
    };
    add("batches.meta.txt", b"airplane\nautomobile\n");
    for (k, name) in CIFAR10_TRAIN.iter().chain([&CIFAR10_TEST]).enumerate() {
        let records: Vec<u8> = (0..n)
            .flat_map(|i| {
                let mut r = vec![((k + i) % 10) as u8];
                r.extend(std::iter::repeat_n(i as u8, CIFAR_RECORD - 1));
                r
            })
            .collect();
        add(name, &records);
    }
    crate::common::gzip(&tar.into_inner().unwrap())
}

#[test]
fn cifar10_downloads_verifies_and_unpacks_into_a_folder_cifar10_dir_reads() {
    let _downloading = crate::common::training();
    let archive = cifar_archive(2);
    let server = Server::start(&[("/kriz/cifar-10-binary.tar.gz", &archive)]);
    let mirror = format!("{}/kriz/", server.base);
    let hash = sha(&archive);
    let files = [("cifar-10-binary.tar.gz", hash.as_str())];
    let mirrors = [mirror.as_str()];
    let served = Dataset {
        mirrors: &mirrors,
        files: &files,
        ..CIFAR10
    };
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cifar10");
    // With the progress bar on (drawn only where stderr is a terminal).
    let with_bar = DownloadOptions {
        progress: true,
        ..opts(30.0, 10.0)
    };
    let paths = served.download(&target, &with_bar).unwrap();
    assert_eq!(paths.len(), 6);
    let spec = served.spec(&target).unwrap();
    assert_eq!(spec, DataSpec::Cifar10(target.clone()));
    let s = spec.load(&LoadOptions::default()).unwrap();
    assert_eq!((s.train.n, s.test.n), (10, 2));
    assert_eq!(s.test.labels, Some(vec![5, 6]));
    // A second call finds everything in place and fetches nothing.
    served.download(&target, &opts(30.0, 10.0)).unwrap();
    assert_eq!(server.hits().len(), 1);
    // A corrupt archive is refused before anything is unpacked.
    let other = tempfile::tempdir().unwrap();
    let wrong = sha(b"another archive");
    let files = [("cifar-10-binary.tar.gz", wrong.as_str())];
    let corrupt = Dataset {
        files: &files,
        ..served
    };
    let msg = corrupt
        .download(other.path(), &opts(30.0, 10.0))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("sha256 mismatch"), "{msg}");
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}
