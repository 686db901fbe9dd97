//! The fused gate and LSTM cell against burn's composite formulas (values
//! and gradients), against central finite differences, and against libm
//! (f64) over dense grids.

use burn::tensor::{Device, Distribution, Tensor};

use super::gates_cpu::{self, LstmGrad, LstmIn, LstmOut};
use super::{gate, lstm};

fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 data")
}

fn max_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The grid −20..20 in steps of 0.01 (4001 points), where the gates saturate
/// at both ends.
fn grid() -> Vec<f32> {
    (0..=4000).map(|i| -20.0 + i as f32 * 0.01).collect()
}

#[test]
fn fused_gate_matches_burn_tanh_times_sigmoid_values_and_gradient() {
    let device = Device::flex().autodiff();
    for shape in [[3, 8, 5, 7], [1, 2, 1, 1], [4, 6, 1, 28]] {
        let x0 = Tensor::<4>::random(shape, Distribution::Normal(0.0, 3.0), &device);
        let out = [shape[0], shape[1] / 2, shape[2], shape[3]];
        let w = Tensor::<4>::random(out, Distribution::Normal(0.0, 1.0), &device);
        let (xa, xb) = (x0.clone().require_grad(), x0.require_grad());
        let (ya, yb) = (gate::gated_tanh(xa.clone()), gate::composite(xb.clone()));
        assert!(max_diff(ya.clone().inner(), yb.clone().inner()) < 1e-6);
        let (ga, gb) = ((ya * w.clone()).sum().backward(), (yb * w).sum().backward());
        let (ga, gb) = (xa.grad(&ga).expect("grad"), xb.grad(&gb).expect("grad"));
        assert!(max_diff(ga, gb) < 1e-5, "{shape:?}");
    }
}

#[test]
fn fused_lstm_cell_matches_burn_formula_values_and_both_gradients() {
    let device = Device::flex().autodiff();
    for (b, h, w) in [(3, 5, 7), (1, 1, 1), (4, 16, 28)] {
        let normal = |c| Tensor::<4>::random([b, c, 1, w], Distribution::Normal(0.0, 2.0), &device);
        let (p0, c0, wh, wc) = (normal(4 * h), normal(h), normal(h), normal(h));
        let (pa, ca) = (p0.clone().require_grad(), c0.clone().require_grad());
        let (pb, cb) = (p0.require_grad(), c0.require_grad());
        let (ha, c_a) = lstm::lstm_cell(pa.clone(), ca.clone());
        let (hb, c_b) = lstm::composite(pb.clone(), cb.clone());
        assert!(max_diff(ha.clone().inner(), hb.clone().inner()) < 1e-6);
        assert!(max_diff(c_a.clone().inner(), c_b.clone().inner()) < 2e-6);
        let loss_a = (ha * wh.clone()).sum() + (c_a * wc.clone()).sum();
        let loss_b = (hb * wh).sum() + (c_b * wc).sum();
        let (ga, gb) = (loss_a.backward(), loss_b.backward());
        let grad = |t: &Tensor<4>, g| t.grad(g).expect("grad");
        assert!(max_diff(grad(&pa, &ga), grad(&pb, &gb)) < 1e-5);
        assert!(max_diff(grad(&ca, &ga), grad(&cb, &gb)) < 1e-5);
    }
}

/// The fused cell's h and c feed the next row's cell: two chained calls
/// differentiate like the composite (gradient through c_prev of a fused output).
#[test]
fn chained_fused_lstm_cells_match_the_composite_gradient() {
    let device = Device::flex().autodiff();
    let normal = |c| Tensor::<4>::random([2, c, 1, 6], Distribution::Normal(0.0, 1.5), &device);
    let (p1, p2, c0) = (normal(12), normal(12), normal(3));
    let run = |cell: fn(Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>)| {
        let (a, b) = (p1.clone().require_grad(), p2.clone().require_grad());
        let (h1, c1) = cell(a.clone(), c0.clone());
        let (h2, c2) = cell(b + h1.clone().repeat_dim(1, 4), c1);
        let g = (h2.mul_scalar(0.7) + c2 + h1).sum().backward();
        a.grad(&g).expect("grad")
    };
    assert!(max_diff(run(lstm::lstm_cell), run(lstm::composite)) < 1e-5);
}

