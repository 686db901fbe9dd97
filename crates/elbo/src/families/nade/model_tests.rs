//! NADE against independent f64 loops: normalization, the vectorized
//! likelihood and its gradient, the autoregressive property, and the
//! pixel-by-pixel sampler.

use burn::module::{Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use super::{Nade, NadeConfig};
use crate::device::default_device;

/// A test model's weights in f64, for the reference computations.
#[derive(Clone)]
struct Weights {
    dim: usize,
    hidden: usize,
    /// W `[hidden, dim]`.
    w: Vec<f64>,
    /// V `[dim, hidden]`.
    v: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

fn sigmoid(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

impl Weights {
    /// Weights U(−scale, scale): large enough that the conditionals are far
    /// from ½, so wrong wiring shows.
    fn random(dim: usize, hidden: usize, scale: f64, seed: u64) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut draw =
            |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-scale..scale)).collect() };
        Weights {
            dim,
            hidden,
            w: draw(hidden * dim),
            v: draw(dim * hidden),
            b: draw(dim),
            c: draw(hidden),
        }
    }

    /// The same weights as a burn model on `device`.
    fn nade(&self, device: &Device) -> Nade {
        fn param<const D: usize>(
            v: &[f64],
            shape: [usize; D],
            device: &Device,
        ) -> Param<Tensor<D>> {
            let values: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
        }
        Nade {
            w: param(&self.w, [self.hidden, self.dim], device),
            v: param(&self.v, [self.dim, self.hidden], device),
            b: param(&self.b, [self.dim], device),
            c: param(&self.c, [self.hidden], device),
        }
    }

    /// −log p(x) of one binary image straight from Eqs. (1)-(3): for every
    /// pixel d, every hidden pre-activation summed afresh over k < d.
    fn nll(&self, x: &[f32]) -> f64 {
        let (dim, hidden) = (self.dim, self.hidden);
        let mut total = 0.0;
        for d in 0..dim {
            let mut logit = self.b[d];
            for j in 0..hidden {
                let a: f64 = self.c[j]
                    + (0..d)
                        .map(|k| self.w[j * dim + k] * f64::from(x[k]))
                        .sum::<f64>();
                logit += self.v[d * hidden + j] * sigmoid(a);
            }
            let p = sigmoid(logit);
            total -= if x[d] > 0.5 { p.ln() } else { (1.0 - p).ln() };
        }
        total
    }

    /// W, V, b or c (0, 1, 2, 3), in the order of [`Weights`].
    fn tensor_mut(&mut self, which: usize) -> &mut Vec<f64> {
        match which {
            0 => &mut self.w,
            1 => &mut self.v,
            2 => &mut self.b,
            _ => &mut self.c,
        }
    }

    /// Reference −log p summed over the rows of `x`.
    fn total_nll(&self, x: &[f32]) -> f64 {
        x.chunks(self.dim).map(|row| self.nll(row)).sum()
    }
}

/// All 2^dim binary images, `[2^dim, dim]`: pixel k of image i is bit k of i.
fn all_images(dim: usize) -> Vec<f32> {
    (0..1usize << dim)
        .flat_map(|i| (0..dim).map(move |k| ((i >> k) & 1) as f32))
        .collect()
}

/// `n` random binary images of `dim` pixels.
fn random_images(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n * dim)
        .map(|_| if rng.random::<bool>() { 1.0 } else { 0.0 })
        .collect()
}

fn batch(x: &[f32], dim: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(x.to_vec(), [x.len() / dim, dim]), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.try_into_vec_as::<f32>().expect("f32 values")
}

/// The model's −log p per image of `x`, through the vectorized [`Nade::nll`].
fn model_nll(nade: &Nade, x: &[f32]) -> Vec<f32> {
    values(nade.nll(batch(x, nade.dim(), &default_device())))
}

#[test]
fn probabilities_of_all_binary_images_sum_to_one() {
    let nade = Weights::random(6, 4, 2.0, 1).nade(&default_device());
    let nll = model_nll(&nade, &all_images(6));
    assert_eq!(nll.len(), 64);
    let total: f64 = nll.iter().map(|&l| (-f64::from(l)).exp()).sum();
    assert!((total - 1.0).abs() < 1e-5, "Σ p(x) = {total}");
}

