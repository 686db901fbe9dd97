//! The CPU kernels of the fused masked convolution (`masked_conv.rs`), on
//! plain f32 slices: im2col over the taps a mask keeps, one GEMM per image
//! (faer), col2im for the input gradient.
//!
//! Images run in parallel. The weight and bias gradients are summed per
//! fixed group of images and then over the groups in order, so the result
//! does not depend on the number of threads.

use super::gemm::gemm;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Images per group of the weight-gradient sum.
const GROUP: usize = 4;

/// Sizes of one convolution call (stride 1, dilation 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvDims {
    /// Images.
    pub batch: usize,
    /// Input channels, height, width.
    pub input: [usize; 3],
    /// Kernel `[out, in, kh, kw]`.
    pub kernel: [usize; 4],
    /// ((top, bottom), (left, right)) zero padding.
    pub padding: [(usize, usize); 2],
}

impl ConvDims {
    /// Output (height, width).
    pub fn output(&self) -> (usize, usize) {
        let [_, h, w] = self.input;
        let [_, _, kh, kw] = self.kernel;
        let [(t, b), (l, r)] = self.padding;
        (
            (h + t + b + 1).saturating_sub(kh),
            (w + l + r + 1).saturating_sub(kw),
        )
    }

    fn out_pixels(&self) -> usize {
        let (ho, wo) = self.output();
        ho * wo
    }

    fn in_size(&self) -> usize {
        self.input.iter().product()
    }

    /// True when the columns of an image are the image itself (1x1, no padding, all taps).
    fn identity_cols(&self, taps: &[usize]) -> bool {
        let [_, cin, kh, kw] = self.kernel;
        kh == 1 && kw == 1 && self.padding == [(0, 0); 2] && taps.len() == cin
    }
}

/// The weights and their mask, gathered at the kept taps.
pub struct TapWeights {
    /// Flat kernel index `(in · kh + r) · kw + c` of each kept tap.
    pub taps: Vec<usize>,
    /// `[out, taps]`: the masked weight at each kept tap.
    pub wmat: Vec<f32>,
    /// `[out, taps]` mask values, or none when all are 1.
    pub mask: Option<Vec<f32>>,
}

/// For each kept tap and output row, calls `f(row start, row end, segment)`
/// with the row's span in the `[taps, ho · wo]` columns and the segment
/// that reads inside the image, `(column index, length, input index)`, if
/// any (the rest of the row reads zero padding).
fn for_each_segment(
    d: &ConvDims,
    taps: &[usize],
    mut f: impl FnMut(usize, usize, Option<(usize, usize, usize)>),
) {
    let [_, h, w] = d.input;
    let [_, _, kh, kw] = d.kernel;
    let [(top, _), (left, _)] = d.padding;
    let (ho, wo) = d.output();
    for (t, &tap) in taps.iter().enumerate() {
        let (ci, r, c) = (tap / (kh * kw), (tap / kw) % kh, tap % kw);
        // Output column oj reads input column oj + c − left: inside for j0 ≤ oj < j1.
        let j0 = left.saturating_sub(c).min(wo);
        let j1 = (w + left).saturating_sub(c).min(wo).max(j0);
        for oi in 0..ho {
            let ii = (oi + r).checked_sub(top).filter(|&ii| ii < h && j1 > j0);
            let dst = t * ho * wo + oi * wo;
            let seg = ii.map(|ii| (dst + j0, j1 - j0, (ci * h + ii) * w + j0 + c - left));
            f(dst, dst + wo, seg);
        }
    }
}

/// `cols[t, p]` = the input value tap `t` reads at output pixel `p`.
fn im2col(d: &ConvDims, taps: &[usize], x: &[f32], cols: &mut [f32]) {
    for_each_segment(d, taps, |row0, row1, seg| match seg {
        None => cols[row0..row1].fill(0.0),
        Some((dst, len, src)) => {
            cols[row0..dst].fill(0.0);
            cols[dst..dst + len].copy_from_slice(&x[src..src + len]);
            cols[dst + len..row1].fill(0.0);
        }
    });
}

/// Adds each column value back onto the input value it was read from.
fn col2im_add(d: &ConvDims, taps: &[usize], cols: &[f32], gx: &mut [f32]) {
    for_each_segment(d, taps, |_, _, seg| {
        if let Some((dst, len, src)) = seg {
            for (g, c) in gx[src..src + len].iter_mut().zip(&cols[dst..dst + len]) {
                *g += c;
            }
        }
    });
}

/// The columns of image `x`: the image itself for a plain 1x1 convolution,
/// else im2col into `scratch`.
fn columns<'s>(d: &ConvDims, taps: &[usize], x: &'s [f32], scratch: &'s mut Vec<f32>) -> &'s [f32] {
    if d.identity_cols(taps) {
        return x;
    }
    scratch.resize(taps.len() * d.out_pixels(), 0.0);
    im2col(d, taps, x, scratch);
    scratch
}

