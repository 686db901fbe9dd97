//! A fused, differentiable tanh through burn's backend extension.
//!
//! Why: Burda et al.'s VAE (two tanh layers of 200 units each side) trained
//! at 3.2 s per MNIST epoch against 1.6 s for the same network with ReLU.
//! burn's `flex` backend evaluates tanh with scalar libm calls, and its
//! autodiff backward is several more elementwise passes (1 − tanh², times the
//! gradient). Here the forward is one vectorized pass ([`fastmath::tanh`]) and
//! the backward one pass, g·(1 − y²), from the saved output y. Any other
//! backend (CUDA) uses burn's own tanh.
//!
//! [`fastmath::tanh`]: super::fastmath::tanh

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::fastmath;

/// Elementwise tanh and its gradient from the output.
#[backend_extension(Flex, Autodiff)]
pub trait TanhOps: Backend {
    /// tanh(x), any shape.
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The input gradient g·(1 − y²) from the output `y = tanh(x)` and the
    /// output gradient `g` (same shape).
    fn fused_tanh_grad(y: FloatTensor<Self>, g: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// Elements per rayon task: big enough that scheduling costs nothing.
const CHUNK: usize = 16 * 1024;

impl TanhOps for Flex {
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let x = x.to_contiguous();
        if x.dtype() != DType::F32 {
            return plain_tanh::<Self>(x);
        }
        let shape = x.shape();
        let src = x.storage::<f32>();
        let mut out = vec![0.0f32; src.len()];
        out.par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .for_each(|(o, s)| {
                o.iter_mut()
                    .zip(s)
                    .for_each(|(o, &v)| *o = fastmath::tanh(v))
            });
        burn::backend::flex::FlexTensor::from_data(TensorData::new(out, shape))
    }

    fn fused_tanh_grad(y: FloatTensor<Self>, g: FloatTensor<Self>) -> FloatTensor<Self> {
        let (y, g) = (y.to_contiguous(), g.to_contiguous());
        if y.dtype() != DType::F32 || g.dtype() != DType::F32 {
            return composite_grad::<Self>(y, g);
        }
        let shape = y.shape();
        let (ys, gs) = (y.storage::<f32>(), g.storage::<f32>());
        let mut out = vec![0.0f32; ys.len()];
        out.par_chunks_mut(CHUNK)
            .zip(ys.par_chunks(CHUNK).zip(gs.par_chunks(CHUNK)))
            .for_each(|(o, (y, g))| {
                for ((o, &y), &g) in o.iter_mut().zip(y).zip(g) {
                    *o = g * (1.0 - y * y);
                }
            });
        burn::backend::flex::FlexTensor::from_data(TensorData::new(out, shape))
    }
}

/// burn's own tanh, for dtypes the fused loop does not handle.
fn plain_tanh<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_tanh(x)
}

/// g·(1 − y²) with burn's ops, on any backend.
fn composite_grad<B: Backend>(y: FloatTensor<B>, g: FloatTensor<B>) -> FloatTensor<B> {
    let one_minus = B::float_add_scalar(B::float_neg(B::float_mul(y.clone(), y)), 1.0.into());
    B::float_mul(g, one_minus)
}

#[derive(Debug)]
struct TanhBackward;

impl<B: Backend + TanhOps> Backward<B, 1> for TanhBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let y = ops.state;
        let [node_x] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::fused_tanh_grad(y, g));
        }
    }
}

impl<B: Backend + TanhOps, C: CheckpointStrategy> TanhOps for Autodiff<B, C> {
    fn fused_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let guards = [x.node()];
        let out = B::fused_tanh(x.into_primitive());
        match TanhBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(out.clone(), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    fn fused_tanh_grad(y: FloatTensor<Self>, g: FloatTensor<Self>) -> FloatTensor<Self> {
        composite_grad::<Self>(y, g)
    }
}

/// tanh(x), differentiable: fused on the CPU backend, burn's tanh elsewhere.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.device().clone().inner() == burn::tensor::Device::flex() {
        Tensor::from_dispatch(<Dispatch as TanhOps>::fused_tanh(x.into_dispatch()))
    } else {
        burn::tensor::activation::tanh(x)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    fn close(a: Tensor<2>, b: Tensor<2>, tol: f32) {
        let (a, b) = (
            a.into_data().try_to_vec::<f32>(),
            b.into_data().try_to_vec::<f32>(),
        );
        let (a, b) = (a.expect("f32 data"), b.expect("f32 data"));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= tol, "{x} vs {y}");
        }
    }

    /// Value and gradient equal burn's own tanh under autodiff.
    #[test]
    fn fused_tanh_matches_burn_tanh_and_its_gradient() {
        let device = Device::flex().autodiff();
        let x0 = Tensor::<2>::random([37, 53], Distribution::Normal(0.0, 2.0), &device);
        let w = Tensor::<2>::random([37, 53], Distribution::Normal(0.0, 1.0), &device);
        let (xa, xb) = (x0.clone().require_grad(), x0.require_grad());
        let (ya, yb) = (
            super::tanh(xa.clone()),
            burn::tensor::activation::tanh(xb.clone()),
        );
        close(ya.clone().inner(), yb.clone().inner(), 1e-6);
        let ga = (ya * w.clone()).sum().backward();
        let gb = (yb * w).sum().backward();
        let (ga, gb) = (xa.grad(&ga), xb.grad(&gb));
        close(ga.expect("grad a"), gb.expect("grad b"), 1e-5);
    }
}
