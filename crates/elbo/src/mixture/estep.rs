//! The E-step over row blocks: weighted log-probabilities log P(m) + log
//! p(x | m) as matrix products, their log-sum-exp per row (the
//! log-likelihood), the responsibilities, and in the same pass the
//! sufficient statistics the M-step needs (Σ r, Σ r x, Σ r x²).

use crate::kernels::gemm::matmul_clean as matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Sufficient statistics of one pass.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    /// Σ_i r_ik per component: `[K]`.
    pub nk: Vec<f64>,
    /// Σ_i r_ik x_i: `[K, d]`.
    pub sx: Mat<f64>,
    /// Σ_i r_ik x_i² (elementwise), when asked for: `[K, d]`, else `[K, 0]`.
    pub sxx: Mat<f64>,
    /// Σ_i log p(x_i) (zero when responsibilities were given).
    pub ll_sum: f64,
}

impl Stats {
    fn zeros(k: usize, d: usize, second: bool) -> Stats {
        Stats {
            nk: vec![0.0; k],
            sx: Mat::zeros(k, d),
            sxx: Mat::zeros(k, if second { d } else { 0 }),
            ll_sum: 0.0,
        }
    }

    fn add(&mut self, o: &Stats) {
        self.nk.iter_mut().zip(&o.nk).for_each(|(a, b)| *a += b);
        self.sx += &o.sx;
        self.sxx += &o.sxx;
        self.ll_sum += o.ll_sum;
    }
}

/// A mixture whose weighted log-probabilities are computable chunk by chunk.
pub(crate) trait Components: Sync {
    /// Number of components K.
    fn k(&self) -> usize;
    /// `out[i, k]` = log P(k) + log p(x_i | k) for the rows of `xc`
    /// (`[m, d]`); `x2` holds their squares (`[m, d]`).
    fn weighted_log_prob(&self, xc: MatRef<'_, f64>, x2: MatRef<'_, f64>, out: MatMut<'_, f64>);
}

/// Where the responsibilities of a pass come from.
pub(crate) enum Source<'a, C: Components> {
    /// The E-step of this model.
    Model(&'a C),
    /// Given, row-major `[n, K]` (an initialization).
    Given(&'a [f64], usize),
}

/// What a pass returns beyond its statistics.
#[derive(Debug, Default)]
pub(crate) struct PassOut {
    /// log p(x_i) per row (when asked for).
    pub log_prob: Vec<f64>,
    /// Responsibilities, row-major `[n, K]` (when asked for).
    pub resp: Vec<f64>,
}

/// Flags of a pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    /// Compute Σ r x and Σ r x² (Σ r is always computed).
    pub stats: bool,
    /// Also Σ r x².
    pub second: bool,
    /// Keep log p(x_i) per row.
    pub log_prob: bool,
    /// Keep the responsibilities.
    pub resp: bool,
}

/// One pass over `x` (`[n, d]`): row blocks in parallel, reduced in block
/// order, so the result does not depend on the thread count.
pub(crate) fn pass<C: Components>(
    source: Source<'_, C>,
    x: MatRef<'_, f64>,
    want: Want,
) -> (Stats, PassOut) {
    let k = match &source {
        Source::Model(c) => c.k(),
        Source::Given(_, k) => *k,
    };
    let blocks = super::row_blocks(x.nrows());
    let outs: Vec<(Stats, PassOut)> = blocks
        .par_iter()
        .map(|&(s, e)| block(&source, x.subrows(s, e - s), s, k, want))
        .collect();
    let mut stats = Stats::zeros(k, if want.stats { x.ncols() } else { 0 }, want.second);
    let mut out = PassOut::default();
    for (s, o) in outs {
        stats.add(&s);
        out.log_prob.extend(o.log_prob);
        out.resp.extend(o.resp);
    }
    (stats, out)
}

fn block<C: Components>(
    source: &Source<'_, C>,
    x: MatRef<'_, f64>,
    row0: usize,
    k: usize,
    want: Want,
) -> (Stats, PassOut) {
    let (n, d) = (x.nrows(), x.ncols());
    let rows = super::chunk_rows(d.max(k));
    let mut stats = Stats::zeros(k, if want.stats { d } else { 0 }, want.second);
    let mut out = PassOut::default();
    let mut x2 = Mat::<f64>::zeros(rows, d);
    let mut r = Mat::<f64>::zeros(rows, k); // [m, K]
    for start in (0..n).step_by(rows) {
        let m = rows.min(n - start);
        let xc = x.subrows(start, m); // [m, d]
        for j in 0..d {
            for i in 0..m {
                x2[(i, j)] = xc[(i, j)] * xc[(i, j)];
            }
        }
        let x2c = x2.as_ref().subrows(0, m);
        match source {
            Source::Model(c) => {
                c.weighted_log_prob(xc, x2c, r.as_mut().subrows_mut(0, m));
                normalize_rows(
                    r.as_mut().subrows_mut(0, m),
                    &mut stats.ll_sum,
                    want.log_prob.then_some(&mut out.log_prob),
                );
            }
            Source::Given(resp, _) => {
                for i in 0..m {
                    for c in 0..k {
                        r[(i, c)] = resp[(row0 + start + i) * k + c];
                    }
                }
            }
        }
        let rc = r.as_ref().subrows(0, m); // [m, K]
        for c in 0..k {
            stats.nk[c] += (0..m).map(|i| rc[(i, c)]).sum::<f64>();
        }
        if want.stats {
            matmul(
                stats.sx.as_mut(),
                Accum::Add,
                rc.transpose(),
                xc,
                1.0,
                Par::Seq,
            );
            if want.second {
                matmul(
                    stats.sxx.as_mut(),
                    Accum::Add,
                    rc.transpose(),
                    x2c,
                    1.0,
                    Par::Seq,
                );
            }
        }
        if want.resp {
            for i in 0..m {
                out.resp.extend((0..k).map(|c| rc[(i, c)]));
            }
        }
    }
    (stats, out)
}

/// Turns each row of weighted log-probabilities into responsibilities
/// exp(w − logsumexp(w)), adding the row's log-sum-exp to `ll_sum`. One
/// exp per entry: e = exp(w − max) serves both the sum and, divided by it,
/// the responsibility.
fn normalize_rows(mut r: MatMut<'_, f64>, ll_sum: &mut f64, mut keep: Option<&mut Vec<f64>>) {
    let k = r.ncols();
    for i in 0..r.nrows() {
        let max = (0..k).fold(f64::NEG_INFINITY, |m, c| m.max(r[(i, c)]));
        if max == f64::NEG_INFINITY {
            // No component gives this row any probability: log p = −∞.
            (0..k).for_each(|c| r[(i, c)] = 0.0);
            *ll_sum += max;
            if let Some(v) = keep.as_deref_mut() {
                v.push(max);
            }
            continue;
        }
        let mut sum = 0.0;
        for c in 0..k {
            let e = super::exp_or_zero(r[(i, c)] - max);
            r[(i, c)] = e;
            sum += e;
        }
        (0..k).for_each(|c| r[(i, c)] /= sum);
        let lse = max + sum.ln();
        *ll_sum += lse;
        if let Some(v) = keep.as_deref_mut() {
            v.push(lse);
        }
    }
}
