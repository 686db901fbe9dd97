//! PixelRNN's Diagonal BiLSTM (van den Oord, Kalchbrenner, Kavukcuoglu
//! 2016, "Pixel Recurrent Neural Networks", §3.2): an LSTM that sweeps the
//! image along its diagonals, in two directions, so that every pixel's state
//! sees the whole context above and to the left (and, through the second
//! direction shifted down one row, everything in the rows above).
//!
//! One layer, for each direction (Fig. 3 of the paper, right):
//! 1. skew the input map: row i moves right by i positions, so the diagonal
//!    (i, k − i) of the image becomes column k of a `H × (W + H − 1)` map;
//! 2. input-to-state: a 1×1 mask-B convolution (§3.4);
//! 3. state-to-state: column by column, a 2×1 convolution of the previous
//!    column's h. In image coordinates, the state at (i, j) reads the states
//!    at (i − 1, j) (above) and (i, j − 1) (left);
//! 4. the LSTM gates as in eq. 3 (`kernels::lstm::lstm_cell_joined`, both
//!    directions in one node), then unskew.
//!
//! Steps 2 and 3 are one matmul per column, for both directions at once
//! and only over the rows that hold pixels at that column
//! (`DiagonalBiLstmLayer::sweeps`): at these sizes the cost of a step is in
//! the number of tensor ops and the bytes they copy, not in FLOPs.
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
use burn::tensor::Tensor;

use super::PixelConfig;
use super::gated::shift_down;
use super::masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
use super::recurrent::{PixelRnn, PixelRnnLayer, split_rows};
use crate::kernels::lstm::lstm_cell_joined;

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

/// The rows (first, last) of column k of the skewed map that hold pixels:
/// row i holds pixel (i, k − i) for 0 ≤ k − i < W. Maps have at least one
/// row and one column.
fn inside_rows(k: usize, rows: usize, w: usize) -> (usize, usize) {
    debug_assert!(rows >= 1 && w >= 1, "an empty map has no diagonals");
    (k.saturating_sub(w - 1), k.min(rows - 1))
}

