//! The LSTM cell update (Hochreiter & Schmidhuber 1997; as in PixelRNN,
//! van den Oord et al. 2016, eq. 3) as one fused, differentiable op through
//! burn's backend extension: from the pre-activations of the input, forget
//! and output gates and the candidate, and the previous cell state,
//! c = σ(f)·c_prev + σ(i)·tanh(g) and h = σ(o)·tanh(c).
//!
//! Why: the Row LSTM runs this once per image row per layer (28 × layers
//! times a step) on small tensors; with tensor ops each call was four
//! narrows, five activations and four products, each an autodiff node with
//! its own buffer and backward pass. Here it is one vectorized pass forward
//! ([`super::gates_cpu`]) and one backward, which recomputes the gates from
//! the saved inputs. Other backends and dtypes use burn's formula.

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

use super::gates_cpu::{self, LstmGrad, LstmIn, LstmOut};

/// The LSTM cell update and its gradients.
#[backend_extension(Flex, Autodiff)]
pub trait LstmOps: Backend {
    /// Pre-activations `[batch, 4h, …]` (blocks i, f, o, g) and c_prev
    /// `[batch, h, …]` → `[batch, 2h, …]`: h, then c.
    fn lstm_cell(pre: FloatTensor<Self>, c_prev: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The gradients (pre-activations, c_prev) for output gradient `grad`
    /// `[batch, 2h, …]` (for h, then for c).
    fn lstm_cell_grad(
        pre: FloatTensor<Self>,
        c_prev: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// One image's inputs: `p` its 4n pre-activations, `c` its n cell states.
fn image_in<'a>(p: &'a [f32], c: &'a [f32]) -> LstmIn<'a> {
    let n = c.len();
    LstmIn {
        i: &p[..n],
        f: &p[n..2 * n],
        o: &p[2 * n..3 * n],
        g: &p[3 * n..4 * n],
        c_prev: c,
    }
}

/// `shape` with its channel count (dim 1) multiplied by `k`.
fn with_channels(shape: burn::tensor::Shape, k: usize) -> Vec<usize> {
    let mut dims = shape.to_vec();
    dims[1] *= k;
    dims
}

impl LstmOps for Flex {
    fn lstm_cell(pre: FlexTensor, c_prev: FlexTensor) -> FlexTensor {
        let (pre, c_prev) = (pre.to_contiguous(), c_prev.to_contiguous());
        let batch = c_prev.shape()[0].max(1);
        let n = (c_prev.shape().num_elements() / batch).max(1); // per image
        let mut out = vec![0.0f32; 2 * c_prev.shape().num_elements()];
        out.par_chunks_mut(2 * n)
            .zip(pre.storage::<f32>().par_chunks(4 * n))
            .zip(c_prev.storage::<f32>().par_chunks(n))
            .for_each(|((o, p), c)| {
                let (h, c_new) = o.split_at_mut(n);
                gates_cpu::lstm_forward(image_in(p, c), h, c_new);
            });
        FlexTensor::from_data(TensorData::new(out, with_channels(c_prev.shape(), 2)))
    }

    fn lstm_cell_grad(
        pre: FlexTensor,
        c_prev: FlexTensor,
        grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        let (pre, c_prev, grad) = (
            pre.to_contiguous(),
            c_prev.to_contiguous(),
            grad.to_contiguous(),
        );
        let batch = c_prev.shape()[0].max(1);
        let n = (c_prev.shape().num_elements() / batch).max(1);
        let mut d_pre = vec![0.0f32; pre.shape().num_elements()];
        let mut d_c = vec![0.0f32; c_prev.shape().num_elements()];
        d_pre
            .par_chunks_mut(4 * n)
            .zip(d_c.par_chunks_mut(n))
            .zip(pre.storage::<f32>().par_chunks(4 * n))
            .zip(c_prev.storage::<f32>().par_chunks(n))
            .zip(grad.storage::<f32>().par_chunks(2 * n))
            .for_each(|((((dp, dc), p), c), g)| {
                let (di, rest) = dp.split_at_mut(n);
                let (df, rest) = rest.split_at_mut(n);
                let (d_o, dg) = rest.split_at_mut(n);
                let out = LstmOut {
                    i: di,
                    f: df,
                    o: d_o,
                    g: dg,
                    c_prev: dc,
                };
                let gr = LstmGrad {
                    h: &g[..n],
                    c: &g[n..],
                };
                gates_cpu::lstm_backward(image_in(p, c), gr, out);
            });
        (
            FlexTensor::from_data(TensorData::new(d_pre, pre.shape())),
            FlexTensor::from_data(TensorData::new(d_c, c_prev.shape())),
        )
    }
}

#[derive(Debug)]
struct LstmBackward;

impl<B: Backend + LstmOps> Backward<B, 2> for LstmBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (pre, c_prev) = ops.state;
        let [node_pre, node_c] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        let (d_pre, d_c) = B::lstm_cell_grad(pre, c_prev, g);
        for (node, grad) in [(node_pre, d_pre), (node_c, d_c)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: Backend + LstmOps, C: CheckpointStrategy> LstmOps for Autodiff<B, C> {
    fn lstm_cell(pre: FloatTensor<Self>, c_prev: FloatTensor<Self>) -> FloatTensor<Self> {
        let guards = [pre.node(), c_prev.node()];
        let (pre, c_prev) = (pre.into_primitive(), c_prev.into_primitive());
        let out = B::lstm_cell(pre.clone(), c_prev.clone());
        match LstmBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((pre, c_prev), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    /// The gradients as constants (elbo never differentiates them again).
    fn lstm_cell_grad(
        pre: FloatTensor<Self>,
        c_prev: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (d_pre, d_c) = B::lstm_cell_grad(
            pre.into_primitive(),
            c_prev.into_primitive(),
            grad.into_primitive(),
        );
        (Self::from_inner(d_pre), Self::from_inner(d_c))
    }
}

/// The LSTM cell: pre-activations `[batch, 4h, …]` (blocks i, f, o, g) and
/// c_prev `[batch, h, …]` → (h, c), each `[batch, h, …]`, differentiable.
/// Fused on the CPU backend for f32, burn's formula ([`composite`]) elsewhere.
pub fn lstm_cell(pre: Tensor<4>, c_prev: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    if !fused(&pre) {
        return composite(pre, c_prev);
    }
    let h = c_prev.dims()[1];
    let out = lstm_cell_joined(pre, c_prev); // [batch, 2h, …]: h, then c
    (out.clone().narrow(1, 0, h), out.narrow(1, h, h))
}

/// Whether the fused node applies: f32 on the CPU backend.
fn fused(pre: &Tensor<4>) -> bool {
    pre.dtype() == DType::F32 && pre.device().inner() == Device::flex()
}

/// The LSTM cell with h and c in one tensor `[batch, 2h, …]` (h, then c),
/// the fused node's own output: a caller that reshapes both the same way
/// (the Diagonal BiLSTM's column layout) does it once, then splits.
pub fn lstm_cell_joined(pre: Tensor<4>, c_prev: Tensor<4>) -> Tensor<4> {
    if !fused(&pre) {
        let (h, c) = composite(pre, c_prev);
        return Tensor::cat(vec![h, c], 1);
    }
    Tensor::<4>::from_dispatch(<Dispatch as LstmOps>::lstm_cell(
        pre.into_dispatch(),
        c_prev.into_dispatch(),
    ))
}

/// burn's formula: c = σ(f)·c_prev + σ(i)·tanh(g), h = σ(o)·tanh(c).
pub fn composite(pre: Tensor<4>, c_prev: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    let h = pre.dims()[1] / 4;
    let part = |k: usize| pre.clone().narrow(1, k * h, h);
    let (i, f, o, g) = (
        sigmoid(part(0)),
        sigmoid(part(1)),
        sigmoid(part(2)),
        part(3).tanh(),
    );
    let c = f * c_prev + i * g;
    (o * c.clone().tanh(), c)
}
