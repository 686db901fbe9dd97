//! The networks the VAE, the conditional VAE and the autoencoder share: an
//! encoder body (images → features) and a decoder body (codes → one output
//! per pixel), each an MLP or a convolutional stack, chosen by
//! [`VaeConfig::arch`].
//!
//! A conditional model reads its class label as extra columns: every input
//! row is the pixels followed by a one-hot label, and every code handed to
//! the decoder is the latent vector followed by the same one-hot label
//! (Sohn et al. 2015's conditional VAE, the label concatenated to both
//! networks' inputs). The MLP takes the label with the pixels; the conv
//! encoder joins it to the flattened features, where the image becomes a
//! vector.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::conv::{ConvDecoder, ConvEncoder, feature_map};
use super::init::Init;
use super::layers::dense;
use super::{Activation, VaeConfig};
use crate::{Error, Result};

/// The network family of encoder and decoder; `arch` in config files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Fully connected layers of widths `hidden` (pytorch/examples' VAE).
    #[default]
    Mlp,
    /// Stride-2 4x4 convolutions with `channels` filters per layer.
    Conv,
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arch::Mlp => "mlp",
            Arch::Conv => "conv",
        })
    }
}

impl std::str::FromStr for Arch {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mlp" => Ok(Arch::Mlp),
            "conv" => Ok(Arch::Conv),
            _ => Err(Error::invalid(format!(
                "unknown architecture '{s}' (expected mlp or conv)"
            ))),
        }
    }
}

/// The encoder body. (Tensor names leave the variant out, so an MLP's
/// layers stay `encoder.0.weight`, ...; see `train::checkpoint`.)
#[derive(Module, Debug)]
pub enum Encoder {
    /// Hidden layers, input side first (none: the heads read the pixels).
    Mlp(Vec<Linear>),
    /// Convolutions and a flatten.
    Conv(ConvEncoder),
}

impl Encoder {
    /// Features `[batch, features]` of input rows `x: [batch, dim + classes]`
    /// (the last `classes` columns a one-hot label, none when 0).
    pub fn forward(&self, x: Tensor<2>, classes: usize, activation: Activation) -> Tensor<2> {
        match self {
            Encoder::Mlp(layers) => layers
                .iter()
                .fold(x, |h, layer| dense(layer, h, Some(activation))),
            Encoder::Conv(conv) => {
                let (pixels, label) = split_label(x, classes);
                let features = conv.forward(pixels, activation); // [batch, features]
                with_label(features, label) // [batch, features + classes]
            }
        }
    }
}

/// The decoder body; `output` beside it is the MLP's last layer.
// One per model: the variants' size difference costs nothing (and burn's
// Module derive does not take a Box).
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Decoder {
    /// Hidden layers, code side first.
    Mlp(Vec<Linear>),
    /// Projection and transposed convolutions (its last layer is the output).
    Conv(ConvDecoder),
}

impl Decoder {
    /// Outputs `[batch, dim]` (logits or Gaussian means) for codes `z:
    /// [batch, latent + classes]`; `output` is the MLP's output layer.
    pub fn forward(
        &self,
        z: Tensor<2>,
        output: Option<&Linear>,
        activation: Activation,
    ) -> Tensor<2> {
        match self {
            Decoder::Mlp(layers) => {
                let h = layers
                    .iter()
                    .fold(z, |h, layer| dense(layer, h, Some(activation)));
                match output {
                    Some(out) => dense(out, h, None),
                    None => h,
                }
            }
            Decoder::Conv(conv) => conv.forward(z, activation),
        }
    }
}

/// `x: [batch, dim + classes]` → (pixels `[batch, dim]`, one-hot label
/// `[batch, classes]`, or `None` when `classes` is 0).
pub fn split_label(x: Tensor<2>, classes: usize) -> (Tensor<2>, Option<Tensor<2>>) {
    if classes == 0 {
        return (x, None);
    }
    let width = x.dims()[1];
    let dim = width.saturating_sub(classes);
    (x.clone().narrow(1, 0, dim), Some(x.narrow(1, dim, classes)))
}

/// `t: [batch, n]` with the label appended: `[batch, n + classes]`.
pub fn with_label(t: Tensor<2>, label: Option<Tensor<2>>) -> Tensor<2> {
    match label {
        Some(y) => Tensor::cat(vec![t, y], 1),
        None => t,
    }
}

/// Rows of `dim` pixels with a one-hot label of `classes` entries appended
/// (the input layout of a conditional model); `classes` = 0 returns the
/// pixels as they are. Labels at or above `classes` are an error.
pub fn append_one_hot(
    pixels: &[f32],
    dim: usize,
    labels: &[u8],
    classes: usize,
) -> Result<Vec<f32>> {
    if classes == 0 {
        return Ok(pixels.to_vec());
    }
    if let Some(&bad) = labels.iter().find(|&&l| usize::from(l) >= classes) {
        return Err(Error::invalid(format!(
            "label {bad} is outside the model's {classes} classes (0..={})",
            classes - 1
        )));
    }
    let mut out = Vec::with_capacity(labels.len() * (dim + classes));
    for (row, &l) in pixels.chunks(dim.max(1)).zip(labels) {
        out.extend_from_slice(row);
        out.extend((0..classes).map(|c| if c == usize::from(l) { 1.0 } else { 0.0 }));
    }
    Ok(out)
}

