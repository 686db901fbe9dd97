//! Causality of every autoregressive model and mask type. The gradient of the
//! logits at pixel colour (p, c) with respect to the input must be exactly zero
//! at (p, c) and everything after it in raster/RGB order, and nonzero somewhere
//! before it. Plus: the NLL of an image equals the sum of its per-pixel
//! conditionals computed one pixel at a time.

use burn::tensor::{Device, Tensor, TensorData};
use elbo::models::pixel::{PixelConfig, PixelKind, PixelNet, PixelOutput};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const KINDS: [PixelKind; 4] = [
    PixelKind::PixelCnn,
    PixelKind::Gated,
    PixelKind::RowLstm,
    PixelKind::DiagonalBiLstm,
];

/// Tiny networks; 9 hidden channels per colour group so that some ReLU of
/// every group is alive at every pixel (the "nonzero before" half of the check).
fn net(
    kind: PixelKind,
    colors: usize,
    output: PixelOutput,
    layers: usize,
    device: &Device,
) -> PixelNet {
    let config = PixelConfig {
        colors,
        hidden: 9 * colors,
        layers,
        output_hidden: 24,
        output: Some(output),
        classes: if kind == PixelKind::Gated { 3 } else { 0 },
        ..PixelConfig::new()
    };
    config.validate(kind).unwrap();
    config.init(kind, device, 7).unwrap()
}

fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.random::<f32>()).collect()
}

fn labels(net: &PixelNet, device: &Device) -> Option<Tensor<2>> {
    (net.classes() > 0)
        .then(|| Tensor::from_data(TensorData::new(vec![0.0f32, 1.0, 0.0], [1, 3]), device))
}

