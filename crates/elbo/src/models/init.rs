//! Seeded, deterministic initialization of the layers every model is built
//! from: linear layers, stride-2 convolutions and transposed convolutions.
//!
//! Weights come from one stream seeded by the model's seed alone (independent
//! of thread count and of burn's global RNG), following PyTorch's defaults
//! (weights and biases U(−1/√fan_in, 1/√fan_in)), so curves compare with
//! PyTorch scripts from the first step. Parameter ids are numbered in
//! construction order rather than random, so the same config always yields
//! the same ids: the optimizer state saved in a run folder (keyed by id) then
//! matches the model rebuilt from `config.toml`.

use burn::module::{Param, ParamId};
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Kernel size of every (transposed) convolution: 4x4.
pub const KERNEL: usize = 4;
/// Stride of every (transposed) convolution: each halves (doubles) the size.
pub const STRIDE: usize = 2;
/// Zero padding of every (transposed) convolution.
pub const PADDING: usize = 1;

/// Builds layers in order from one seeded stream, numbering their parameters.
pub(crate) struct Init<'a> {
    rng: Xoshiro256PlusPlus,
    next_id: u64,
    device: &'a Device,
}

impl<'a> Init<'a> {
    /// A builder whose weights come from the stream seeded by `seed`.
    pub fn new(seed: u64, device: &'a Device) -> Self {
        Init {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            next_id: 0,
            device,
        }
    }

    /// The next parameter id.
    pub fn fresh_id(&mut self) -> ParamId {
        self.next_id += 1;
        ParamId::from(self.next_id)
    }

    fn uniform(&mut self, n: usize, fan_in: usize) -> Vec<f32> {
        let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
        (0..n)
            .map(|_| self.rng.random_range(-bound..bound))
            .collect()
    }

    /// A numbered parameter holding `values` of `shape`.
    pub fn param<const D: usize>(
        &mut self,
        values: Vec<f32>,
        shape: [usize; D],
    ) -> Param<Tensor<D>> {
        let t = Tensor::<D>::from_data(TensorData::new(values, shape), self.device);
        let mut p = Param::from_tensor(t);
        p.id = self.fresh_id();
        p
    }

    /// Weight of `shape` and bias of `n_bias` values, drawn in that order
    /// for a layer of `fan_in` inputs; ids are numbered after both draws,
    /// weight first.
    fn weight_bias<const D: usize>(
        &mut self,
        shape: [usize; D],
        n_bias: usize,
        fan_in: usize,
    ) -> (Param<Tensor<D>>, Param<Tensor<1>>) {
        let weight = self.uniform(shape.iter().product(), fan_in);
        let bias = self.uniform(n_bias, fan_in);
        (self.param(weight, shape), self.param(bias, [n_bias]))
    }

    /// A `d_in → d_out` layer like PyTorch's `nn.Linear`: weight `[d_in,
    /// d_out]`, bias `[d_out]`.
    pub fn linear(&mut self, d_in: usize, d_out: usize) -> Linear {
        let (weight, bias) = self.weight_bias([d_in, d_out], d_out, d_in);
        Linear {
            weight,
            bias: Some(bias),
        }
    }

    /// A 4x4, stride-2, padding-1 convolution `c_in → c_out` (halves height
    /// and width), like PyTorch's `nn.Conv2d`: weight `[c_out, c_in, 4, 4]`.
    pub fn conv(&mut self, c_in: usize, c_out: usize) -> Conv2d {
        let (weight, bias) =
            self.weight_bias([c_out, c_in, KERNEL, KERNEL], c_out, c_in * KERNEL * KERNEL);
        Conv2d {
            weight,
            bias: Some(bias),
            stride: [STRIDE; 2],
            kernel_size: [KERNEL; 2],
            dilation: [1, 1],
            groups: 1,
            padding: PaddingConfig2d::Explicit(PADDING, PADDING, PADDING, PADDING),
        }
    }

    /// A 4x4, stride-2, padding-1 transposed convolution `c_in → c_out`
    /// (doubles height and width), like PyTorch's `nn.ConvTranspose2d`:
    /// weight `[c_in, c_out, 4, 4]`, fan-in c_out·16 as PyTorch computes it.
    pub fn deconv(&mut self, c_in: usize, c_out: usize) -> ConvTranspose2d {
        let (weight, bias) = self.weight_bias(
            [c_in, c_out, KERNEL, KERNEL],
            c_out,
            c_out * KERNEL * KERNEL,
        );
        ConvTranspose2d {
            weight,
            bias: Some(bias),
            stride: [STRIDE; 2],
            kernel_size: [KERNEL; 2],
            dilation: [1, 1],
            groups: 1,
            padding: [PADDING; 2],
            padding_out: [0, 0],
            channels: [c_in, c_out],
        }
    }
}
