//! The VAE's loss terms and gradients against independent references:
//! closed forms computed here in f64, Monte Carlo estimates, the naive BCE
//! formula, and central finite differences.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use elbo::models::vae::{bce_with_logits, kl_standard_normal};
use elbo::models::{Activation, Likelihood, VaeConfig};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn t2(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}

/// KL(N(m, diag(v)) ‖ N(0, I)) from the general multivariate formula
/// ½ (tr Σ + μᵀμ − k − ln det Σ), in f64.
fn kl_reference(m: &[f64], log_var: &[f64]) -> f64 {
    let tr: f64 = log_var.iter().map(|l| l.exp()).sum();
    let mm: f64 = m.iter().map(|x| x * x).sum();
    let ln_det: f64 = log_var.iter().sum();
    0.5 * (tr + mm - m.len() as f64 - ln_det)
}

#[test]
fn kl_matches_the_closed_form() {
    let device = Device::flex();
    let m = vec![0.0, 0.5, -1.5, 2.0, 0.1, -0.3];
    let lv = vec![0.0, -1.0, 0.7, -3.0, 1.2, 0.0];
    let got = values(kl_standard_normal(
        t2(m.clone(), 2, 3, &device),
        t2(lv.clone(), 2, 3, &device),
    ));
    let f64s = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    for row in 0..2 {
        let want = kl_reference(
            &f64s(&m[row * 3..row * 3 + 3]),
            &f64s(&lv[row * 3..row * 3 + 3]),
        );
        assert!(
            (f64::from(got[row]) - want).abs() < 1e-5 * want.max(1.0),
            "row {row}: {} vs {want}",
            got[row]
        );
    }
    // The lecture's Σ(exp(σ) − (1 + σ) + m²) is exactly twice the KL.
    let lecture: f64 = m
        .iter()
        .zip(&lv)
        .take(3)
        .map(|(&m, &s)| {
            let (m, s) = (f64::from(m), f64::from(s));
            s.exp() - (1.0 + s) + m * m
        })
        .sum();
    assert!((lecture - 2.0 * f64::from(got[0])).abs() < 1e-5);
}

#[test]
fn kl_matches_a_monte_carlo_estimate() {
    let device = Device::flex();
    let m = [0.8f64, -0.4, 1.1];
    let lv = [-0.5f64, 0.3, -1.2];
    let kl = f64::from(
        values(kl_standard_normal(
            t2(m.iter().map(|&v| v as f32).collect(), 1, 3, &device),
            t2(lv.iter().map(|&v| v as f32).collect(), 1, 3, &device),
        ))[0],
    );
    // E_q[log q(z) − log p(z)] with z = m + exp(σ/2)·e.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let n = 200_000;
    let (mut sum, mut sq) = (0.0, 0.0);
    for _ in 0..n {
        let mut d = 0.0;
        for j in 0..3 {
            let e: f64 = rng.sample(rand_distr::StandardNormal);
            let z = m[j] + (lv[j] / 2.0).exp() * e;
            d += -0.5 * e * e - lv[j] / 2.0 + 0.5 * z * z; // log q − log p, constants cancel
        }
        sum += d;
        sq += d * d;
    }
    let mean = sum / n as f64;
    let se = ((sq / n as f64 - mean * mean) / n as f64).sqrt();
    assert!(
        (mean - kl).abs() < 4.0 * se,
        "MC {mean} ± {se} vs closed form {kl}"
    );
}

#[test]
fn bce_from_logits_matches_the_naive_formula_where_finite() {
    let device = Device::flex();
    let logits = vec![-6.0, -1.0, -0.1, 0.0, 0.3, 2.0, 5.0, 9.0];
    let x = vec![0.0, 1.0, 0.5, 1.0, 0.0, 0.2, 1.0, 0.9];
    let got = values(bce_with_logits(
        t2(logits.clone(), 8, 1, &device),
        t2(x.clone(), 8, 1, &device),
    ));
    for i in 0..8 {
        let (l, x) = (f64::from(logits[i]), f64::from(x[i]));
        let p = 1.0 / (1.0 + (-l).exp());
        let naive = -(x * p.ln() + (1.0 - x) * (1.0 - p).ln());
        assert!(
            (f64::from(got[i]) - naive).abs() < 1e-5,
            "logit {l}: {} vs {naive}",
            got[i]
        );
    }
}

