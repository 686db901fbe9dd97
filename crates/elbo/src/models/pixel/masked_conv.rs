//! Masked convolutions: the causal building block of PixelCNN and PixelRNN
//! (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", §3.4).
//!
//! Pixels are ordered in raster order (rows top to bottom, left to right in a
//! row) and, within a pixel, R before G before B. A masked convolution's
//! output at position (i, j) may read positions strictly before (i, j) and,
//! at (i, j) itself, only the colours allowed by the mask type:
//! - mask A (the first layer) excludes the current colour: an R output sees
//!   no colour of the current pixel, G sees R, B sees R and G;
//! - mask B (every later layer) includes it: R sees R, G sees R and G, ...
//!
//! Grey images have one colour, so mask A excludes the centre and mask B
//! includes it. Feature maps are split into three colour groups for RGB
//! models (channel c of an n-channel map belongs to colour ⌊3c/n⌋, within each
//! of `parts` equal blocks, so the gates of an LSTM or gated unit stay aligned).
//!
//! Rows below the centre are always masked, so the kernel stores only the
//! rows up to the centre and pads the top alone: the same result as the
//! paper's full masked k×k kernel at almost half the cost. The mask is a
//! fixed tensor multiplied into the weight in `forward`, so the gradient of
//! every masked weight is exactly zero too.

use burn::module::{Module, Param, ParamId};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Which centre connections a mask keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskType {
    /// Excludes the current colour (first layer).
    A,
    /// Includes the current colour (later layers).
    B,
}

/// The shape of a masked convolution: `kh × kw` kernel centred at
/// (`kh / 2`, `kw / 2`), `in_ch → out_ch`, with `colors` (1 or 3) colour groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskSpec {
    /// Mask A or B.
    pub kind: MaskType,
    /// Kernel height (odd).
    pub kh: usize,
    /// Kernel width (odd).
    pub kw: usize,
    /// Input channels.
    pub in_ch: usize,
    /// Output channels.
    pub out_ch: usize,
    /// Colours of the data: 1 (grey) or 3 (RGB).
    pub colors: usize,
    /// Equal blocks of the input channels, each split into colour groups.
    pub in_parts: usize,
    /// Equal blocks of the output channels (4 for LSTM gates, 2 for a gated unit).
    pub out_parts: usize,
}

/// The colour group of channel `ch` of an `n`-channel map made of `parts` blocks.
pub fn color_of(ch: usize, n: usize, parts: usize, colors: usize) -> usize {
    let block = (n / parts.max(1)).max(1);
    ((ch % block) * colors) / block
}

impl MaskSpec {
    /// A spec with one block on each side.
    pub fn new(
        kind: MaskType,
        kernel: (usize, usize),
        in_ch: usize,
        out_ch: usize,
        colors: usize,
    ) -> Self {
        MaskSpec {
            kind,
            kh: kernel.0,
            kw: kernel.1,
            in_ch,
            out_ch,
            colors,
            in_parts: 1,
            out_parts: 1,
        }
    }

    /// The same spec with `parts` output blocks.
    pub fn out_parts(self, parts: usize) -> Self {
        MaskSpec {
            out_parts: parts,
            ..self
        }
    }

    /// Stored kernel rows: those up to and including the centre.
    pub fn rows(&self) -> usize {
        self.kh / 2 + 1
    }

    /// Whether weight (o, i, r, c) of the stored kernel may be nonzero.
    pub fn allows(&self, o: usize, i: usize, r: usize, c: usize) -> bool {
        let (cr, cc) = (self.kh / 2, self.kw / 2);
        if r < cr || (r == cr && c < cc) {
            return true;
        }
        if r > cr || c > cc {
            return false;
        }
        let co = color_of(o, self.out_ch, self.out_parts, self.colors);
        let ci = color_of(i, self.in_ch, self.in_parts, self.colors);
        match self.kind {
            MaskType::A => ci < co,
            MaskType::B => ci <= co,
        }
    }

    /// The mask over the stored kernel, `[out, in, rows, kw]` row-major.
    pub fn mask(&self) -> Vec<f32> {
        let rows = self.rows();
        let mut m = Vec::with_capacity(self.out_ch * self.in_ch * rows * self.kw);
        for o in 0..self.out_ch {
            for i in 0..self.in_ch {
                for r in 0..rows {
                    for c in 0..self.kw {
                        m.push(if self.allows(o, i, r, c) { 1.0 } else { 0.0 });
                    }
                }
            }
        }
        m
    }
}

/// Deterministic parameter initialization: weights from one seeded stream,
/// ids numbered in construction order (so a model rebuilt from its config
/// has the ids its saved optimizer state refers to).
pub struct ParamInit {
    rng: Xoshiro256PlusPlus,
    next_id: u64,
    device: Device,
}

impl ParamInit {
    /// Starts a stream seeded by `seed` alone.
    pub fn new(seed: u64, device: &Device) -> Self {
        ParamInit {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            next_id: 0,
            device: device.clone(),
        }
    }

