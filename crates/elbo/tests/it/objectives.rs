//! The training objectives (β-VAE, KL warm-up, free bits) and the active
//! units measure, against values computed here independently.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};
use elbo::models::VaeConfig;
use elbo::train::TrainConfig;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn vec1(t: Tensor<1>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("f64")
}

fn setup(device: &Device) -> (elbo::models::Vae, Tensor<2>, Tensor<2>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let x: Vec<f32> = (0..6 * 10).map(|_| rng.random_range(0.0f32..1.0)).collect();
    let e: Vec<f32> = (0..6 * 4)
        .map(|_| rng.sample(rand_distr::StandardNormal))
        .collect();
    let vae = VaeConfig {
        hidden: vec![8],
        latent: 4,
        ..VaeConfig::new(10)
    }
    .init(device, 2);
    let x = Tensor::from_data(TensorData::new(x, [6, 10]), device);
    let e = Tensor::from_data(TensorData::new(e, [6, 4]), device);
    (vae, x, e)
}

#[test]
fn objective_weights_the_kl_and_floors_each_dimension() {
    let device = Device::flex();
    let (vae, x, e) = setup(&device);
    let loss = vae.loss(x, e);
    let recon: f64 = vec1(loss.recon.clone()).iter().sum();
    let kl: f64 = vec1(loss.kl.clone()).iter().sum();
    let dims = loss
        .kl_dims
        .clone()
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .expect("f64"); // [6, 4]
    let close = |a: f64, b: f64| (a - b).abs() < 1e-4 * (1.0 + b.abs());
    assert!(
        close(vec1(loss.objective(1.0, 0.0))[0], recon + kl),
        "β = 1, λ = 0 is the ELBO"
    );
    assert!(close(vec1(loss.total())[0], recon + kl));
    assert!(
        close(vec1(loss.objective(0.25, 0.0))[0], recon + 0.25 * kl),
        "β-VAE"
    );
    assert!(
        close(vec1(loss.objective(0.0, 0.0))[0], recon),
        "β = 0 is a plain reconstruction loss"
    );
    for lambda in [0.05, 0.5, 5.0] {
        let floored: f64 = (0..4)
            .map(|j| ((0..6).map(|i| dims[i * 4 + j]).sum::<f64>() / 6.0).max(lambda))
            .sum();
        let want = recon + 2.0 * 6.0 * floored;
        assert!(
            close(vec1(loss.objective(2.0, lambda))[0], want),
            "free bits λ = {lambda}"
        );
    }
}

#[test]
fn warm_up_ramps_beta_linearly_then_holds_it() {
    let t = TrainConfig {
        beta: 2.0,
        warmup_epochs: 4,
        ..TrainConfig::default()
    };
    assert_eq!(t.beta_at(0.0), 0.0);
    assert_eq!(t.beta_at(1.0), 0.5);
    assert_eq!(t.beta_at(3.0), 1.5);
    assert_eq!(t.beta_at(4.0), 2.0);
    assert_eq!(t.beta_at(9.5), 2.0);
    assert_eq!(
        TrainConfig::default().beta_at(0.0),
        1.0,
        "no warm-up: β from the start"
    );
}

#[test]
fn active_units_count_dimensions_whose_mean_varies_across_images() {
    let device = Device::flex();
    let (mut vae, x, _) = setup(&device);
    let pixels = x
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    // Only dimension 1 of the mean head responds to the input, with slope 1
    // on hidden unit 0; the others are constant.
    let mut w = vec![0.0f32; 8 * 4];
    w[1] = 10.0;
    vae.mean = Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(w, [8, 4]), &device)),
        bias: Some(Param::from_tensor(Tensor::ones([4], &device))),
    };
    let hidden0: Vec<f64> = {
        let elbo::models::Encoder::Mlp(layers) = &vae.encoder else {
            unreachable!("an MLP config builds an MLP encoder")
        };
        let h = layers[0].forward(Tensor::<2>::from_data(
            TensorData::new(pixels.clone(), [6, 10]),
            &device,
        ));
        let h = burn::tensor::activation::relu(h)
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .expect("f64");
        (0..6).map(|i| 10.0 * h[i * 8]).collect()
    };
    let mean = hidden0.iter().sum::<f64>() / 6.0;
    let var = hidden0.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 6.0;
    let want = usize::from(var > 0.01);
    assert_eq!(
        want, 1,
        "the fixture must have one active unit (variance {var})"
    );
    assert_eq!(
        elbo::eval::active_units(&vae, &pixels, 10).expect("au"),
        want,
        "variance {var}"
    );
}
