//! One training step of each network on the GPU equals the CPU's: the
//! forward loss, every parameter's gradient and the parameters after one
//! Adam step (the fused CPU kernels against burn's composite formulas).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use elbo::families::pixel::pixel_config;
use elbo::families::{ModelConfig, RunConfig};
use elbo::train::{Batch, Trainable};

use super::{assert_close, config, gpu, max_abs, models};

/// Rows in the compared batch.
const ROWS: usize = 32;

/// Every parameter's values, flattened, in visiting order.
struct Values(Vec<Vec<f32>>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(flat(param.val()));
    }
}

/// Every parameter's gradient, flattened, in visiting order.
struct Grads<'a>(&'a GradientsParams, Vec<Vec<f32>>);

impl ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let g = self.0.get::<D>(param.id);
        self.1.push(g.map(flat).unwrap_or_default());
    }
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    match t.into_data().convert::<f32>().try_into_vec::<f32>() {
        Ok(v) => v,
        Err(e) => panic!("read-back: {e:?}"),
    }
}

/// What one step computed on one device.
struct Step {
    loss: f64,
    grads: Vec<Vec<f32>>,
    before: Vec<Vec<f32>>,
    after: Vec<Vec<f32>>,
}

/// The parameters of `model`, flattened.
fn values<M: Module>(model: &M) -> Vec<Vec<f32>> {
    let mut values = Values(Vec::new());
    model.visit(&mut values);
    values.0
}

fn step<M: Trainable>(model: M, batch: &Batch<'_>, config: &RunConfig) -> Step {
    let before = values(&model);
    let Ok((grads, (recon, kl))) = model.gradients(batch, &config.train) else {
        panic!("the step's loss is finite")
    };
    let mut per_param = Grads(&grads, Vec::new());
    model.visit(&mut per_param);
    let per_param = per_param.1;
    let mut optim = elbo::train::adam();
    let model = optim.step(config.train.lr, model, grads);
    Step {
        loss: recon + kl,
        grads: per_param,
        before,
        after: values(&model),
    }
}

/// The step of `config`'s freshly initialized network on `device`.
fn step_on(config: &RunConfig, device: &Device) -> Step {
    let splits = config.data.load().expect("digits load");
    let set = &splits.train;
    let seed = 11;
    let ad = device.clone().autodiff();
    macro_rules! run {
        ($model:expr) => {{
            let model = $model;
            let (rows, width) = model.input_rows(&config.data, set, seed).expect("rows");
            let batch = Batch {
                rows: rows[..ROWS * width].to_vec(),
                width,
                set,
                labels: None,
                epoch: 1,
                step: 0,
                beta: 1.0,
            };
            step(model, &batch, config)
        }};
    }
    match &config.model {
        ModelConfig::Vae(c) => run!(c.init(&ad, seed)),
        _ => {
            let (kind, c) = pixel_config(config).expect("a pixel model");
            run!(c.init(kind, &ad, seed).expect("the network builds"))
        }
    }
}

/// Checks the Adam step parameter by parameter: where the gradient is
/// clearly nonzero on both devices the update equals the CPU's; where it
/// is rounding noise, Adam's first step (≈ −lr·sign g) may take either
/// sign, but never moves a weight by more than the learning rate.
fn assert_same_update(name: &str, gpu: &Step, cpu: &Step, lr: f64) {
    let lr = lr as f32;
    for (i, g_cpu) in cpu.grads.iter().enumerate() {
        let scale = max_abs(g_cpu);
        for (j, &g) in g_cpu.iter().enumerate() {
            let d_gpu = gpu.after[i][j] - gpu.before[i][j];
            let d_cpu = cpu.after[i][j] - cpu.before[i][j];
            let what = format!("{name}: parameter {i}[{j}] update (gradient {g})");
            if g.abs() > 1e-2 * scale {
                assert!(
                    (d_gpu - d_cpu).abs() <= 1e-2 * lr,
                    "{what}: gpu {d_gpu} vs cpu {d_cpu}"
                );
            } else {
                assert!(d_gpu.abs() <= 1.01 * lr, "{what}: gpu moved {d_gpu}");
            }
        }
    }
}

#[test]
fn one_training_step_on_the_gpu_matches_the_cpu_for_every_network() {
    let Some(gpu) = gpu() else { return };
    for (name, model) in models() {
        let mut config = config(model, 1, ROWS);
        let splits = config.data.load().expect("digits load");
        config
            .resolve(&splits)
            .expect("resolves against the digits");
        let on_cpu = step_on(&config, &elbo::device::cpu_device());
        let on_gpu = step_on(&config, &gpu);
        let rel = (on_gpu.loss - on_cpu.loss).abs() / on_cpu.loss.abs();
        assert!(
            rel < 1e-4,
            "{name}: loss gpu {} vs cpu {}",
            on_gpu.loss,
            on_cpu.loss
        );
        assert_eq!(on_gpu.grads.len(), on_cpu.grads.len());
        let with_grad = on_cpu.grads.iter().filter(|g| !g.is_empty()).count();
        assert!(
            with_grad >= 4,
            "{name}: only {with_grad} parameters have a gradient"
        );
        for (i, (g, c)) in on_gpu.grads.iter().zip(&on_cpu.grads).enumerate() {
            let what = format!("{name}: gradient of parameter {i}");
            assert_eq!(
                g.is_empty(),
                c.is_empty(),
                "{what}: present on one device only"
            );
            assert_close(&what, g, c, 1e-3 * max_abs(c));
        }
        assert_same_update(name, &on_gpu, &on_cpu, config.train.lr);
    }
}
