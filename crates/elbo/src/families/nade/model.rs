//! The Neural Autoregressive Distribution Estimator (Larochelle & Murray 2011,
//! "The Neural Autoregressive Distribution Estimator", AISTATS).
//!
//! NADE writes the probability of a binary image x ∈ {0, 1}^D, pixels in
//! raster order, with the product rule (Eq. 1) and models every conditional
//! with one hidden layer whose weights are shared across pixels:
//!
//! ```text
//! p(x)             = Π_d p(x_d | x_<d)                      (Eq. 1)
//! p(x_d = 1 | x_<d) = σ(b_d + V_d · h_d)                     (Eq. 2)
//! h_d              = σ(c + W_{:,<d} x_<d)                    (Eq. 3)
//! ```
//!
//! with W `[hidden, dim]`, V `[dim, hidden]`, visible biases b `[dim]` and
//! hidden biases c `[hidden]`. Since W_{:,<d+1} x_<d+1 = W_{:,<d} x_<d +
//! W_{:,d} x_d, all pre-activations a_d = c + W_{:,<d} x_<d follow from one
//! running sum (Algorithm 1), so −log p(x) is exact and costs O(dim · hidden)
//! per image: there is no bound and no sampling in the likelihood.
//!
//! Training evaluates −log p(x) and its gradients with one fused op on the
//! CPU backend (`kernels::nade`: Algorithm 1 per image, [`Nade::nll`]) and
//! with tensor ops elsewhere (an exclusive cumulative sum over pixels,
//! [`Nade::composite_nll`]); sampling and completion walk the pixels one by
//! one on plain `f32` vectors ([`Nade::sample`]).

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, softplus};
use burn::tensor::{Device, Tensor};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::kernels::{self, fastmath};
use crate::models::init::Init;
use crate::{Error, Result};

/// A weight drawn by `Init::linear` in NADE's layout `shape`, keeping its id.
/// The draws are i.i.d., so the values keep their drawn order and are only
/// reshaped (not transposed); the result is a fresh leaf, so it is trainable
/// on an autodiff device.
fn relaid(weight: Param<Tensor<2>>, shape: [usize; 2]) -> Param<Tensor<2>> {
    let (id, values, _) = weight.consume();
    let mut param = Param::from_tensor(values.reshape(shape).detach()); // [shape]
    param.id = id;
    param
}

/// `t: [rows, cols]` moved one step along `dim` (0 or 1): position i holds
/// i − 1, position 0 is zero, the last entry drops out. Same shape.
fn shift_right(t: Tensor<2>, dim: usize) -> Tensor<2> {
    let mut shape = t.dims();
    let len = shape[dim];
    shape[dim] = 1;
    let zeros = Tensor::<2>::zeros(shape, &t.device()); // one zero row or column
    if len <= 1 {
        return zeros;
    }
    Tensor::cat(vec![zeros, t.narrow(dim, 0, len - 1)], dim) // [rows, cols]
}

/// The weights as plain `f32` vectors, read back once, for the pixel-by-pixel
/// loops of sampling and completion.
struct Plain {
    hidden: usize,
    /// Wᵀ, `[dim, hidden]`: row d is W_{:,d}, the column pixel d adds.
    w_t: Vec<f32>,
    /// V, `[dim, hidden]`.
    v: Vec<f32>,
    /// b, `[dim]`.
    b: Vec<f32>,
    /// c, `[hidden]`.
    c: Vec<f32>,
}

impl Plain {
    fn read(nade: &Nade) -> Result<Self> {
        Ok(Plain {
            hidden: nade.hidden(),
            w_t: read(nade.w.val().transpose())?, // [dim, hidden]
            v: read(nade.v.val())?,
            b: read(nade.b.val())?,
            c: read(nade.c.val())?,
        })
    }

    /// One pass over `row` (one whole image) in pixel order (Algorithm 1):
    /// from pixel `start` on, `visit(p, x_d)` gets p(x_d = 1 | x_<d) and the
    /// current value and returns the value to keep and condition on. The
    /// pre-activation is the running sum a ← a + W_{:,d} x_d (Eq. 3), so a
    /// row costs O(dim · hidden).
    fn walk(&self, row: &mut [f32], start: usize, mut visit: impl FnMut(f32, f32) -> f32) {
        let h = self.hidden;
        let mut a = self.c.clone(); // a_0 = c: [hidden]
        for (d, x_d) in row.iter_mut().enumerate() {
            if d >= start {
                // Eq. (2): σ(b_d + V_d · σ(a_d)).
                let v_d = &self.v[d * h..(d + 1) * h];
                let vh: f32 = a
                    .iter()
                    .zip(v_d)
                    .map(|(&a, &v)| v * fastmath::sigmoid(a))
                    .sum();
                *x_d = visit(fastmath::sigmoid(self.b[d] + vh), *x_d);
            }
            if *x_d != 0.0 {
                let w_d = &self.w_t[d * h..(d + 1) * h];
                a.iter_mut().zip(w_d).for_each(|(a, &w)| *a += *x_d * w);
            }
        }
    }
}

