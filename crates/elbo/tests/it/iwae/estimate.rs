//! The IWAE estimate of −log p(x) (Burda et al. 2016, eq. 8): exact where the
//! importance weights are constant, consistent with the ELBO at K = 1, and
//! tightening as K grows.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use elbo::eval::iwae::iwae_nll_per_image;
use elbo::eval::{Nll, NllMethod};
use elbo::models::{Vae, VaeConfig};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const DIM: usize = 12;

fn zero_linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::zeros([d_in, d_out], device)),
        bias: Some(Param::from_tensor(Tensor::zeros([d_out], device))),
    }
}

fn images(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n * DIM)
        .map(|_| f32::from(u8::from(rng.random_range(0.0f32..1.0) < 0.3)))
        .collect()
}

fn model(device: &Device) -> Vae {
    VaeConfig {
        hidden: vec![16],
        latent: 3,
        ..VaeConfig::new(DIM)
    }
    .init(device, 9)
}

/// With q(z|x) = p(z) (zeroed encoder heads) and a decoder that ignores z
/// (zeroed first decoder layer), every importance weight equals p(x), so
/// −L_K = −log p(x) exactly for every K, across chunk boundaries.
#[test]
fn constant_weights_give_the_exact_likelihood_for_every_k() {
    let device = Device::flex();
    let mut vae = model(&device);
    vae.mean = zero_linear(16, 3, &device);
    vae.log_var = zero_linear(16, 3, &device);
    let elbo::models::Decoder::Mlp(layers) = &mut vae.decoder else {
        unreachable!("an MLP config builds an MLP decoder")
    };
    layers[0] = zero_linear(3, 16, &device);
    let x = images(7, 1);
    let xt = Tensor::<2>::from_data(TensorData::new(x.clone(), [7, DIM]), &device);
    let z = Tensor::<2>::zeros([7, 3], &device);
    let exact: Vec<f32> = elbo::models::vae::bce_with_logits(vae.decode(z), xt)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    for k in [1, 7, 50, 51, 120] {
        let nll = iwae_nll_per_image(&vae, &x, DIM, k, 3).expect("iwae");
        for (got, want) in nll.iter().zip(&exact) {
            assert!(
                (got - f64::from(*want)).abs() < 1e-4,
                "K = {k}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn k1_matches_the_elbo_and_larger_k_tightens_the_bound() {
    let device = Device::flex();
    let vae = model(&device);
    let n = 400;
    let x = images(n, 2);
    let l1 = iwae_nll_per_image(&vae, &x, DIM, 1, 5).expect("iwae");
    // The analytic negative ELBO per image (closed-form KL, one sampled z).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    let eps: Vec<f32> = (0..n * 3)
        .map(|_| rng.sample(rand_distr::StandardNormal))
        .collect();
    let loss = vae.loss(
        Tensor::from_data(TensorData::new(x.clone(), [n, DIM]), &device),
        Tensor::from_data(TensorData::new(eps, [n, 3]), &device),
    );
    let neg_elbo: Vec<f64> = (loss.recon + loss.kl)
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("f64");
    let d: Vec<f64> = l1.iter().zip(&neg_elbo).map(|(a, b)| a - b).collect();
    let s = Nll::from_per_image(&d, DIM, NllMethod::IwaeBound { k: 1 });
    assert!(
        s.nats.abs() < 5.0 * s.std_error,
        "−L_1 − (−ELBO) = {} ± {}",
        s.nats,
        s.std_error
    );

    let l200 = Nll::from_per_image(
        &iwae_nll_per_image(&vae, &x, DIM, 200, 5).expect("iwae"),
        DIM,
        NllMethod::IwaeBound { k: 200 },
    );
    let l1 = Nll::from_per_image(&l1, DIM, NllMethod::IwaeBound { k: 1 });
    assert!(
        l200.nats < l1.nats,
        "K = 200 ({}) must be tighter than K = 1 ({})",
        l200.nats,
        l1.nats
    );
    assert!((l200.bits_per_dim - l200.nats / (DIM as f64 * std::f64::consts::LN_2)).abs() < 1e-12);
}

#[test]
fn zero_samples_is_an_error() {
    let device = Device::flex();
    assert!(iwae_nll_per_image(&model(&device), &images(2, 1), DIM, 0, 0).is_err());
}

/// The differentiable IWAE objective equals the evaluation estimate for the
/// same noise, and is exact (−log p(x)) when all weights are equal.
#[test]
fn iwae_training_objective_matches_the_estimate() {
    let device = Device::flex();
    let mut vae = model(&device);
    vae.mean = zero_linear(16, 3, &device);
    vae.log_var = zero_linear(16, 3, &device);
    let elbo::models::Decoder::Mlp(layers) = &mut vae.decoder else {
        unreachable!("an MLP config builds an MLP decoder")
    };
    layers[0] = zero_linear(3, 16, &device);
    let x = images(5, 4);
    let xt = Tensor::<2>::from_data(TensorData::new(x.clone(), [5, DIM]), &device);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let eps: Vec<f32> = (0..5 * 9 * 3)
        .map(|_| rng.sample(rand_distr::StandardNormal))
        .collect();
    let eps = Tensor::<3>::from_data(TensorData::new(eps, [5, 9, 3]), &device);
    let (nll, kl) = vae.iwae_loss(xt.clone(), eps);
    let nll: Vec<f32> = nll
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    let want = iwae_nll_per_image(&vae, &x, DIM, 9, 0).expect("iwae");
    for (a, b) in nll.iter().zip(&want) {
        assert!((f64::from(*a) - b).abs() < 1e-4, "{a} vs {b}");
    }
    let kl: Vec<f32> = kl
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    assert!(kl.iter().all(|v| v.abs() < 1e-6), "q = p has zero KL");
}
