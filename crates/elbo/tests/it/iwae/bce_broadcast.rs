//! The IWAE scores k logit rows against one target row without copying the
//! pixels k times. The broadcast BCE must equal the BCE against explicitly
//! repeated targets: values, and gradients for logits and targets.

use burn::tensor::{Device, Distribution, Tensor};
use elbo::models::vae::bce_with_logits;

fn vec1(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn vec2(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * y.abs().max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn bce_broadcast_equals_repeated_targets_in_values_and_gradients() {
    let device = Device::flex().autodiff();
    let (images, k, d) = (3, 5, 17);
    let logits0 = Tensor::<2>::random([images * k, d], Distribution::Normal(0.0, 3.0), &device);
    let x0 = Tensor::<2>::random([images, d], Distribution::Uniform(0.0, 1.0), &device);
    let w = Tensor::<1>::random([images * k], Distribution::Normal(0.0, 1.0), &device);

    let (la, xa) = (logits0.clone().require_grad(), x0.clone().require_grad());
    let a = bce_with_logits(la.clone(), xa.clone()); // [images·k]

    let (lb, xb) = (logits0.require_grad(), x0.require_grad());
    let repeated = xb
        .clone()
        .unsqueeze_dim::<3>(1)
        .repeat_dim(1, k)
        .reshape([images * k, d]); // [images·k, d]
    let b = bce_with_logits(lb.clone(), repeated);

    close(&vec1(a.clone().inner()), &vec1(b.clone().inner()), "values");
    let (ga, gb) = ((a * w.clone()).sum().backward(), (b * w).sum().backward());
    let (dla, dlb) = (la.grad(&ga).expect("dl"), lb.grad(&gb).expect("dl"));
    close(&vec2(dla), &vec2(dlb), "logit gradient");
    let (dxa, dxb) = (xa.grad(&ga).expect("dx"), xb.grad(&gb).expect("dx"));
    close(&vec2(dxa), &vec2(dxb), "target gradient");
}
