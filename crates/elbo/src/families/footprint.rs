//! What a resolved config needs in memory to train: its weights with their
//! gradients and Adam's two moments (4 copies), and one batch's activations
//! forward and backward, estimated with checked arithmetic from the sizes in
//! the config and compared with the memory limit before any tensor is
//! built (see [`crate::memory`]). The estimates err on the high side by a
//! small factor; they exist to turn a size that cannot fit into a clear
//! error, not to predict peak memory.

use super::config::{ModelConfig, RunConfig};
use crate::Result;
use crate::memory::{self, Bytes, F32};
use crate::mixture::CovarianceType;
use crate::models::pixel::{PixelConfig, RecurrentLayer};
use crate::models::{Arch, VaeConfig};

/// Copies of every weight held while training: value, gradient, Adam's m and v.
const WEIGHT_COPIES: u64 = 4;
/// Copies of every activation: the value, its gradient, and a pre-activation.
const ACTIVATION_COPIES: u64 = 3;

/// Checks that training `config` (resolved against data of `images`
/// training images) fits in memory; the error names the flags and keys
/// that set the model's size.
pub(crate) fn check_model(config: &RunConfig, images: usize) -> Result<()> {
    let batch = config.train.batch_size;
    let (need, knobs) = match &config.model {
        ModelConfig::Vae(c) | ModelConfig::Ae(c) => (
            vae(c, batch.saturating_mul(config.train.iwae_samples.max(1))),
            "--hidden, --latent, --channels or --iwae-samples \
             ([model] hidden, latent, channels, [train] iwae_samples)",
        ),
        ModelConfig::Nade(c) => (
            nade(c.input_dim, c.hidden, batch),
            "--hidden ([model] hidden)",
        ),
        ModelConfig::PixelCnn(c) | ModelConfig::GatedPixelCnn(c) | ModelConfig::PixelRnn(c) => (
            pixel(c, config.data.shape.unwrap_or((1, 1, 1)), batch),
            "--hidden, --layers or --output-hidden ([model] hidden, layers, output_hidden)",
        ),
        ModelConfig::Gmm(c) => {
            let dim = config
                .data
                .shape
                .map_or(0, |(h, w, ch)| h.saturating_mul(w).saturating_mul(ch));
            let d = c.pca.map_or(dim, |p| p.min(dim));
            (
                gmm(c.components, d, c.covariance, images, dim),
                "--components ([model] components) or --pca",
            )
        }
        ModelConfig::BernoulliMixture(c) => {
            let dim = config
                .data
                .shape
                .map_or(0, |(h, w, ch)| h.saturating_mul(w).saturating_mul(ch));
            (
                mixture_bytes(c.components, dim, images),
                "--components ([model] components)",
            )
        }
    };
    let parts = match &config.model {
        ModelConfig::Gmm(_) | ModelConfig::BernoulliMixture(_) => {
            format!("parameters and responsibilities for {images} images")
        }
        _ => format!("weights, Adam state and a batch of {batch}"),
    };
    memory::check(
        &format!("training the {} model ({parts})", config.model.kind()),
        knobs,
        need,
    )
}

/// Weights of a dense layer `a → b`: `(a + 1) · b` values.
fn dense(a: usize, b: usize) -> Bytes {
    Bytes::of(&[a.saturating_add(1), b], 1)
}

/// A VAE or autoencoder: the MLP (or conv) encoder to mean and log-variance,
/// the decoder back to the input, and `rows` rows of activations.
fn vae(c: &VaeConfig, rows: usize) -> Bytes {
    let input = c.input_dim.saturating_add(c.classes);
    let code = c.latent.saturating_add(c.classes);
    let (params, widths) = match c.arch {
        Arch::Mlp => {
            let enc: Vec<usize> = std::iter::once(input)
                .chain(c.hidden.iter().copied())
                .collect();
            let dec: Vec<usize> = std::iter::once(code)
                .chain(c.hidden.iter().rev().copied())
                .chain(std::iter::once(c.input_dim))
                .collect();
            let last = enc.last().copied().unwrap_or(input);
            let mut params = dense(last, c.latent).times(2);
            let mut widths = Bytes::of(&[c.latent], 2);
            for w in enc.windows(2).chain(dec.windows(2)) {
                params = params.plus(dense(w[0], w[1]));
            }
            for &w in enc.iter().chain(&dec) {
                widths = widths.plus(Bytes(Some(w as u64)));
            }
            (params, widths)
        }
        Arch::Conv => conv(c, input),
    };
    params
        .times(F32 * WEIGHT_COPIES)
        .plus(widths.times(rows as u64).times(F32 * ACTIVATION_COPIES))
}

