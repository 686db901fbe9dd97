//! Layers shared by the networks: a dense layer with its activation,
//! through the fused CPU kernel where it applies (`kernels/dense.rs`) and
//! burn's composite ops elsewhere.

use burn::nn::Linear;
use burn::tensor::Tensor;

use super::Activation;
use crate::kernels::dense::{DenseAct, applies, fused_dense};

/// `activation(layer(x))` (no activation for `None`): one fused op for f32 on
/// the CPU backend with a bias and an identity, tanh or ReLU activation;
/// burn's `Linear` and activation otherwise.
pub fn dense(layer: &Linear, x: Tensor<2>, activation: Option<Activation>) -> Tensor<2> {
    let act = match activation {
        None => Some(DenseAct::Identity),
        Some(Activation::Tanh) => Some(DenseAct::Tanh),
        Some(Activation::Relu) => Some(DenseAct::Relu),
        Some(_) => None,
    };
    match (act, &layer.bias) {
        (Some(act), Some(bias)) if applies(&x) => {
            fused_dense(x, layer.weight.val(), bias.val(), act)
        }
        _ => {
            let y = layer.forward(x);
            match activation {
                Some(a) => a.forward(y),
                None => y,
            }
        }
    }
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
