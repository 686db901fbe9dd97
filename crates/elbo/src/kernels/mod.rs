//! Every hand-written CPU kernel in one place, each beside its fallback.
//!
//! burn's `flex` CPU backend runs these models correctly but slowly in a few
//! places (scalar libm transcendentals, one op per autodiff node, a GEMM per
//! tiny matmul); each kernel here fixes one measured hot spot through burn's
//! backend extension, so it is an ordinary differentiable op to the models.
//! A kernel runs only on f32 tensors of the CPU backend; on any other device
//! (a GPU backend) the caller takes the composite burn formula named below,
//! so a GPU backend knows where every CPU-only op is:
//!
//! | kernel | what | fallback on other devices |
//! |---|---|---|
//! | [`bce`] | Bernoulli log-likelihood from logits, row sums, broadcast over IWAE samples | burn's `log_sigmoid` formula in `BceOps` for non-flex backends |
//! | [`dense`] | matmul + bias + tanh/ReLU in one node | burn's `Linear` and activation (`models::layers::dense`) |
//! | [`tanh`] | vectorized tanh and its gradient | burn's `tanh` |
//! | [`gate`] | the gated activation tanh(a)·σ(b) (Gated PixelCNN) and its gradient | `gate::composite`: burn's `tanh(a) * sigmoid(b)` |
//! | [`lstm`] | the LSTM cell update (Row LSTM) and its gradient | `lstm::composite`: burn's sigmoid/tanh formula |
//! | [`masked_conv`] | masked convolution over kept taps (im2col, one GEMM per image) | burn's `conv2d` on the masked kernel (`models::pixel::masked_conv`) |
//! | [`nade`] | NADE's exact −log p(x) and its gradients, one pass per image, no `[batch, dim, hidden]` tensor | the tensor-op formula `Nade::composite_nll` (`families::nade`) |
//! | [`adam`] | Adam's update over flat f32 buffers | burn's `Adam` per tensor |
//! | [`fastmath`] | AVX-512/AVX2 exp, tanh, sigmoid, BCE row sums, dispatched at run time | (CPU only; used by the kernels above) |
//! | [`gemm`] | faer GEMM with the AVX-512 state cleared after it | (CPU only; used by the kernels above and the mixtures' EM) |

pub mod adam;
pub mod bce;
pub mod dense;
pub mod fastmath;
pub mod gate;
mod gates_cpu;
#[cfg(test)]
mod gates_tests;
pub(crate) mod gemm;
pub mod lstm;
pub mod masked_conv;
mod masked_conv_cpu;
pub mod nade;
mod nade_cpu;
pub mod tanh;