/// d(Σ logits of colour c at pixel p)/d(input), `[colors, H, W]` flattened.
fn input_gradient(net: &PixelNet, colors: usize, size: usize, p: usize, c: usize) -> Vec<f32> {
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(
        TensorData::new(random(colors * size * size, 3), [1, colors, size, size]),
        &device,
    )
    .require_grad();
    let logits = net.forward(x.clone(), labels(net, &device).as_ref());
    let k = net.output().classes();
    let (i, j) = (p / size, p % size);
    let picked = logits
        .narrow(1, c * k, k)
        .narrow(2, i, 1)
        .narrow(3, j, 1)
        .sum();
    let grads = picked.backward();
    x.grad(&grads)
        .unwrap()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn check_causal(kind: PixelKind, colors: usize, output: PixelOutput) {
    let size = 7;
    let device = Device::flex().autodiff();
    let model = net(kind, colors, output, 2, &device);
    let pixels = size * size;
    for p in [0, 1, size + 3, pixels / 2, pixels - 1] {
        for c in 0..colors {
            let g = input_gradient(&model, colors, size, p, c);
            let mut before_nonzero = false;
            for q in 0..pixels {
                for d in 0..colors {
                    let v = g[d * pixels + q];
                    let before = q < p || (q == p && d < c);
                    if before {
                        before_nonzero |= v != 0.0;
                    } else {
                        assert_eq!(
                            v, 0.0,
                            "{kind:?} {output:?} colors {colors}: logit ({p}, {c}) depends on input ({q}, {d})"
                        );
                    }
                }
            }
            let has_past = p > 0 || c > 0;
            assert_eq!(
                before_nonzero, has_past,
                "{kind:?} {output:?}: logit ({p}, {c}) ignores every earlier input"
            );
        }
    }
}

#[test]
fn grey_bernoulli_models_are_causal() {
    for kind in KINDS {
        check_causal(kind, 1, PixelOutput::Bernoulli);
    }
}

#[test]
fn grey_categorical_models_are_causal() {
    for kind in KINDS {
        check_causal(kind, 1, PixelOutput::Categorical);
    }
}

#[test]
fn rgb_models_are_causal_in_r_g_b_order() {
    for kind in KINDS {
        check_causal(kind, 3, PixelOutput::Bernoulli);
    }
}

#[test]
fn gated_pixelcnn_has_no_blind_spot() {
    // 3 gated layers, 3x3 stacks: pixel (3, 3) of a 7x7 image sees every
    // earlier pixel (PixelCNN's masked 3x3 stack would miss the upper right).
    let device = Device::flex().autodiff();
    let model = net(PixelKind::Gated, 1, PixelOutput::Bernoulli, 3, &device);
    let g = input_gradient(&model, 1, 7, 3 * 7 + 3, 0);
    for (q, &v) in g.iter().enumerate().take(3 * 7 + 3) {
        assert_ne!(v, 0.0, "pixel {q} is in the blind spot");
    }
}

#[test]
fn diagonal_bilstm_reaches_the_upper_right_through_its_right_sweep() {
    // One layer and a 3×3 first conv: pixel (4, 2) of a 9×9 image reaches
    // the far upper right (e.g. (0, 8), (2, 8)) only through the right
    // sweep shifted down a row, the left part of its row only through the
    // left sweep (paper §3.2, Fig. 4). The one exception is the last pixel
    // of the row above, (3, 8): the right sweep reads the features of row
    // 3, and none of them sees that row's last pixel (mask A), so it
    // reaches row 4 only through the first conv's kernel (columns ≥ 7).
    let device = Device::flex().autodiff();
    let config = PixelConfig {
        colors: 1,
        hidden: 9,
        layers: 1,
        first_kernel: 3,
        output_hidden: 24,
        output: Some(PixelOutput::Bernoulli),
        ..PixelConfig::new()
    };
    let model = config.init(PixelKind::DiagonalBiLstm, &device, 7).unwrap();
    let p = 4 * 9 + 2;
    let g = input_gradient(&model, 1, 9, p, 0);
    let last_above = 3 * 9 + 8;
    for (q, &v) in g.iter().enumerate().take(p) {
        if q != last_above {
            assert_ne!(v, 0.0, "pixel {q} does not reach pixel {p}");
        }
    }
    assert_eq!(g[last_above], 0.0);
    assert!(g[p..].iter().all(|&v| v == 0.0));
}

/// Σ_i log p(x_i | x_<i) with each conditional from its own forward pass on
/// an image whose pixels from i on are replaced by noise.
fn nll_one_pixel_at_a_time(net: &PixelNet, x: &[f32], colors: usize, size: usize) -> f64 {
    let device = net.device();
    let pixels = size * size;
    let noise = random(x.len(), 99);
    let mut total = 0.0;
    for p in 0..pixels {
        for c in 0..colors {
            // Input in [C, H, W] layout: keep (q, d) before (p, c), noise after.
            let mut masked = x.to_vec();
            for q in 0..pixels {
                for d in 0..colors {
                    if !(q < p || (q == p && d < c)) {
                        masked[d * pixels + q] = noise[d * pixels + q];
                    }
                }
            }
            let xin =
                Tensor::<4>::from_data(TensorData::new(masked, [1, colors, size, size]), &device);
            let logits = net.forward(xin, labels(net, &device).as_ref());
            let target = Tensor::<4>::from_data(
                TensorData::new(x.to_vec(), [1, colors, size, size]),
                &device,
            );
            let lp = net
                .output()
                .log_probs(logits, target)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap();
            total -= f64::from(lp[c * pixels + p]);
        }
    }
    total
}

#[test]
fn nll_equals_the_sum_of_per_pixel_conditionals() {
    let device = Device::flex();
    let size = 6;
    for kind in KINDS {
        for (colors, output) in [
            (1, PixelOutput::Bernoulli),
            (1, PixelOutput::Categorical),
            (3, PixelOutput::Categorical),
        ] {
            let model = net(kind, colors, output, 2, &device);
            let n = colors * size * size;
            let x: Vec<f32> = match output {
                PixelOutput::Bernoulli => random(n, 5)
                    .iter()
                    .map(|&u| f32::from(u8::from(u < 0.4)))
                    .collect(),
                PixelOutput::Categorical => random(n, 5)
                    .iter()
                    .map(|&u| (u * 255.0).floor() / 255.0)
                    .collect(),
            };
            let xt = Tensor::<4>::from_data(
                TensorData::new(x.clone(), [1, colors, size, size]),
                &device,
            );
            let batched = f64::from(
                model
                    .nll(xt, labels(&model, &device).as_ref())
                    .into_scalar::<f32>(),
            );
            let sequential = nll_one_pixel_at_a_time(&model, &x, colors, size);
            let tol = 1e-4 * batched.abs().max(1.0);
            assert!(
                (batched - sequential).abs() < tol,
                "{kind:?} {output:?} {colors}: {batched} vs {sequential}"
            );
            // Sanity: an untrained model is near uniform: ≈ ln 2 or ln 256 per value.
            let per_value = batched / n as f64;
            let uniform = (output.classes().max(2) as f64).ln();
            assert!(
                (per_value - uniform).abs() < 0.5 * uniform,
                "{per_value} vs {uniform}"
            );
        }
    }
}

#[test]
fn the_gradient_check_sees_a_centre_connection() {
    // Negative control: a mask-B first layer lets pixel p see itself, and
    // the same gradient probe must notice (so the checks above can fail).
    use elbo::models::pixel::{MaskSpec, MaskType, MaskedConv2d, ParamInit};
    let device = Device::flex().autodiff();
    for (kind, sees_itself) in [(MaskType::A, false), (MaskType::B, true)] {
        let mut init = ParamInit::new(1, &device);
        let conv = MaskedConv2d::masked(MaskSpec::new(kind, (3, 3), 1, 4, 1), &mut init);
        let x = Tensor::<4>::from_data(TensorData::new(random(25, 2), [1, 1, 5, 5]), &device)
            .require_grad();
        let out = conv
            .forward(x.clone())
            .narrow(2, 2, 1)
            .narrow(3, 2, 1)
            .sum();
        let g = x
            .grad(&out.backward())
            .unwrap()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(g[12] != 0.0, sees_itself, "{kind:?}");
        assert!(
            g[13..].iter().all(|&v| v == 0.0),
            "{kind:?} sees later pixels"
        );
    }
}
