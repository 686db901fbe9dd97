//! `elbo serve`: prints its address (port 0 picks a free one), answers
//! there, stops cleanly on Ctrl-C (SIGINT); warns for a non-loopback host;
//! refuses a folder that holds no run and an idle timeout that is not a
//! positive number of seconds.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Starts `elbo serve` with `args`; the child and the address it printed.
fn start(args: &[&str]) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = elbo_cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("elbo starts");
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr, errors)
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success(), "kill -INT failed");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("serve ignored SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_prints_its_address_answers_and_stops_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("vae");
    train_digits(&run, 1, &["--latent", "2", "--hidden", "16"]);
    let run = path_str(&run);
    let (mut child, addr, errors) = start(&["serve", "--model", &run, "--port", "0"]);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    let models = get(&addr, "/api/models");
    assert!(models.starts_with("HTTP/1.1 200"), "{models}");
    assert!(models.contains("\"kind\":\"vae\""), "{models}");
    let status = interrupt(&mut child);
    assert!(status.success(), "exit status {status}");
    let errors = errors.join().unwrap();
    assert!(errors.contains("stopped"), "{errors}");
    assert!(!errors.contains("warning"), "{errors}");
}

#[test]
fn serve_warns_when_listening_beyond_this_machine() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("vae");
    train_digits(&run, 1, &["--latent", "2", "--hidden", "16"]);
    let run = path_str(&run);
    let args = ["serve", "--model", &run, "--port", "0", "--host", "0.0.0.0"];
    let (mut child, _, errors) = start(&args);
    assert!(interrupt(&mut child).success());
    let errors = errors.join().unwrap();
    assert!(
        errors.contains("warning: --host 0.0.0.0 is not a loopback address"),
        "{errors}"
    );
}

#[test]
fn serve_refuses_a_folder_without_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = elbo(["serve", "--model", &path_str(tmp.path()), "--port", "0"]);
    assert_clean_error(&out, &["config.toml"]);
}

#[test]
fn serve_refuses_an_idle_timeout_that_is_not_a_positive_number_of_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let run = path_str(tmp.path());
    for bad in ["0", "-1", "soon", "1e9"] {
        let flag = format!("--idle-timeout={bad}");
        let out = elbo(["serve", "--model", &run, &flag]);
        assert_clean_error(&out, &["--idle-timeout", bad]);
    }
}
