//! The CPU loops of the fused NADE op (`nade.rs`) on plain f32 slices:
//! the forward pass per image, and the backward pass by fixed pixel blocks
//! (see the module doc of `nade.rs` for the algorithm and why).

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::DType;
use rayon::prelude::*;

use super::fastmath;

/// Pixels per block of the backward pass. Fixed (not derived from the
/// thread count), so the sums' order is too; 32 pixels × 500 hidden units
/// keep a block's rows of V, Wᵀ, ∂V, ∂Wᵀ and the stored h in L2.
const BLOCK: usize = 32;

/// Running partial sums in the dot products: one AVX-512 register.
const LANES: usize = 16;

/// Compiles `$portable` (an `#[inline(always)]` function) again for
/// AVX-512F and for AVX2, as functions that are never inlined, and calls
/// the best one the CPU has, like [`fastmath::bce_row_sum`]. The operations
/// and their order are the same in all three (Rust does not contract to
/// FMA), so the results are bit-identical.
macro_rules! dispatched {
    (
        $(#[$meta:meta])*
        fn $name:ident = $portable:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?
    ) => {
        $(#[$meta])*
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[inline(never)]
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $portable($($arg),*)
                }
                #[inline(never)]
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: AVX-512F is available, checked just above.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is available, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $portable($($arg),*)
        }
    };
}

/// The weights as slices, W transposed so that a pixel's column is a row.
struct Net<'a> {
    dim: usize,
    hidden: usize,
    /// Wᵀ, `[dim, hidden]`: row d is W_{:,d}.
    w_t: &'a [f32],
    /// V, `[dim, hidden]`.
    v: &'a [f32],
    /// b, `[dim]`.
    b: &'a [f32],
    /// c, `[hidden]`.
    c: &'a [f32],
}

impl Net<'_> {
    /// W_{:,d}, `[hidden]`.
    #[inline(always)]
    fn w_col(&self, d: usize) -> &[f32] {
        &self.w_t[d * self.hidden..(d + 1) * self.hidden]
    }

    /// V_d, `[hidden]`.
    #[inline(always)]
    fn v_row(&self, d: usize) -> &[f32] {
        &self.v[d * self.hidden..(d + 1) * self.hidden]
    }

    /// Blocks of [`BLOCK`] pixels (the last one may be shorter).
    fn blocks(&self) -> usize {
        self.dim.div_ceil(BLOCK)
    }

    /// The pixels of block `k`.
    fn block(&self, k: usize) -> std::ops::Range<usize> {
        k * BLOCK..((k + 1) * BLOCK).min(self.dim)
    }
}

/// The 16 partial sums added up in a fixed order.
#[inline(always)]
fn lane_sum(acc: [f32; LANES]) -> f32 {
    acc.iter().sum()
}

/// u · v with [`LANES`] running partial sums, so the loop vectorizes.
#[inline(always)]
fn dot_portable(u: &[f32], v: &[f32]) -> f32 {
    let n = u.len() / LANES * LANES;
    let mut acc = [0.0f32; LANES];
    for (u, v) in u[..n].chunks_exact(LANES).zip(v[..n].chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += u[i] * v[i];
        }
    }
    let tail: f32 = u[n..].iter().zip(&v[n..]).map(|(&u, &v)| u * v).sum();
    lane_sum(acc) + tail
}

/// h ← σ(a), and the return value V_d · h (Eq. 2 without b_d). Two loops:
/// written as one, LLVM kept it scalar.
#[inline(always)]
fn sigmoid_dot_portable(a: &[f32], v: &[f32], h: &mut [f32]) -> f32 {
    h.iter_mut()
        .zip(a)
        .for_each(|(h, &a)| *h = fastmath::sigmoid(a));
    dot_portable(h, v)
}

/// y ← y + alpha·x.
#[inline(always)]
fn axpy_portable(y: &mut [f32], alpha: f32, x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += alpha * x);
}

/// One pixel of the backward pass: ∂V_d += δl_d·h_d and, into the running
/// sum, δa_d = δl_d·V_d ⊙ h_d ⊙ (1 − h_d).
#[inline(always)]
fn backward_step_portable(dv: &mut [f32], acc: &mut [f32], v: &[f32], h: &[f32], dl: f32) {
    for (((dv, acc), &v), &h) in dv.iter_mut().zip(acc.iter_mut()).zip(v).zip(h) {
        *dv += dl * h;
        *acc += dl * v * (h * (1.0 - h));
    }
}