/// Filters per conv layer where the config names none.
pub const DEFAULT_CHANNELS: [usize; 2] = [32, 64];

impl VaeConfig {
    /// Classes of the label input: `classes` for a conditional model, else 0.
    pub fn label_classes(&self) -> usize {
        if self.conditional { self.classes } else { 0 }
    }

    /// The image shape a conv model is built for (height, width, channels);
    /// a stand-in of the right size where none is recorded yet (`validate`
    /// rejects that before any model is used).
    fn conv_shape(&self) -> [usize; 3] {
        let (h, w, c) = self.shape.unwrap_or((self.input_dim, 1, 1));
        [h, w, c]
    }

    /// The conv filters per layer: `channels`, or [`DEFAULT_CHANNELS`].
    pub fn conv_channels(&self) -> Vec<usize> {
        if self.channels.is_empty() {
            DEFAULT_CHANNELS.to_vec()
        } else {
            self.channels.clone()
        }
    }

    /// The encoder body and the width of the features its heads read (the
    /// label included).
    pub(crate) fn build_encoder(&self, init: &mut Init) -> (Encoder, usize) {
        let classes = self.label_classes();
        match self.arch {
            Arch::Mlp => {
                let sizes: Vec<usize> = std::iter::once(self.input_dim + classes)
                    .chain(self.hidden.iter().copied())
                    .collect();
                let layers = sizes.windows(2).map(|w| init.linear(w[0], w[1])).collect();
                (Encoder::Mlp(layers), sizes[sizes.len() - 1])
            }
            Arch::Conv => {
                let channels = self.conv_channels();
                let (conv, features) = ConvEncoder::new(self.conv_shape(), &channels, init);
                (Encoder::Conv(conv), features + classes)
            }
        }
    }

    /// The decoder body and (MLP only) its output layer, for codes of
    /// `latent` dimensions plus the label.
    pub(crate) fn build_decoder(&self, init: &mut Init) -> (Decoder, Option<Linear>) {
        let code = self.latent + self.label_classes();
        match self.arch {
            Arch::Mlp => {
                let sizes: Vec<usize> = std::iter::once(code)
                    .chain(self.hidden.iter().rev().copied())
                    .collect();
                let layers = sizes.windows(2).map(|w| init.linear(w[0], w[1])).collect();
                let output = init.linear(sizes[sizes.len() - 1], self.input_dim);
                (Decoder::Mlp(layers), Some(output))
            }
            Arch::Conv => {
                let conv = ConvDecoder::new(code, self.conv_shape(), &self.conv_channels(), init);
                (Decoder::Conv(conv), None)
            }
        }
    }

    /// Checks the architecture fields: a conv model needs a recorded image
    /// shape that matches `input_dim` and divides by its strides; a
    /// conditional one two classes or more (0: from the data).
    pub(crate) fn validate_arch(&self) -> Result<()> {
        if self.arch == Arch::Mlp && !self.channels.is_empty() {
            return Err(Error::invalid(format!(
                "conv channels {:?} apply to the conv architecture only (add --arch conv)",
                self.channels
            )));
        }
        if self.arch == Arch::Conv && self.input_dim > 0 {
            let shape = self.shape.ok_or_else(|| {
                Error::invalid("a conv model needs the image shape ([model] shape = [height, width, channels])")
            })?;
            let values = shape
                .0
                .checked_mul(shape.1)
                .and_then(|v| v.checked_mul(shape.2));
            if values != Some(self.input_dim) {
                return Err(Error::invalid(format!(
                    "[model] shape {shape:?} does not hold input_dim = {} values",
                    self.input_dim
                )));
            }
            feature_map(shape, &self.conv_channels())?;
        }
        if self.conditional && self.classes == 1 {
            return Err(Error::invalid(format!(
                "a conditional model needs at least 2 classes, got {}",
                self.classes
            )));
        }
        Ok(())
    }
}

/// The input rows a model reads for `set`: its prepared `pixels` (`[n,
/// dim]`), followed by each image's one-hot label when `classes` > 0.
/// Returns the rows and their width. A conditional model on unlabelled data
/// is an error.
pub fn model_inputs(
    set: &crate::data::ImageSet,
    pixels: Vec<f32>,
    classes: usize,
) -> Result<(Vec<f32>, usize)> {
    let dim = set.dim();
    if classes == 0 {
        return Ok((pixels, dim));
    }
    let labels = set.labels.as_ref().ok_or_else(|| {
        Error::invalid("the model is conditional on class labels, but these images have none")
    })?;
    Ok((
        append_one_hot(&pixels, dim, labels, classes)?,
        dim + classes,
    ))
}