    /// A parameter of `shape` drawn from U(−bound, bound).
    pub fn uniform<const D: usize>(&mut self, shape: [usize; D], bound: f32) -> Param<Tensor<D>> {
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|_| self.rng.random_range(-bound..=bound))
            .collect();
        self.param(Tensor::from_data(
            TensorData::new(values, shape),
            &self.device,
        ))
    }

    /// Wraps `tensor` as the next parameter.
    pub fn param<const D: usize>(&mut self, tensor: Tensor<D>) -> Param<Tensor<D>> {
        self.next_id += 1;
        let mut p = Param::from_tensor(tensor);
        p.id = ParamId::from(self.next_id);
        p
    }

    /// The device parameters are created on.
    pub fn device(&self) -> &Device {
        &self.device
    }
}

/// A 2-D convolution with an optional fixed mask and explicit (top, bottom),
/// (left, right) zero padding; output size equals input size.
#[derive(Module, Debug)]
pub struct MaskedConv2d {
    /// `[out, in, rows, kw]`.
    pub weight: Param<Tensor<4>>,
    /// `[out]`.
    pub bias: Param<Tensor<1>>,
    /// The mask over `weight` (same shape), or none for an unmasked kernel.
    #[module(skip)]
    pub mask: Option<Vec<f32>>,
    /// ((top, bottom), (left, right)) zero padding.
    #[module(skip)]
    pub padding: [(usize, usize); 2],
}

impl MaskedConv2d {
    /// A masked convolution (PyTorch's default init over the kept fan-in).
    pub fn masked(spec: MaskSpec, init: &mut ParamInit) -> Self {
        let rows = spec.rows();
        let shape = [spec.out_ch, spec.in_ch, rows, spec.kw];
        let mut conv = Self::plain(shape, [(rows - 1, 0), (spec.kw / 2, spec.kw / 2)], init);
        conv.mask = Some(spec.mask());
        conv
    }

    /// An unmasked convolution with weight `shape` = `[out, in, kh, kw]`.
    pub fn plain(shape: [usize; 4], padding: [(usize, usize); 2], init: &mut ParamInit) -> Self {
        let fan_in = (shape[1] * shape[2] * shape[3]).max(1);
        let bound = 1.0 / (fan_in as f32).sqrt();
        MaskedConv2d {
            weight: init.uniform(shape, bound),
            bias: init.uniform([shape[0]], bound),
            mask: None,
            padding,
        }
    }

    /// The weight with its mask applied: `[out, in, rows, kw]`.
    pub fn masked_weight(&self) -> Tensor<4> {
        let w = self.weight.val();
        match &self.mask {
            Some(m) => {
                let mask =
                    Tensor::<4>::from_data(TensorData::new(m.clone(), w.dims()), &w.device());
                w * mask
            }
            None => w,
        }
    }

    /// `[batch, in, H, W] → [batch, out, H, W]` (for the configured padding):
    /// the fused op on the CPU backend (`kernels/masked_conv.rs`), burn's conv2d
    /// elsewhere.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if crate::kernels::masked_conv::fused_applies(&x) {
            let geometry = crate::kernels::masked_conv::ConvGeometry {
                padding: self.padding,
                mask: self.mask.clone().map(std::sync::Arc::new),
            };
            return crate::kernels::masked_conv::masked_conv2d(
                x,
                self.weight.val(),
                self.bias.val(),
                geometry,
            );
        }
        self.burn_forward(x)
    }

    /// The same convolution through burn's conv2d (any backend).
    pub fn burn_forward(&self, x: Tensor<4>) -> Tensor<4> {
        let options = ConvOptions {
            stride: [1, 1],
            padding: self.padding,
            dilation: [1, 1],
            groups: 1,
        };
        conv2d(x, self.masked_weight(), Some(self.bias.val()), options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_masks_match_the_paper() {
        // 3x3 grey: stored rows 0..=1; mask A drops the centre, B keeps it.
        let a = MaskSpec::new(MaskType::A, (3, 3), 1, 1, 1).mask();
        let b = MaskSpec::new(MaskType::B, (3, 3), 1, 1, 1).mask();
        assert_eq!(a, vec![1., 1., 1., 1., 0., 0.]);
        assert_eq!(b, vec![1., 1., 1., 1., 1., 0.]);
    }

    #[test]
    fn rgb_centre_follows_r_g_b_order() {
        // 1x1 kernels: only the centre, 3 -> 3 channels (one per colour).
        let centre = |kind| {
            let s = MaskSpec::new(kind, (1, 1), 3, 3, 3);
            s.mask()
        };
        #[rustfmt::skip]
        let a = vec![0., 0., 0.,
                     1., 0., 0.,
                     1., 1., 0.];
        #[rustfmt::skip]
        let b = vec![1., 0., 0.,
                     1., 1., 0.,
                     1., 1., 1.];
        assert_eq!(centre(MaskType::A), a);
        assert_eq!(centre(MaskType::B), b);
        // Gate blocks: output channel o and o + n/2 share a colour.
        assert_eq!(color_of(1, 6, 2, 3), color_of(4, 6, 2, 3));
        assert_eq!(color_of(767, 768, 1, 3), 2);
        assert_eq!(color_of(255, 768, 1, 3), 0);
    }
}

#[cfg(test)]
#[path = "masked_conv_tests.rs"]
mod fused_tests;