/// `out [batch, out, ho, wo]` = conv(x `[batch, in, h, w]`) + bias.
pub fn forward(d: &ConvDims, tw: &TapWeights, x: &[f32], bias: &[f32]) -> Vec<f32> {
    let (cout, k, p) = (d.kernel[0], tw.taps.len(), d.out_pixels());
    let mut out = vec![0.0f32; d.batch * cout * p];
    let wmat = MatRef::from_row_major_slice(&tw.wmat, cout, k);
    out.par_chunks_mut(cout * p)
        .zip(x.par_chunks(d.in_size()))
        .for_each_init(Vec::new, |scratch, (out, x)| {
            let cols = MatRef::from_row_major_slice(columns(d, &tw.taps, x, scratch), k, p);
            let mut o = MatMut::from_row_major_slice_mut(out, cout, p);
            gemm(o.as_mut(), Accum::Replace, wmat, cols, Par::Seq);
            for (row, b) in out.chunks_mut(p).zip(bias) {
                row.iter_mut().for_each(|v| *v += b);
            }
        });
    out
}

/// Gradients of a loss with output gradient `g [batch, out, ho, wo]`:
/// (input gradient when `input_grad` (else empty), weight gradient over the
/// kept taps `[out, taps]`, masked, and bias gradient `[out]`).
pub fn backward(
    d: &ConvDims,
    tw: &TapWeights,
    x: &[f32],
    g: &[f32],
    input_grad: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (cout, k, p, n_in) = (d.kernel[0], tw.taps.len(), d.out_pixels(), d.in_size());
    let groups: Vec<_> = (0..d.batch.div_ceil(GROUP))
        .into_par_iter()
        .map_init(Vec::new, |scratch, group| {
            let images = group * GROUP..((group + 1) * GROUP).min(d.batch);
            let mut gw = vec![0.0f32; cout * k];
            let mut gb = vec![0.0f32; cout];
            let mut gx = vec![0.0f32; if input_grad { images.len() * n_in } else { 0 }];
            for (i, b) in images.enumerate() {
                let xb = &x[b * n_in..(b + 1) * n_in];
                let gb_img = &g[b * cout * p..(b + 1) * cout * p];
                let gmat = MatRef::from_row_major_slice(gb_img, cout, p);
                let cols = MatRef::from_row_major_slice(columns(d, &tw.taps, xb, scratch), k, p);
                let gw_mat = MatMut::from_row_major_slice_mut(&mut gw, cout, k);
                gemm(gw_mat, Accum::Add, gmat, cols.transpose(), Par::Seq);
                for (acc, row) in gb.iter_mut().zip(gb_img.chunks(p)) {
                    *acc += row.iter().sum::<f32>();
                }
                if input_grad {
                    let gx_img = &mut gx[i * n_in..(i + 1) * n_in];
                    input_gradient(d, tw, gmat, gx_img, scratch);
                }
            }
            (gw, gb, gx)
        })
        .collect();
    let mut gw = vec![0.0f32; cout * k];
    let mut gb = vec![0.0f32; cout];
    let mut gx = Vec::with_capacity(if input_grad { d.batch * n_in } else { 0 });
    for (w, b, x) in groups {
        gw.iter_mut().zip(&w).for_each(|(a, v)| *a += v);
        gb.iter_mut().zip(&b).for_each(|(a, v)| *a += v);
        gx.extend_from_slice(&x);
    }
    if let Some(mask) = &tw.mask {
        gw.iter_mut().zip(mask).for_each(|(v, m)| *v *= m);
    }
    (gx, gw, gb)
}

/// One image's input gradient: the column gradient wmatᵀ·g folded back (col2im).
fn input_gradient(
    d: &ConvDims,
    tw: &TapWeights,
    gmat: MatRef<'_, f32>,
    gx: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let (cout, k, p) = (d.kernel[0], tw.taps.len(), d.out_pixels());
    let wmat = MatRef::from_row_major_slice(&tw.wmat, cout, k);
    if d.identity_cols(&tw.taps) {
        let gxm = MatMut::from_row_major_slice_mut(gx, k, p);
        gemm(gxm, Accum::Replace, wmat.transpose(), gmat, Par::Seq);
        return;
    }
    scratch.resize(k * p, 0.0);
    let gcols = MatMut::from_row_major_slice_mut(scratch, k, p);
    gemm(gcols, Accum::Replace, wmat.transpose(), gmat, Par::Seq);
    col2im_add(d, &tw.taps, scratch, gx);
}