#[test]
fn vectorized_nll_matches_a_scalar_loop() {
    let weights = Weights::random(10, 7, 1.5, 2);
    let nade = weights.nade(&default_device());
    let x = random_images(20, 10, 3);
    let got = model_nll(&nade, &x);
    for (i, row) in x.chunks(10).enumerate() {
        let want = weights.nll(row);
        let err = (f64::from(got[i]) - want).abs();
        assert!(
            err <= 1e-5 * want.max(1.0),
            "image {i}: {} vs {want}",
            got[i]
        );
    }
}

#[test]
fn nll_gradient_matches_finite_differences() {
    let device = default_device().autodiff();
    let weights = Weights::random(5, 3, 1.0, 4);
    let nade = weights.nade(&device);
    let x = random_images(4, 5, 5);
    let grads = nade.nll(batch(&x, 5, &device)).sum().backward();
    let autodiff = [
        values(nade.w.val().grad(&grads).expect("dW")),
        values(nade.v.val().grad(&grads).expect("dV")),
        values(nade.b.val().grad(&grads).expect("db")),
        values(nade.c.val().grad(&grads).expect("dc")),
    ];
    // Central differences of the f64 reference, every entry of W, V, b, c.
    let step = 1e-6;
    for (which, name) in ["W", "V", "b", "c"].iter().enumerate() {
        for (i, &got) in autodiff[which].iter().enumerate() {
            let at = |delta: f64| {
                let mut w = weights.clone();
                w.tensor_mut(which)[i] += delta;
                w.total_nll(&x)
            };
            let want = (at(step) - at(-step)) / (2.0 * step);
            let err = (f64::from(got) - want).abs();
            assert!(
                err <= 1e-4 * want.abs().max(1.0),
                "d nll / d {name}[{i}]: autodiff {got}, finite differences {want}"
            );
        }
    }
}

#[test]
fn no_conditional_depends_on_its_own_or_later_pixels() {
    let (dim, n) = (6, 3);
    let device = default_device().autodiff();
    let nade = Weights::random(dim, 5, 2.0, 6).nade(&device);
    let x0 = random_images(n, dim, 7);
    // The gradient of one per-pixel quantity w.r.t. every input pixel.
    let input_grad = |d: usize, logit: bool| -> Vec<f32> {
        let x = batch(&x0, dim, &device).require_grad();
        let per_pixel = if logit {
            nade.logits(x.clone())
        } else {
            nade.conditional_nll(x.clone())
        }; // [n, dim]
        let grads = per_pixel.narrow(1, d, 1).sum().backward();
        x.grad(&grads).map_or(vec![0.0; n * dim], values)
    };
    for d in 0..dim {
        // p(x_d | x_<d)'s logit: blind to pixels d, d + 1, …, not to x_<d.
        let g = input_grad(d, true);
        for (i, row) in g.chunks(dim).enumerate() {
            assert!(
                row[d..].iter().all(|&v| v == 0.0),
                "logit {d} of image {i} depends on pixels ≥ {d}: {row:?}"
            );
            if d > 0 {
                assert!(
                    row[..d].iter().any(|&v| v.abs() > 1e-6),
                    "logit {d} of image {i} ignores x_<{d}: {row:?}"
                );
            }
        }
        // −log p(x_d | x_<d): x_d enters only as the value scored.
        let g = input_grad(d, false);
        for (i, row) in g.chunks(dim).enumerate() {
            assert!(
                row[d + 1..].iter().all(|&v| v == 0.0),
                "term {d} of image {i} depends on pixels > {d}: {row:?}"
            );
        }
    }
}

#[test]
fn probabilities_match_the_vectorized_logits() {
    let dim = 9;
    let nade = Weights::random(dim, 6, 2.0, 8).nade(&default_device());
    let x = random_images(7, dim, 9);
    let logits = values(nade.logits(batch(&x, dim, &default_device())));
    let probs = nade.probabilities(&x).expect("probabilities");
    assert_eq!(probs.len(), x.len());
    for (i, (&p, &l)) in probs.iter().zip(&logits).enumerate() {
        let want = sigmoid(f64::from(l));
        assert!(
            (f64::from(p) - want).abs() < 1e-5,
            "pixel {i}: {p} vs {want}"
        );
    }
}

#[test]
fn samples_follow_the_model_distribution() {
    let (dim, n) = (3, 20_000);
    let nade = Weights::random(dim, 4, 2.0, 10).nade(&default_device());
    let model: Vec<f64> = model_nll(&nade, &all_images(dim))
        .iter()
        .map(|&l| (-f64::from(l)).exp())
        .collect();
    let samples = nade.sample(n, 11).expect("samples");
    let mut counts = [0usize; 8];
    for row in samples.chunks(dim) {
        let index: usize = row
            .iter()
            .enumerate()
            .map(|(k, &v)| (v as usize) << k)
            .sum();
        counts[index] += 1;
    }
    for (i, (&count, &p)) in counts.iter().zip(&model).enumerate() {
        let freq = count as f64 / n as f64;
        assert!(
            (freq - p).abs() < 0.02,
            "image {i}: frequency {freq}, model {p}"
        );
    }
}

