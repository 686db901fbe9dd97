//! The masked convolution as one fused, differentiable op through burn's
//! backend extension.
//!
//! Why: `perf` of a PixelCNN training step on burn's flex backend (see
//! docs/performance.md) put most of the time in data movement around the GEMMs: the
//! im2col of `conv3d_f32` (burn routes conv2d through conv3d) 18 %, layout
//! copies 13 %, the direct-loop transposed convolution that computes the
//! input gradient 13 %, zero-filling 9 %, and the GEMMs only ~20 %. Here
//! (kernels in `masked_conv_cpu.rs`): im2col over the taps the mask keeps
//! only, one GEMM per image for the output, and in the backward one GEMM for
//! the weight gradient and one for the column gradient, folded back by
//! col2im, with no transposed convolution and no layout copies. The mask is
//! applied inside the op (weight ⊙ mask forward, gradient ⊙ mask backward),
//! so the op is exactly `conv2d(x, weight ⊙ mask) + bias`. Other backends
//! (CUDA) and dtypes use burn's conv2d.

use std::sync::Arc;

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

use super::masked_conv_cpu::{self, ConvDims, TapWeights};

/// The fixed part of a masked convolution: padding and mask.
#[derive(Debug, Clone)]
pub struct ConvGeometry {
    /// ((top, bottom), (left, right)) zero padding.
    pub padding: [(usize, usize); 2],
    /// `[out, in, kh, kw]` mask, or none for a plain convolution.
    pub mask: Option<Arc<Vec<f32>>>,
}

impl ConvGeometry {
    /// The kept taps (flat kernel indices some output uses) and the mask
    /// over `[out, taps]`, for kernel `[out, in, kh, kw]`.
    fn taps(&self, kernel: [usize; 4]) -> (Vec<usize>, Option<Vec<f32>>) {
        let per_out: usize = kernel[1..].iter().product();
        let Some(mask) = &self.mask else {
            return ((0..per_out).collect(), None);
        };
        let taps: Vec<usize> = (0..per_out)
            .filter(|&t| (0..kernel[0]).any(|o| mask[o * per_out + t] != 0.0))
            .collect();
        let gathered = (0..kernel[0])
            .flat_map(|o| taps.iter().map(move |&t| mask[o * per_out + t]))
            .collect();
        (taps, Some(gathered))
    }
}

/// Masked 2-D convolution, stride 1: forward and gradients.
#[backend_extension(Flex, Autodiff)]
pub trait MaskedConvOps: Backend {
    /// `conv2d(x, weight ⊙ mask) + bias`; x `[batch, in, h, w]`, weight
    /// `[out, in, kh, kw]`, bias `[out]`.
    fn masked_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self>;

    /// (input, weight, bias) gradients for output gradient `grad`; the
    /// input gradient is an empty tensor unless `input_grad`.
    fn masked_conv2d_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        geometry: ConvGeometry,
        input_grad: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The call's sizes and the masked weights at the kept taps.
fn prepare(x: &FlexTensor, w: &FlexTensor, geometry: &ConvGeometry) -> (ConvDims, TapWeights) {
    let [batch, cin, h, wd] = dims4(x);
    let kernel = dims4(w);
    let dims = ConvDims {
        batch,
        input: [cin, h, wd],
        kernel,
        padding: geometry.padding,
    };
    let (taps, mask) = geometry.taps(kernel);
    let per_out: usize = kernel[1..].iter().product();
    let weights = w.storage::<f32>();
    let wmat = (0..kernel[0])
        .flat_map(|o| taps.iter().map(move |&t| weights[o * per_out + t]))
        .zip(mask.iter().flatten().copied().chain(std::iter::repeat(1.0)))
        .map(|(v, m)| v * m)
        .collect();
    (dims, TapWeights { taps, wmat, mask })
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    t.shape().dims::<4>()
}

fn flex_f32(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl MaskedConvOps for Flex {
    fn masked_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        geometry: ConvGeometry,
    ) -> FlexTensor {
        let (x, weight, bias) = (
            x.to_contiguous(),
            weight.to_contiguous(),
            bias.to_contiguous(),
        );
        let (dims, tw) = prepare(&x, &weight, &geometry);
        let out = masked_conv_cpu::forward(&dims, &tw, x.storage::<f32>(), bias.storage::<f32>());
        let (ho, wo) = dims.output();
        flex_f32(out, vec![dims.batch, dims.kernel[0], ho, wo])
    }

    fn masked_conv2d_grads(
        x: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        geometry: ConvGeometry,
        input_grad: bool,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (x, weight, grad) = (
            x.to_contiguous(),
            weight.to_contiguous(),
            grad.to_contiguous(),
        );
        let (dims, tw) = prepare(&x, &weight, &geometry);
        let (gx, gw_taps, gb) = masked_conv_cpu::backward(
            &dims,
            &tw,
            x.storage::<f32>(),
            grad.storage::<f32>(),
            input_grad,
        );
        let per_out: usize = dims.kernel[1..].iter().product();
        let mut gw = vec![0.0f32; dims.kernel[0] * per_out];
        for (o, row) in gw_taps.chunks(tw.taps.len().max(1)).enumerate() {
            for (&t, &v) in tw.taps.iter().zip(row) {
                gw[o * per_out + t] = v;
            }
        }
        let x_shape = if input_grad {
            dims4(&x).to_vec()
        } else {
            vec![0]
        };
        (
            flex_f32(gx, x_shape),
            flex_f32(gw, dims.kernel.to_vec()),
            flex_f32(gb, vec![dims.kernel[0]]),
        )
    }
}

#[derive(Debug)]
struct ConvBackward;

impl<B: Backend + MaskedConvOps> Backward<B, 3> for ConvBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, ConvGeometry);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, weight, geometry) = ops.state;
        let [node_x, node_w, node_b] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        let (gx, gw, gb) = B::masked_conv2d_grads(x, weight, g, geometry, node_x.is_some());
        for (node, grad) in [(node_x, gx), (node_w, gw), (node_b, gb)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: Backend + MaskedConvOps, C: CheckpointStrategy> MaskedConvOps for Autodiff<B, C> {
    fn masked_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self> {
        let guards = [x.node(), weight.node(), bias.node()];
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        let out = B::masked_conv2d(
            x.clone(),
            weight.clone(),
            bias.into_primitive(),
            geometry.clone(),
        );
        match ConvBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((x, weight, geometry), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    /// The gradients as constants (elbo never differentiates them again).
    fn masked_conv2d_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        geometry: ConvGeometry,
        input_grad: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (gx, gw, gb) = B::masked_conv2d_grads(
            x.into_primitive(),
            weight.into_primitive(),
            grad.into_primitive(),
            geometry,
            input_grad,
        );
        (
            Self::from_inner(gx),
            Self::from_inner(gw),
            Self::from_inner(gb),
        )
    }
}

/// Whether the fused op serves this input: f32 on the CPU backend.
pub fn fused_applies(x: &Tensor<4>) -> bool {
    x.dtype() == DType::F32 && x.device().inner() == Device::flex()
}

/// `conv2d(x, weight ⊙ mask) + bias` through the fused op (call only when
/// [`fused_applies`]).
pub fn masked_conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    geometry: ConvGeometry,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as MaskedConvOps>::masked_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        geometry,
    ))
}
