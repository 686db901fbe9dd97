//! Convolutional encoder and decoder bodies, the usual DCGAN-style pair for
//! small images: stride-2 4x4 convolutions halve the image per layer
//! (28 → 14 → 7 for MNIST, 32 → 16 → 8, 64 → 32 → 16), the feature map is
//! flattened for the dense heads; the decoder projects a code to the smallest
//! feature map and doubles it back with transposed convolutions (burn's
//! `ConvTranspose2d`), the last one giving one output per pixel and channel.
//!
//! Images arrive as the data layout's rows, `[batch, height·width·channels]`
//! (channels last); the convolutions want `[batch, channels, height, width]`,
//! so each side permutes once.

use burn::module::Module;
use burn::nn::Linear;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::Tensor;

use super::Activation;
use super::init::{Init, STRIDE};
use crate::{Error, Result};

/// The size of the smallest feature map for images of `shape` (height,
/// width, channels) after one stride-2 layer per entry of `channels`:
/// (channels, height, width), or an error naming what does not divide.
pub fn feature_map(shape: (usize, usize, usize), channels: &[usize]) -> Result<[usize; 3]> {
    let (h, w, c) = shape;
    // More layers than a usize can halve: no image is that large.
    let factor = u32::try_from(channels.len())
        .ok()
        .and_then(|layers| STRIDE.checked_pow(layers))
        .unwrap_or(usize::MAX);
    if channels.is_empty() || channels.contains(&0) {
        return Err(Error::invalid(format!(
            "the conv architecture needs at least one positive channel count, got {channels:?}"
        )));
    }
    if h == 0 || w == 0 || c == 0 || h % factor != 0 || w % factor != 0 {
        return Err(Error::invalid(format!(
            "the conv architecture with {} stride-2 layers needs height and width divisible by {factor}; the images are {h}x{w}x{c} (use --image-size, fewer --channels, or --arch mlp)",
            channels.len()
        )));
    }
    Ok([channels[channels.len() - 1], h / factor, w / factor])
}

/// Stride-2 convolutions, then a flatten: `[batch, dim] → [batch, features]`.
#[derive(Module, Debug)]
pub struct ConvEncoder {
    /// Image channels first, e.g. 1 → 32 → 64.
    pub convs: Vec<Conv2d>,
    /// Input image (height, width, channels).
    #[module(skip)]
    pub shape: [usize; 3],
}

impl ConvEncoder {
    /// Builds the convolutions for images of `shape` with `channels` filters
    /// per layer; returns the encoder and its feature width.
    pub(crate) fn new(shape: [usize; 3], channels: &[usize], init: &mut Init) -> (Self, usize) {
        let mut sizes = vec![shape[2]];
        sizes.extend_from_slice(channels);
        let convs = sizes.windows(2).map(|c| init.conv(c[0], c[1])).collect();
        let factor = STRIDE.pow(channels.len() as u32);
        let last = channels.last().copied().unwrap_or(shape[2]);
        let features = last * (shape[0] / factor).max(1) * (shape[1] / factor).max(1);
        (ConvEncoder { convs, shape }, features)
    }

    /// Features of images `x: [batch, height·width·channels]`: `[batch, features]`.
    pub fn forward(&self, x: Tensor<2>, activation: Activation) -> Tensor<2> {
        let [h, w, c] = self.shape;
        let batch = x.dims()[0];
        let image = x.reshape([batch, h, w, c]).permute([0, 3, 1, 2]); // [batch, c, h, w]
        let maps = self
            .convs
            .iter()
            .fold(image, |t, conv| activation.forward(conv.forward(t))); // [batch, C, h/2^L, w/2^L]
        maps.flatten(1, 3) // [batch, C·(h/2^L)·(w/2^L)]
    }
}

/// A dense projection to the smallest feature map, then transposed
/// convolutions back to the image: `[batch, code] → [batch, dim]`.
#[derive(Module, Debug)]
pub struct ConvDecoder {
    /// Code (with a conditional model's one-hot label) → C·h·w.
    pub project: Linear,
    /// Transposed convolutions, e.g. 64 → 32 → image channels; the last
    /// gives the outputs (logits or Gaussian means), with no nonlinearity.
    pub deconvs: Vec<ConvTranspose2d>,
    /// The smallest feature map (channels, height, width).
    #[module(skip)]
    pub base: [usize; 3],
    /// Output image (height, width, channels).
    #[module(skip)]
    pub shape: [usize; 3],
}

impl ConvDecoder {
    /// Builds the decoder for codes of width `code` mirroring an encoder
    /// with `channels` filters per layer, for images of `shape`.
    pub(crate) fn new(code: usize, shape: [usize; 3], channels: &[usize], init: &mut Init) -> Self {
        let factor = STRIDE.pow(channels.len() as u32);
        let last = channels.last().copied().unwrap_or(shape[2]);
        let base = [last, (shape[0] / factor).max(1), (shape[1] / factor).max(1)];
        let project = init.linear(code, base.iter().product());
        let mut sizes: Vec<usize> = channels.iter().rev().copied().collect();
        sizes.push(shape[2]);
        let deconvs = sizes.windows(2).map(|c| init.deconv(c[0], c[1])).collect();
        ConvDecoder {
            project,
            deconvs,
            base,
            shape,
        }
    }

    /// Outputs for codes `z: [batch, code]`: `[batch, height·width·channels]`.
    pub fn forward(&self, z: Tensor<2>, activation: Activation) -> Tensor<2> {
        let batch = z.dims()[0];
        let [c0, h0, w0] = self.base;
        let [h, w, c] = self.shape;
        let flat = activation.forward(self.project.forward(z)); // [batch, c0·h0·w0]
        let mut maps = flat.reshape([batch, c0, h0, w0]); // [batch, c0, h0, w0]
        let last = self.deconvs.len().saturating_sub(1);
        for (i, deconv) in self.deconvs.iter().enumerate() {
            maps = deconv.forward(maps);
            if i < last {
                maps = activation.forward(maps);
            }
        } // [batch, c, h, w]
        maps.permute([0, 2, 3, 1]).reshape([batch, h * w * c]) // [batch, h·w·c], channels last
    }
}
