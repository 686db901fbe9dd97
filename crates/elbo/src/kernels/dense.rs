//! A fused, differentiable dense layer act(x·W + b) through burn's backend
//! extension: one autodiff node instead of three (matmul, bias add,
//! activation), with the GEMMs run by faer.
//!
//! Why: on Burda et al.'s 784-200-200-50 tanh VAE (batch 100 split into two
//! 50-row shards, one per core, `train/data_parallel.rs`) `perf` put 44% of an
//! epoch in burn flex's matmul and most of the rest in per-op overhead:
//! zero-filled allocations, the broadcast bias add and its reduction in the
//! backward pass, the separate activation node. Halving the rows per shard
//! (4 shards on 2 cores) made an epoch 40% slower, so that fixed cost per op
//! is as large as the arithmetic. Here the forward is the bias rows, one GEMM
//! accumulating onto them, and the activation in place; the backward is one
//! pass for the activation's derivative and the bias gradient, and two GEMMs.
//! Inside a rayon task (a data-parallel shard) the GEMMs run on that thread
//! alone: burn flex's matmul parallelizes any product over 192³ multiply-adds,
//! which nests a second rayon fork inside each shard. Other backends (CUDA),
//! other dtypes and other activations keep burn's ops.

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, Flex, TensorMetadata, backend_extension,
};
use burn::tensor::{DType, Device, Tensor, TensorData};
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::fastmath;
use super::gemm::gemm;

/// The activations the fused layer computes (those whose derivative follows
/// from the output alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenseAct {
    /// No activation: an output layer.
    Identity,
    /// tanh; derivative 1 − y².
    Tanh,
    /// max(0, x); derivative 1 where y > 0.
    Relu,
}

/// A dense layer and its gradients.
#[backend_extension(Flex, Autodiff)]
pub trait DenseOps: Backend {
    /// act(x·weight + bias); x `[rows, in]`, weight `[in, out]`, bias `[out]`.
    fn fused_dense(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: DenseAct,
    ) -> FloatTensor<Self>;

    /// (input, weight, bias) gradients from the output `y` and its gradient
    /// `grad`; the input gradient is an empty tensor unless `input_grad`.
    fn fused_dense_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        y: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        act: DenseAct,
        input_grad: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Multiply-adds above which a GEMM called outside rayon uses every thread.
const PARALLEL_WORK: usize = 192 * 192 * 192;
/// Elements per rayon task in the elementwise passes.
const CHUNK: usize = 16 * 1024;

/// All threads for a big product called from outside rayon; this thread only
/// inside a rayon task, whose siblings already keep the other cores busy.
fn par_for(work: usize) -> Par {
    if rayon::current_thread_index().is_none() && work >= PARALLEL_WORK {
        Par::rayon(0)
    } else {
        Par::Seq
    }
}

/// act(x·w + b) for row-major x `[m, k]`, w `[k, n]`, b `[n]`.
fn forward(x: &[f32], w: &[f32], b: &[f32], [m, k, n]: [usize; 3], act: DenseAct) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    for _ in 0..m {
        out.extend_from_slice(b);
    }
    let dst = MatMut::from_row_major_slice_mut(&mut out, m, n);
    let (xm, wm) = (
        MatRef::from_row_major_slice(x, m, k),
        MatRef::from_row_major_slice(w, k, n),
    );
    gemm(dst, Accum::Add, xm, wm, par_for(m * k * n));
    match act {
        DenseAct::Identity => {}
        DenseAct::Tanh => out
            .par_chunks_mut(CHUNK)
            .for_each(|c| c.iter_mut().for_each(|v| *v = fastmath::tanh(*v))),
        DenseAct::Relu => out
            .par_chunks_mut(CHUNK)
            .for_each(|c| c.iter_mut().for_each(|v| *v = v.max(0.0))),
    }
    out
}

/// The gradient before the activation, from the output `y` and its gradient
/// (`g` itself for the identity: no copy).
fn pre_activation_grad<'a>(y: &[f32], g: &'a [f32], act: DenseAct) -> Cow<'a, [f32]> {
    if act == DenseAct::Identity {
        return Cow::Borrowed(g);
    }
    let mut out = g.to_vec();
    match act {
        DenseAct::Identity => {}
        DenseAct::Tanh => out.iter_mut().zip(y).for_each(|(v, &y)| *v *= 1.0 - y * y),
        DenseAct::Relu => out
            .iter_mut()
            .zip(y)
            .for_each(|(v, &y)| *v = if y > 0.0 { *v } else { 0.0 }),
    }
    Cow::Owned(out)
}

