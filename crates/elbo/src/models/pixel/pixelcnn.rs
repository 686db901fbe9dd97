//! PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks",
//! §3.4 and Fig. 5): a 7×7 mask-A convolution, residual blocks of mask-B
//! convolutions, then two 1×1 mask-B layers to the output logits.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use super::masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
use super::{OutputHead, PixelConfig};

/// The residual block of the paper's Fig. 5 on a 2h-channel stream:
/// ReLU → 1×1 (2h → h) → ReLU → k×k mask B (h → h) → ReLU → 1×1 (h → 2h), added.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// 2h → h, 1×1 mask B.
    pub reduce: MaskedConv2d,
    /// h → h, k×k mask B.
    pub conv: MaskedConv2d,
    /// h → 2h, 1×1 mask B.
    pub expand: MaskedConv2d,
}

impl ResidualBlock {
    fn new(h: usize, kernel: usize, colors: usize, init: &mut ParamInit) -> Self {
        let b = |k, i, o| MaskSpec::new(MaskType::B, (k, k), i, o, colors);
        ResidualBlock {
            reduce: MaskedConv2d::masked(b(1, 2 * h, h), init),
            conv: MaskedConv2d::masked(b(kernel, h, h), init),
            expand: MaskedConv2d::masked(b(1, h, 2 * h), init),
        }
    }

    /// `[batch, 2h, H, W] → [batch, 2h, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let t = self.reduce.forward(relu(x.clone()));
        let t = self.conv.forward(relu(t));
        x + self.expand.forward(relu(t))
    }
}

/// PixelCNN.
#[derive(Module, Debug)]
pub struct PixelCnn {
    /// colours → 2h, first_kernel² mask A.
    pub input: MaskedConv2d,
    /// The residual blocks.
    pub blocks: Vec<ResidualBlock>,
    /// ReLU → 1×1 → ReLU → 1×1 to the logits.
    pub head: OutputHead,
}

impl PixelCnn {
    /// Builds the network of `config` (colours resolved).
    pub fn new(config: &PixelConfig, init: &mut ParamInit) -> Self {
        let (h, k, colors) = (config.hidden, config.first_kernel, config.colors);
        let spec = MaskSpec::new(MaskType::A, (k, k), colors, 2 * h, colors);
        let input = MaskedConv2d::masked(spec, init);
        let blocks = (0..config.layers)
            .map(|_| ResidualBlock::new(h, config.kernel, colors, init))
            .collect();
        PixelCnn {
            input,
            blocks,
            head: OutputHead::new(2 * h, config, init),
        }
    }

    /// Logits `[batch, colours·classes, H, W]` for images `[batch, colours, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let s = self
            .blocks
            .iter()
            .fold(self.input.forward(x), |s, b| b.forward(s));
        self.head.forward(s)
    }
}