#[test]
fn bce_from_logits_stays_finite_where_the_naive_formula_overflows() {
    let device = Device::flex();
    // In f32, sigmoid(100) rounds to 1, so the naive −log(1 − p) is inf.
    let p = 1.0f32 / (1.0 + (-100.0f32).exp());
    assert!(!(-(1.0 - p).ln()).is_finite());
    let got = values(bce_with_logits(
        t2(vec![100.0, -100.0, 100.0], 3, 1, &device),
        t2(vec![0.0, 1.0, 1.0], 3, 1, &device),
    ));
    assert!(
        (got[0] - 100.0).abs() < 1e-4 && (got[1] - 100.0).abs() < 1e-4,
        "{got:?}"
    );
    assert!(got[2].abs() < 1e-6);
}

/// Collects every parameter tensor's values, in visiting order.
#[derive(Default)]
struct Flatten(Vec<Vec<f32>>, Vec<(burn::module::ParamId, usize)>);

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
        let v = p
            .val()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        self.0.push(v);
        self.1.push((p.id, D));
    }
}

#[test]
fn reparameterized_gradient_matches_finite_differences() {
    // Bernoulli, and a Gaussian decoder whose per-pixel variance is learned.
    for likelihood in [Likelihood::Bernoulli, Likelihood::GaussianLearned] {
        let config = VaeConfig {
            hidden: vec![3],
            latent: 2,
            activation: Activation::Tanh,
            likelihood,
            variance: 0.5,
            ..VaeConfig::new(4)
        };
        check_gradients(&config);
    }
}