// The loops over `hidden` units, each compiled for AVX-512F, AVX2 and the
// baseline and never inlined. Inlined into the loops over pixels (whose row
// addresses step downwards in the backward pass), LLVM guarded their vector
// loops with an overlap test that always failed and ran them scalar.
dispatched! {
    /// [`dot_portable`] for the best vector unit.
    fn dot = dot_portable(u: &[f32], v: &[f32]) -> f32
}
dispatched! {
    /// [`sigmoid_dot_portable`] for the best vector unit.
    fn sigmoid_dot = sigmoid_dot_portable(a: &[f32], v: &[f32], h: &mut [f32]) -> f32
}
dispatched! {
    /// [`axpy_portable`] for the best vector unit.
    fn axpy = axpy_portable(y: &mut [f32], alpha: f32, x: &[f32])
}
dispatched! {
    /// [`backward_step_portable`] for the best vector unit.
    fn backward_step = backward_step_portable(
        dv: &mut [f32], acc: &mut [f32], v: &[f32], h: &[f32], dl: f32
    )
}

/// −log p(x) of one image (Eqs. 1-3), the pixels walked in order with the
/// running pre-activation `a`; `a` and `h` are `[hidden]` scratch. Summed
/// in f64 over the pixels.
fn image_nll(net: &Net<'_>, x: &[f32], a: &mut [f32], h: &mut [f32]) -> f32 {
    a.copy_from_slice(net.c);
    let mut nll = 0.0f64;
    for (d, &x_d) in x.iter().enumerate() {
        let l = net.b[d] + sigmoid_dot(a, net.v_row(d), h);
        nll += f64::from(fastmath::bce(l, x_d));
        if x_d != 0.0 {
            axpy(a, x_d, net.w_col(d));
        }
    }
    nll as f32
}

/// The pre-activation a at the first pixel of every block of one image,
/// `out: [blocks, hidden]`. The same additions in the same order as
/// [`image_nll`], so a block restarts from exactly its values.
fn starts(net: &Net<'_>, x: &[f32], out: &mut [f32]) {
    let h = net.hidden;
    for k in 0..net.blocks() {
        let (done, rest) = out.split_at_mut(k * h);
        let a = &mut rest[..h];
        if k == 0 {
            a.copy_from_slice(net.c);
            continue;
        }
        a.copy_from_slice(&done[(k - 1) * h..]);
        for d in net.block(k - 1) {
            if x[d] != 0.0 {
                axpy(a, x[d], net.w_col(d));
            }
        }
    }
}

/// One backward call: the images, their output gradients and stored
/// block-start pre-activations.
struct Job<'a> {
    net: Net<'a>,
    /// x `[batch, dim]`.
    x: &'a [f32],
    /// The output gradient, `[batch]`.
    g: &'a [f32],
    /// a at every block start, `[batch, blocks, hidden]`.
    starts: &'a [f32],
    batch: usize,
    input_grad: bool,
}

/// What one block contributes: its rows of the gradients.
struct BlockGrads {
    /// ∂Wᵀ rows of the block's pixels, `[len, hidden]`.
    dw_t: Vec<f32>,
    /// ∂V rows, `[len, hidden]`.
    dv: Vec<f32>,
    /// ∂b, `[len]`.
    db: Vec<f32>,
    /// Per image, Σ δa_d over the block's pixels, `[batch, hidden]`; after
    /// [`suffix_sums`], the sum over all later blocks instead.
    sums: Vec<f32>,
    /// ∂x of the block's pixels, `[batch, len]` (empty unless asked for).
    dx: Vec<f32>,
}

