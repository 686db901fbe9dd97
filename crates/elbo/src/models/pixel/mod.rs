//! Autoregressive models with an exact likelihood: PixelCNN, Gated PixelCNN
//! and PixelRNN's Row LSTM and Diagonal BiLSTM. log P(x) = Σ_i log P(x_i | x_<i) over pixels in
//! raster order (and R, G, B within a pixel), each conditional computed in
//! one pass by masked (causal) layers.

pub mod data;
pub mod diagonal_bilstm;
mod fast;
mod fast_diagonal;
mod fast_models;
pub mod gated;
pub mod masked_conv;
pub mod output;
pub mod pixelcnn;
pub mod recurrent;
pub mod row_lstm;
pub mod sampler;

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use diagonal_bilstm::DiagonalBiLstm;
pub use gated::GatedPixelCnn;
pub use masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
pub use output::PixelOutput;
pub use pixelcnn::PixelCnn;
pub use recurrent::{PixelRnn, PixelRnnLayer};
pub use row_lstm::RowLstm;

use crate::{Error, Result};

/// Which autoregressive network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelKind {
    /// PixelCNN: masked convolutions with residual blocks.
    PixelCnn,
    /// Gated PixelCNN: vertical and horizontal stacks, optional class label.
    Gated,
    /// PixelRNN Row LSTM.
    RowLstm,
    /// PixelRNN Diagonal BiLSTM.
    DiagonalBiLstm,
}

impl PixelKind {
    /// The name on the command line and in `config.toml`.
    pub fn name(self) -> &'static str {
        match self {
            PixelKind::PixelCnn => "pixelcnn",
            PixelKind::Gated => "gated-pixelcnn",
            PixelKind::RowLstm | PixelKind::DiagonalBiLstm => "pixelrnn",
        }
    }

    /// The name with the recurrent layer of a PixelRNN (`pixelrnn
    /// diagonal-bilstm`); the Row LSTM, PixelRNN's default, is plain `pixelrnn`.
    pub fn label(self) -> String {
        match self {
            PixelKind::DiagonalBiLstm => {
                format!("{} {}", self.name(), RecurrentLayer::DiagonalBiLstm)
            }
            k => k.name().to_string(),
        }
    }
}

/// The recurrent layer of a PixelRNN (`--layer`, `[model] layer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecurrentLayer {
    /// Row LSTM (§3.1): one row at a time, a triangular context.
    RowLstm,
    /// Diagonal BiLSTM (§3.2): both diagonal sweeps.
    #[serde(rename = "diagonal-bilstm")]
    DiagonalBiLstm,
}

impl RecurrentLayer {
    /// The network kind this layer builds.
    pub fn kind(self) -> PixelKind {
        match self {
            RecurrentLayer::RowLstm => PixelKind::RowLstm,
            RecurrentLayer::DiagonalBiLstm => PixelKind::DiagonalBiLstm,
        }
    }
}

impl std::fmt::Display for RecurrentLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RecurrentLayer::RowLstm => "row-lstm",
            RecurrentLayer::DiagonalBiLstm => "diagonal-bilstm",
        })
    }
}

impl std::str::FromStr for RecurrentLayer {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "row-lstm" | "row" => Ok(RecurrentLayer::RowLstm),
            "diagonal-bilstm" | "diagonal" | "bilstm" => Ok(RecurrentLayer::DiagonalBiLstm),
            _ => Err(Error::invalid(format!(
                "unknown PixelRNN layer {s:?}: expected row-lstm or diagonal-bilstm"
            ))),
        }
    }
}

/// Sizes of an autoregressive model; saved as `[model]` in `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelConfig {
    /// Colours of the images: 1 or 3; 0 until resolved from the data.
    #[serde(default)]
    pub colors: usize,
    /// Feature maps h (PixelCNN's residual stream has 2h).
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// Residual blocks (PixelCNN), gated layers, or recurrent layers.
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// Kernel of the residual blocks (PixelCNN) or of both stacks (gated).
    #[serde(default = "default_kernel")]
    pub kernel: usize,
    /// Kernel of the first mask-A layer (PixelCNN, PixelRNN).
    #[serde(default = "default_first_kernel")]
    pub first_kernel: usize,
    /// Width of the hidden 1×1 output layer.
    #[serde(default = "default_output_hidden")]
    pub output_hidden: usize,
    /// The pixel distribution; unset means "from the data" (Bernoulli for
    /// binary pixels, else the 256-way softmax) until training resolves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<PixelOutput>,
    /// Number of class labels to condition on (gated only); 0 = unconditional.
    #[serde(default)]
    pub classes: usize,
    /// The recurrent layer (PixelRNN only); unset means the Row LSTM, as in
    /// configs written before the Diagonal BiLSTM existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<RecurrentLayer>,
}

