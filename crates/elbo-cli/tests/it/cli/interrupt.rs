//! Ctrl-C during training: SIGINT makes `elbo train` save a checkpoint and
//! exit 130, and `elbo train resume` (or `--resume`) carries on from there.
#![cfg(unix)]

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// How long training may take to write its first metrics lines.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the process may take to stop after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

fn metrics_lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .map_or(0, |t| t.lines().filter(|l| !l.trim().is_empty()).count())
}

/// The epochs done in `state.json`; 0 before the first checkpoint.
fn committed_epochs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["epochs_done"].as_u64())
        .map_or(0, |e| e as usize)
}

/// Starts `elbo train vae --data digits --epochs 100000 --quiet` into `dir`
/// with `extra` flags, waits for two finished epochs, sends SIGINT and waits
/// for the exit. Returns the exit status and stderr.
fn interrupt_training(dir: &Path, extra: &[&str]) -> (ExitStatus, String) {
    let err_path = dir.with_extension("stderr.txt");
    let err_file = std::fs::File::create(&err_path).unwrap();
    let mut args = vec![
        "train",
        "vae",
        "--data",
        "digits",
        "--epochs",
        "100000",
        "--quiet",
        "--no-pictures",
    ];
    let dir_s = path_str(dir);
    args.extend_from_slice(&["--out", &dir_s]);
    args.extend_from_slice(extra);
    let mut child = elbo_cmd(&args)
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .expect("elbo starts");

    let started = Instant::now();
    // The checkpoint of epoch 2, not only its metrics line (written just
    // before the checkpoint commits): a signal now lands in epoch 3.
    while committed_epochs(dir) < 2 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "training exited early with {status}: {}",
                std::fs::read_to_string(&err_path).unwrap()
            );
        }
        if started.elapsed() > START_TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("no 2 epochs in state.json after {START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // After the commit the checkpoint is tidied up (a hard link, folder
    // fsyncs); a signal then lands at the epoch boundary (step 0). A moment
    // later it lands among epoch 3's steps.
    std::thread::sleep(Duration::from_millis(150));

    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success(), "kill -INT failed");
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > STOP_TIMEOUT {
            let epochs = metrics_lines(dir);
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "training ignored SIGINT: still running {STOP_TIMEOUT:?} later, at {epochs} epochs"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, std::fs::read_to_string(&err_path).unwrap())
}

/// The `epochs_done` and `step` recorded in `state.json`.
fn state(dir: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(dir.join("state.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let get = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {text}")) as usize;
    (get("epochs_done"), get("step"))
}

/// Interrupts a run and checks what it leaves; returns the completed epochs.
///
/// Small batches (203 steps per epoch) keep the last step of an epoch short:
/// a SIGINT that lands in it is lost (see
/// `sigint_in_the_last_step_of_an_epoch_is_honored`).
fn interrupt_and_check(dir: &Path) -> usize {
    let (status, err) = interrupt_training(dir, &["--batch-size", "8"]);
    assert_eq!(
        status.code(),
        Some(130),
        "exit code after SIGINT; stderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    for f in [
        "state.json",
        "model.safetensors",
        "config.toml",
        "metrics.jsonl",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing after the interrupt");
    }
    for f in ["model.safetensors", "optimizer.bpk"] {
        assert!(
            checkpoint_dir(dir).join(f).is_file(),
            "the checkpoint's {f} missing after the interrupt"
        );
    }
    let (done, step) = state(dir);
    assert!(done >= 2, "state.json: epochs_done = {done}");
    assert!(
        step >= 1,
        "state.json: an interrupted epoch has taken steps, got {step}"
    );
    assert_eq!(
        metrics_lines(dir),
        done,
        "one metrics line per completed epoch"
    );
    assert!(
        err.contains("elbo train resume"),
        "stderr should say how to continue: {err}"
    );
    assert!(
        err.contains(&path_str(dir)),
        "stderr should name the run folder: {err}"
    );
    assert!(
        err.contains(&format!("interrupted in epoch {}", done + 1)),
        "{err}"
    );
    done
}

#[test]
fn sigint_saves_a_checkpoint_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    interrupt_and_check(&run);
}

#[test]
fn sigint_then_resume_finishes_the_next_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let done = interrupt_and_check(&run);
    let before = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();

    let target = done + 1;
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        &target.to_string(),
        "--quiet",
    ]);
    assert_ok(&out);
    let after = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(
        after.starts_with(&before),
        "earlier metrics lines must stay as they were"
    );
    let epochs: Vec<u64> = read_metrics(&run.join("metrics.jsonl"))
        .iter()
        .map(|m| m["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, (1..=target as u64).collect::<Vec<_>>());
    for m in read_metrics(&run.join("metrics.jsonl")) {
        num(&m, "train_loss");
        num(&m, "test_loss");
    }
    assert_eq!(state(&run), (target, 0), "state.json after finishing");
}

/// With one step per epoch (batch = the 1,617 training images) every SIGINT
/// arrives before the last step of some epoch is checked.
#[test]
fn sigint_in_the_last_step_of_an_epoch_is_honored() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let (status, err) = interrupt_training(&run, &["--batch-size", "1617"]);
    assert_eq!(
        status.code(),
        Some(130),
        "exit code after SIGINT; stderr:\n{err}"
    );
    assert!(err.contains("elbo train resume"), "{err}");
}
