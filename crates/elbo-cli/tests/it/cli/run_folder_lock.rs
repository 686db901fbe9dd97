//! One writer per run folder: while `elbo train` writes a folder, a second
//! `train` (with or without `--force`) and a `--resume` are refused with
//! the writer's PID and change nothing, readers keep working, and SIGTERM
//! stops the writer like Ctrl-C (checkpoint, exit 143).
#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const WAIT: Duration = Duration::from_secs(60);

fn metrics_lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .map_or(0, |t| t.lines().filter(|l| !l.trim().is_empty()).count())
}

/// `elbo train vae` on digits for a very long time, with small batches so
/// that a signal is seen within a step.
fn start_long_training(dir: &Path) -> Child {
    elbo_cmd([
        "train",
        "vae",
        "--data",
        "digits",
        "--epochs",
        "100000",
        "--batch-size",
        "8",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(dir),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("elbo starts")
}

fn wait_for_epochs(child: &mut Child, dir: &Path, epochs: usize) {
    let started = Instant::now();
    while metrics_lines(dir) < epochs || !dir.join("state.json").exists() {
        assert!(child.try_wait().unwrap().is_none(), "training exited early");
        if started.elapsed() > WAIT {
            child.kill().unwrap();
            panic!("no {epochs} epochs after {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

fn wait_exit(mut child: Child) -> (Option<i32>, String) {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (out.status.code(), stderr(&out));
        }
        if started.elapsed() > WAIT {
            child.kill().unwrap();
            panic!("training did not stop within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_writer_is_refused_with_the_holders_pid_while_readers_work() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let mut child = start_long_training(&run);
    wait_for_epochs(&mut child, &run, 1);
    let config = std::fs::read(run.join("config.toml")).unwrap();
    let pid = format!("process {}", child.id());

    let force = train_digits_raw(&run, &["--epochs", "1", "--hidden", "32", "--force"]);
    assert_app_error(&force, &[".lock", &pid]);
    let resume = elbo(["train", "--resume", &path_str(&run), "--quiet"]);
    assert_app_error(&resume, &[".lock", &pid]);
    assert!(
        std::fs::read(run.join("config.toml")).unwrap() == config,
        "a refused writer changed config.toml"
    );
    let png = tmp.path().join("s.png");
    let sample = elbo([
        "sample",
        "--model",
        &path_str(&run),
        "--out",
        &path_str(&png),
    ]);
    assert_ok(&sample);
    assert!(png.is_file());

    signal(&child, "TERM");
    let (code, err) = wait_exit(child);
    assert_eq!(code, Some(143), "exit status after SIGTERM; stderr:\n{err}");
    assert!(err.contains("elbo train resume"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("state.json")).unwrap()).unwrap();
    let done = state["epochs_done"].as_u64().unwrap() as usize;
    assert_eq!(metrics_lines(&run), done, "one metrics line per epoch");

    let target = (done + 1).to_string();
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        &target,
        "--quiet",
    ]);
    assert_ok(&out);
    assert_eq!(metrics_lines(&run), done + 1);
}

#[test]
fn two_trainings_started_together_into_one_folder_leave_one_consistent_run() {
    for trial in 0..3 {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let start = |seed: &str| {
            elbo_cmd([
                "train",
                "vae",
                "--data",
                "digits",
                "--epochs",
                "3",
                "--seed",
                seed,
                "--hidden",
                "32",
                "--quiet",
                "--no-pictures",
                "--out",
                &path_str(&run),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        };
        let (a, b) = (start("1"), start("2"));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
        assert_eq!(
            ok,
            1,
            "trial {trial}: exactly one writer finishes\n{}\n{}",
            describe(&a),
            describe(&b)
        );
        let loser = if a.status.success() { &b } else { &a };
        let err = assert_app_error(loser, &[]);
        assert!(
            err.contains("already holds a run") || err.contains(".lock"),
            "trial {trial}: {err}"
        );
        let epochs: Vec<u64> = read_metrics(&run.join("metrics.jsonl"))
            .iter()
            .map(|m| m["epoch"].as_u64().unwrap())
            .collect();
        assert_eq!(epochs, [1, 2, 3], "trial {trial}");
        let winner_seed = if a.status.success() { 1 } else { 2 };
        let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
        assert!(
            config.contains(&format!("seed = {winner_seed}")),
            "{config}"
        );
        assert_ok(&elbo(["eval", "--model", &path_str(&run)]));
    }
}
