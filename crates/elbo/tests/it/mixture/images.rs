//! PCA, the mixture of Bernoullis, and dequantization, each against an
//! independent computation.

use elbo::mixture::{
    BernoulliMixture, BernoulliMixtureParams, Convergence, Mat, Pca, dequantization_nats,
    dequantize, matrix_from_rows,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn plane_data(n: usize) -> Mat<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut x = Mat::<f64>::zeros(n, 5);
    for i in 0..n {
        let (a, b): (f64, f64) = (
            rng.sample(rand_distr::StandardNormal),
            rng.sample(rand_distr::StandardNormal),
        );
        let noise =
            |r: &mut Xoshiro256PlusPlus| 1e-3 * r.sample::<f64, _>(rand_distr::StandardNormal);
        let row = [3.0 * a + 1.0, 3.0 * a - b, b + 2.0, 0.5 * b, -a];
        for (j, v) in row.iter().enumerate() {
            x[(i, j)] = v + noise(&mut rng);
        }
    }
    x
}

#[test]
fn pca_matches_projection_variances_and_round_trips() {
    let x = plane_data(400);
    let pca = Pca::fit(x.as_ref(), 2).unwrap();
    // The data lies on a plane: two components hold all but the noise.
    let ratio: f64 = pca.explained_variance_ratio().iter().sum();
    assert!(ratio > 0.99999, "{ratio}");
    assert!(pca.explained_variance[0] >= pca.explained_variance[1]);
    // Orthonormal axes.
    for a in 0..2 {
        for b in 0..2 {
            let dot: f64 = (0..5)
                .map(|j| pca.components[(a, j)] * pca.components[(b, j)])
                .sum();
            assert!((dot - f64::from(u8::from(a == b))).abs() < 1e-12);
        }
    }
    // Explained variance = the sample variance of the coordinates.
    let z = pca.transform(x.as_ref()).unwrap();
    for c in 0..2 {
        let m = (0..400).map(|i| z[(i, c)]).sum::<f64>() / 400.0;
        let v = (0..400).map(|i| (z[(i, c)] - m).powi(2)).sum::<f64>() / 399.0;
        assert!(m.abs() < 1e-10 && (v - pca.explained_variance[c]).abs() < 1e-9 * v);
    }
    // Two components reconstruct to the noise level; all five exactly.
    let back = pca.inverse_transform(z.as_ref()).unwrap();
    let err = (0..400)
        .flat_map(|i| (0..5).map(move |j| (i, j)))
        .map(|(i, j)| (back[(i, j)] - x[(i, j)]).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-2, "{err}");
    let full = Pca::fit(x.as_ref(), 5).unwrap();
    let back = full
        .inverse_transform(full.transform(x.as_ref()).unwrap().as_ref())
        .unwrap();
    assert!((0..400).all(|i| (0..5).all(|j| (back[(i, j)] - x[(i, j)]).abs() < 1e-10)));
    let e = Pca::fit(x.as_ref(), 6).unwrap_err().to_string();
    assert!(
        e.contains("between 1 and min(samples, features) = 5"),
        "{e}"
    );
}

/// log P(x) by the definition, with products (no log-space tricks).
fn brute_log_p(m: &BernoulliMixture, x: &[f64]) -> f64 {
    (0..m.n_components())
        .map(|c| {
            m.weights[c]
                * x.iter()
                    .enumerate()
                    .map(|(j, &v)| {
                        if v == 1.0 {
                            m.probs[(c, j)]
                        } else {
                            1.0 - m.probs[(c, j)]
                        }
                    })
                    .product::<f64>()
        })
        .sum::<f64>()
        .ln()
}

fn binary_data(n: usize, d: usize) -> Mat<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    Mat::from_fn(n, d, |i, j| {
        let p = if (i % 2 == 0) == (j < d / 2) {
            0.85
        } else {
            0.1
        };
        f64::from(u8::from(rng.random::<f64>() < p))
    })
}

