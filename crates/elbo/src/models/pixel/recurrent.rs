//! The PixelRNN network around its recurrent layers (van den Oord et al.
//! 2016, §3): a k×k mask-A convolution from the colours to h maps, a stack
//! of residual recurrent layers (Row LSTM or Diagonal BiLSTM), and the
//! output head. One generic type for both layer kinds, so the two networks
//! keep the same fields and checkpoint keys (`input`, `layers.N…`, `head`).

use burn::module::Module;
use burn::tensor::Tensor;

use super::masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
use super::{OutputHead, PixelConfig};

/// A PixelRNN layer: `[batch, h, H, W] → [batch, h, H, W]`, causal.
pub trait PixelRnnLayer: Module {
    /// A layer of `config`'s width, its parameters drawn from `init`.
    fn build(config: &PixelConfig, init: &mut ParamInit) -> Self;
    /// The layer's output, input included (residual, §3.5).
    fn forward(&self, x: Tensor<4>) -> Tensor<4>;
}

/// PixelRNN with layers of type `L`.
#[derive(Module, Debug)]
pub struct PixelRnn<L: PixelRnnLayer> {
    /// colours → h, first_kernel² mask A.
    pub input: MaskedConv2d,
    /// The recurrent layers.
    pub layers: Vec<L>,
    /// ReLU → 1×1 → ReLU → 1×1 to the logits.
    pub head: OutputHead,
}

impl<L: PixelRnnLayer> PixelRnn<L> {
    /// Builds the network of `config` (colours resolved).
    pub fn new(config: &PixelConfig, init: &mut ParamInit) -> Self {
        let (h, k, colors) = (config.hidden, config.first_kernel, config.colors);
        let input =
            MaskedConv2d::masked(MaskSpec::new(MaskType::A, (k, k), colors, h, colors), init);
        let layers = (0..config.layers).map(|_| L::build(config, init)).collect();
        PixelRnn {
            input,
            layers,
            head: OutputHead::new(h, config, init),
        }
    }

    /// Logits `[batch, colours·classes, H, W]` for images `[batch, colours, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let s = self
            .layers
            .iter()
            .fold(self.input.forward(x), |s, l| l.forward(s));
        self.head.forward(s)
    }
}

/// Splits `t` into its slices of size 1 along dim 0, by halving.
///
/// Why not one narrow per slice: the backward of a narrow allocates a zero
/// gradient of its whole input and adds it into the input's gradient, so n
/// narrows of one tensor cost n full-size passes; halving costs about
/// 2·log₂ n.
pub(super) fn split_rows(t: Tensor<4>, out: &mut Vec<Tensor<4>>) {
    let n = t.dims()[0];
    if n == 1 {
        out.push(t);
        return;
    }
    let half = n / 2;
    split_rows(t.clone().narrow(0, 0, half), out);
    split_rows(t.narrow(0, half, n - half), out);
}