/// A tensor's values as `f32`, a failed read-back as an [`Error`].
fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.try_into_vec_as::<f32>()
        .map_err(|e| Error::invalid(format!("NADE weight read-back failed: {e:?}")))
}

/// Everything needed to build a [`Nade`]; saved as `[model]` in `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NadeConfig {
    /// Hidden units shared by all conditionals.
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// Pixels per image: 784 for MNIST; 0 until resolved from the data.
    pub input_dim: usize,
}

/// The paper's size for binarized MNIST (Larochelle & Murray 2011, §4).
fn default_hidden() -> usize {
    500
}

impl NadeConfig {
    /// The paper's model: `input_dim` pixels, 500 hidden units.
    pub fn new(input_dim: usize) -> Self {
        NadeConfig {
            hidden: default_hidden(),
            input_dim,
        }
    }

    /// Rejects sizes that cannot build a network. An input size of 0 is
    /// allowed here: it means "take it from the data" until training
    /// resolves it.
    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 {
            return Err(Error::invalid(
                "NADE needs at least one hidden unit, got hidden = 0",
            ));
        }
        Ok(())
    }

    /// Builds a freshly initialized model on `device` (`input_dim` must be
    /// resolved, ≥ 1), its weights drawn from a stream seeded by `seed`
    /// alone. NADE is two dense layers, x → h (W, c; fan-in dim) and h →
    /// logits (V, b; fan-in hidden), each initialized like PyTorch's
    /// `nn.Linear`: U(−1/√fan_in, 1/√fan_in). Parameter ids are numbered
    /// W, c, V, b.
    pub fn init(&self, device: &Device, seed: u64) -> Nade {
        let (dim, hidden) = (self.input_dim, self.hidden);
        let mut init = Init::new(seed, device);
        let input = init.linear(dim, hidden); // weight [dim, hidden], bias [hidden]
        let output = init.linear(hidden, dim); // weight [hidden, dim], bias [dim]
        let bias = |b: Option<Param<Tensor<1>>>| b.expect("Init::linear always draws a bias");
        Nade {
            w: relaid(input.weight, [hidden, dim]),  // [hidden, dim]
            c: bias(input.bias),                     // [hidden]
            v: relaid(output.weight, [dim, hidden]), // [dim, hidden]
            b: bias(output.bias),                    // [dim]
        }
    }
}

/// NADE: one sigmoid hidden layer per pixel, its weights shared across the
/// pixels through the running sum of Eq. (3).
#[derive(Module, Debug)]
pub struct Nade {
    /// Input-to-hidden weights W, `[hidden, dim]`: column d carries pixel d
    /// into the hidden layers of all later pixels (Eq. 3).
    pub w: Param<Tensor<2>>,
    /// Hidden-to-output weights V, `[dim, hidden]`: row d reads pixel d's
    /// hidden layer (Eq. 2).
    pub v: Param<Tensor<2>>,
    /// Visible biases b, `[dim]` (Eq. 2).
    pub b: Param<Tensor<1>>,
    /// Hidden biases c, `[hidden]` (Eq. 3).
    pub c: Param<Tensor<1>>,
}

impl Nade {
    /// The device the weights are on.
    pub fn device(&self) -> Device {
        self.b.val().device()
    }

    /// Pixels per image.
    pub fn dim(&self) -> usize {
        self.b.dims()[0]
    }

    /// Hidden units.
    pub fn hidden(&self) -> usize {
        self.c.dims()[0]
    }

    /// Number of trainable values: 2·dim·hidden + dim + hidden.
    pub fn num_params(&self) -> usize {
        <Self as Module>::num_params(self)
    }

