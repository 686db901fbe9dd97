//! Adam with one fused pass per parameter tensor.
//!
//! Why: burn's `Adam` updates each parameter with about thirteen separate
//! elementwise tensor ops (two moment updates, bias corrections, sqrt, divide,
//! scale, subtract), each a full pass over the 650k weights of the canonical
//! VAE, all on one core. `perf` on an MNIST epoch attributed most of the
//! `scalar_op`/`unary_op`/`binary_op` time to it. Here the whole update is one
//! loop over (param, grad, m, v), split across the CPU threads, through
//! burn's backend extension; other backends (CUDA) run the same formula as
//! tensor ops. The state is burn's own [`AdamState`], so optimizer records
//! keep burn's format.
//!
//! The update is Kingma & Ba 2015, Algorithm 1, in PyTorch's arrangement:
//! m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
//! p ← p − lr · m/(1−β₁ᵗ) / (√(v/(1−β₂ᵗ)) + ε).

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::tensor::{DType, Device, Tensor};
use rayon::prelude::*;

/// Elements per parallel chunk: large enough to amortize scheduling.
const CHUNK: usize = 1 << 14;

/// Adam's constants for one step.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    /// Learning rate.
    pub lr: f32,
    /// β₁.
    pub beta_1: f32,
    /// β₂.
    pub beta_2: f32,
    /// ε.
    pub epsilon: f32,
    /// 1-based step count (for the bias corrections).
    pub time: i32,
}

impl AdamStep {
    /// (step factor lr·√(1−β₂ᵗ)/(1−β₁ᵗ), ε·√(1−β₂ᵗ)): burn's and PyTorch's
    /// rearrangement of the bias corrections.
    fn factors(&self) -> (f32, f32) {
        let c2 = (1.0 - self.beta_2.powi(self.time)).sqrt();
        (
            self.lr * c2 / (1.0 - self.beta_1.powi(self.time)),
            self.epsilon * c2,
        )
    }
}

/// The fused update on a backend.
#[backend_extension(Flex)]
pub trait AdamOps: Backend {
    /// One Adam step: returns the new (param, m, v).
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

impl AdamOps for Flex {
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        // In place: `storage_mut` copies a buffer only when it is shared
        // (the moments never are; the parameter is not once the step's
        // graph is dropped), which saves three 4-byte-per-weight copies a step.
        let [mut p, g, mut m, mut v] = [param, grad, m, v].map(|t| t.to_contiguous());
        let (scale, eps) = step.factors();
        let (b1, b2) = (step.beta_1, step.beta_2);
        p.storage_mut::<f32>()
            .par_chunks_mut(CHUNK)
            .zip(m.storage_mut::<f32>().par_chunks_mut(CHUNK))
            .zip(v.storage_mut::<f32>().par_chunks_mut(CHUNK))
            .zip(g.storage::<f32>().par_chunks(CHUNK))
            .for_each(|(((p, m), v), g)| {
                for (((p, m), v), &g) in p.iter_mut().zip(m).zip(v).zip(g) {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *p -= scale * *m / (v.sqrt() + eps);
                }
            });
        (p, m, v)
    }
}

/// Adam whose update is one fused pass on the CPU backend.
#[derive(Debug, Clone)]
pub struct FusedAdam {
    /// β₁ (PyTorch's default 0.9).
    pub beta_1: f32,
    /// β₂ (0.999).
    pub beta_2: f32,
    /// ε (1e-8).
    pub epsilon: f32,
}

impl Default for FusedAdam {
    /// PyTorch's defaults.
    fn default() -> Self {
        FusedAdam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        }
    }
}

fn on_flex_f32<const D: usize>(t: &Tensor<D>) -> bool {
    t.dtype() == DType::F32 && t.device().inner() == Device::flex()
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (time, m, v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                s.momentum.moment_1,
                s.momentum.moment_2,
            ),
            None => (1, grad.zeros_like(), grad.zeros_like()),
        };
        let step = AdamStep {
            lr: lr as f32,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            time: time as i32,
        };
        let (p, m, v) = if on_flex_f32(&tensor) && on_flex_f32(&grad) {
            let (p, m, v) = <Dispatch as AdamOps>::adam_update(
                tensor.into_dispatch(),
                grad.into_dispatch(),
                m.into_dispatch(),
                v.into_dispatch(),
                step,
            );
            (
                Tensor::from_dispatch(p),
                Tensor::from_dispatch(m),
                Tensor::from_dispatch(v),
            )
        } else {
            composite(tensor, grad, m, v, step)
        };
        let momentum = AdaptiveMomentumState {
            time,
            moment_1: m,
            moment_2: v,
            max_moment_2: None,
        };
        (p, Some(AdamState { momentum }))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum.moment_1 = state.momentum.moment_1.to_device(device);
        state.momentum.moment_2 = state.momentum.moment_2.to_device(device);
        state
    }
}

/// The same update as tensor ops, for backends without the fused kernel.
fn composite<const D: usize>(
    p: Tensor<D>,
    g: Tensor<D>,
    m: Tensor<D>,
    v: Tensor<D>,
    s: AdamStep,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let (scale, eps) = s.factors();
    let m = m.mul_scalar(s.beta_1) + g.clone().mul_scalar(1.0 - s.beta_1);
    let v = v.mul_scalar(s.beta_2) + g.square().mul_scalar(1.0 - s.beta_2);
    let p = p - m.clone().mul_scalar(scale) / v.clone().sqrt().add_scalar(eps);
    (p, m, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::AdamConfig;
    use burn::tensor::TensorData;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    fn random(rng: &mut Xoshiro256PlusPlus, n: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Tensor::from_data(TensorData::new(v, [n / 50, 50]), device)
    }

    fn close(a: &Tensor<2>, b: &Tensor<2>) -> bool {
        let a = a
            .to_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        let b = b
            .to_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        a.iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= 1e-6 * (1.0 + y.abs()))
    }

    /// The fused kernel, the composite fallback and burn's own Adam agree
    /// over several steps (CHUNK-crossing size, so the parallel split runs).
    #[test]
    fn fused_adam_matches_burns_adam_and_the_composite_formula() {
        let device = Device::flex();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 50 * 700; // > CHUNK elements
        let start = random(&mut rng, n, &device);
        let reference = AdamConfig::new().with_epsilon(1e-8).build();
        let fused = FusedAdam::default();
        let (mut p_ref, mut s_ref) = (start.clone(), None);
        let (mut p_fused, mut s_fused) = (start.clone(), None);
        let (mut p_comp, mut m, mut v) = (start.clone(), start.zeros_like(), start.zeros_like());
        for t in 1..=5 {
            let g = random(&mut rng, n, &device);
            (p_ref, s_ref) = reference.step(1e-2, p_ref, g.clone(), s_ref);
            (p_fused, s_fused) = fused.step(1e-2, p_fused, g.clone(), s_fused);
            let step = AdamStep {
                lr: 1e-2,
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-8,
                time: t,
            };
            (p_comp, m, v) = composite(p_comp, g, m, v, step);
            assert!(close(&p_fused, &p_ref), "fused vs burn's Adam at step {t}");
            assert!(
                close(&p_comp, &p_ref),
                "composite vs burn's Adam at step {t}"
            );
        }
        let state = s_fused.expect("state");
        assert_eq!(state.momentum.time, 5);
        assert!(close(&state.momentum.moment_2, &v));
    }
}
