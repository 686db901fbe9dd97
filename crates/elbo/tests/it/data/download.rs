//! `download_files` against a small HTTP server on 127.0.0.1 started by each
//! test. Nothing here touches the real network.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use elbo::data::download_files;
use sha2::{Digest, Sha256};

/// A one-thread HTTP/1.1 server serving fixed bytes per path, 404 otherwise.
/// It stops when dropped, or after 60 s whatever happens.
pub(super) struct Server {
    pub(super) base: String,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub(super) fn start(routes: &[(&str, &[u8])]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: HashMap<String, Vec<u8>> = routes
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_vec()))
            .collect();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !s.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => handle(stream, &routes, &h),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            base,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    pub(super) fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(stream: TcpStream, routes: &HashMap<String, Vec<u8>>, hits: &Mutex<Vec<String>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(&stream);
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
    hits.lock().unwrap().push(path.clone());
    let mut out = &stream;
    let _ = match routes.get(&path) {
        Some(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            out.write_all(head.as_bytes())
                .and_then(|_| out.write_all(body))
        }
        None => out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
    let _ = out.flush();
}

pub(super) fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect()
}

const A: &[u8] = b"first fixture file \x00\x01\x02";
const B: &[u8] = b"second fixture file, a little longer than the first";

#[test]
fn downloads_every_file_and_verifies_it() {
    let _downloading = crate::common::training();
    let server = Server::start(&[("/m/a.gz", A), ("/m/b.gz", B)]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nested/cache");
    let mirror = format!("{}/m/", server.base);
    let files = [("a.gz", sha(A)), ("b.gz", sha(B))];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let paths = download_files(&target, &[&mirror], &files).unwrap();
    assert_eq!(paths, vec![target.join("a.gz"), target.join("b.gz")]);
    assert_eq!(std::fs::read(&paths[0]).unwrap(), A);
    assert_eq!(std::fs::read(&paths[1]).unwrap(), B);
    assert!(leftovers(&target).is_empty());
    assert_eq!(server.hits(), vec!["/m/a.gz", "/m/b.gz"]);
}

#[test]
fn wrong_checksum_leaves_no_file_and_names_url_and_hashes() {
    let _downloading = crate::common::training();
    let server = Server::start(&[("/a.gz", A)]);
    let dir = tempfile::tempdir().unwrap();
    let wrong = sha(b"something else");
    let err = download_files(dir.path(), &[&server.base], &[("a.gz", &wrong)]).unwrap_err();
    let msg = err.to_string();
    let url = format!("{}/a.gz", server.base);
    assert!(msg.contains(&url), "{msg}");
    assert!(msg.contains(&wrong) && msg.contains(&sha(A)), "{msg}");
    assert!(msg.contains("sha256 mismatch"), "{msg}");
    assert!(!dir.path().join("a.gz").exists());
    assert!(!dir.path().join("a.gz.part").exists());
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn falls_back_to_the_next_mirror_after_a_404() {
    let _downloading = crate::common::training();
    let server = Server::start(&[("/good/a.gz", A)]);
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("{}/bad", server.base);
    let good = format!("{}/good/", server.base);
    let paths = download_files(dir.path(), &[&bad, &good], &[("a.gz", &sha(A))]).unwrap();
    assert_eq!(std::fs::read(&paths[0]).unwrap(), A);
    assert_eq!(server.hits(), vec!["/bad/a.gz", "/good/a.gz"]);
}

#[test]
fn falls_back_after_a_refused_connection_and_reports_all_failures() {
    let _downloading = crate::common::training();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let server = Server::start(&[("/a.gz", A)]);
    let dir = tempfile::tempdir().unwrap();
    let ok = download_files(dir.path(), &[&dead, &server.base], &[("a.gz", &sha(A))]).unwrap();
    assert_eq!(std::fs::read(&ok[0]).unwrap(), A);
    let err =
        download_files(dir.path(), &[&dead, &server.base], &[("zz.gz", &sha(A))]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("every mirror failed"), "{msg}");
    assert!(
        msg.contains(&format!("{dead}zz.gz")) && msg.contains("404"),
        "{msg}"
    );
    assert!(!dir.path().join("zz.gz").exists());
}

#[test]
fn a_file_already_present_is_not_downloaded_again_but_a_corrupt_one_is() {
    let _downloading = crate::common::training();
    let server = Server::start(&[("/a.gz", A), ("/b.gz", B)]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.gz"), A).unwrap();
    std::fs::write(dir.path().join("b.gz"), b"corrupt").unwrap();
    let files = [("a.gz", sha(A)), ("b.gz", sha(B))];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    download_files(dir.path(), &[&server.base], &files).unwrap();
    assert_eq!(server.hits(), vec!["/b.gz"]);
    assert_eq!(std::fs::read(dir.path().join("b.gz")).unwrap(), B);
    download_files(dir.path(), &[&server.base], &files).unwrap();
    assert_eq!(server.hits(), vec!["/b.gz"]);
}

#[test]
fn no_mirrors_is_an_invalid_argument() {
    let _downloading = crate::common::training();
    let dir = tempfile::tempdir().unwrap();
    let err = download_files(dir.path(), &[], &[("a.gz", "00")]).unwrap_err();
    assert!(err.to_string().contains("mirror"), "{err}");
}