    /// The logit of every conditional, l_d = b_d + V_d · h_d (Eq. 2), for
    /// images `x: [batch, dim]`: `[batch, dim]`. Logit d depends on
    /// x_<d only.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        let [batch, dim] = x.dims();
        let hidden = self.hidden();
        // Eq. (3): a_d = c + Σ_{k<d} x_k W_{:,k}, an exclusive cumulative sum
        // over pixels. burn 0.22 has `cumsum` (differentiable: its backward
        // is a reversed cumsum); it is inclusive, so both factors are shifted
        // one pixel first (position d holds pixel d − 1, position 0 zero) and
        // the inclusive sum of the shifted terms is exactly the exclusive one.
        let x_prev = shift_right(x, 1); // [batch, dim]
        let w_prev = shift_right(self.w.val().transpose(), 0); // [dim, hidden]
        let terms = x_prev.unsqueeze_dim::<3>(2) * w_prev.unsqueeze::<3>(); // [batch, dim, hidden]
        let c = self.c.val().reshape([1, 1, hidden]); // [1, 1, hidden]
        let h = sigmoid(terms.cumsum(1) + c); // h_d: [batch, dim, hidden]
        // Eq. (2): V_d · h_d, a different row of V for every pixel.
        let v = self.v.val().unsqueeze::<3>(); // [1, dim, hidden]
        let vh = (h * v).sum_dim(2).reshape([batch, dim]); // [batch, dim]
        vh + self.b.val().unsqueeze::<2>() // [batch, dim]
    }

    /// −log p(x_d | x_<d) for every pixel of binary images `x: [batch,
    /// dim]`: `[batch, dim]`. From the logits in softplus form (Eq. 2):
    /// −log Bernoulli(x; σ(l)) = softplus(l) − x·l, finite for any logit.
    pub fn conditional_nll(&self, x: Tensor<2>) -> Tensor<2> {
        let logits = self.logits(x.clone()); // [batch, dim]
        softplus(logits.clone(), 1.0) - x * logits
    }

    /// Exact −log p(x) per image for binary images `x: [batch, dim]`, in
    /// nats: `[batch]`. The sum of the conditionals' terms (Eq. 1);
    /// differentiable, the training objective. On the CPU backend (f32) one
    /// fused op walks each image pixel by pixel ([`kernels::nade`]);
    /// elsewhere [`Nade::composite_nll`].
    pub fn nll(&self, x: Tensor<2>) -> Tensor<1> {
        if kernels::nade::fused_applies(&x) {
            let (w, v, b, c) = (self.w.val(), self.v.val(), self.b.val(), self.c.val());
            return kernels::nade::nade_nll(x, w, v, b, c); // [batch]
        }
        self.composite_nll(x)
    }

    /// [`Nade::nll`] with burn tensor ops on any device: the conditionals
    /// of [`Nade::conditional_nll`] summed over pixels. It builds a `[batch,
    /// dim, hidden]` tensor; the fallback where the fused op does not apply.
    pub fn composite_nll(&self, x: Tensor<2>) -> Tensor<1> {
        let batch = x.dims()[0];
        self.conditional_nll(x).sum_dim(1).reshape([batch]) // [batch]
    }

    /// p(x_d = 1 | x_<d) for every pixel of each row of `x` (`[n, dim]`
    /// row-major): `[n, dim]`. Pixels are conditioned on as given, so grey
    /// values are accepted too.
    pub fn probabilities(&self, x: &[f32]) -> Result<Vec<f32>> {
        self.whole_images(x.len())?;
        let weights = Plain::read(self)?;
        let mut probs = Vec::with_capacity(x.len());
        for row in x.chunks(self.dim()) {
            weights.walk(&mut row.to_vec(), 0, |p, x_d| {
                probs.push(p);
                x_d
            });
        }
        Ok(probs)
    }

    /// `n` images drawn from the model (ancestral sampling, pixel by pixel):
    /// `[n, dim]` row-major, values 0 or 1. The same seed gives the same
    /// images; this is [`Nade::complete`] of blank images from pixel 0.
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<f32>> {
        self.complete(&vec![0.0; n * self.dim()], 0, seed)
    }

    /// Completes images `given` (`[n, dim]` row-major): pixels `< start` of
    /// each row are kept, the rest drawn in order from p(x_d | x_<d). One
    /// uniform per drawn pixel, from one stream seeded by `seed`.
    pub fn complete(&self, given: &[f32], start: usize, seed: u64) -> Result<Vec<f32>> {
        self.whole_images(given.len())?;
        let dim = self.dim();
        if start > dim {
            return Err(Error::invalid(format!(
                "completion starts at pixel {start}, past the image's {dim} pixels"
            )));
        }
        let weights = Plain::read(self)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut images = given.to_vec();
        let mut draw = |p: f32, _given: f32| if rng.random::<f32>() < p { 1.0 } else { 0.0 };
        for row in images.chunks_mut(dim) {
            weights.walk(row, start, &mut draw);
        }
        Ok(images)
    }

    /// Checks that `len` values are whole images.
    fn whole_images(&self, len: usize) -> Result<()> {
        let dim = self.dim();
        if dim == 0 || !len.is_multiple_of(dim) {
            return Err(Error::invalid(format!(
                "expected whole images of {dim} pixels, got {len} values"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
