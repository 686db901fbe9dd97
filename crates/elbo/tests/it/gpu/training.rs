//! Training and sampling through the library's run API on the GPU give the
//! CPU's figures: one epoch on the embedded digits ends at the same test
//! loss, and a trained model draws the same images for a seed.

use std::path::Path;

use burn::tensor::Device;
use elbo::families::{Generate, RunConfig};
use elbo::run::Run;
use elbo::train::{TrainOptions, TrainOutcome};

use super::{assert_close, config, gpu, models};

/// Trains `config` into `dir` with `device` as the default device; the
/// last epoch's test loss.
pub fn train_on(device: &Device, config: &RunConfig, dir: &Path) -> f64 {
    let opts = TrainOptions {
        force: false,
        quiet: true,
        ..Default::default()
    };
    let outcome = elbo::device::with_device(device, || elbo::run::train(config, dir, &opts));
    match outcome {
        Ok(TrainOutcome::Finished(Some(last))) => last.test_loss,
        other => panic!("training did not finish an epoch: {other:?}"),
    }
}

/// The run in `dir`, loaded onto `device`.
pub fn load_on(device: &Device, dir: &Path) -> Run {
    let run = elbo::device::with_device(device, || Run::load(dir)).expect("the run loads");
    assert!(run.device == *device, "the run is on the chosen device");
    run
}

#[test]
fn one_epoch_on_the_digits_ends_at_the_cpu_test_loss_on_the_gpu() {
    let _training = crate::common::training();
    let Some(gpu) = gpu() else { return };
    let cpu = elbo::device::cpu_device();
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, model) in models() {
        let config = config(model, 1, 64);
        let on_cpu = train_on(&cpu, &config, &tmp.path().join(format!("{name}-cpu")));
        let on_gpu = train_on(&gpu, &config, &tmp.path().join(format!("{name}-gpu")));
        let rel = (on_gpu - on_cpu).abs() / on_cpu.abs();
        assert!(rel < 5e-3, "{name}: test loss gpu {on_gpu} vs cpu {on_cpu}");
    }
}

/// Draws from `run` with a fixed seed: the VAE's decoded means, the pixel
/// models' naive sampler (a whole forward pass per pixel, on the run's
/// device; the cached sampler always runs on the CPU).
fn draw(run: &Run) -> Vec<f32> {
    let Some(auto) = run.model.autoregressive() else {
        return run.sample(6, 9).expect("samples");
    };
    let shape = run.config.image_shape().expect("shape");
    let request = Generate {
        images: vec![0.0; 6 * shape.dim()],
        shape,
        start: 0,
        seed: 9,
        labels: None,
        naive: true,
        progress: false,
    };
    auto.generate(&request).expect("samples")
}

#[test]
fn a_trained_model_draws_the_same_images_on_both_devices() {
    let _training = crate::common::training();
    let Some(gpu) = gpu() else { return };
    let cpu = elbo::device::cpu_device();
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, model) in models() {
        let dir = tmp.path().join(name);
        train_on(&cpu, &config(model, 1, 64), &dir);
        let (on_cpu, on_gpu) = (draw(&load_on(&cpu, &dir)), draw(&load_on(&gpu, &dir)));
        if name.starts_with("vae") {
            // Decoded Bernoulli means: continuous, equal up to rounding.
            assert_close(&format!("{name} samples"), &on_gpu, &on_cpu, 1e-4);
        } else {
            // Binary pixels drawn by inverting the CDF at seeded uniforms:
            // only a probability within rounding of its uniform could flip.
            let differ = on_gpu.iter().zip(&on_cpu).filter(|(a, b)| a != b).count();
            assert_eq!(
                differ,
                0,
                "{name}: {differ} of {} pixels differ",
                on_cpu.len()
            );
        }
    }
}
