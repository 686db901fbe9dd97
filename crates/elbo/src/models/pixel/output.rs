//! The per-pixel output distributions: a Bernoulli for binary images and a
//! 256-way softmax over intensities for 8-bit images (one per colour).

use burn::tensor::activation::{log_softmax, sigmoid, softmax};
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// The conditional distribution of one pixel colour given the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelOutput {
    /// One logit per colour: p(x = 1) = σ(logit); data must be 0/1.
    Bernoulli,
    /// 256 logits per colour over the intensities 0..=255 (x = k/255).
    Categorical,
}

impl PixelOutput {
    /// Logits per colour: 1 or 256.
    pub fn classes(self) -> usize {
        match self {
            PixelOutput::Bernoulli => 1,
            PixelOutput::Categorical => 256,
        }
    }

    /// The intensity index of a `[0, 1]` value: round(255·x).
    pub fn level(x: f32) -> usize {
        (x.clamp(0.0, 1.0) * 255.0).round() as usize
    }

    /// −log p(x) per image for logits `[batch, colors·classes, H, W]` and
    /// images `x: [batch, colors, H, W]`: `[batch]` nats. The exact NLL of
    /// the autoregressive model: Σ over pixels and colours of
    /// −log p(x_i | x_<i) (PixelRNN paper eq. 1-2).
    pub fn nll(self, logits: Tensor<4>, x: Tensor<4>) -> Tensor<1> {
        match self {
            PixelOutput::Bernoulli => {
                let [b, c, h, w] = x.dims();
                let l = logits.reshape([b, c * h * w]); // [batch, C·H·W]
                crate::models::vae::bce_with_logits(l, x.reshape([b, c * h * w]))
            }
            PixelOutput::Categorical => {
                let [b, ..] = x.dims();
                self.log_probs(logits, x)
                    .reshape([b as i64, -1])
                    .sum_dim(1)
                    .neg()
                    .squeeze_dim(1)
            }
        }
    }

    /// log p(x_i | x_<i) for every pixel colour: `[batch, colors, H, W]`.
    pub fn log_probs(self, logits: Tensor<4>, x: Tensor<4>) -> Tensor<4> {
        match self {
            PixelOutput::Bernoulli => {
                // x·l − softplus(l), with softplus(l) = max(l, 0) + log(1 + e^−|l|).
                let softplus =
                    logits.clone().clamp_min(0.0) + logits.clone().abs().neg().exp().log1p();
                x * logits - softplus
            }
            PixelOutput::Categorical => {
                let [b, c, h, w] = x.dims();
                let levels: Vec<i64> = x
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .unwrap_or_default()
                    .iter()
                    .map(|&v| Self::level(v) as i64)
                    .collect();
                let device = logits.device();
                let idx =
                    Tensor::<5, Int>::from_data(TensorData::new(levels, [b, c, 1, h, w]), &device);
                let l = logits.reshape([b, c, 256, h, w]); // [batch, colors, 256, H, W]
                log_softmax(l, 2).gather(2, idx).reshape([b, c, h, w])
            }
        }
    }

    /// The mean of each pixel colour's distribution for logits `[batch,
    /// colors·classes, H, W]`: P(x = 1) = σ(l) for a Bernoulli, Σ_k p_k·k/255
    /// for the 256-way softmax: `[batch, colors, H, W]`.
    pub fn means(self, logits: Tensor<4>) -> Tensor<4> {
        match self {
            PixelOutput::Bernoulli => sigmoid(logits),
            PixelOutput::Categorical => {
                let [b, ck, h, w] = logits.dims();
                let c = ck / 256;
                let device = logits.device();
                let levels: Vec<f32> = (0..256).map(|k| k as f32 / 255.0).collect();
                let levels =
                    Tensor::<5>::from_data(TensorData::new(levels, [1, 1, 256, 1, 1]), &device);
                let p = softmax(logits.reshape([b, c, 256, h, w]), 2); // [batch, colors, 256, H, W]
                (p * levels).sum_dim(2).reshape([b, c, h, w]) // [batch, colors, H, W]
            }
        }
    }

    /// Draws one value from the logits of one pixel colour (`classes()`
    /// values) with the uniform `u` ∈ [0, 1) by inverting the CDF.
    pub fn draw(self, logits: &[f32], u: f32) -> f32 {
        match self {
            PixelOutput::Bernoulli => {
                let p = 1.0 / (1.0 + (-logits[0]).exp());
                if u < p { 1.0 } else { 0.0 }
            }
            PixelOutput::Categorical => {
                let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let total: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
                let target = u * total;
                let mut acc = 0.0;
                for (k, &l) in logits.iter().enumerate() {
                    acc += (l - max).exp();
                    if target < acc {
                        return k as f32 / 255.0;
                    }
                }
                1.0
            }
        }
    }
}

impl std::fmt::Display for PixelOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PixelOutput::Bernoulli => "bernoulli",
            PixelOutput::Categorical => "categorical",
        })
    }
}

impl std::str::FromStr for PixelOutput {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "bernoulli" => Ok(PixelOutput::Bernoulli),
            "categorical" | "softmax" | "256" => Ok(PixelOutput::Categorical),
            _ => Err(crate::Error::invalid(format!(
                "unknown pixel output {s:?}: expected bernoulli or categorical"
            ))),
        }
    }
}
