//! faer's matrix multiply, leaving the vector registers as other code expects.
//!
//! Why: faer's x86 GEMM kernels (`private-gemm-x86`, AVX-512 here) return
//! without `vzeroupper`. With the upper register halves left dirty, every
//! SSE instruction that runs next on that thread (scalar libm `expf` calls,
//! burn flex's plain elementwise loops) pays a merge penalty. Measured on
//! this project's Xeon: burn's `exp` over a 50x50 tensor took 500-700 µs
//! right after a fused dense layer (about 200 ns per element) against 5 ns
//! per element on a clean thread, 12% of a VAE epoch in `__expf_fma` alone.
//! Clearing the upper halves after each product (and on every rayon worker
//! after a parallel one) removes the penalty.

use faer::linalg::matmul::matmul;
use faer::traits::ComplexField;
use faer::{Accum, MatMut, MatRef, Par};

/// `dst = alpha·lhs·rhs` (or `dst += …` with [`Accum::Add`]), then clears the
/// upper vector-register halves of every thread that took part. Every faer
/// product in elbo goes through here.
pub(crate) fn matmul_clean<T: ComplexField>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
    par: Par,
) {
    matmul(dst, accum, lhs, rhs, alpha, par);
    match par {
        Par::Seq => zero_upper(),
        _ => {
            rayon::broadcast(|_| zero_upper());
            zero_upper();
        }
    }
}

/// [`matmul_clean`] for f32 with `alpha = 1`.
pub(crate) fn gemm(
    dst: MatMut<'_, f32>,
    accum: Accum,
    lhs: MatRef<'_, f32>,
    rhs: MatRef<'_, f32>,
    par: Par,
) {
    matmul_clean(dst, accum, lhs, rhs, 1.0, par);
}

/// `vzeroupper` where the CPU has AVX; nothing elsewhere.
#[inline]
fn zero_upper() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is available, checked just above.
        unsafe { zero_upper_avx() }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn zero_upper_avx() {
    std::arch::x86_64::_mm256_zeroupper();
}