/// The backward pass over the pixels of block `k` for every image, in
/// image order; the parts of ∂W and ∂x that come from later blocks are
/// left to [`finish_block`].
fn block_grads(job: &Job<'_>, k: usize) -> BlockGrads {
    let net = &job.net;
    let (dim, h, blocks) = (net.dim, net.hidden, net.blocks());
    let pixels = net.block(k);
    let (d0, len) = (pixels.start, pixels.len());
    let mut out = BlockGrads {
        dw_t: vec![0.0; len * h],
        dv: vec![0.0; len * h],
        db: vec![0.0; len],
        sums: vec![0.0; job.batch * h],
        dx: vec![0.0; if job.input_grad { job.batch * len } else { 0 }],
    };
    let mut a = vec![0.0f32; h];
    let mut hs = vec![0.0f32; len * h]; // h_d of the block's pixels
    let mut logits = vec![0.0f32; len];
    let mut dl = vec![0.0f32; len]; // δl_d
    for n in 0..job.batch {
        let x = &job.x[n * dim + d0..n * dim + d0 + len];
        let g = job.g[n];
        // Forward within the block from the stored a (Eqs. 2-3).
        a.copy_from_slice(&job.starts[(n * blocks + k) * h..(n * blocks + k + 1) * h]);
        for (i, &x_d) in x.iter().enumerate() {
            let d = d0 + i;
            let l = net.b[d] + sigmoid_dot(&a, net.v_row(d), &mut hs[i * h..(i + 1) * h]);
            logits[i] = l;
            dl[i] = g * (fastmath::sigmoid(l) - x_d);
            if x_d != 0.0 {
                axpy(&mut a, x_d, net.w_col(d));
            }
        }
        // Backward over the block's pixels; `acc` = Σ δa over the block's
        // pixels after d (the later blocks' share comes in `finish_block`).
        let acc = &mut out.sums[n * h..(n + 1) * h];
        for i in (0..len).rev() {
            let d = d0 + i;
            if x[i] != 0.0 {
                axpy(&mut out.dw_t[i * h..(i + 1) * h], x[i], acc);
            }
            if job.input_grad {
                out.dx[n * len + i] = -g * logits[i] + dot(net.w_col(d), acc);
            }
            let dl = dl[i];
            out.db[i] += dl;
            let dv = &mut out.dv[i * h..(i + 1) * h];
            backward_step(dv, acc, net.v_row(d), &hs[i * h..(i + 1) * h], dl);
        }
    }
    out
}

/// Adds the later blocks' share of Σ_{d>k} δa_d (now in `grads.sums`) to
/// block `k`'s ∂W rows and ∂x.
fn finish_block(job: &Job<'_>, k: usize, grads: &mut BlockGrads) {
    let net = &job.net;
    let (dim, h) = (net.dim, net.hidden);
    let pixels = net.block(k);
    let (d0, len) = (pixels.start, pixels.len());
    for n in 0..job.batch {
        let later = &grads.sums[n * h..(n + 1) * h];
        for i in 0..len {
            let x_d = job.x[n * dim + d0 + i];
            if x_d != 0.0 {
                axpy(&mut grads.dw_t[i * h..(i + 1) * h], x_d, later);
            }
            if job.input_grad {
                grads.dx[n * len + i] += dot(net.w_col(d0 + i), later);
            }
        }
    }
}

/// Turns every block's per-image totals into the sums over the later
/// blocks (in block order from the last), and returns Σ_d δa_d per image,
/// `[batch, hidden]`.
fn suffix_sums(blocks: &mut [BlockGrads], len: usize) -> Vec<f32> {
    let mut run = vec![0.0f32; len];
    for block in blocks.iter_mut().rev() {
        for (s, r) in block.sums.iter_mut().zip(run.iter_mut()) {
            let own = *s;
            *s = *r;
            *r += own;
        }
    }
    run
}

/// `[rows, cols]` row-major → `[cols, rows]`.
fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * cols];
    if rows == 0 {
        return out;
    }
    out.par_chunks_mut(rows).enumerate().for_each(|(j, col)| {
        for (i, v) in col.iter_mut().enumerate() {
            *v = src[i * cols + j];
        }
    });
    out
}

/// Contiguous f32 views of x, W, V, b, c, with Wᵀ computed.
pub(super) struct Inputs {
    x: FlexTensor,
    v: FlexTensor,
    b: FlexTensor,
    c: FlexTensor,
    w_t: Vec<f32>,
    pub(super) batch: usize,
    pub(super) dim: usize,
    pub(super) hidden: usize,
}

