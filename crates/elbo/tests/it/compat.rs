//! Run folders written before the families/ restructure keep working: each
//! loads, evaluates to the figures the old binary printed for it, and a
//! network's checkpoint resumes. The folders and figures come from
//! `tests/fixtures/make_old_runs.sh`, run with a binary built at f2abf8e.

use std::path::{Path, PathBuf};

use elbo::eval::EvalOptions;
use elbo::run::{Run, test_images};
use elbo::train::{TrainOptions, TrainOutcome};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old-runs")
}

fn expected(run: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let all: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    all[run].clone()
}

fn field(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// Equal to the old binary's printed figure (printed with 17 digits).
fn same(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: {got} now, {want} before"
    );
}

fn evaluate(name: &str) -> elbo::eval::Evaluation {
    let run = Run::load(&fixtures().join(name)).expect("an old run folder loads");
    let test = test_images(&run, None).expect("its own test split");
    let opts = EvalOptions {
        seed: 0,
        iwae_samples: None,
    };
    run.evaluate(&test, &opts).expect("it evaluates")
}

#[test]
fn old_vae_and_autoencoder_runs_evaluate_as_before() {
    for name in ["vae", "ae"] {
        let (e, want) = (evaluate(name), expected(name));
        let loss = e.loss.expect("a loss");
        same(loss.loss, field(&want, "loss"), name);
        same(loss.recon, field(&want, "recon"), name);
        same(loss.kl, field(&want, "kl"), name);
        assert_eq!(loss.images, 180);
    }
}

#[test]
fn old_mixture_runs_evaluate_as_before() {
    for name in ["gmm", "bernoulli-mixture"] {
        let (e, want) = (evaluate(name), expected(name));
        let nll = e.nll.expect("an NLL");
        same(nll.nats, field(&want, "nll_nats"), name);
        same(nll.bits_per_dim, field(&want, "bits_per_dim"), name);
        let m = e.mixture.expect("mixture scores");
        same(m.log_likelihood, field(&want, "log_likelihood"), name);
        same(m.bic, field(&want, "bic"), name);
        same(m.aic, field(&want, "aic"), name);
        assert_eq!(e.parameters as f64, field(&want, "n_parameters"));
    }
}

#[test]
fn old_pixelcnn_run_evaluates_as_before() {
    let (e, want) = (evaluate("pixelcnn"), expected("pixelcnn"));
    let nll = e.nll.expect("an NLL");
    same(nll.nats, field(&want, "nats"), "pixelcnn");
    same(nll.std_error, field(&want, "std_error"), "pixelcnn");
}

#[test]
fn old_network_checkpoints_resume() {
    for name in ["vae", "pixelcnn"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(fixtures().join(name)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        let done = elbo::folder::metrics::read(&dir.join("metrics.jsonl"))
            .unwrap()
            .len();
        let opts = TrainOptions {
            force: false,
            quiet: true,
            ..Default::default()
        };
        let _guard = crate::common::training();
        let outcome = elbo::run::resume(&dir, Some(done + 1), &opts).expect("resumes");
        assert!(matches!(outcome, TrainOutcome::Finished(Some(ref m)) if m.epoch == done + 1));
    }
}
