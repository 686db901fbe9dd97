//! Times VAE training steps on random data (a quick probe of burn's per-step cost).
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use elbo::models::VaeConfig;
use std::time::Instant;

fn main() {
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut model = VaeConfig::new(784).init(&device);
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let steps: usize = std::env::var("STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let b = 128;
    let xs: Vec<f32> = (0..b * 784).map(|i| ((i * 7919) % 256) as f32 / 255.0).collect();
    let es: Vec<f32> = (0..b * 20).map(|i| (((i * 31) % 17) as f32 - 8.0) / 8.0).collect();
    let t = Instant::now();
    for s in 0..steps {
        let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [b, 784]), &device);
        let e = Tensor::<2>::from_data(TensorData::new(es.clone(), [b, 20]), &device);
        let loss = model.loss(x, e).total();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        if s == 0 || s + 1 == steps {
            let v: f32 = loss.into_scalar();
            println!("step {s} loss {v}");
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!("{steps} steps: {el:.3}s, {:.2} ms/step, epoch(469) ~ {:.2}s", el * 1e3 / steps as f64, el * 469.0 / steps as f64);
}
