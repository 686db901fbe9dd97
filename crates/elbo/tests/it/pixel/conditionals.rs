//! `Autoregressive::conditionals` against its definition, for every pixel
//! network and NADE: the conditionals of an image multiply to the model's
//! exact likelihood, a position's conditional ignores that pixel and every
//! later one, and a 256-way mean is Σ_k p(k)·k/255 of the probabilities
//! the same call gives.

use burn::tensor::{Device, Tensor, TensorData};
use elbo::families::nade::{NadeConfig, NadeModel};
use elbo::families::pixel::PixelModel;
use elbo::families::{Autoregressive, PixelConditionals};
use elbo::image::Shape;
use elbo::models::pixel::{PixelConfig, PixelKind, PixelOutput, one_hot, to_nchw};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const KINDS: [PixelKind; 3] = [PixelKind::PixelCnn, PixelKind::Gated, PixelKind::RowLstm];
/// Neither square nor a power of two, so that a swapped axis shows.
const H: usize = 5;
const W: usize = 7;
const N: usize = 3;

fn shape(colors: usize) -> Shape {
    Shape {
        height: H,
        width: W,
        channels: colors,
    }
}

fn pixel_model(kind: PixelKind, colors: usize, output: PixelOutput) -> PixelModel {
    let config = PixelConfig {
        colors,
        hidden: 6 * colors,
        layers: 2,
        output_hidden: 16,
        output: Some(output),
        classes: if kind == PixelKind::Gated { 3 } else { 0 },
        ..PixelConfig::new()
    };
    config.validate(kind).unwrap();
    PixelModel {
        net: config.init(kind, &Device::flex(), 11).unwrap(),
    }
}

fn nade() -> NadeModel {
    let config = NadeConfig {
        hidden: 12,
        ..NadeConfig::new(H * W)
    };
    NadeModel {
        nade: config.init(&Device::flex(), 5),
    }
}

/// `n` values valid for `output`: 0/1, or levels k/255.
fn images(n: usize, output: PixelOutput, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u = rng.random::<f32>();
            match output {
                PixelOutput::Bernoulli => f32::from(u8::from(u < 0.4)),
                PixelOutput::Categorical => (u * 255.0).floor() / 255.0,
            }
        })
        .collect()
}

/// A model under test: a pixel network or NADE.
enum Case {
    Pixel(Box<PixelModel>),
    Nade(Box<NadeModel>),
}

impl Case {
    fn model(&self) -> &dyn Autoregressive {
        match self {
            Case::Pixel(m) => m.as_ref(),
            Case::Nade(m) => m.as_ref(),
        }
    }

    /// One label per image for the conditional (gated) networks.
    fn labels(&self, n: usize) -> Option<Vec<u8>> {
        match self {
            Case::Pixel(m) if m.net.classes() > 0 => Some((0..n).map(|b| (b % 3) as u8).collect()),
            _ => None,
        }
    }

    /// −log p(x) per image as the model's training loss computes it.
    fn exact_nll(&self, x: &[f32], s: Shape) -> Vec<f32> {
        let device = Device::flex();
        let n = x.len() / s.dim();
        let nll = match self {
            Case::Nade(m) => {
                let x = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [n, s.dim()]), &device);
                m.nade.nll(x)
            }
            Case::Pixel(m) => {
                let labels = self.labels(n).map(|l| one_hot(&l, 3, &device).unwrap());
                let xt = to_nchw(x, [n, H, W, s.channels], &device);
                m.net.nll(xt, labels.as_ref())
            }
        };
        nll.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    }

    fn conditionals(&self, x: &[f32], s: Shape) -> PixelConditionals {
        let labels = self.labels(x.len() / s.dim());
        self.model().conditionals(x, s, labels.as_deref()).unwrap()
    }
}

/// Every model under test: a name, the model, its image shape and pixel distribution.
fn models() -> Vec<(String, Case, Shape, PixelOutput)> {
    let mut all = Vec::new();
    for kind in KINDS {
        for (colors, output) in [
            (1, PixelOutput::Bernoulli),
            (1, PixelOutput::Categorical),
            (3, PixelOutput::Categorical),
        ] {
            let name = format!("{kind:?} {colors} colours {output:?}");
            let case = Case::Pixel(Box::new(pixel_model(kind, colors, output)));
            all.push((name, case, shape(colors), output));
        }
    }
    let nade = Case::Nade(Box::new(nade()));
    all.push(("NADE".into(), nade, shape(1), PixelOutput::Bernoulli));
    all
}