/// Rows `from..=to` (either may be −1) of a map `t: [2, h, b, m]` that
/// holds rows `lo..=hi`, zero outside them: `[2, h, b, to + 1 − from]`.
fn window(t: Tensor<4>, (lo, hi): (usize, usize), from: isize, to: isize) -> Tensor<4> {
    let [d, ch, b, _] = t.dims();
    let zeros = |n: isize| Tensor::<4>::zeros([d, ch, b, n as usize], &t.device());
    let (start, end) = (from.max(lo as isize), to.min(hi as isize));
    let mut parts = Vec::with_capacity(3);
    if start > from {
        parts.push(zeros((start - from).min(to + 1 - from)));
    }
    if end >= start {
        let len = (end - start + 1) as usize;
        parts.push(t.clone().narrow(3, start as usize - lo, len));
    }
    if to > end.max(start - 1) {
        parts.push(zeros(to - end.max(start - 1)));
    }
    if parts.len() == 1 {
        return parts.remove(0);
    }
    Tensor::cat(parts, 3)
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

    /// Both kernels and both biases as one matrix `[4h, 3h + 1]` over
    /// [input (h), 1, state of the row above (h), state of the same row (h)]:
    /// the 1×1 input-to-state kernel with its mask applied, the summed
    /// biases, and the 2×1 state-to-state kernel's two taps.
    fn matrix(&self) -> Tensor<2> {
        let [o, c, taps, _] = self.state_to_state.weight.dims();
        let input = self.input_to_state.masked_weight().reshape([o, c]); // [4h, h]
        let bias =
            (self.input_to_state.bias.val() + self.state_to_state.bias.val()).reshape([o, 1]); // [4h, 1]
        let state = self
            .state_to_state
            .weight
            .val()
            .reshape([o, c, taps]) // [4h, h, 2]
            .swap_dims(1, 2) // [4h, 2, h]
            .reshape([o, taps * c]); // [4h, 2h]: tap 0 (above), then tap 1
        Tensor::cat(vec![input, bias, state], 1) // [4h, 3h + 1]
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

impl PixelRnnLayer for DiagonalBiLstmLayer {
    fn build(config: &PixelConfig, init: &mut ParamInit) -> Self {
        DiagonalBiLstmLayer {
            left: DiagonalLstm::new(config, init),
            right: DiagonalLstm::new(config, init),
        }
    }

    /// `[batch, h, H, W] → [batch, h, H, W]`: input + left + right shifted
    /// down one row (§3.2 and the residual connection of §3.5).
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b = x.dims()[0];
        let both = self.sweeps(x.clone()); // [2b, h, H, W]: left, then right mirrored
        let left = both.clone().narrow(0, 0, b);
        let right = both.narrow(0, b, b).flip([3]); // mirrored back
        x + left + shift_down(right)
    }
}

impl DiagonalBiLstmLayer {
    /// Both sweeps at once, the right one over the mirrored map: the hidden
    /// states `[2b, h, H, W]` (left sweep's images first).
    ///
    /// The two directions are one batch of two: per column of the skewed
    /// map, one batched matmul applies each direction's kernels (see
    /// [`DiagonalLstm::matrix`]) to [input, 1, row above, same row] and
    /// one fused LSTM cell updates both. Only the rows that hold pixels at
    /// column k are computed ([`inside_rows`]; the skewed map is half
    /// padding); the state of the others is zero, as at the image's border.
    /// The input enters column by column rather than through a 1×1
    /// convolution of the whole map: splitting the map into columns costs
    /// a pass over it per level (see [`split_rows`]), and the input has h
    /// channels where the convolution's output has 4h.
    fn sweeps(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, ch, rows, w] = x.dims();
        let device = x.device();
        let n = b * rows; // positions per column and direction
        let ones = Tensor::<4>::ones([2 * b, 1, rows, w], &device); // the biases' input
        let xs = Tensor::cat(vec![x.clone(), x.flip([3])], 0); // [2b, h, H, W]
        let xs = skew(Tensor::cat(vec![xs, ones], 1)); // [2b, h + 1, H, Ws]
        let cols = xs.dims()[3];
        let xs = xs
            .reshape([2, b, ch + 1, rows, cols]) // [2, b, h + 1, H, Ws]
            .permute([4, 0, 2, 1, 3]) // [Ws, 2, h + 1, b, H]
            .reshape([cols, 2, ch + 1, n]); // [Ws, 2, h + 1, b·H]
        let mut columns = Vec::with_capacity(cols);
        split_rows(xs, &mut columns); // each [1, 2, h + 1, b·H]
        let weights = Tensor::stack::<3>(vec![self.left.matrix(), self.right.matrix()], 0); // [2, 4h, 3h + 1]
        let mut state: Option<(Tensor<4>, Tensor<4>)> = None; // (h, c) of the previous column
        let mut out = Vec::with_capacity(cols);
        for (k, column) in columns.into_iter().enumerate() {
            let (lo, hi) = inside_rows(k, rows, w);
            let m = hi + 1 - lo;
            let input = column.reshape([2, ch + 1, b, rows]).narrow(3, lo, m); // [2, h + 1, b, m]
            let (above, same, c) = match state {
                None => {
                    let z = Tensor::<4>::zeros([2, ch, b, m], &device);
                    (z.clone(), z.clone(), z)
                }
                Some((h, c)) => {
                    let held = inside_rows(k - 1, rows, w);
                    let (lo, hi) = (lo as isize, hi as isize);
                    (
                        window(h.clone(), held, lo - 1, hi - 1),
                        window(h, held, lo, hi),
                        window(c, held, lo, hi),
                    )
                }
            }; // [2, h, b, m] each, rows lo..=hi
            let prev = Tensor::cat(vec![input, above, same], 1).reshape([2, 3 * ch + 1, b * m]); // [2, 3h + 1, b·m]
            let pre = weights.clone().matmul(prev).reshape([2, 4 * ch, b * m, 1]); // [2, 4h, b·m, 1]
            let hc = lstm_cell_joined(pre, c.reshape([2, ch, b * m, 1])) // [2, 2h, b·m, 1]
                .reshape([2, 2 * ch, b, m]); // [2, 2h, b, m]: h, then c
            let h = hc.clone().narrow(1, 0, ch); // [2, h, b, m]
            out.push(window(h.clone(), (lo, hi), 0, rows as isize - 1)); // [2, h, b, H]
            state = Some((h, hc.narrow(1, ch, ch)));
        }
        let out = Tensor::stack::<5>(out, 4) // [2, h, b, H, Ws]
            .swap_dims(1, 2) // [2, b, h, H, Ws]
            .reshape([2 * b, ch, rows, cols]); // [2b, h, H, Ws]
        unskew(out, w) // [2b, h, H, W]
    }
}

/// PixelRNN with Diagonal BiLSTM layers.
pub type DiagonalBiLstm = PixelRnn<DiagonalBiLstmLayer>;

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