/// (dx `[m, k]` or empty, dw `[k, n]`, db `[n]`) for output gradient `g`.
fn backward(
    x: &[f32],
    w: &[f32],
    y: &[f32],
    g: &[f32],
    [m, k, n]: [usize; 3],
    (act, input_grad): (DenseAct, bool),
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let gp = pre_activation_grad(y, g, act);
    let mut db = vec![0.0f32; n];
    for row in gp.chunks_exact(n.max(1)) {
        db.iter_mut().zip(row).for_each(|(acc, v)| *acc += v);
    }
    let gm = MatRef::from_row_major_slice(&gp, m, n);
    let mut dw = vec![0.0f32; k * n];
    let xm = MatRef::from_row_major_slice(x, m, k);
    let dwm = MatMut::from_row_major_slice_mut(&mut dw, k, n);
    gemm(dwm, Accum::Replace, xm.transpose(), gm, par_for(m * k * n));
    let mut dx = Vec::new();
    if input_grad {
        dx = vec![0.0f32; m * k];
        let wm = MatRef::from_row_major_slice(w, k, n);
        let dxm = MatMut::from_row_major_slice_mut(&mut dx, m, k);
        gemm(dxm, Accum::Replace, gm, wm.transpose(), par_for(m * k * n));
    }
    (dx, dw, db)
}

fn flex_f32(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `[m, k, n]` of x `[m, k]` and weight `[k, n]`.
fn dims(x: &FlexTensor, weight: &FlexTensor) -> [usize; 3] {
    let [m, k] = x.shape().dims::<2>();
    [m, k, weight.shape().dims::<2>()[1]]
}

impl DenseOps for Flex {
    fn fused_dense(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        act: DenseAct,
    ) -> FlexTensor {
        let (x, w, b) = (
            x.to_contiguous(),
            weight.to_contiguous(),
            bias.to_contiguous(),
        );
        let d = dims(&x, &w);
        let out = forward(x.storage(), w.storage(), b.storage(), d, act);
        flex_f32(out, vec![d[0], d[2]])
    }

    fn fused_dense_grads(
        x: FlexTensor,
        weight: FlexTensor,
        y: FlexTensor,
        grad: FlexTensor,
        act: DenseAct,
        input_grad: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (x, w) = (x.to_contiguous(), weight.to_contiguous());
        let (y, g) = (y.to_contiguous(), grad.to_contiguous());
        let d = dims(&x, &w);
        let (dx, dw, db) = backward(
            x.storage(),
            w.storage(),
            y.storage(),
            g.storage(),
            d,
            (act, input_grad),
        );
        let x_shape = if input_grad {
            vec![d[0], d[1]]
        } else {
            vec![0]
        };
        (
            flex_f32(dx, x_shape),
            flex_f32(dw, vec![d[1], d[2]]),
            flex_f32(db, vec![d[2]]),
        )
    }
}

#[derive(Debug)]
struct DenseBackward;

impl<B: Backend + DenseOps> Backward<B, 3> for DenseBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, DenseAct);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, weight, y, act) = ops.state;
        let [node_x, node_w, node_b] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        let (gx, gw, gb) = B::fused_dense_grads(x, weight, y, g, act, node_x.is_some());
        for (node, grad) in [(node_x, gx), (node_w, gw), (node_b, gb)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: Backend + DenseOps, C: CheckpointStrategy> DenseOps for Autodiff<B, C> {
    fn fused_dense(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: DenseAct,
    ) -> FloatTensor<Self> {
        let guards = [x.node(), weight.node(), bias.node()];
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        let out = B::fused_dense(x.clone(), weight.clone(), bias.into_primitive(), act);
        match DenseBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, weight, out.clone(), act), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    /// The gradients as constants (elbo never differentiates them again).
    fn fused_dense_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        y: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        act: DenseAct,
        input_grad: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (gx, gw, gb) = B::fused_dense_grads(
            x.into_primitive(),
            weight.into_primitive(),
            y.into_primitive(),
            grad.into_primitive(),
            act,
            input_grad,
        );
        (
            Self::from_inner(gx),
            Self::from_inner(gw),
            Self::from_inner(gb),
        )
    }
}

/// Whether the fused dense op runs for `x`: f32 on the CPU backend. On any
/// other device (a GPU) callers use burn's `Linear` and activation: the
/// composite fallback.
pub fn applies(x: &Tensor<2>) -> bool {
    x.dtype() == DType::F32 && x.device().inner() == Device::flex()
}

/// `act(x·w + b)` as one autodiff node; call only where [`applies`] holds.
pub fn fused_dense(x: Tensor<2>, w: Tensor<2>, b: Tensor<1>, act: DenseAct) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as DenseOps>::fused_dense(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        act,
    ))
}