fn check_gradients(config: &VaeConfig) {
    let device = Device::flex();
    let x = vec![0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.0, 1.0];
    let eps = vec![0.3, -1.2, 0.8, 0.5];
    let loss_at = |model: &elbo::models::Vae, dev: &Device| -> Tensor<1> {
        model
            .loss(t2(x.clone(), 2, 4, dev), t2(eps.clone(), 2, 2, dev))
            .total()
    };
    let ad = device.clone().autodiff();
    let model = config.init(&ad, 3);
    let mut grads = loss_at(&model, &ad).backward();
    let grads = GradientsParams::from_module(&mut grads, &model);
    let mut flat = Flatten::default();
    model.visit(&mut flat);
    let h = 1e-2f32;
    let mut checked = 0;
    for (k, (base, id)) in flat.0.iter().zip(&flat.1).enumerate() {
        let g = analytic(&grads, *id, base.len());
        assert!(
            g.iter().any(|&v| v != 0.0),
            "param {k} has an all-zero gradient"
        );
        for (i, &gi) in g.iter().enumerate() {
            let shifted = |delta: f32| -> f64 {
                let m = perturb(config.init(&device, 3), k, i, delta);
                f64::from(values(loss_at(&m, &device))[0])
            };
            let fd = (shifted(h) - shifted(-h)) / (2.0 * f64::from(h));
            let tol = 2e-3 + 1e-2 * fd.abs();
            assert!(
                (f64::from(gi) - fd).abs() < tol,
                "param {k}[{i}]: autodiff {gi} vs FD {fd}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, config.init(&device, 3).num_params());
}

fn analytic(
    grads: &GradientsParams,
    (id, rank): (burn::module::ParamId, usize),
    n: usize,
) -> Vec<f32> {
    let data = match rank {
        2 => grads.get::<2>(id).map(|t| t.into_data()),
        _ => grads.get::<1>(id).map(|t| t.into_data()),
    }
    .expect("every parameter has a gradient");
    let v = data.convert::<f32>().try_into_vec::<f32>().expect("f32");
    assert_eq!(v.len(), n);
    v
}

/// Adds `delta` to element `i` of the `k`-th parameter tensor.
fn perturb(model: elbo::models::Vae, k: usize, i: usize, delta: f32) -> elbo::models::Vae {
    struct Shift {
        k: usize,
        i: usize,
        delta: f32,
        seen: usize,
    }
    impl burn::module::ModuleMapper for Shift {
        fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let hit = self.seen == self.k;
            self.seen += 1;
            if !hit {
                return p;
            }
            let (id, t, mapper) = p.consume();
            let shape = t.dims();
            let device = t.device();
            let mut v = t
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32");
            v[self.i] += self.delta;
            Param::from_mapped_value(
                id,
                Tensor::from_data(TensorData::new(v, shape), &device),
                mapper,
            )
        }
    }
    model.map(&mut Shift {
        k,
        i,
        delta,
        seen: 0,
    })
}

#[test]
fn checkpoint_round_trip_gives_identical_outputs() {
    let device = Device::flex();
    let model = VaeConfig::new(6).init(&device, 11);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.safetensors");
    elbo::folder::checkpoint::save(&model, &path).expect("save");
    let loaded =
        elbo::folder::checkpoint::load(VaeConfig::new(6).init(&device, 99), &path, &device)
            .expect("load");
    let z = t2([0.5, -0.3, 1.0, 0.0].repeat(10), 2, 20, &device);
    let a = model.decode(z.clone()).into_data();
    let b = loaded.decode(z).into_data();
    assert_eq!(a, b);
    // A model of another size cannot load it, and the error names the tensor.
    let wrong = VaeConfig {
        hidden: vec![300],
        ..VaeConfig::new(6)
    }
    .init(&device, 0);
    let err = elbo::folder::checkpoint::load(wrong, &path, &device)
        .expect_err("shape mismatch")
        .to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("encoder.0.weight"),
        "{err}"
    );
}

/// The fused CPU op (forward and both gradients) against burn's autodiff of
/// the composite formula, on random logits and grey targets.
#[test]
fn fused_bce_matches_autodiff_of_the_composite_formula() {
    use burn::backend::Dispatch;
    let device = Device::flex().autodiff();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let (rows, cols) = (3, 7);
    let l: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(-8.0f32..8.0))
        .collect();
    let x: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(0.0f32..1.0))
        .collect();
    let w = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, -1.0, 2.0], [rows]), &device);
    let run = |fused: bool| {
        let lt = t2(l.clone(), rows, cols, &device).require_grad();
        let xt = t2(x.clone(), rows, cols, &device).require_grad();
        let out: Tensor<1> = if fused {
            let o = <Dispatch as elbo::kernels::bce::BceOps>::bce_rows(
                lt.clone().into_dispatch(),
                xt.clone().into_dispatch(),
            );
            Tensor::from_dispatch(o)
        } else {
            let sp = lt.clone().clamp_min(0.0) + lt.clone().abs().neg().exp().log1p();
            (sp - xt.clone() * lt.clone()).sum_dim(1).squeeze_dim(1)
        };
        let grads = (out.clone() * w.clone()).sum().backward();
        let flat = |t: Tensor<2>| {
            t.grad(&grads)
                .expect("grad")
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32")
        };
        (values(out), flat(lt), flat(xt))
    };
    let (a, b) = (run(true), run(false));
    let close = |p: &[f32], q: &[f32]| {
        p.iter()
            .zip(q)
            .all(|(p, q)| (p - q).abs() <= 1e-5 * (1.0 + q.abs()))
    };
    assert!(close(&a.0, &b.0), "values {:?} vs {:?}", a.0, b.0);
    assert!(close(&a.1, &b.1), "d/dlogits {:?} vs {:?}", a.1, b.1);
    assert!(close(&a.2, &b.2), "d/dx {:?} vs {:?}", a.2, b.2);
}

/// The Gaussian decoder's −log p(x | z), normalizer included, against the
/// closed form in f64, for a fixed and a learned (initial) variance.
#[test]
fn gaussian_negative_log_likelihood_matches_the_closed_form() {
    let device = Device::flex();
    let x = vec![0.1f32, 0.9, 0.5, 0.3, 0.7, 0.2];
    let mu = vec![0.0f32, 1.2, 0.4, 0.3, -0.5, 0.25];
    for likelihood in [Likelihood::Gaussian, Likelihood::GaussianLearned] {
        let vae = VaeConfig {
            likelihood,
            variance: 0.2,
            ..VaeConfig::new(3)
        }
        .init(&device, 1);
        let got = values(
            vae.neg_log_likelihood(t2(mu.clone(), 2, 3, &device), t2(x.clone(), 2, 3, &device)),
        );
        for row in 0..2 {
            let want: f64 = (0..3)
                .map(|i| {
                    let d = f64::from(x[row * 3 + i]) - f64::from(mu[row * 3 + i]);
                    0.5 * (d * d / 0.2 + (2.0 * std::f64::consts::PI * 0.2).ln())
                })
                .sum();
            assert!(
                (f64::from(got[row]) - want).abs() < 1e-5,
                "{likelihood}: {} vs {want}",
                got[row]
            );
        }
    }
}
