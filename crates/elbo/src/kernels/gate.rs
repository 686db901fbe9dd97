//! The gated activation tanh(a) ⊙ σ(b) (van den Oord et al. 2016,
//! "Conditional Image Generation with PixelCNN Decoders", eq. 2) as one
//! fused, differentiable op through burn's backend extension.
//!
//! Why: written with tensor ops (two narrows, the fused tanh twice for tanh
//! and σ(x) = (1 + tanh(x/2))/2, two scalar ops and a product) the gate is
//! about six forward and a dozen backward passes over the Gated PixelCNN's
//! widest tensors, each an autodiff node with its own buffer. Here the
//! forward is one vectorized pass ([`super::gates_cpu`]) and the backward one
//! pass from the saved input. Other backends and dtypes use burn's
//! `tanh(a) * sigmoid(b)`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, Flex, TensorMetadata, backend_extension,
};
use burn::tensor::activation::sigmoid;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

use super::gates_cpu;

/// The gated activation and its gradient.
#[backend_extension(Flex, Autodiff)]
pub trait GateOps: Backend {
    /// `[batch, 2h, …] → [batch, h, …]`: tanh of the first h channels times
    /// σ of the last h.
    fn gated_tanh(pre: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The input gradient `[batch, 2h, …]` for output gradient `grad`
    /// `[batch, h, …]`.
    fn gated_tanh_grad(pre: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// Images in the batch and elements per half of one image's channels.
fn halves(pre: &FlexTensor) -> (usize, usize) {
    let shape = pre.shape();
    let batch = shape[0];
    let per_image = shape.num_elements() / batch.max(1);
    (batch, per_image / 2)
}

/// `shape` with its channel count (dim 1) multiplied by `num / den`.
fn with_channels(shape: burn::tensor::Shape, num: usize, den: usize) -> Vec<usize> {
    let mut dims = shape.to_vec();
    dims[1] = dims[1] * num / den;
    dims
}

impl GateOps for Flex {
    fn gated_tanh(pre: FlexTensor) -> FlexTensor {
        let pre = pre.to_contiguous();
        let (_, n) = halves(&pre);
        let mut out = vec![0.0f32; pre.shape().num_elements() / 2];
        out.par_chunks_mut(n.max(1))
            .zip(pre.storage::<f32>().par_chunks(2 * n.max(1)))
            .for_each(|(o, p)| gates_cpu::gate_forward(&p[..n], &p[n..], o));
        let shape = with_channels(pre.shape(), 1, 2);
        FlexTensor::from_data(TensorData::new(out, shape))
    }

    fn gated_tanh_grad(pre: FlexTensor, grad: FlexTensor) -> FlexTensor {
        let (pre, grad) = (pre.to_contiguous(), grad.to_contiguous());
        let (_, n) = halves(&pre);
        let mut out = vec![0.0f32; pre.shape().num_elements()];
        out.par_chunks_mut(2 * n.max(1))
            .zip(pre.storage::<f32>().par_chunks(2 * n.max(1)))
            .zip(grad.storage::<f32>().par_chunks(n.max(1)))
            .for_each(|((o, p), g)| {
                let (ga, gb) = o.split_at_mut(n);
                gates_cpu::gate_backward(&p[..n], &p[n..], g, ga, gb);
            });
        FlexTensor::from_data(TensorData::new(out, pre.shape()))
    }
}

#[derive(Debug)]
struct GateBackward;

impl<B: Backend + GateOps> Backward<B, 1> for GateBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        if let Some(node) = node {
            grads.register::<B>(node.id, B::gated_tanh_grad(ops.state, g));
        }
    }
}

impl<B: Backend + GateOps, C: CheckpointStrategy> GateOps for Autodiff<B, C> {
    fn gated_tanh(pre: FloatTensor<Self>) -> FloatTensor<Self> {
        let guards = [pre.node()];
        let pre = pre.into_primitive();
        let out = B::gated_tanh(pre.clone());
        match GateBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(pre, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    /// The gradient as a constant (elbo never differentiates it again).
    fn gated_tanh_grad(pre: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::from_inner(B::gated_tanh_grad(
            pre.into_primitive(),
            grad.into_primitive(),
        ))
    }
}

/// tanh(first half) ⊙ σ(second half) over the channels:
/// `[batch, 2h, H, W] → [batch, h, H, W]`, differentiable. Fused on the CPU
/// backend for f32, burn's `tanh(a) * sigmoid(b)` elsewhere.
pub fn gated_tanh(pre: Tensor<4>) -> Tensor<4> {
    if pre.dtype() == DType::F32 && pre.device().inner() == Device::flex() {
        Tensor::from_dispatch(<Dispatch as GateOps>::gated_tanh(pre.into_dispatch()))
    } else {
        composite(pre)
    }
}

/// burn's formula: `tanh(a) * sigmoid(b)`.
pub fn composite(pre: Tensor<4>) -> Tensor<4> {
    let h = pre.dims()[1] / 2;
    pre.clone().narrow(1, 0, h).tanh() * sigmoid(pre.narrow(1, h, h))
}