#[test]
fn sampling_is_deterministic_for_a_seed() {
    let nade = Weights::random(12, 6, 2.0, 12).nade(&default_device());
    let a = nade.sample(50, 7).expect("samples");
    assert_eq!(a.len(), 50 * 12);
    assert!(a.iter().all(|&v| v == 0.0 || v == 1.0), "non-binary sample");
    assert_eq!(a, nade.sample(50, 7).expect("samples"), "same seed");
    assert_ne!(a, nade.sample(50, 8).expect("samples"), "other seed");
}

#[test]
fn completion_keeps_the_given_pixels() {
    let (dim, n, start) = (12, 5, 5);
    let nade = Weights::random(dim, 6, 2.0, 13).nade(&default_device());
    // Grey "given" pixels, so any pixel the sampler wrote shows as 0 or 1.
    let given = vec![0.5f32; n * dim];
    let done = nade.complete(&given, start, 3).expect("completion");
    for row in done.chunks(dim) {
        assert!(row[..start].iter().all(|&v| v == 0.5), "kept: {row:?}");
        assert!(
            row[start..].iter().all(|&v| v == 0.0 || v == 1.0),
            "drawn: {row:?}"
        );
    }
    assert_eq!(
        nade.complete(&given, dim, 3).expect("nothing to draw"),
        given
    );
    let blank = vec![0.0; n * dim];
    let from_zero = nade.complete(&blank, 0, 3).expect("completion");
    assert_eq!(from_zero, nade.sample(n, 3).expect("samples"));
    assert!(
        nade.complete(&given, dim + 1, 3).is_err(),
        "start past the image"
    );
    assert!(
        nade.complete(&given[1..], start, 3).is_err(),
        "partial image"
    );
}

#[test]
fn init_is_seeded_numbered_and_trainable() {
    let config = NadeConfig {
        hidden: 4,
        input_dim: 6,
    };
    let device = default_device();
    let (a, b) = (config.init(&device, 1), config.init(&device, 1));
    assert_eq!(values(a.w.val()), values(b.w.val()));
    assert_ne!(values(a.w.val()), values(config.init(&device, 2).w.val()));
    assert_eq!((a.w.dims(), a.v.dims()), ([4, 6], [6, 4]));
    assert_eq!(
        (a.dim(), a.hidden(), a.num_params()),
        (6, 4, 2 * 24 + 6 + 4)
    );
    let ids = [a.w.id, a.c.id, a.v.id, a.b.id];
    assert_eq!(ids, [1, 2, 3, 4].map(ParamId::from));
    // Built on the autodiff device (as training does), every weight gets a gradient.
    let device = device.autodiff();
    let nade = config.init(&device, 1);
    let loss = nade.nll(batch(&random_images(3, 6, 1), 6, &device)).sum();
    let grads = GradientsParams::from_grads(loss.backward(), &nade);
    assert!(grads.get::<2>(nade.w.id).is_some() && grads.get::<2>(nade.v.id).is_some());
    assert!(grads.get::<1>(nade.b.id).is_some() && grads.get::<1>(nade.c.id).is_some());
}

#[test]
fn config_defaults_validation_and_round_trip() {
    let config = NadeConfig::new(784);
    assert_eq!(config.hidden, 500);
    config.validate().expect("the paper's config");
    NadeConfig::new(0)
        .validate()
        .expect("input size resolved later");
    let err = NadeConfig {
        hidden: 0,
        ..config.clone()
    }
    .validate();
    assert!(err.is_err_and(|e| e.to_string().contains("hidden")));
    let text = toml::to_string(&config).expect("toml");
    assert_eq!(toml::from_str::<NadeConfig>(&text).expect("parse"), config);
    assert_eq!(
        toml::from_str::<NadeConfig>("input_dim = 4").expect("default hidden"),
        NadeConfig::new(4)
    );
    assert!(toml::from_str::<NadeConfig>("input_dim = 4\nhiden = 3").is_err());
}

