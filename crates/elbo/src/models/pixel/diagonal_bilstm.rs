//! PixelRNN's Diagonal BiLSTM (van den Oord, Kalchbrenner, Kavukcuoglu
//! 2016, "Pixel Recurrent Neural Networks", §3.2): an LSTM that sweeps the
//! image along its diagonals, in two directions, so that every pixel's state
//! sees the whole context above and to the left (and, through the second
//! direction shifted down one row, everything in the rows above).
//!
//! One layer, for each direction (Fig. 3 of the paper, right):
//! 1. skew the input map: row i moves right by i positions, so the diagonal
//!    (i, k − i) of the image becomes column k of a `H × (W + H − 1)` map;
//! 2. input-to-state: a 1×1 mask-B convolution (§3.4) of every position at
//!    once (computed before the skew: a 1×1 kernel commutes with it);
//! 3. state-to-state: column by column, a 2×1 convolution of the previous
//!    column's h. In image coordinates, the state at (i, j) reads the states
//!    at (i − 1, j) (above) and (i, j − 1) (left);
//! 4. the LSTM gates as in eq. 3 (`row_lstm::lstm_cell`), then unskew.
//!
//! The right direction is the same sweep over the left-right mirrored map,
//! mirrored back: its state at (i, j) reads (i − 1, j) and (i, j + 1), so it
//! sees the pixel (i, j) and later ones of row i. Its output is shifted down
//! one row before it is added to the left direction's (§3.2, "to prevent
//! the layer from seeing future pixels"), so the layer stays causal. Layers
//! are residual (§3.5): output = input + left + shift_down(right).
//!
//! One gap follows from the paper's construction: no feature at row i − 1
//! sees that row's last pixel (mask A: a position never sees its own
//! pixel), so the right sweep cannot carry it down, and the left sweep
//! only carries row i's features rightwards; at any depth, pixel (i, j)
//! sees (i − 1, W − 1) only through the first layer's k×k kernel
//! (j ≥ W − 1 − ⌊k/2⌋). The tests pin this down.
//!
//! Positions of the skewed map outside the image hold zero state (the
//! image's zero border), so the cached sampler can compute any position
//! from its two neighbours alone (`fast_diagonal.rs`).

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};

use super::gated::shift_down;
use super::masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
use super::row_lstm::lstm_cell;
use super::{OutputHead, PixelConfig};

/// Shifts row i of `[b, c, H, W]` right by i: `[b, c, H, W + H − 1]`,
/// zeros elsewhere, so that column k holds the diagonal i + j = k.
///
/// Done with reshapes instead of H slices: with rows padded to W + H, row
/// i starts at flat offset i·(W + H) = i·(W + H − 1) + i, so reading the
/// flat map in rows of W + H − 1 puts (i, j) at column i + j.
pub fn skew(t: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = t.dims();
    let ws = w + h - 1;
    let pad = Tensor::<4>::zeros([b, c, h, h], &t.device());
    Tensor::cat(vec![t, pad], 3) // [b, c, H, W + H]
        .reshape([b, c, h * (w + h)]) // [b, c, H·(W + H)]
        .narrow(2, 0, h * ws) // [b, c, H·(W + H − 1)]
        .reshape([b, c, h, ws]) // [b, c, H, W + H − 1]
}

/// The inverse of [`skew`]: `[b, c, H, W + H − 1] → [b, c, H, W]`, with
/// (i, j) read from column i + j.
pub fn unskew(t: Tensor<4>, w: usize) -> Tensor<4> {
    let [b, c, h, ws] = t.dims();
    let pad = Tensor::<3>::zeros([b, c, h], &t.device());
    let flat = t.reshape([b, c, h * ws]); // [b, c, H·(W + H − 1)]
    Tensor::cat(vec![flat, pad], 2) // [b, c, H·(W + H)]
        .reshape([b, c, h, ws + 1]) // [b, c, H, W + H]
        .narrow(3, 0, w) // [b, c, H, W]
}

/// `[1, 1, H, W + H − 1]`: 1 where column k of the skewed map holds a pixel
/// of row i (0 ≤ k − i < W), 0 on the padding.
fn inside(h: usize, w: usize, device: &burn::tensor::Device) -> Tensor<4> {
    let ws = w + h - 1;
    let v: Vec<f32> = (0..h * ws)
        .map(|p| {
            let (i, k) = (p / ws, p % ws);
            f32::from(u8::from(k >= i && k - i < w))
        })
        .collect();
    Tensor::from_data(TensorData::new(v, [1, 1, h, ws]), device)
}

/// One direction of a layer: an LSTM over the diagonals of an h-channel map.
#[derive(Module, Debug)]
pub struct DiagonalLstm {
    /// Input-to-state: h → 4h, 1×1 mask B (gate blocks i, f, o, g).
    pub input_to_state: MaskedConv2d,
    /// State-to-state: h → 4h, 2×1 over the previous column of the skewed
    /// map (kernel row 0 reads the row above, row 1 the same row).
    pub state_to_state: MaskedConv2d,
}

