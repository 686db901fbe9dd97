//! PixelRNN's Row LSTM (van den Oord et al. 2016, "Pixel Recurrent Neural
//! Networks", §3.1): an LSTM that processes the image one row at a time.
//! Input-to-state is a masked 1×3 convolution of the current row (mask B,
//! computed for all rows at once); state-to-state is a 1×3 convolution of
//! the previous row's hidden state. So h at (i, j) sees a triangle of rows
//! above and, through the first 7×7 mask-A layer, the pixels to its left.
//!
//! [o, f, i, g] = σ/tanh(K_ss ⊛ h_{i−1} + K_is ⊛ x_i) (paper eq. 3; the
//! 4h pre-activation channels are stored in the order i, f, o, g),
//! c_i = f ⊙ c_{i−1} + i ⊙ g, h_i = o ⊙ tanh(c_i); layers are residual.

use burn::module::Module;
use burn::tensor::Tensor;

use super::PixelConfig;
use super::masked_conv::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
use super::recurrent::{PixelRnn, PixelRnnLayer, split_rows};

/// One Row LSTM layer on an h-channel map.
#[derive(Module, Debug)]
pub struct RowLstmLayer {
    /// Input-to-state: h → 4h, 1×3 mask B (gate blocks i, f, o, g).
    pub input_to_state: MaskedConv2d,
    /// State-to-state: h → 4h, 1×3 over the previous row.
    pub state_to_state: MaskedConv2d,
}

/// The gates of one row from its pre-activation `[b, 4h, 1, W]` and the
/// previous cell state `[b, h, 1, W]`: returns (h, c). One fused node
/// ([`crate::kernels::lstm`]); any spatial shape works, so other recurrent
/// layers call it too.
pub fn lstm_cell(pre: Tensor<4>, c_prev: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    crate::kernels::lstm::lstm_cell(pre, c_prev)
}

impl PixelRnnLayer for RowLstmLayer {
    fn build(config: &PixelConfig, init: &mut ParamInit) -> Self {
        let (h, colors) = (config.hidden, config.colors);
        let spec = MaskSpec::new(MaskType::B, (1, 3), h, 4 * h, colors).out_parts(4);
        RowLstmLayer {
            input_to_state: MaskedConv2d::masked(spec, init),
            state_to_state: MaskedConv2d::plain([4 * h, h, 1, 3], [(0, 0), (1, 1)], init),
        }
    }

    /// `[batch, h, H, W] → [batch, h, H, W]`, row by row, plus the input (residual).
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, ch, rows, w] = x.dims();
        let is = self.input_to_state.forward(x.clone()); // [b, 4h, H, W]
        // One slice per row, split by halving rather than one narrow per
        // row (each narrow's backward is a full-size pass: see split_rows).
        let mut input_rows = Vec::with_capacity(rows);
        split_rows(is.swap_dims(0, 2), &mut input_rows); // each [1, 4h, b, W]
        let device = x.device();
        let (mut h, mut c) = (
            Tensor::<4>::zeros([b, ch, 1, w], &device),
            Tensor::<4>::zeros([b, ch, 1, w], &device),
        );
        let mut out = Vec::with_capacity(rows);
        for row in input_rows {
            let pre = row.swap_dims(0, 2) + self.state_to_state.forward(h); // [b, 4h, 1, W]
            (h, c) = lstm_cell(pre, c);
            out.push(h.clone());
        }
        x + Tensor::cat(out, 2)
    }
}

/// PixelRNN with Row LSTM layers.
pub type RowLstm = PixelRnn<RowLstmLayer>;