#[test]
fn the_conditionals_of_an_image_multiply_to_its_exact_likelihood() {
    for (name, model, s, output) in models() {
        let x = images(N * s.dim(), output, 1);
        let c = model.conditionals(&x, s);
        assert_eq!(c.mean.len(), x.len(), "{name}");
        assert_eq!(c.log_prob.len(), x.len(), "{name}");
        assert!(c.mean.iter().all(|p| (0.0..=1.0).contains(p)), "{name}");
        let nll = model.exact_nll(&x, s);
        for (b, want) in nll.iter().enumerate() {
            let got: f64 = -c.log_prob[b * s.dim()..(b + 1) * s.dim()]
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>();
            let tol = 1e-4 * f64::from(*want).abs().max(1.0);
            assert!(
                (got - f64::from(*want)).abs() < tol,
                "{name} image {b}: Σ −log p(x_i | x_<i) = {got}, the model's NLL {want}"
            );
        }
        if output == PixelOutput::Bernoulli {
            // The mean is P(x_i = 1): p(x_i) is it for a 1 and 1 − it for a 0.
            for ((&p, &lp), &xi) in c.mean.iter().zip(&c.log_prob).zip(&x) {
                let want = if xi == 1.0 { p } else { 1.0 - p };
                assert!((lp.exp() - want).abs() < 1e-5, "{name}: {lp} vs {want}");
            }
        }
    }
}

#[test]
fn a_pixels_conditional_ignores_that_pixel_and_every_later_one() {
    for (name, model, s, output) in models() {
        let x = images(N * s.dim(), output, 2);
        let other = images(N * s.dim(), output, 3);
        let base = model.conditionals(&x, s);
        for p in [0, 1, W + 3, H * W / 2, H * W - 1] {
            // Pixels p and later (all colours) changed in every image.
            let mut changed = x.clone();
            for b in 0..N {
                let from = b * s.dim() + p * s.channels;
                let to = (b + 1) * s.dim();
                changed[from..to].copy_from_slice(&other[from..to]);
            }
            let c = model.conditionals(&changed, s);
            let mut later_moved = false;
            for b in 0..N {
                for q in 0..H * W {
                    for ch in 0..s.channels {
                        let i = b * s.dim() + q * s.channels + ch;
                        let (m0, m1) = (base.mean[i], c.mean[i]);
                        if q < p || (q == p && ch == 0) {
                            assert!(
                                (m0 - m1).abs() < 1e-6,
                                "{name}: position {q} colour {ch} moved when pixels from {p} on changed"
                            );
                        } else {
                            later_moved |= (m0 - m1).abs() > 1e-6;
                        }
                        if q < p {
                            assert!((base.log_prob[i] - c.log_prob[i]).abs() < 1e-5, "{name}");
                        }
                    }
                }
            }
            // The probe can fail: what comes after the change does move.
            assert!(
                later_moved || p == H * W - 1,
                "{name}: nothing after {p} moved"
            );
        }
    }
}

#[test]
fn a_256_way_mean_is_the_expectation_of_the_probabilities_it_comes_with() {
    for (name, model, s, output) in models() {
        if output != PixelOutput::Categorical {
            continue;
        }
        // 256 copies of one image (with one label), pixel `at` set to each level.
        let (at, colour) = (2 * W + 4, s.channels - 1);
        let image = images(s.dim(), output, 4);
        let mut x = Vec::with_capacity(256 * s.dim());
        for k in 0..256 {
            let mut img = image.clone();
            img[at * s.channels + colour] = k as f32 / 255.0;
            x.extend(img);
        }
        let l = model.labels(1).map(|_| vec![1u8; 256]);
        let c = model.model().conditionals(&x, s, l.as_deref()).unwrap();
        let i = |k: usize| k * s.dim() + at * s.channels + colour;
        let total: f64 = (0..256).map(|k| f64::from(c.log_prob[i(k)]).exp()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{name}: Σ_k p(k) = {total}");
        let mean: f64 = (0..256)
            .map(|k| f64::from(c.log_prob[i(k)]).exp() * k as f64 / 255.0)
            .sum();
        assert!(
            (mean - f64::from(c.mean[i(0)])).abs() < 1e-4,
            "{name}: Σ_k p(k)·k/255 = {mean}, the mean says {}",
            c.mean[i(0)]
        );
    }
}

#[test]
fn a_conditionals_request_that_does_not_fit_the_model_is_refused() {
    let grey = pixel_model(PixelKind::PixelCnn, 1, PixelOutput::Bernoulli);
    let gated = pixel_model(PixelKind::Gated, 1, PixelOutput::Bernoulli);
    let x = images(shape(1).dim(), PixelOutput::Bernoulli, 5);
    let rgb = images(shape(3).dim(), PixelOutput::Bernoulli, 5);
    let err = |r: elbo::Result<PixelConditionals>| r.unwrap_err().to_string();
    assert!(err(grey.conditionals(&rgb, shape(3), None)).contains("colours"));
    assert!(err(grey.conditionals(&x[1..], shape(1), None)).contains("whole images"));
    assert!(err(grey.conditionals(&[2.0; H * W], shape(1), None)).contains("[0, 1]"));
    assert!(err(grey.conditionals(&x, shape(1), Some(&[0]))).contains("not conditional"));
    assert!(err(gated.conditionals(&x, shape(1), None)).contains("give a label"));
    assert!(err(gated.conditionals(&x, shape(1), Some(&[3]))).contains("0..3"));
    let wide = Shape {
        height: H,
        width: W + 1,
        channels: 1,
    };
    let wide_x = vec![0.0; wide.dim()];
    assert!(err(nade().conditionals(&wide_x, wide, None)).contains("NADE"));
    assert!(err(nade().conditionals(&x, shape(1), Some(&[0]))).contains("not conditional"));
}
