//! The fused masked convolution (`kernels/masked_conv.rs`) against burn's
//! conv2d of the masked kernel, through the layer that uses it.

use burn::tensor::{Device, Distribution, Tensor};

use crate::models::pixel::{MaskSpec, MaskType, MaskedConv2d, ParamInit};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}

fn close(what: &str, a: Vec<f32>, b: Vec<f32>) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= 2e-5 * scale,
            "{what}[{i}]: fused {x} vs burn {y}"
        );
    }
}

/// Output and all three gradients of the fused op equal burn's conv2d of
/// the masked weight, under autodiff, for `conv` on a [2, in, 7, 6] input.
fn matches_burn(conv: MaskedConv2d, in_ch: usize) {
    let device = Device::flex().autodiff();
    let x0 = Tensor::<4>::random([2, in_ch, 7, 6], Distribution::Normal(0.0, 1.0), &device);
    let run = |fused: bool| {
        let (x, c) = (x0.clone().require_grad(), conv.clone());
        let y = if fused {
            c.forward(x.clone())
        } else {
            c.burn_forward(x.clone())
        };
        // A fixed, position-dependent weighting of the outputs.
        let weights = y.clone().inner().ones_like().cumsum(3);
        let loss = (y.clone() * Tensor::from_inner(weights)).sum();
        let grads = loss.backward();
        let gx = x.grad(&grads).expect("input gradient");
        let gw = c.weight.val().grad(&grads).expect("weight gradient");
        let gb = c.bias.val().grad(&grads).expect("bias gradient");
        [values(y.inner()), values(gx), values(gw), values(gb)]
    };
    let (fused, burn) = (run(true), run(false));
    for ((what, a), b) in ["output", "input grad", "weight grad", "bias grad"]
        .iter()
        .zip(fused)
        .zip(burn)
    {
        close(what, a, b);
    }
}

#[test]
fn fused_masked_conv_matches_burns_conv2d_and_its_gradients() {
    let device = Device::flex().autodiff();
    let mut init = ParamInit::new(11, &device);
    // Mask A 7x7 grey (the first PixelCNN layer), mask B 3x3 RGB (colour
    // groups: the gathered mask varies with the output channel).
    matches_burn(
        MaskedConv2d::masked(MaskSpec::new(MaskType::A, (7, 7), 1, 4, 1), &mut init),
        1,
    );
    matches_burn(
        MaskedConv2d::masked(MaskSpec::new(MaskType::B, (3, 3), 6, 9, 3), &mut init),
        6,
    );
    // Plain 1x1 (the identity-columns path), a gated vertical stack's
    // (k/2+1)xk kernel with asymmetric padding, and a Row LSTM 1x3.
    matches_burn(
        MaskedConv2d::plain([5, 3, 1, 1], [(0, 0), (0, 0)], &mut init),
        3,
    );
    matches_burn(
        MaskedConv2d::plain([4, 3, 2, 3], [(1, 0), (1, 1)], &mut init),
        3,
    );
    matches_burn(
        MaskedConv2d::masked(MaskSpec::new(MaskType::B, (1, 3), 2, 8, 1), &mut init),
        2,
    );
}