impl Inputs {
    pub(super) fn new(
        x: FlexTensor,
        w: FlexTensor,
        v: FlexTensor,
        b: FlexTensor,
        c: FlexTensor,
    ) -> Self {
        let [batch, dim] = x.shape().dims::<2>();
        let [hidden, w_dim] = w.shape().dims::<2>();
        assert_eq!(w_dim, dim, "NADE: W is [hidden, dim]");
        assert_eq!(
            v.shape().dims::<2>(),
            [dim, hidden],
            "NADE: V is [dim, hidden]"
        );
        assert_eq!(b.shape().dims::<1>(), [dim], "NADE: b is [dim]");
        assert_eq!(c.shape().dims::<1>(), [hidden], "NADE: c is [hidden]");
        for t in [&x, &w, &v, &b, &c] {
            assert_eq!(t.dtype(), DType::F32, "the fused NADE op runs on f32 only");
        }
        let w = w.to_contiguous();
        Inputs {
            x: x.to_contiguous(),
            v: v.to_contiguous(),
            b: b.to_contiguous(),
            c: c.to_contiguous(),
            w_t: transpose(w.storage(), hidden, dim),
            batch,
            dim,
            hidden,
        }
    }

    fn net(&self) -> Net<'_> {
        Net {
            dim: self.dim,
            hidden: self.hidden,
            w_t: &self.w_t,
            v: self.v.storage(),
            b: self.b.storage(),
            c: self.c.storage(),
        }
    }
}

/// −log p(x) per image: images in parallel, each walked alone.
pub(super) fn forward(inputs: &Inputs) -> Vec<f32> {
    let (net, h) = (inputs.net(), inputs.hidden);
    let mut out = vec![0.0f32; inputs.batch];
    out.par_iter_mut()
        .zip(inputs.x.storage::<f32>().par_chunks(inputs.dim.max(1)))
        .for_each_init(
            || (vec![0.0f32; h], vec![0.0f32; h]),
            |(a, hs), (o, x)| *o = image_nll(&net, x, a, hs),
        );
    out
}

/// The gradients of one backward call, row-major.
pub(super) struct Grads {
    /// ∂x `[batch, dim]`, or empty.
    pub(super) dx: Vec<f32>,
    /// ∂W `[hidden, dim]`.
    pub(super) dw: Vec<f32>,
    /// ∂V `[dim, hidden]`.
    pub(super) dv: Vec<f32>,
    /// ∂b `[dim]`.
    pub(super) db: Vec<f32>,
    /// ∂c `[hidden]`.
    pub(super) dc: Vec<f32>,
}

/// The gradients for the output gradient `g: [batch]` (∂x only when
/// `input_grad`).
pub(super) fn backward(inputs: &Inputs, g: &[f32], input_grad: bool) -> Grads {
    let (net, batch, dim, h) = (inputs.net(), inputs.batch, inputs.dim, inputs.hidden);
    let x = inputs.x.storage::<f32>();
    let blocks = net.blocks();
    let mut block_starts = vec![0.0f32; batch * blocks * h];
    if blocks > 0 {
        block_starts
            .par_chunks_mut(blocks * h)
            .zip(x.par_chunks(dim))
            .for_each(|(out, x)| starts(&net, x, out));
    }
    let job = Job {
        net,
        x,
        g,
        starts: &block_starts,
        batch,
        input_grad,
    };
    let mut grads: Vec<BlockGrads> = (0..blocks)
        .into_par_iter()
        .map(|k| block_grads(&job, k))
        .collect();
    let totals = suffix_sums(&mut grads, batch * h);
    grads
        .par_iter_mut()
        .enumerate()
        .for_each(|(k, block)| finish_block(&job, k, block));
    // ∂c = Σ_n Σ_d δa_d, images in order.
    let mut dc = vec![0.0f32; h];
    for image in totals.chunks_exact(h) {
        axpy(&mut dc, 1.0, image);
    }
    let (mut dw_t, mut dv, mut db) = (
        Vec::with_capacity(dim * h),
        Vec::with_capacity(dim * h),
        Vec::with_capacity(dim),
    );
    for block in &grads {
        dw_t.extend_from_slice(&block.dw_t);
        dv.extend_from_slice(&block.dv);
        db.extend_from_slice(&block.db);
    }
    let mut dx = Vec::new();
    if input_grad {
        dx = vec![0.0f32; batch * dim];
        for (k, block) in grads.iter().enumerate() {
            let pixels = job.net.block(k);
            for (row, part) in dx
                .chunks_exact_mut(dim)
                .zip(block.dx.chunks_exact(pixels.len()))
            {
                row[pixels.clone()].copy_from_slice(part);
            }
        }
    }
    Grads {
        dx,
        dw: transpose(&dw_t, dim, h),
        dv,
        db,
        dc,
    }
}
