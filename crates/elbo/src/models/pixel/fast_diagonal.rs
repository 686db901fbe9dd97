//! The cached generation step of the Diagonal BiLSTM (see `fast.rs` and
//! `diagonal_bilstm.rs`).
//!
//! The left sweep's state at (i, j) reads the states at (i − 1, j) and
//! (i, j − 1): both are cached when pixel (i, j) is drawn, so it is
//! computed in raster order with the pixel. The right sweep's state at
//! (i, j) reads (i, j + 1), a later pixel of the same row; the network only
//! uses it one row down, so the whole of row i is swept right to left when
//! row i + 1 begins, from the layer inputs cached along row i (complete by
//! then: a feature never depends on the last colour of its own pixel).

use super::diagonal_bilstm::{DiagonalBiLstm, DiagonalLstm};
use super::fast::{HostConv, Stepper, sigmoid};
use super::fast_models::Head;
use crate::Result;

/// One direction's host weights: input-to-state (1×1) and state-to-state
/// (2×1: tap 0 reads the row above, tap 1 the previous position in the sweep).
pub(super) struct HostSweep {
    input_to_state: HostConv,
    state_to_state: HostConv,
}

impl HostSweep {
    fn new(d: &DiagonalLstm) -> Result<Self> {
        Ok(HostSweep {
            input_to_state: HostConv::new(&d.input_to_state, None)?,
            state_to_state: HostConv::new(&d.state_to_state, None)?,
        })
    }

    /// The LSTM step at one position (paper eq. 3, gate blocks i, f, o, g as
    /// in `row_lstm::lstm_cell`): from the input `x`, the state `above`
    /// and the state `before` in the sweep (`None` off the image), writes
    /// the new `h` and `c`.
    fn step(
        &self,
        x: &[f32],
        above: Option<&[f32]>,
        before: Option<(&[f32], &[f32])>,
        h: &mut [f32],
        c: &mut [f32],
    ) {
        let ch = h.len();
        let (mut pre, mut rec) = (vec![0.0; 4 * ch], vec![0.0; 4 * ch]);
        self.input_to_state.point(x, &mut pre);
        let zeros = vec![0.0; ch];
        self.state_to_state.point(above.unwrap_or(&zeros), &mut rec);
        let (h_before, c_before) = before.unwrap_or((&zeros, &zeros));
        self.state_to_state.accumulate(1, h_before, &mut rec);
        for o in 0..ch {
            let p = |k: usize| pre[k * ch + o] + rec[k * ch + o];
            c[o] = sigmoid(p(1)) * c_before[o] + sigmoid(p(0)) * p(3).tanh();
            h[o] = sigmoid(p(2)) * c[o].tanh();
        }
    }
}

/// Host copies of a Diagonal BiLSTM's weights for `h × w` images.
pub(super) struct DiagonalWeights {
    h: usize,
    w: usize,
    input: HostConv,
    /// Per layer: (left, right).
    layers: Vec<(HostSweep, HostSweep)>,
    head: Head,
}

/// The host weights of `m` for `height × width` images.
pub(super) fn weights(m: &DiagonalBiLstm, height: usize, width: usize) -> Result<DiagonalWeights> {
    Ok(DiagonalWeights {
        h: height,
        w: width,
        input: HostConv::new(&m.input, None)?,
        layers: m
            .layers
            .iter()
            .map(|l| Ok((HostSweep::new(&l.left)?, HostSweep::new(&l.right)?)))
            .collect::<Result<_>>()?,
        head: Head::new(&m.head)?,
    })
}

/// The (h, c) maps of one direction of one layer, `[H][W][ch]` each.
struct State {
    h: Vec<f32>,
    c: Vec<f32>,
}

/// One image's caches: per layer its input map and both sweeps' states.
pub(super) struct DiagonalStepper<'a> {
    w: &'a DiagonalWeights,
    inputs: Vec<Vec<f32>>,
    left: Vec<State>,
    right: Vec<State>,
    hid: Vec<f32>,
    out: Vec<f32>,
}

impl<'a> DiagonalStepper<'a> {
    pub fn new(w: &'a DiagonalWeights) -> Self {
        let n = w.h * w.w * w.input.out_ch();
        let states = || {
            w.layers
                .iter()
                .map(|_| State {
                    h: vec![0.0; n],
                    c: vec![0.0; n],
                })
                .collect::<Vec<_>>()
        };
        DiagonalStepper {
            w,
            inputs: w.layers.iter().map(|_| vec![0.0; n]).collect(),
            left: states(),
            right: states(),
            hid: vec![],
            out: vec![],
        }
    }
}

/// The `ch` values of position `pos` of a `[H][W][ch]` map.
fn at(map: &[f32], pos: usize, ch: usize) -> &[f32] {
    &map[pos * ch..][..ch]
}

impl Stepper for DiagonalStepper<'_> {
    /// Sweeps row i − 1 right to left for every layer (the right direction).
    fn begin_row(&mut self, _x: &[f32], i: usize) {
        let Some(r) = i.checked_sub(1) else { return };
        let (width, ch) = (self.w.w, self.w.input.out_ch());
        let (mut h, mut c) = (vec![0.0; ch], vec![0.0; ch]);
        for (l, (_, sweep)) in self.w.layers.iter().enumerate() {
            let st = &mut self.right[l];
            for j in (0..width).rev() {
                let pos = r * width + j;
                let above = r.checked_sub(1).map(|_| at(&st.h, pos - width, ch));
                let before =
                    (j + 1 < width).then(|| (at(&st.h, pos + 1, ch), at(&st.c, pos + 1, ch)));
                sweep.step(at(&self.inputs[l], pos, ch), above, before, &mut h, &mut c);
                st.h[pos * ch..][..ch].copy_from_slice(&h);
                st.c[pos * ch..][..ch].copy_from_slice(&c);
            }
        }
    }

    fn logits(&mut self, x: &[f32], i: usize, j: usize) -> &[f32] {
        let (height, width, ch) = (self.w.h, self.w.w, self.w.input.out_ch());
        let pos = i * width + j;
        let mut s = vec![0.0; ch];
        self.w.input.at(x, height, width, i, j, &mut s);
        let (mut h, mut c) = (vec![0.0; ch], vec![0.0; ch]);
        for (l, (sweep, _)) in self.w.layers.iter().enumerate() {
            self.inputs[l][pos * ch..][..ch].copy_from_slice(&s);
            let st = &mut self.left[l];
            let above = i.checked_sub(1).map(|_| at(&st.h, pos - width, ch));
            let before = j
                .checked_sub(1)
                .map(|_| (at(&st.h, pos - 1, ch), at(&st.c, pos - 1, ch)));
            sweep.step(&s, above, before, &mut h, &mut c);
            st.h[pos * ch..][..ch].copy_from_slice(&h);
            st.c[pos * ch..][..ch].copy_from_slice(&c);
            // Residual: input + left + the right sweep's state one row up.
            s.iter_mut().zip(&h).for_each(|(a, b)| *a += b);
            if i > 0 {
                let right = at(&self.right[l].h, pos - width, ch);
                s.iter_mut().zip(right).for_each(|(a, b)| *a += b);
            }
        }
        self.w.head.apply(&s, &mut self.hid, &mut self.out);
        &self.out
    }
}
