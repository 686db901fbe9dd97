//! Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation
//! with PixelCNN Decoders", §2.2-2.3 and Fig. 2).
//!
//! Two stacks remove PixelCNN's blind spot: a vertical stack whose output at
//! row i sees every pixel of the rows above (an (⌊k/2⌋+1)×k kernel over rows
//! i−⌊k/2⌋..i, shifted down one row before anyone reads it), and a
//! horizontal stack over the current row's pixels to the left (1×k, masked
//! like PixelCNN's). Each layer computes tanh(W_f ∗ x + V_f h) ⊙ σ(W_g ∗ x +
//! V_g h) (eq. 4-5), where h is an optional one-hot class label.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::kernels::gate::gated_tanh;

use super::masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
use super::{OutputHead, PixelConfig};

/// One gated layer of both stacks.
#[derive(Module, Debug)]
pub struct GatedLayer {
    /// Vertical stack: in → 2h, (⌊k/2⌋+1)×k over the current and upper rows.
    pub vconv: MaskedConv2d,
    /// Horizontal stack: in → 2h, 1×k, mask A (first layer) or B.
    pub hconv: MaskedConv2d,
    /// Shifted vertical pre-activation → horizontal: 2h → 2h, 1×1.
    pub link: MaskedConv2d,
    /// Horizontal gate output → residual stream: h → h, 1×1 mask B.
    pub hout: MaskedConv2d,
    /// Class label → gate biases of both stacks: `[classes, 4h]` (conditional models).
    pub cond: Option<Param<Tensor<2>>>,
    /// Whether the horizontal stack adds its input (all but the first layer).
    #[module(skip)]
    pub residual: bool,
}

/// tanh(first half) ⊙ σ(second half) over the channels: `[b, 2h, H, W] → [b, h, H, W]`.
///
/// One fused, vectorized node ([`crate::kernels::gate`]): `perf` had put
/// ~45 % of a gated training step in scalar libm `tanhf`/`expf`, and the
/// tensor-op formula that replaced it was still a dozen autodiff passes.
pub fn gate(pre: Tensor<4>) -> Tensor<4> {
    gated_tanh(pre)
}

/// Moves every row down by one, zeros in row 0: `[b, c, H, W]`. A map of
/// one row becomes all zeros (there is no row above it to take from).
pub fn shift_down(t: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = t.dims();
    if h <= 1 {
        return t.zeros_like();
    }
    let zeros = Tensor::<4>::zeros([b, c, 1, w], &t.device());
    Tensor::cat(vec![zeros, t.narrow(2, 0, h - 1)], 2) // [b, c, H, W]
}

impl GatedLayer {
    fn new(in_ch: usize, first: bool, config: &PixelConfig, init: &mut ParamInit) -> Self {
        let (h, k, colors) = (config.hidden, config.kernel, config.colors);
        let rows = k / 2 + 1;
        let vconv =
            MaskedConv2d::plain([2 * h, in_ch, rows, k], [(k / 2, 0), (k / 2, k / 2)], init);
        let kind = if first { MaskType::A } else { MaskType::B };
        let hspec = MaskSpec::new(kind, (1, k), in_ch, 2 * h, colors).out_parts(2);
        let hconv = MaskedConv2d::masked(hspec, init);
        let link = MaskedConv2d::plain([2 * h, 2 * h, 1, 1], [(0, 0), (0, 0)], init);
        let hout = MaskedConv2d::masked(MaskSpec::new(MaskType::B, (1, 1), h, h, colors), init);
        let cond = (config.classes > 0).then(|| init.uniform([config.classes, 4 * h], 0.1));
        GatedLayer {
            vconv,
            hconv,
            link,
            hout,
            cond,
            residual: !first,
        }
    }

    /// One layer: (v, h) → (v', h'), each `[batch, ·, H, W]`; `labels` one-hot `[batch, classes]`.
    pub fn forward(
        &self,
        v: Tensor<4>,
        x: Tensor<4>,
        labels: Option<&Tensor<2>>,
    ) -> (Tensor<4>, Tensor<4>) {
        let h2 = self.link.weight.dims()[0];
        let (mut vpre, mut hpre) = (self.vconv.forward(v), self.hconv.forward(x.clone()));
        hpre = hpre + self.link.forward(shift_down(vpre.clone()));
        if let (Some(c), Some(l)) = (&self.cond, labels) {
            let bias = l.clone().matmul(c.val()); // [batch, 4h]
            let [b, _] = bias.dims();
            vpre = vpre + bias.clone().narrow(1, 0, h2).reshape([b, h2, 1, 1]);
            hpre = hpre + bias.narrow(1, h2, h2).reshape([b, h2, 1, 1]);
        }
        let hnew = self.hout.forward(gate(hpre));
        let hnew = if self.residual { x + hnew } else { hnew };
        (gate(vpre), hnew)
    }
}

/// Gated PixelCNN.
#[derive(Module, Debug)]
pub struct GatedPixelCnn {
    /// The gated layers, the first one reading the image.
    pub layers: Vec<GatedLayer>,
    /// ReLU → 1×1 → ReLU → 1×1 on the horizontal stack.
    pub head: OutputHead,
}

impl GatedPixelCnn {
    /// Builds the network of `config` (colours resolved).
    pub fn new(config: &PixelConfig, init: &mut ParamInit) -> Self {
        let layers = (0..config.layers.max(1))
            .map(|l| {
                let in_ch = if l == 0 { config.colors } else { config.hidden };
                GatedLayer::new(in_ch, l == 0, config, init)
            })
            .collect();
        GatedPixelCnn {
            layers,
            head: OutputHead::new(config.hidden, config, init),
        }
    }

    /// Logits `[batch, colours·classes, H, W]` for images `[batch, colours, H, W]`.
    pub fn forward(&self, x: Tensor<4>, labels: Option<&Tensor<2>>) -> Tensor<4> {
        let (mut v, mut h) = (x.clone(), x);
        for layer in &self.layers {
            (v, h) = layer.forward(v, h, labels);
        }
        self.head.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::activation::sigmoid;
    use burn::tensor::{Device, Distribution, Tensor};

    fn max_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
        let (a, b) = (
            a.into_data().try_to_vec::<f32>(),
            b.into_data().try_to_vec::<f32>(),
        );
        let (a, b) = (a.expect("f32"), b.expect("f32"));
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// The fused gate equals burn's tanh ⊙ sigmoid, value and input gradient.
    #[test]
    fn gate_matches_burn_tanh_times_sigmoid() {
        let device = Device::flex().autodiff();
        let x0 = Tensor::<4>::random([3, 8, 5, 7], Distribution::Normal(0.0, 3.0), &device);
        let w = Tensor::<4>::random([3, 4, 5, 7], Distribution::Normal(0.0, 1.0), &device);
        let (xa, xb) = (x0.clone().require_grad(), x0.require_grad());
        let ya = super::gate(xa.clone());
        let yb = xb.clone().narrow(1, 0, 4).tanh() * sigmoid(xb.clone().narrow(1, 4, 4));
        assert!(max_diff(ya.clone().inner(), yb.clone().inner()) < 1e-6);
        let (ga, gb) = ((ya * w.clone()).sum().backward(), (yb * w).sum().backward());
        let (ga, gb) = (xa.grad(&ga).expect("grad"), xb.grad(&gb).expect("grad"));
        assert!(max_diff(ga, gb) < 1e-5);
    }
}
