//! The elementwise loops behind [`super::gate`] and [`super::lstm`], over
//! plain f32 slices, compiled three times (baseline x86-64, AVX2, AVX-512F)
//! and chosen at run time like [`super::fastmath::bce_row_sum`]: the same
//! operations in the same order, so every version gives the same bits.

use super::fastmath::{sigmoid, tanh};

/// Runs `$body` (a call of a portable `#[inline(always)]` loop) compiled for
/// the widest vector unit the CPU has.
macro_rules! dispatch {
    ($name:ident($($arg:ident: $ty:ty),*) => $portable:ident) => {
        pub(super) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn wide($($arg: $ty),*) { $portable($($arg),*) }
                #[target_feature(enable = "avx2")]
                unsafe fn mid($($arg: $ty),*) { $portable($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: AVX-512F is available, checked just above.
                    return unsafe { wide($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is available, checked just above.
                    return unsafe { mid($($arg),*) };
                }
            }
            $portable($($arg),*)
        }
    };
}

dispatch!(gate_forward(a: &[f32], b: &[f32], out: &mut [f32]) => gate_forward_portable);
dispatch!(gate_backward(a: &[f32], b: &[f32], g: &[f32], ga: &mut [f32], gb: &mut [f32]) => gate_backward_portable);
dispatch!(lstm_forward(pre: LstmIn<'_>, h: &mut [f32], c: &mut [f32]) => lstm_forward_portable);
dispatch!(lstm_backward(pre: LstmIn<'_>, g: LstmGrad<'_>, out: LstmOut<'_>) => lstm_backward_portable);

/// tanh(a)·σ(b), elementwise.
#[inline(always)]
fn gate_forward_portable(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = tanh(a) * sigmoid(b);
    }
}

/// d/da = g·σ(b)·(1 − tanh²(a)), d/db = g·tanh(a)·σ(b)·(1 − σ(b)).
#[inline(always)]
fn gate_backward_portable(a: &[f32], b: &[f32], g: &[f32], ga: &mut [f32], gb: &mut [f32]) {
    let n = a.len();
    let (b, g, ga, gb) = (&b[..n], &g[..n], &mut ga[..n], &mut gb[..n]);
    for i in 0..n {
        let (t, s) = (tanh(a[i]), sigmoid(b[i]));
        ga[i] = g[i] * s * (1.0 - t * t);
        gb[i] = g[i] * t * s * (1.0 - s);
    }
}

/// One image's LSTM pre-activations, four equal blocks in the order the
/// models store them (input, forget, output gates, then the candidate),
/// and its previous cell state, all of one length.
#[derive(Clone, Copy)]
pub(super) struct LstmIn<'a> {
    pub i: &'a [f32],
    pub f: &'a [f32],
    pub o: &'a [f32],
    pub g: &'a [f32],
    pub c_prev: &'a [f32],
}

/// The output gradients of one image: for h and for c.
#[derive(Clone, Copy)]
pub(super) struct LstmGrad<'a> {
    pub h: &'a [f32],
    pub c: &'a [f32],
}

/// The input gradients of one image: the four pre-activation blocks and c_prev.
pub(super) struct LstmOut<'a> {
    pub i: &'a mut [f32],
    pub f: &'a mut [f32],
    pub o: &'a mut [f32],
    pub g: &'a mut [f32],
    pub c_prev: &'a mut [f32],
}

/// c = σ(f)·c_prev + σ(i)·tanh(g), h = σ(o)·tanh(c).
#[inline(always)]
fn lstm_forward_portable(p: LstmIn<'_>, h: &mut [f32], c: &mut [f32]) {
    let n = h.len();
    let (pi, pf, po, pg, cp, c) = (
        &p.i[..n],
        &p.f[..n],
        &p.o[..n],
        &p.g[..n],
        &p.c_prev[..n],
        &mut c[..n],
    );
    for k in 0..n {
        let ck = sigmoid(pf[k]) * cp[k] + sigmoid(pi[k]) * tanh(pg[k]);
        c[k] = ck;
        h[k] = sigmoid(po[k]) * tanh(ck);
    }
}

/// The LSTM cell's backward from recomputed gates (cheaper to recompute in
/// one vectorized pass than to save five more tensors per row):
/// dc = g_c + g_h·o·(1 − tanh²(c)); d_o = g_h·tanh(c)·o(1 − o);
/// d_i = dc·g·i(1 − i); d_f = dc·c_prev·f(1 − f); d_g = dc·i·(1 − g²);
/// d_c_prev = dc·f.
#[inline(always)]
fn lstm_backward_portable(p: LstmIn<'_>, gr: LstmGrad<'_>, out: LstmOut<'_>) {
    let n = out.c_prev.len();
    let (pi, pf, po, pg, cp) = (&p.i[..n], &p.f[..n], &p.o[..n], &p.g[..n], &p.c_prev[..n]);
    let (gh, gc) = (&gr.h[..n], &gr.c[..n]);
    let (di, df, d_o, dg, dcp) = (
        &mut out.i[..n],
        &mut out.f[..n],
        &mut out.o[..n],
        &mut out.g[..n],
        &mut out.c_prev[..n],
    );
    for k in 0..n {
        let (i, f, o, g) = (sigmoid(pi[k]), sigmoid(pf[k]), sigmoid(po[k]), tanh(pg[k]));
        let c = f * cp[k] + i * g;
        let t = tanh(c);
        let dc = gc[k] + gh[k] * o * (1.0 - t * t);
        d_o[k] = gh[k] * t * o * (1.0 - o);
        di[k] = dc * g * i * (1.0 - i);
        df[k] = dc * cp[k] * f * (1.0 - f);
        dg[k] = dc * i * (1.0 - g * g);
        dcp[k] = dc * f;
    }
}
