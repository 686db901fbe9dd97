//! The fused dense layer against burn's `Linear` and activations under
//! autodiff: output, and the input, weight and bias gradients.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Distribution, Tensor};

use super::dense;
use crate::models::Activation;

fn close<const D: usize>(a: Tensor<D>, b: Tensor<D>, tol: f32, what: &str) {
    let (a, b) = (
        a.into_data().try_to_vec::<f32>().expect("f32 data"),
        b.into_data().try_to_vec::<f32>().expect("f32 data"),
    );
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!((x - y).abs() <= tol * scale, "{what}[{i}]: {x} vs {y}");
    }
}

fn layer(k: usize, n: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::random(
            [k, n],
            Distribution::Normal(0.0, 0.3),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::random(
            [n],
            Distribution::Normal(0.0, 0.5),
            device,
        ))),
    }
}

/// Compares the fused layer with burn's on `[m, k] → [m, n]` for `act`.
fn check(m: usize, k: usize, n: usize, act: Option<Activation>) {
    let device = Device::flex().autodiff();
    let lin = layer(k, n, &device);
    let x0 = Tensor::<2>::random([m, k], Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<2>::random([m, n], Distribution::Normal(0.0, 1.0), &device);
    let (xa, xb) = (x0.clone().require_grad(), x0.require_grad());
    let ya = dense(&lin, xa.clone(), act);
    let yb = {
        let y = lin.forward(xb.clone());
        act.map_or(y.clone(), |a| a.forward(y))
    };
    let what = format!("{m}x{k}->{n} {act:?}");
    close(
        ya.clone().inner(),
        yb.clone().inner(),
        1e-5,
        &format!("{what} output"),
    );
    let ga = (ya * w.clone()).sum().backward();
    let gb = (yb * w).sum().backward();
    let grad = |t: &Tensor<2>, g| t.grad(g).expect("input gradient");
    close(grad(&xa, &ga), grad(&xb, &gb), 1e-4, &format!("{what} dx"));
    let (wa, wb) = (lin.weight.val().grad(&ga), lin.weight.val().grad(&gb));
    close(
        wa.expect("dw"),
        wb.expect("dw"),
        1e-4,
        &format!("{what} dw"),
    );
    let bias = lin.bias.as_ref().expect("bias").val();
    let (ba, bb) = (bias.grad(&ga), bias.grad(&gb));
    close(
        ba.expect("db"),
        bb.expect("db"),
        1e-4,
        &format!("{what} db"),
    );
}

#[test]
fn fused_dense_matches_burn_linear_and_activation() {
    for act in [None, Some(Activation::Tanh), Some(Activation::Relu)] {
        check(7, 13, 5, act);
        check(1, 3, 2, act);
    }
}

/// Big enough that the GEMMs take every thread when called outside rayon.
#[test]
fn fused_dense_matches_burn_on_a_parallel_product() {
    check(300, 200, 250, Some(Activation::Tanh));
}

/// Inside a rayon task (a data-parallel shard) the GEMMs run on one thread.
#[test]
fn fused_dense_matches_burn_inside_a_rayon_task() {
    rayon::scope(|_| {
        assert!(rayon::current_thread_index().is_some());
        check(300, 200, 250, Some(Activation::Relu));
    });
}

/// Activations without a fused form fall back to burn, with the same result.
#[test]
fn other_activations_fall_back_to_burn() {
    check(6, 4, 3, Some(Activation::Gelu));
}

/// An input that does not need a gradient (the pixels) gets none.
#[test]
fn untracked_input_gets_no_gradient_but_weights_do() {
    let device = Device::flex().autodiff();
    let lin = layer(4, 3, &device);
    let x = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &device);
    let g = dense(&lin, x.clone(), Some(Activation::Tanh))
        .sum()
        .backward();
    assert!(x.grad(&g).is_none());
    assert!(lin.weight.val().grad(&g).is_some());
}
