//! A bounded load test of `elbo serve`: `clients` threads, each on its own
//! keep-alive connection, send decode requests of one random code each
//! (a fixed seed) until `requests` are done in all; prints throughput,
//! p50/p99/max latency and the number of errors as one JSON line.
//!
//! `cargo run --release -p elbo --example serve_load -- 127.0.0.1:PORT MODEL LATENT [REQUESTS] [CLIENTS]`
//! (bench/serve_load.sh starts the server and measures its memory).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: serve_load HOST:PORT MODEL LATENT [REQUESTS] [CLIENTS]");
        std::process::exit(2);
    }
    let addr = args[0].clone();
    let model: usize = args[1].parse().expect("MODEL: an index");
    let latent: usize = args[2].parse().expect("LATENT: code dimensions");
    let requests: usize = args.get(3).map_or(10_000, |a| a.parse().expect("REQUESTS"));
    let clients: usize = args.get(4).map_or(8, |a| a.parse().expect("CLIENTS"));
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let addr = addr.clone();
            let n = requests / clients + usize::from(c < requests % clients);
            std::thread::spawn(move || client(&addr, model, latent, n, c as u64))
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().expect("client thread");
        latencies.extend(l);
        errors += e;
    }
    let wall = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "{{\"requests\": {}, \"clients\": {clients}, \"errors\": {errors}, \"seconds\": {wall:.2}, \"per_second\": {:.0}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"max_ms\": {:.2}}}",
        latencies.len(),
        latencies.len() as f64 / wall,
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

/// `n` decode requests on one keep-alive connection: latencies in ms and errors.
fn client(addr: &str, model: usize, latent: usize, n: usize, seed: u64) -> (Vec<f64>, usize) {
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let (mut latencies, mut errors) = (Vec::with_capacity(n), 0);
    for _ in 0..n {
        let code: Vec<String> = (0..latent)
            .map(|_| format!("{:.4}", rng.random_range(-3.0f32..3.0)))
            .collect();
        let body = format!("{{\"points\": [[{}]]}}", code.join(", "));
        let t = Instant::now();
        write!(
            writer,
            "POST /api/models/{model}/decode HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let (status, reply) = response(&mut reader);
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        if status != 200 || !reply.starts_with(b"{\"images\":") {
            errors += 1;
        }
    }
    (latencies, errors)
}

/// Reads one response: its status and body.
fn response(r: &mut BufReader<TcpStream>) -> (u16, Vec<u8>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        r.read_line(&mut line).expect("header");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).expect("body");
    (status, body)
}
