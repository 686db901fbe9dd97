//! A real server on 127.0.0.1 (port 0): clients that stall do not hold up
//! the others and are cut off after the idle bound, and stopping it ends
//! `serve` cleanly.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use elbo::serve::{Explorer, Limits, serve};

use super::runs;

/// A server on a free port; dropping the sender stops it.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<elbo::Result<()>>>,
}

impl Running {
    pub fn start(dirs: &[&std::path::Path]) -> Running {
        Running::with_limits(dirs, Limits::default())
    }

    pub fn with_limits(dirs: &[&std::path::Path], limits: Limits) -> Running {
        let dirs: Vec<_> = dirs.iter().map(|d| d.to_path_buf()).collect();
        let explorer = Explorer::load(&dirs).expect("runs load");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let addr = "127.0.0.1:0".parse().unwrap();
            serve(
                explorer,
                addr,
                limits,
                move |a| tx.send(a).unwrap(),
                async {
                    let _ = stopped.await;
                },
            )
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server starts");
        Running {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server and waits for `serve` to return.
    pub fn stop(mut self) -> elbo::Result<()> {
        drop(self.stop.take());
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("the server thread")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

/// One HTTP/1.1 request on a fresh connection: status and body.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn stalled_clients_do_not_hold_up_a_decode() {
    let server = Running::start(&[&runs().vae]);
    // Clients that send half a request (or half a body) and then wait.
    let mut stalled = Vec::new();
    for i in 0..16 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        if i % 2 == 0 {
            s.write_all(b"POST /api/models/0/decode HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
        } else {
            s.write_all(b"POST /api/models/0/decode HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"po")
                .unwrap();
        }
        stalled.push(s);
    }
    let start = Instant::now();
    let (status, body) = request(
        server.addr,
        "POST",
        "/api/models/0/decode",
        r#"{"points": [[0.1, 0.2]]}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    drop(stalled);
    server.stop().expect("serve returns cleanly");
}

#[test]
fn the_page_and_its_script_are_served_from_the_binary() {
    let server = Running::start(&[&runs().vae]);
    let (status, page) = request(server.addr, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"/page.js\">"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no CDN"
    );
    let (status, script) = request(server.addr, "GET", "/page.js", "");
    assert_eq!(status, 200);
    assert!(script.contains("/api/models"));
    let (status, body) = request(server.addr, "GET", "/config.toml", "");
    assert_eq!(status, 404, "{body}");
    server.stop().expect("serve returns cleanly");
}

#[test]
fn stopping_ends_serve_with_a_keep_alive_connection_open() {
    let server = Running::start(&[&runs().vae]);
    let mut idle = TcpStream::connect(server.addr).unwrap();
    write!(idle, "GET /api/models HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first[9..12], b"200");
    let start = Instant::now();
    server.stop().expect("serve returns cleanly");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
}

/// Reads from `s` until the server closes it (or 10 s pass): what came.
fn read_until_closed(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(k) => got.extend_from_slice(&buf[..k]),
            // A reset is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return String::from_utf8_lossy(&got).into_owned();
            }
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

#[test]
fn clients_that_stay_silent_are_cut_off_after_the_idle_bound() {
    let idle = Duration::from_millis(700);
    let server = Running::with_limits(&[&runs().vae], Limits { idle });
    let start = Instant::now();
    // Sends nothing at all.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    // Sends half a header, then stops.
    let mut half_header = TcpStream::connect(server.addr).unwrap();
    half_header
        .write_all(b"POST /api/models/0/decode HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Sends a header and half its body.
    let mut half_body = TcpStream::connect(server.addr).unwrap();
    half_body
        .write_all(
            b"POST /api/models/0/decode HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"po",
        )
        .unwrap();
    // One request answered, then the keep-alive connection left idle.
    let mut kept = TcpStream::connect(server.addr).unwrap();
    write!(kept, "GET /api/models HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).unwrap();
    assert_eq!(&first[9..12], b"200");

    assert_eq!(read_until_closed(&mut silent), "", "nothing was asked");
    read_until_closed(&mut half_header);
    let answer = read_until_closed(&mut half_body);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 0.7 s"), "{answer}");
    read_until_closed(&mut kept);
    let waited = start.elapsed();
    assert!(
        waited >= idle && waited < Duration::from_secs(8),
        "cut off after {waited:?}"
    );
    // A client that keeps to the bound is served as before.
    let (status, body) = request(
        server.addr,
        "POST",
        "/api/models/0/decode",
        r#"{"points": [[0.1, 0.2]]}"#,
    );
    assert_eq!(status, 200, "{body}");
    server.stop().expect("serve returns cleanly");
}