/// −log p per image and the gradients of Σ_n r_n·(−log p(x_n)) (random
/// weights r_n, so every image gets its own output gradient) w.r.t. W, V, b,
/// c and x: fused ([`Nade::nll`] on the CPU backend) or the composite
/// tensor-op formula.
fn nll_and_gradients(nade: &Nade, x: &[f32], fused: bool) -> [Vec<f32>; 6] {
    let device = nade.device();
    let n = x.len() / nade.dim();
    let xt = batch(x, nade.dim(), &device).require_grad();
    let nll = if fused {
        assert!(crate::kernels::nade::fused_applies(&xt));
        nade.nll(xt.clone())
    } else {
        nade.composite_nll(xt.clone())
    }; // [n]
    let r: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
    let r = Tensor::<1>::from_data(TensorData::new(r, [n]), &device);
    let grads = (nll.clone() * r).sum().backward();
    // With one pixel W reaches no conditional: the composite graph leaves
    // it out (no gradient), the fused op gives zeros.
    let w_grad = nade.w.val().grad(&grads);
    let dw = w_grad.map_or_else(|| vec![0.0; nade.dim() * nade.hidden()], values);
    [
        values(nll.inner()),
        dw,
        values(nade.v.val().grad(&grads).expect("dV")),
        values(nade.b.val().grad(&grads).expect("db")),
        values(nade.c.val().grad(&grads).expect("dc")),
        values(xt.grad(&grads).expect("dx")),
    ]
}

#[test]
fn fused_nll_and_gradients_match_the_composite_formula() {
    let device = default_device().autodiff();
    // (dim, hidden, images): dims and hidden sizes off the multiples of 16
    // (the vector lanes) and of 32 (the kernel's pixel blocks), one block,
    // several blocks, a single pixel and a single hidden unit.
    let sizes = [
        (37, 23, 5),
        (100, 33, 7),
        (64, 48, 3),
        (9, 17, 4),
        (1, 1, 2),
        (70, 1, 3),
    ];
    for (case, &(dim, hidden, n)) in sizes.iter().enumerate() {
        let seed = 20 + case as u64;
        let nade = Weights::random(dim, hidden, 0.8, seed).nade(&device);
        let x = random_images(n, dim, seed + 100);
        let fused = nll_and_gradients(&nade, &x, true);
        let composite = nll_and_gradients(&nade, &x, false);
        for (name, (a, b)) in ["nll", "dW", "dV", "db", "dc", "dx"]
            .iter()
            .zip(fused.iter().zip(&composite))
        {
            assert_eq!(a.len(), b.len(), "{name} of {dim}x{hidden}: lengths");
            for (i, (&a, &b)) in a.iter().zip(b).enumerate() {
                let err = f64::from(a - b).abs();
                assert!(
                    err <= 1e-4 * f64::from(b.abs()).max(1e-2),
                    "{name}[{i}] of dim {dim}, hidden {hidden}: fused {a}, composite {b}"
                );
            }
        }
    }
}

#[test]
fn fused_nll_and_gradients_do_not_depend_on_the_thread_count() {
    let device = default_device().autodiff();
    // Several of the kernel's 32-pixel blocks and more images than threads.
    let (dim, hidden, n) = (150, 37, 11);
    let nade = Weights::random(dim, hidden, 0.8, 30).nade(&device);
    let x = random_images(n, dim, 31);
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(|| nll_and_gradients(&nade, &x, true))
    };
    let bits = |v: &[Vec<f32>; 6]| -> Vec<Vec<u32>> {
        v.iter()
            .map(|t| t.iter().map(|f| f.to_bits()).collect())
            .collect()
    };
    let one = bits(&in_pool(1));
    assert_eq!(one, bits(&in_pool(2)), "1 thread vs 2 threads");
    assert_eq!(one, bits(&in_pool(3)), "1 thread vs 3 threads");
}

#[test]
fn fused_nll_without_autodiff_matches_the_composite_formula() {
    // Evaluation runs on the plain device: the op's forward alone.
    let weights = Weights::random(45, 20, 1.0, 40);
    let nade = weights.nade(&default_device());
    let x = random_images(6, 45, 41);
    let xt = batch(&x, 45, &default_device());
    let (fused, composite) = (values(nade.nll(xt.clone())), values(nade.composite_nll(xt)));
    for (i, (&a, &b)) in fused.iter().zip(&composite).enumerate() {
        let want = weights.nll(&x[i * 45..(i + 1) * 45]);
        assert!(
            (f64::from(a) - want).abs() <= 1e-5 * want,
            "image {i}: {a} vs {want}"
        );
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "image {i}: {a} vs composite {b}"
        );
    }
}