fn default_hidden() -> usize {
    32
}
fn default_layers() -> usize {
    5
}
fn default_kernel() -> usize {
    3
}
fn default_first_kernel() -> usize {
    7
}
fn default_output_hidden() -> usize {
    64
}

impl PixelConfig {
    /// Default sizes; colours and output resolved from the data.
    pub fn new() -> Self {
        PixelConfig {
            colors: 0,
            hidden: default_hidden(),
            layers: default_layers(),
            kernel: default_kernel(),
            first_kernel: default_first_kernel(),
            output_hidden: default_output_hidden(),
            output: None,
            classes: 0,
            layer: None,
        }
    }

    /// The PixelRNN network of this config: its `layer`, the Row LSTM if unset.
    pub fn recurrent_kind(&self) -> PixelKind {
        self.layer.unwrap_or(RecurrentLayer::RowLstm).kind()
    }

    /// Rejects sizes that cannot build a causal network.
    pub fn validate(&self, kind: PixelKind) -> Result<()> {
        if !matches!(self.colors, 0 | 1 | 3) {
            return Err(Error::invalid(format!(
                "colors must be 1 or 3, got {}",
                self.colors
            )));
        }
        for (name, v) in [
            ("hidden", self.hidden),
            ("output_hidden", self.output_hidden),
        ] {
            if v == 0 || v > 4096 {
                return Err(Error::invalid(format!(
                    "{name} must be in 1..=4096, got {v}"
                )));
            }
        }
        if self.colors == 3 && self.hidden < 3 {
            return Err(Error::invalid(
                "RGB models need hidden >= 3 (one group per colour)",
            ));
        }
        for (name, k) in [("kernel", self.kernel), ("first_kernel", self.first_kernel)] {
            if k % 2 == 0 || k > 15 {
                return Err(Error::invalid(format!(
                    "{name} must be odd and at most 15, got {k}"
                )));
            }
        }
        if kind == PixelKind::Gated && self.kernel < 3 {
            return Err(Error::invalid("the gated PixelCNN needs kernel >= 3"));
        }
        if self.classes > 0 && kind != PixelKind::Gated {
            return Err(Error::invalid(format!(
                "class conditioning (classes = {}) is only available for gated-pixelcnn",
                self.classes
            )));
        }
        if let Some(layer) = self.layer
            && !matches!(kind, PixelKind::RowLstm | PixelKind::DiagonalBiLstm)
        {
            return Err(Error::invalid(format!(
                "layer = {layer} applies to pixelrnn only, not {}",
                kind.name()
            )));
        }
        if self.layers > 64 {
            return Err(Error::invalid(format!(
                "layers must be at most 64, got {}",
                self.layers
            )));
        }
        Ok(())
    }

    /// The resolved output distribution.
    pub fn output(&self) -> Result<PixelOutput> {
        self.output
            .ok_or_else(|| Error::invalid("the model's output distribution is not resolved"))
    }

    /// A freshly initialized network on `device`, weights from `seed` alone.
    pub fn init(&self, kind: PixelKind, device: &Device, seed: u64) -> Result<PixelNet> {
        if self.colors == 0 {
            return Err(Error::invalid(
                "the model's colours are not resolved from the data",
            ));
        }
        self.output()?;
        let mut init = ParamInit::new(seed, device);
        Ok(match kind {
            PixelKind::PixelCnn => PixelNet::PixelCnn(PixelCnn::new(self, &mut init)),
            PixelKind::Gated => PixelNet::Gated(GatedPixelCnn::new(self, &mut init)),
            PixelKind::RowLstm => PixelNet::RowLstm(RowLstm::new(self, &mut init)),
            PixelKind::DiagonalBiLstm => {
                PixelNet::DiagonalBiLstm(DiagonalBiLstm::new(self, &mut init))
            }
        })
    }
}