/// Central differences (step 1e-2 in f64 around the f32 forward) of the
/// slice kernels agree with their backward to 2e-3 absolute.
#[test]
fn gate_and_lstm_backward_match_finite_differences() {
    let xs: Vec<f32> = (0..=160).map(|i| -8.0 + i as f32 * 0.1).collect();
    let eps = 1e-2f32;
    let gate_at = |a: f32, b: f32| {
        let mut o = [0.0f32];
        gates_cpu::gate_forward(&[a], &[b], &mut o);
        f64::from(o[0])
    };
    for &a in &xs {
        for &b in xs.iter().step_by(8) {
            let (mut ga, mut gb) = ([0.0f32], [0.0f32]);
            gates_cpu::gate_backward(&[a], &[b], &[1.0], &mut ga, &mut gb);
            let fa = (gate_at(a + eps, b) - gate_at(a - eps, b)) / f64::from(2.0 * eps);
            let fb = (gate_at(a, b + eps) - gate_at(a, b - eps)) / f64::from(2.0 * eps);
            assert!((f64::from(ga[0]) - fa).abs() < 2e-3, "d/da at ({a}, {b})");
            assert!((f64::from(gb[0]) - fb).abs() < 2e-3, "d/db at ({a}, {b})");
        }
    }
    // The cell: loss = 0.8·h + 0.3·c, perturbing each of the five inputs.
    let loss = |v: [f32; 5]| {
        let (mut h, mut c) = ([0.0f32], [0.0f32]);
        let p = LstmIn {
            i: &v[..1],
            f: &v[1..2],
            o: &v[2..3],
            g: &v[3..4],
            c_prev: &v[4..5],
        };
        gates_cpu::lstm_forward(p, &mut h, &mut c);
        0.8 * f64::from(h[0]) + 0.3 * f64::from(c[0])
    };
    for (k, &x) in xs.iter().enumerate().step_by(3) {
        let v = [
            x,
            xs[(k * 7) % xs.len()] * 0.5,
            -x * 0.7,
            xs[(k * 13) % xs.len()],
            x * 0.3,
        ];
        let mut d = [[0.0f32]; 5];
        let [di, df, d_o, dg, dc] = &mut d;
        let p = LstmIn {
            i: &v[..1],
            f: &v[1..2],
            o: &v[2..3],
            g: &v[3..4],
            c_prev: &v[4..5],
        };
        let out = LstmOut {
            i: di,
            f: df,
            o: d_o,
            g: dg,
            c_prev: dc,
        };
        gates_cpu::lstm_backward(
            p,
            LstmGrad {
                h: &[0.8],
                c: &[0.3],
            },
            out,
        );
        for j in 0..5 {
            let (mut up, mut down) = (v, v);
            up[j] += eps;
            down[j] -= eps;
            let fd = (loss(up) - loss(down)) / f64::from(2.0 * eps);
            assert!(
                (f64::from(d[j][0]) - fd).abs() < 2e-3,
                "input {j} at {v:?}: {} vs {fd}",
                d[j][0]
            );
        }
    }
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Relative error of the gate against tanh(a)·σ(b) in f64 over the whole
/// 4001 × 4001 grid on [−20, 20]²: at most 1.5e-6 (about 12 ulp, from the
/// ≤ 4-ulp tanh and the sigmoid's one division and exp).
#[test]
fn gate_forward_matches_libm_over_a_dense_grid() {
    let g = grid();
    let mut out = vec![0.0f32; g.len()];
    let mut worst = 0.0f64;
    for &a in &g {
        let a_row = vec![a; g.len()];
        gates_cpu::gate_forward(&a_row, &g, &mut out);
        for (&b, &got) in g.iter().zip(&out) {
            let want = f64::from(a).tanh() * sigmoid64(f64::from(b));
            let err = (f64::from(got) - want).abs() / want.abs().max(1e-30);
            worst = worst.max(if want == 0.0 {
                f64::from(got).abs()
            } else {
                err
            });
        }
    }
    assert!(worst <= 1.5e-6, "worst relative error {worst:e}");
}

/// The cell against the f64 formula over 4001 × 41 grid points of each
/// gate pair: c to 2e-6 of |σ(f)·c_prev| + |σ(i)·tanh(g)| (the size of its
/// terms, since they may cancel), h to 2e-6 of |h| plus that bound on c.
#[test]
fn lstm_forward_matches_libm_over_a_dense_grid() {
    let g = grid();
    let coarse: Vec<f32> = g.iter().copied().step_by(100).collect(); // 41 points
    let n = g.len();
    let (mut h, mut c) = (vec![0.0f32; n], vec![0.0f32; n]);
    for &u in &coarse {
        for (k, &cp) in [-3.0f32, 0.0, 0.5, 7.0].iter().enumerate() {
            // The fine grid runs over one input, the coarse value over another,
            // rotating which inputs they are.
            let fixed = vec![u; n];
            let cps = vec![cp; n];
            let blocks: [&[f32]; 4] = match k {
                0 => [&g, &fixed, &fixed, &fixed],
                1 => [&fixed, &g, &fixed, &fixed],
                2 => [&fixed, &fixed, &g, &fixed],
                _ => [&fixed, &fixed, &fixed, &g],
            };
            let p = LstmIn {
                i: blocks[0],
                f: blocks[1],
                o: blocks[2],
                g: blocks[3],
                c_prev: &cps,
            };
            gates_cpu::lstm_forward(p, &mut h, &mut c);
            for j in 0..n {
                let [i, f, o, gg] = blocks.map(|b| f64::from(b[j]));
                let (fc, ig) = (sigmoid64(f) * f64::from(cp), sigmoid64(i) * gg.tanh());
                let (cw, hw) = (fc + ig, sigmoid64(o) * (fc + ig).tanh());
                let scale = 2e-6 * (fc.abs() + ig.abs());
                assert!(
                    (f64::from(c[j]) - cw).abs() <= scale + 1e-30,
                    "c at {j}, {u}, {cp}"
                );
                assert!(
                    (f64::from(h[j]) - hw).abs() <= 2e-6 * hw.abs() + scale + 1e-30,
                    "h at {j}"
                );
            }
        }
    }
}
