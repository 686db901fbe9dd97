//! `--time-limit`: training stops at a step boundary once its wall-clock
//! budget is used, with a checkpoint that `elbo train resume` continues
//! (with what is left of the budget, or a new one); and the pixel models'
//! `--test-every` and learning-rate schedule hold across a resume.

use std::path::Path;
use std::time::Instant;

use crate::common::*;

/// `elbo train pixelcnn` on digits (tiny network, binary pixels, quiet,
/// no pictures) into `dir` with `extra` flags.
fn train_pixel(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = [
        "train",
        "pixelcnn",
        "--data",
        "digits",
        "--pixels",
        "binary",
        "--hidden",
        "4",
        "--layers",
        "1",
        "--output-hidden",
        "8",
        "--quiet",
        "--no-pictures",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(path_str(dir));
    args.extend(extra.iter().map(|s| s.to_string()));
    elbo(args)
}

fn state(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("state.json")).expect("state.json");
    serde_json::from_str(&text).expect("state.json parses")
}

/// Steps taken so far, counting 51 per epoch (1617 training digits / 32).
fn steps_done(s: &serde_json::Value) -> f64 {
    num(s, "epochs_done") * 51.0 + num(s, "step")
}

fn resume(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train".to_string(),
        "resume".into(),
        path_str(dir),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--no-pictures".into());
    elbo(args)
}

#[test]
fn time_limit_stops_at_a_step_with_a_checkpoint_and_a_new_limit_resumes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let started = Instant::now();
    let out = train_pixel(&dir, &["--epochs", "100000", "--time-limit", "2s"]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("time limit reached"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("elbo train resume"),
        "{}",
        describe(&out)
    );
    assert!(
        started.elapsed().as_secs_f64() < 120.0,
        "stopped long after 2 s"
    );
    let first = state(&dir);
    assert_eq!(num(&first, "time_limit_seconds"), 2.0);
    let used = num(&first, "time_used_seconds");
    assert!((2.0..60.0).contains(&used), "time used {used}");
    assert!(steps_done(&first) > 0.0 && num(&first, "epochs_done") < 100000.0);

    // The budget is used up: resuming without a new one refuses and changes nothing.
    let before = snapshot(&dir);
    assert_app_error(
        &resume(&dir, &[]),
        &["time limit", "used up", "--time-limit"],
    );
    assert_unchanged(&dir, &before);

    // A new limit gives it that much more and it goes on from the checkpoint.
    let out = resume(&dir, &["--time-limit", "2s"]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("time limit reached"),
        "{}",
        describe(&out)
    );
    let second = state(&dir);
    assert!(steps_done(&second) > steps_done(&first));
    assert!(num(&second, "time_used_seconds") >= used + 2.0);
    assert!((num(&second, "time_limit_seconds") - (used + 2.0)).abs() < 1e-9);
}

#[test]
fn resume_without_a_flag_trains_for_what_is_left_of_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    assert_ok(&train_pixel(
        &dir,
        &["--epochs", "100000", "--time-limit", "1s"],
    ));
    // Raise the recorded budget by 1.5 s past what was used, as if the first
    // call had been stopped early.
    let mut s = state(&dir);
    let used = num(&s, "time_used_seconds");
    s["time_limit_seconds"] = serde_json::json!(used + 1.5);
    std::fs::write(dir.join("state.json"), s.to_string()).unwrap();
    let out = resume(&dir, &[]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("time limit reached"),
        "{}",
        describe(&out)
    );
    let after = state(&dir);
    assert!(steps_done(&after) > steps_done(&s));
    // (JSON numbers read back within 1e-9: serde_json's parser is not
    // always correctly rounded.)
    let limit = num(&after, "time_limit_seconds");
    assert!((limit - (used + 1.5)).abs() < 1e-9, "limit {limit}");
    assert!(num(&after, "time_used_seconds") >= limit);
}

#[test]
fn a_run_that_finishes_within_its_time_limit_ends_normally() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let out = train_pixel(&dir, &["--epochs", "1", "--time-limit", "1h"]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("time limit"), "{}", describe(&out));
    assert_eq!(read_metrics(&dir.join("metrics.jsonl")).len(), 1);
    assert_eq!(num(&state(&dir), "time_limit_seconds"), 3600.0);
}

#[test]
fn bad_time_limits_are_refused_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["10", "0s", "2x", "-5m", "h"] {
        let flag = format!("--time-limit={bad}");
        let out = train_pixel(&tmp.path().join("run"), &[&flag]);
        assert_clean_error(&out, &["--time-limit", bad]);
        assert!(!tmp.path().join("run").join("state.json").exists());
    }
}

/// A pixel run of 6 epochs straight and one of 2 then resumed to 6 end
/// with the same losses and, after the resume, test the same epochs: the
/// resumed part keeps the run's --test-every (epochs 4 and 5 untested) and
/// learning-rate schedule (a schedule reset by the resume would change the
/// losses of epochs 3-6).
#[test]
fn pixel_resume_keeps_test_every_and_the_learning_rate_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("A"), tmp.path().join("B"));
    let flags = [
        "--test-every",
        "3",
        "--lr-decay-epochs",
        "4",
        "--lr-hold-epochs",
        "2",
        "--lr",
        "0.01",
    ];
    let with_epochs = |n: &'static str| {
        let mut f = vec!["--epochs", n];
        f.extend_from_slice(&flags);
        f
    };
    assert_ok(&train_pixel(&a, &with_epochs("6")));
    assert_ok(&train_pixel(&b, &with_epochs("2")));
    assert_ok(&resume(&b, &["--epochs", "6"]));
    let (ma, mb) = (
        read_metrics(&a.join("metrics.jsonl")),
        read_metrics(&b.join("metrics.jsonl")),
    );
    let tested = |m: &[serde_json::Value]| -> Vec<bool> {
        m.iter()
            .map(|e| e["test_loss"].as_f64().is_some_and(f64::is_finite))
            .collect()
    };
    assert_eq!(tested(&ma), [false, false, true, false, false, true]);
    // Epoch 2 ended B's first call, and the last epoch of a call is tested.
    assert_eq!(tested(&mb), [false, true, true, false, false, true]);
    for (ea, eb) in ma.iter().zip(&mb) {
        assert_eq!(ea["train_loss"], eb["train_loss"], "epoch {}", ea["epoch"]);
    }
    for e in [2, 5] {
        assert_eq!(ma[e]["test_loss"], mb[e]["test_loss"], "epoch {}", e + 1);
    }
}
