//! Run folders do not depend on the device: a run trained on the GPU
//! continues on the CPU and the other way round, weights and Adam's moments
//! included, and ends where a run that never changed device ends.

use burn::tensor::Device;
use elbo::folder::metrics;
use elbo::train::{TrainOptions, TrainOutcome};

use super::training::{load_on, train_on};
use super::{config, gpu, models};

/// Continues the run in `dir` to `epochs` on `device`; the last test loss.
fn resume_on(device: &Device, dir: &std::path::Path, epochs: usize) -> f64 {
    let opts = TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    let outcome = elbo::device::with_device(device, || elbo::run::resume(dir, Some(epochs), &opts));
    match outcome {
        Ok(TrainOutcome::Finished(Some(last))) => last.test_loss,
        other => panic!("resuming did not finish an epoch: {other:?}"),
    }
}

#[test]
fn a_run_trained_on_one_device_continues_on_the_other() {
    let _training = crate::common::training();
    let Some(gpu) = gpu() else { return };
    let cpu = elbo::device::cpu_device();
    let tmp = tempfile::tempdir().expect("tempdir");
    // Every other model: the MLP VAE (with its noise), the PixelCNN (masks)
    // and the Row LSTM (a recurrence).
    for (name, model) in models().into_iter().step_by(2) {
        let two = config(model.clone(), 2, 64);
        let reference = train_on(&cpu, &two, &tmp.path().join(format!("{name}-ref")));
        for (first, then, label) in [(&gpu, &cpu, "gpu-then-cpu"), (&cpu, &gpu, "cpu-then-gpu")] {
            let dir = tmp.path().join(format!("{name}-{label}"));
            train_on(first, &config(model.clone(), 1, 64), &dir);
            let last = resume_on(then, &dir, 2);
            let rel = (last - reference).abs() / reference.abs();
            assert!(
                rel < 5e-3,
                "{name} {label}: test loss {last} vs {reference} on the CPU alone"
            );
            let log = metrics::read(&dir.join("metrics.jsonl")).expect("metrics");
            assert_eq!(log.len(), 2, "{name} {label}: one line per epoch");
            // The continued run loads on either device.
            load_on(first, &dir);
        }
    }
}