impl Default for PixelConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// ReLU → 1×1 mask B → ReLU → 1×1 mask B: features to logits.
#[derive(Module, Debug)]
pub struct OutputHead {
    /// features → output_hidden.
    pub hidden: MaskedConv2d,
    /// output_hidden → colours·classes.
    pub logits: MaskedConv2d,
    /// The pixel distribution.
    #[module(skip)]
    pub output: PixelOutput,
}

impl OutputHead {
    fn new(features: usize, config: &PixelConfig, init: &mut ParamInit) -> Self {
        let output = config.output.unwrap_or(PixelOutput::Bernoulli);
        let (c, oh) = (config.colors, config.output_hidden);
        let b = |i, o| MaskSpec::new(MaskType::B, (1, 1), i, o, c);
        OutputHead {
            hidden: MaskedConv2d::masked(b(features, oh), init),
            logits: MaskedConv2d::masked(b(oh, c * output.classes()), init),
            output,
        }
    }

    /// `[batch, features, H, W] → [batch, colours·classes, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.logits.forward(relu(self.hidden.forward(relu(x))))
    }
}

/// Any of the autoregressive networks.
#[derive(Module, Debug)]
pub enum PixelNet {
    /// PixelCNN.
    PixelCnn(PixelCnn),
    /// Gated PixelCNN.
    Gated(GatedPixelCnn),
    /// PixelRNN Row LSTM.
    RowLstm(RowLstm),
    /// PixelRNN Diagonal BiLSTM.
    DiagonalBiLstm(DiagonalBiLstm),
}

impl PixelNet {
    /// Logits `[batch, colours·classes, H, W]` for images `x: [batch,
    /// colours, H, W]` and, for a conditional model, one-hot `labels: [batch, classes]`.
    pub fn forward(&self, x: Tensor<4>, labels: Option<&Tensor<2>>) -> Tensor<4> {
        match self {
            PixelNet::PixelCnn(m) => m.forward(x),
            PixelNet::Gated(m) => m.forward(x, labels),
            PixelNet::RowLstm(m) => m.forward(x),
            PixelNet::DiagonalBiLstm(m) => m.forward(x),
        }
    }

    /// The pixel distribution.
    pub fn output(&self) -> PixelOutput {
        self.head().output
    }

    fn head(&self) -> &OutputHead {
        match self {
            PixelNet::PixelCnn(m) => &m.head,
            PixelNet::Gated(m) => &m.head,
            PixelNet::RowLstm(m) => &m.head,
            PixelNet::DiagonalBiLstm(m) => &m.head,
        }
    }

    /// Number of class labels the model is conditioned on (0: none).
    pub fn classes(&self) -> usize {
        match self {
            PixelNet::Gated(m) => m.layers[0].cond.as_ref().map_or(0, |c| c.dims()[0]),
            _ => 0,
        }
    }

    /// Colours of the images it models: 1 or 3.
    pub fn colors(&self) -> usize {
        self.head().logits.bias.val().dims()[0] / self.output().classes()
    }

    /// −log p(x) per image in nats: `[batch]`.
    pub fn nll(&self, x: Tensor<4>, labels: Option<&Tensor<2>>) -> Tensor<1> {
        self.output().nll(self.forward(x.clone(), labels), x)
    }

    /// The device of the weights.
    pub fn device(&self) -> Device {
        self.head().logits.bias.val().device()
    }
}

/// Images `[n, H, W, C]` (an `ImageSet`'s layout) as a `[n, C, H, W]` tensor.
pub fn to_nchw(pixels: &[f32], shape: [usize; 4], device: &Device) -> Tensor<4> {
    let t = Tensor::<4>::from_data(TensorData::new(pixels.to_vec(), shape), device); // [n, H, W, C]
    t.permute([0, 3, 1, 2]) // [n, C, H, W]
}

/// One-hot rows `[n, classes]` for `labels`; an error names a label out of range.
pub fn one_hot(labels: &[u8], classes: usize, device: &Device) -> Result<Tensor<2>> {
    let mut v = vec![0.0f32; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        if usize::from(l) >= classes {
            return Err(Error::invalid(format!(
                "label {l} is out of range: the model knows {classes} classes (0..{classes})"
            )));
        }
        v[i * classes + usize::from(l)] = 1.0;
    }
    Ok(Tensor::from_data(
        TensorData::new(v, [labels.len(), classes]),
        device,
    ))
}