#[test]
fn bernoulli_log_likelihood_is_exact_and_em_increases_it() {
    let x = binary_data(300, 8);
    let mut prev = f64::NEG_INFINITY;
    for iters in [1, 2, 3, 5, 8, 13] {
        let p = BernoulliMixtureParams {
            n_components: 3,
            max_iter: iters,
            tol: 0.0,
            alpha: 0.0,
            seed: 3,
        };
        let m = p.fit(x.as_ref()).unwrap();
        assert!(
            m.convergence.lower_bound >= prev - 1e-9,
            "{prev} -> {}",
            m.convergence.lower_bound
        );
        prev = m.convergence.lower_bound;
        let ll = m.score_samples(x.as_ref()).unwrap();
        for i in [0, 1, 77, 299] {
            let row: Vec<f64> = (0..8).map(|j| x[(i, j)]).collect();
            let want = brute_log_p(&m, &row);
            assert!(
                (ll[i] - want).abs() < 1e-12 * want.abs().max(1.0),
                "{} vs {want}",
                ll[i]
            );
        }
    }
}

#[test]
fn bernoulli_responsibilities_are_bayes_rule_by_products() {
    let x = binary_data(120, 8);
    let m = BernoulliMixtureParams::new(3).fit(x.as_ref()).unwrap();
    let resp = m.predict_proba(x.as_ref()).unwrap();
    for i in [0, 1, 50, 119] {
        let row: Vec<f64> = (0..8).map(|j| x[(i, j)]).collect();
        let joint = |c: usize| {
            let mut one = m.clone();
            one.weights = (0..3).map(|k| if k == c { 1.0 } else { 0.0 }).collect();
            m.weights[c] * brute_log_p(&one, &row).exp()
        };
        let total: f64 = (0..3).map(joint).sum();
        for c in 0..3 {
            let want = joint(c) / total;
            assert!(
                (resp[(i, c)] - want).abs() < 1e-12,
                "row {i}, component {c}"
            );
        }
    }
    let mut y = x.clone();
    y[(4, 2)] = 0.5;
    let e = m.predict_proba(y.as_ref()).unwrap_err().to_string();
    assert!(e.contains("sample 4, feature 2"), "{e}");
}

#[test]
fn bernoulli_samples_match_marginals_and_bad_input_is_an_error() {
    let conv = Convergence {
        n_iter: 0,
        converged: true,
        lower_bound: 0.0,
        max_iter: 0,
        tol: 0.0,
    };
    let probs = matrix_from_rows(&[0.9, 0.1, 0.5, 0.2, 0.7, 0.0], 3).unwrap();
    let m = BernoulliMixture::from_parts(vec![0.25, 0.75], probs, conv).unwrap();
    let (s, _) = m.sample(40_000, 1);
    for j in 0..3 {
        let want = 0.25 * m.probs[(0, j)] + 0.75 * m.probs[(1, j)];
        let got = (0..40_000).map(|i| s[(i, j)]).sum::<f64>() / 40_000.0;
        assert!((got - want).abs() < 0.01, "pixel {j}: {got} vs {want}");
    }
    let grey = matrix_from_rows(&[0.0, 1.0, 0.5, 1.0], 2).unwrap();
    let e = BernoulliMixtureParams::new(1)
        .fit(grey.as_ref())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("binary") && e.contains("sample 1, feature 0"),
        "{e}"
    );
    let e = BernoulliMixtureParams::new(0)
        .fit(binary_data(4, 2).as_ref())
        .unwrap_err()
        .to_string();
    assert!(e.contains("K"), "{e}");
}

#[test]
fn dequantization_stays_in_the_pixel_bin() {
    let pixels: Vec<f32> = (0..=255u8).map(|v| f32::from(v) / 255.0).collect();
    let x = dequantize(&pixels, 256, 0);
    for (v, d) in x.iter().enumerate() {
        assert!(
            *d >= v as f64 / 256.0 && *d < (v + 1) as f64 / 256.0,
            "{v}: {d}"
        );
    }
    assert!((dequantization_nats(784, 256) - 784.0 * 256f64.ln()).abs() < 1e-9);
    // The digits' 17 levels: v/16 lands in [v/17, (v + 1)/17).
    let digits: Vec<f32> = (0..=16u8).map(|v| f32::from(v) / 16.0).collect();
    for (v, d) in dequantize(&digits, 17, 3).iter().enumerate() {
        assert!(
            *d >= v as f64 / 17.0 && *d < (v + 1) as f64 / 17.0,
            "{v}: {d}"
        );
    }
}
