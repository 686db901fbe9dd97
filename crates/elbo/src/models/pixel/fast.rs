//! The fast sampler, in the spirit of Fast PixelCNN++ (Ramachandran et al.
//! 2017): every activation is cached, and each generation step computes
//! only the activations at the new pixel's position.
//!
//! Why that is exact: through a mask-A layer followed by mask-B layers, a
//! feature at position q depends only on pixels before q (and, within q, on
//! the colours before the feature's colour group, never on the last colour).
//! So once pixel q is about to be drawn, every feature at every position up
//! to q is final: a step computes each layer once at q, reading the cached
//! neighbours above and to the left. The Row LSTM carries its (h, c) state
//! from the row above, the Diagonal BiLSTM its left sweep from the left and
//! above and its right sweep one row late; the gated PixelCNN's vertical stack, which sees the
//! whole current row, is computed one row late, when that row is complete.
//! One image then costs about one forward pass instead of H·W of them.
//!
//! The steps run on the CPU from copies of the (masked) weights, one image
//! per thread; they match burn's forward pass up to float rounding.

use rayon::prelude::*;

use super::fast_models::{CnnStepper, GatedStepper, LstmStepper};
use super::sampler::{Request, progress, uniforms};
use super::{MaskedConv2d, PixelNet};
use crate::{Error, Result};

/// A convolution's masked weights laid out for one output position:
/// `w[((r·kw + c)·in + i)·out + o]`.
pub(super) struct HostConv {
    w: Vec<f32>,
    bias: Vec<f32>,
    in_ch: usize,
    out_ch: usize,
    rows: usize,
    kw: usize,
    top: usize,
    left: usize,
    /// Whether kernel tap (r, c) has any nonzero weight.
    live: Vec<bool>,
}

fn host(t: burn::tensor::Tensor<4>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::invalid(format!("weight read-back failed: {e:?}")))
}

impl HostConv {
    /// Copies `conv`'s masked weights; `top` overrides the rows of padding
    /// above (the Row LSTM's state-to-state kernel reads the row above).
    pub fn new(conv: &MaskedConv2d, top: Option<usize>) -> Result<Self> {
        let [out_ch, in_ch, rows, kw] = conv.weight.dims();
        let src = host(conv.masked_weight())?;
        let mut w = vec![0.0; src.len()];
        let mut live = vec![false; rows * kw];
        for o in 0..out_ch {
            for i in 0..in_ch {
                for r in 0..rows {
                    for c in 0..kw {
                        let v = src[((o * in_ch + i) * rows + r) * kw + c];
                        w[((r * kw + c) * in_ch + i) * out_ch + o] = v;
                        live[r * kw + c] |= v != 0.0;
                    }
                }
            }
        }
        let bias = host(conv.bias.val().reshape([1, 1, 1, out_ch]))?;
        let (top, left) = (top.unwrap_or(conv.padding[0].0), conv.padding[1].0);
        Ok(HostConv {
            w,
            bias,
            in_ch,
            out_ch,
            rows,
            kw,
            top,
            left,
            live,
        })
    }

    /// Output channels.
    pub fn out_ch(&self) -> usize {
        self.out_ch
    }

    /// The output at (i, j) from the map `src` (`[H][W][in]`, width `width`
    /// and `height` rows), zero outside: `out` (`[out]`) is overwritten.
    pub fn at(
        &self,
        src: &[f32],
        height: usize,
        width: usize,
        i: usize,
        j: usize,
        out: &mut [f32],
    ) {
        out.copy_from_slice(&self.bias);
        for r in 0..self.rows {
            let Some(ii) = (i + r).checked_sub(self.top).filter(|&v| v < height) else {
                continue;
            };
            for c in 0..self.kw {
                let Some(jj) = (j + c).checked_sub(self.left).filter(|&v| v < width) else {
                    continue;
                };
                if !self.live[r * self.kw + c] {
                    continue;
                }
                let px = &src[(ii * width + jj) * self.in_ch..][..self.in_ch];
                self.accumulate(r * self.kw + c, px, out);
            }
        }
    }

    /// A 1×1 kernel applied to one feature vector.
    pub fn point(&self, x: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        self.accumulate(0, x, out);
    }

    /// Adds kernel tap `tap` (row-major over the stored kernel) applied to `px` into `out`.
    pub(super) fn accumulate(&self, tap: usize, px: &[f32], out: &mut [f32]) {
        for (i, &v) in px.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            let w = &self.w[(tap * self.in_ch + i) * self.out_ch..][..self.out_ch];
            for (o, &wv) in out.iter_mut().zip(w) {
                *o += v * wv;
            }
        }
    }
}

/// ReLU in place.
pub(super) fn relu(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = x.max(0.0));
}

/// σ(x).
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// One image's cached generation state.
pub(super) trait Stepper {
    /// Row `i` is about to start (all rows above are complete in `x`).
    fn begin_row(&mut self, _x: &[f32], _i: usize) {}
    /// The logits `[colours·classes]` at (i, j) given `x` (`[H][W][C]`).
    fn logits(&mut self, x: &[f32], i: usize, j: usize) -> &[f32];
}

/// A fresh stepper for one image.
fn stepper(weights: &Weights, label: Option<u8>) -> Box<dyn Stepper + '_> {
    match weights {
        Weights::Cnn(w) => Box::new(CnnStepper::new(w)),
        Weights::Gated(w) => Box::new(GatedStepper::new(w, label)),
        Weights::Lstm(w) => Box::new(LstmStepper::new(w)),
        Weights::Diagonal(w) => Box::new(super::fast_diagonal::DiagonalStepper::new(w)),
    }
}

/// The host copies of a network's weights.
pub(super) enum Weights {
    Cnn(super::fast_models::CnnWeights),
    Gated(super::fast_models::GatedWeights),
    Lstm(super::fast_models::LstmWeights),
    Diagonal(super::fast_diagonal::DiagonalWeights),
}

/// Generates `req` with cached steps, one image per thread.
pub fn generate(net: &PixelNet, req: &Request) -> Result<Vec<f32>> {
    let s = req.shape;
    let (dim, pixels) = (s.dim(), s.height * s.width);
    let weights = super::fast_models::weights(net, s.height, s.width)?;
    let (output, k) = (net.output(), net.output().classes());
    let bar = progress(
        req.n() * (pixels - req.start),
        req.progress,
        "sampling (fast)",
    );
    let images: Vec<Vec<f32>> = (0..req.n())
        .into_par_iter()
        .map(|b| {
            let mut x = req.images[b * dim..(b + 1) * dim].to_vec();
            let u = uniforms(req.seed, b, dim);
            let mut st = stepper(&weights, req.labels.map(|l| l[b]));
            for p in 0..pixels {
                let (i, j) = (p / s.width, p % s.width);
                if j == 0 {
                    st.begin_row(&x, i);
                }
                if p < req.start {
                    st.logits(&x, i, j); // fills the caches at a given pixel
                    continue;
                }
                for c in 0..s.channels {
                    let at = p * s.channels + c;
                    let v = output.draw(&st.logits(&x, i, j)[c * k..(c + 1) * k], u[at]);
                    x[at] = v;
                }
                bar.inc(1);
            }
            x
        })
        .collect();
    bar.finish_and_clear();
    Ok(images.concat())
}