/// The conv networks: 4x4 kernels between the channel counts (both ways),
/// activations bounded by the input size times the sum of the channels.
fn conv(c: &VaeConfig, input: usize) -> (Bytes, Bytes) {
    let channels = c.conv_channels();
    let mut params = dense(input, c.latent).times(2);
    let mut sum = 0u64;
    let mut prev = c.shape.map_or(1, |s| s.2);
    for &ch in &channels {
        params = params.plus(Bytes::of(&[prev, ch, 16], 1).times(2));
        sum = sum.saturating_add(ch as u64);
        prev = ch;
    }
    (params, Bytes(Some(input as u64)).times(sum.max(1)))
}

/// NADE: `W` and `V` of `hidden x dim`, the biases, and a batch of hidden
/// pre-activations per pixel block.
fn nade(dim: usize, hidden: usize, batch: usize) -> Bytes {
    let params = Bytes::of(&[dim, hidden], 2).plus(Bytes::of(&[dim.saturating_add(hidden)], 1));
    params.times(F32 * WEIGHT_COPIES).plus(Bytes::of(
        &[batch, dim.saturating_add(hidden)],
        F32 * ACTIVATION_COPIES,
    ))
}

/// The pixel models: `layers` maps of `hidden` channels at full resolution
/// per image, `kernel²·hidden²` weights per layer, and the output head.
fn pixel(c: &PixelConfig, (h, w, ch): (usize, usize, usize), batch: usize) -> Bytes {
    let k2 = c.kernel.max(c.first_kernel).saturating_pow(2);
    let params =
        Bytes::of(&[c.layers.saturating_add(1), c.hidden, c.hidden, k2], 2).plus(Bytes::of(
            &[
                c.output_hidden,
                c.hidden.saturating_add(ch.saturating_mul(256)),
            ],
            1,
        ));
    // The Diagonal BiLSTM keeps about 4× a Row LSTM layer's maps: two
    // sweeps, each over a skewed map W + H − 1 wide.
    let per_layer = if c.layer == Some(RecurrentLayer::DiagonalBiLstm) {
        16
    } else {
        4
    };
    let maps = c
        .hidden
        .saturating_mul(c.layers.saturating_add(1))
        .saturating_mul(per_layer)
        .saturating_add(c.output_hidden)
        .saturating_add(ch.saturating_mul(256));
    params
        .times(F32 * WEIGHT_COPIES)
        .plus(Bytes::of(&[batch, h, w, maps], F32 * ACTIVATION_COPIES))
}

/// A Gaussian mixture by EM: the components' covariances in `f64`, the
/// responsibilities and the data (projected to `d` dimensions) in `f64`.
fn gmm(k: usize, d: usize, cov: CovarianceType, n: usize, dim: usize) -> Bytes {
    let covariances = match cov {
        CovarianceType::Full => Bytes::of(&[k, d, d], 8),
        CovarianceType::Tied => Bytes::of(&[d, d], 8),
        CovarianceType::Diag | CovarianceType::Spherical => Bytes::of(&[k, d], 8),
    };
    covariances
        .times(2)
        .plus(mixture_bytes(k, d, n))
        .plus(Bytes::of(&[n, dim], 8))
}

/// Means (`k x d`) and responsibilities (`n x k`) in `f64`, twice over.
fn mixture_bytes(k: usize, d: usize, n: usize) -> Bytes {
    Bytes::of(&[k, d], 8).plus(Bytes::of(&[n, k], 8)).times(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_vae_on_mnist_needs_megabytes_and_huge_widths_overflow() {
        let c = VaeConfig::new(784);
        let small = vae(&c, 100).0.unwrap();
        assert!((1 << 20..1 << 30).contains(&small), "{small}");
        let mut huge = c.clone();
        huge.hidden = vec![usize::MAX];
        assert_eq!(vae(&huge, 100).0, None);
        huge.hidden = vec![1_000_000_000];
        assert!(vae(&huge, 100).0.unwrap() > 1 << 40);
        let mut wide = c.clone();
        wide.latent = usize::MAX; // found by the config.toml fuzzer: an overflow panic
        assert_eq!(vae(&wide, 100).0, None);
    }

    #[test]
    fn nade_grows_with_hidden_times_dim() {
        let a = nade(784, 500, 100).0.unwrap();
        let b = nade(784, 5000, 100).0.unwrap();
        assert!(b > 9 * a && a > 784 * 500 * 8, "{a} {b}");
    }
}
