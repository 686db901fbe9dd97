//! The Diagonal BiLSTM layer against a plain reference: one 2×1
//! convolution, LSTM cell and inside mask per column and direction, as in
//! the paper's description (van den Oord et al. 2016, §3.2). The library's
//! layer batches both directions into one matmul per column; its logits
//! and its parameter gradients must equal the reference's.

use burn::tensor::{Device, Tensor, TensorData};
use elbo::models::pixel::diagonal_bilstm::{
    DiagonalBiLstm, DiagonalBiLstmLayer, DiagonalLstm, skew, unskew,
};
use elbo::models::pixel::gated::shift_down;
use elbo::models::pixel::row_lstm::lstm_cell;
use elbo::models::pixel::{PixelConfig, PixelKind, PixelNet, PixelOutput};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// `[1, 1, H, W + H − 1]`: 1 where column k of the skewed map holds a pixel
/// of row i (0 ≤ k − i < W).
fn inside(h: usize, w: usize, device: &Device) -> Tensor<4> {
    let ws = w + h - 1;
    let v: Vec<f32> = (0..h * ws)
        .map(|p| {
            let (i, k) = (p / ws, p % ws);
            f32::from(u8::from(k >= i && k - i < w))
        })
        .collect();
    Tensor::from_data(TensorData::new(v, [1, 1, h, ws]), device)
}

/// One direction, column by column over the skewed map.
fn reference_sweep(d: &DiagonalLstm, x: Tensor<4>) -> Tensor<4> {
    let [b, ch, rows, w] = x.dims();
    let device = x.device();
    let is = skew(d.input_to_state.forward(x)); // [b, 4h, H, W + H − 1]
    let inside = inside(rows, w, &device);
    let mut h = Tensor::<4>::zeros([b, ch, rows, 1], &device);
    let mut c = Tensor::<4>::zeros([b, ch, rows, 1], &device);
    let cols = is.dims()[3];
    let mut out = Vec::with_capacity(cols);
    for k in 0..cols {
        let pre = is.clone().narrow(3, k, 1) + d.state_to_state.forward(h); // [b, 4h, H, 1]
        (h, c) = lstm_cell(pre, c);
        let keep = inside.clone().narrow(3, k, 1); // [1, 1, H, 1]
        (h, c) = (h * keep.clone(), c * keep);
        out.push(h.clone());
    }
    unskew(Tensor::cat(out, 3), w) // [b, h, H, W]
}

fn reference_layer(l: &DiagonalBiLstmLayer, x: Tensor<4>) -> Tensor<4> {
    let left = reference_sweep(&l.left, x.clone());
    let right = reference_sweep(&l.right, x.clone().flip([3])).flip([3]);
    x + left + shift_down(right)
}

fn reference_forward(m: &DiagonalBiLstm, x: Tensor<4>) -> Tensor<4> {
    let s = m
        .layers
        .iter()
        .fold(m.input.forward(x), |s, l| reference_layer(l, s));
    m.head.forward(s)
}

fn random(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let v: Vec<f32> = (0..shape.iter().product())
        .map(|_| rng.random::<f32>())
        .collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

/// The weight and bias of the input convolution and of every layer's four
/// convolutions, named by their checkpoint keys.
fn layer_params(m: &DiagonalBiLstm) -> Vec<(String, Tensor<4>, Tensor<1>)> {
    let mut out = vec![(
        "input".to_string(),
        m.input.weight.val(),
        m.input.bias.val(),
    )];
    for (n, l) in m.layers.iter().enumerate() {
        for (side, d) in [("left", &l.left), ("right", &l.right)] {
            for (part, conv) in [
                ("input_to_state", &d.input_to_state),
                ("state_to_state", &d.state_to_state),
            ] {
                let name = format!("layers.{n}.{side}.{part}");
                out.push((name, conv.weight.val(), conv.bias.val()));
            }
        }
    }
    out
}

/// max |a − b| over max |b|; the plain max |a − b| where b is all zeros
/// (a one-row map has no row above: some gradients are exactly zero).
fn relative_gap(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let gap = a
        .iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    if scale > 0.0 { gap / scale } else { gap }
}

/// Logits and the gradients of every layer parameter of Σ logits·r.
fn logits_and_grads(
    m: &DiagonalBiLstm,
    x: Tensor<4>,
    r: Tensor<4>,
    forward: fn(&DiagonalBiLstm, Tensor<4>) -> Tensor<4>,
) -> (Vec<f32>, Vec<(String, Vec<f32>)>) {
    let logits = forward(m, x);
    let grads = (logits.clone() * r).sum().backward();
    let mut out = Vec::new();
    // A parameter the logits do not depend on (the right direction on a
    // one-row map, whose output is shifted out) has no gradient: zeros.
    for (name, w, b) in layer_params(m) {
        let gw = w
            .grad(&grads)
            .map_or_else(|| vec![0.0; w.shape().num_elements()], values);
        let gb = b
            .grad(&grads)
            .map_or_else(|| vec![0.0; b.shape().num_elements()], values);
        out.push((format!("{name}.weight"), gw));
        out.push((format!("{name}.bias"), gb));
    }
    (values(logits), out)
}

fn check_against_reference(colors: usize, output: PixelOutput) {
    let device = Device::flex().autodiff();
    let config = PixelConfig {
        colors,
        hidden: 6 * colors,
        layers: 2,
        output_hidden: 12,
        output: Some(output),
        ..PixelConfig::new()
    };
    config.validate(PixelKind::DiagonalBiLstm).unwrap();
    let PixelNet::DiagonalBiLstm(m) = config.init(PixelKind::DiagonalBiLstm, &device, 11).unwrap()
    else {
        panic!("not a Diagonal BiLSTM");
    };
    // Non-square maps, wider and taller: the rows that hold pixels at a
    // column of the skewed map start and end differently in each; one row:
    // the right direction's shift leaves nothing; one column: no skew.
    for (rows, cols) in [(5, 7), (7, 5), (2, 4), (4, 2), (1, 4), (4, 1), (1, 1)] {
        let x = random([2, colors, rows, cols], 1, &device);
        let k = output.classes();
        let r = random([2, colors * k, rows, cols], 2, &device);
        let (got, got_grads) = logits_and_grads(&m, x.clone(), r.clone(), DiagonalBiLstm::forward);
        let (want, want_grads) = logits_and_grads(&m, x, r, reference_forward);
        let case = format!("{colors} colours, {output:?}, {rows}×{cols}");
        let gap = relative_gap(&got, &want);
        assert!(gap < 1e-5, "{case}: logits differ by {gap}");
        for ((name, g), (_, w)) in got_grads.iter().zip(&want_grads) {
            let gap = relative_gap(g, w);
            assert!(gap < 1e-5, "{case}: {name} gradient differs by {gap}");
        }
    }
}

#[test]
fn diagonal_bilstm_batched_sweep_equals_the_column_reference_grey_bernoulli() {
    check_against_reference(1, PixelOutput::Bernoulli);
}

#[test]
fn diagonal_bilstm_batched_sweep_equals_the_column_reference_grey_categorical() {
    check_against_reference(1, PixelOutput::Categorical);
}

#[test]
fn diagonal_bilstm_batched_sweep_equals_the_column_reference_rgb_bernoulli() {
    check_against_reference(3, PixelOutput::Bernoulli);
}

#[test]
fn diagonal_bilstm_batched_sweep_equals_the_column_reference_rgb_categorical() {
    check_against_reference(3, PixelOutput::Categorical);
}