impl DiagonalLstm {
    fn new(config: &PixelConfig, init: &mut ParamInit) -> Self {
        let (h, colors) = (config.hidden, config.colors);
        let spec = MaskSpec::new(MaskType::B, (1, 1), h, 4 * h, colors).out_parts(4);
        DiagonalLstm {
            input_to_state: MaskedConv2d::masked(spec, init),
            // One row of padding on top: output row i reads rows i − 1 and i.
            state_to_state: MaskedConv2d::plain([4 * h, h, 2, 1], [(1, 0), (0, 0)], init),
        }
    }

    /// The hidden states `[batch, h, H, W]` of the sweep over `x: [batch, h, H, W]`
    /// (state (i, j) from (i − 1, j), (i, j − 1) and the input at (i, j)).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, ch, rows, w] = x.dims();
        let device = x.device();
        let is = skew(self.input_to_state.forward(x)); // [b, 4h, H, W + H − 1]
        let inside = inside(rows, w, &device); // [1, 1, H, W + H − 1]
        let (mut h, mut c) = (
            Tensor::<4>::zeros([b, ch, rows, 1], &device),
            Tensor::<4>::zeros([b, ch, rows, 1], &device),
        );
        let cols = is.dims()[3];
        let mut out = Vec::with_capacity(cols);
        for k in 0..cols {
            let pre = is.clone().narrow(3, k, 1) + self.state_to_state.forward(h); // [b, 4h, H, 1]
            (h, c) = lstm_cell(pre, c);
            // Zero state off the image, as at its border (the padding's
            // state would otherwise leak into column 0 of the next rows).
            let keep = inside.clone().narrow(3, k, 1); // [1, 1, H, 1]
            (h, c) = (h * keep.clone(), c * keep);
            out.push(h.clone());
        }
        unskew(Tensor::cat(out, 3), w) // [b, h, H, W]
    }
}

/// One Diagonal BiLSTM layer: both directions over an h-channel map.
#[derive(Module, Debug)]
pub struct DiagonalBiLstmLayer {
    /// The sweep from the top left.
    pub left: DiagonalLstm,
    /// The sweep from the top right (run on the mirrored map).
    pub right: DiagonalLstm,
}

impl DiagonalBiLstmLayer {
    fn new(config: &PixelConfig, init: &mut ParamInit) -> Self {
        DiagonalBiLstmLayer {
            left: DiagonalLstm::new(config, init),
            right: DiagonalLstm::new(config, init),
        }
    }

    /// `[batch, h, H, W] → [batch, h, H, W]`: input + left + right shifted
    /// down one row (§3.2 and the residual connection of §3.5).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let left = self.left.forward(x.clone());
        let right = self.right.forward(x.clone().flip([3])).flip([3]); // mirrored back
        x + left + shift_down(right)
    }
}

/// PixelRNN with Diagonal BiLSTM layers.
#[derive(Module, Debug)]
pub struct DiagonalBiLstm {
    /// colours → h, first_kernel² mask A.
    pub input: MaskedConv2d,
    /// The Diagonal BiLSTM layers.
    pub layers: Vec<DiagonalBiLstmLayer>,
    /// ReLU → 1×1 → ReLU → 1×1 to the logits.
    pub head: OutputHead,
}

impl DiagonalBiLstm {
    /// Builds the network of `config` (colours resolved).
    pub fn new(config: &PixelConfig, init: &mut ParamInit) -> Self {
        let (h, k, colors) = (config.hidden, config.first_kernel, config.colors);
        let input =
            MaskedConv2d::masked(MaskSpec::new(MaskType::A, (k, k), colors, h, colors), init);
        let layers = (0..config.layers)
            .map(|_| DiagonalBiLstmLayer::new(config, init))
            .collect();
        DiagonalBiLstm {
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

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32")
    }

    /// Column k of the skewed map holds the diagonal i + j = k, and unskew
    /// gives the map back, for a non-square map.
    #[test]
    fn skew_puts_diagonals_in_columns_and_unskew_inverts_it() {
        let device = Device::flex();
        let (h, w) = (3, 4);
        let v: Vec<f32> = (1..=h * w).map(|v| v as f32).collect();
        let t = Tensor::<4>::from_data(TensorData::new(v.clone(), [1, 1, h, w]), &device);
        let s = super::skew(t);
        assert_eq!(s.dims(), [1, 1, h, w + h - 1]);
        let sv = values(s.clone());
        for i in 0..h {
            for k in 0..w + h - 1 {
                let want = if k >= i && k - i < w {
                    v[i * w + k - i]
                } else {
                    0.0
                };
                assert_eq!(sv[i * (w + h - 1) + k], want, "({i}, {k})");
            }
        }
        assert_eq!(values(super::unskew(s, w)), v);
    }
}
