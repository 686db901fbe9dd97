//! Seeded sampling is reproducible, and the fast (cached) sampler draws exactly
//! the naive loop's images for the same seed, for every model, both output
//! distributions, grey and RGB, and completions.

use burn::tensor::Device;
use elbo::image::Shape;
use elbo::models::pixel::sampler::{Method, Request, generate};
use elbo::models::pixel::{PixelConfig, PixelKind, PixelNet, PixelOutput};

fn net(kind: PixelKind, colors: usize, output: PixelOutput, classes: usize) -> PixelNet {
    let config = PixelConfig {
        colors,
        hidden: 6,
        layers: 2,
        output_hidden: 12,
        output: Some(output),
        classes,
        ..PixelConfig::new()
    };
    config.init(kind, &Device::flex(), 11).unwrap()
}

fn request(shape: Shape, n: usize, start: usize, seed: u64, labels: Option<&[u8]>) -> Request<'_> {
    let images = (0..n * shape.dim())
        .map(|i| ((i * 37) % 256) as f32 / 255.0)
        .collect();
    Request {
        images,
        shape,
        start,
        seed,
        labels,
        progress: false,
    }
}

const KINDS: [PixelKind; 4] = [
    PixelKind::PixelCnn,
    PixelKind::Gated,
    PixelKind::RowLstm,
    PixelKind::DiagonalBiLstm,
];

#[test]
fn fast_sampler_draws_the_naive_samples_and_keeps_given_pixels() {
    let cases = [
        (1, PixelOutput::Bernoulli),
        (1, PixelOutput::Categorical),
        (3, PixelOutput::Categorical),
    ];
    for kind in KINDS {
        for (colors, output) in cases {
            let model = net(kind, colors, output, 0);
            let shape = Shape {
                height: 6,
                width: 5,
                channels: colors,
            };
            for start in [0, 13] {
                let req = request(shape, 3, start, 4, None);
                let naive = generate(&model, &req, Method::Naive).unwrap();
                let fast = generate(&model, &req, Method::Fast).unwrap();
                assert_eq!(
                    naive, fast,
                    "{kind:?} {output:?} colors {colors} start {start}"
                );
                // Completion keeps the given pixels.
                let kept = start * colors;
                for b in 0..3 {
                    let d = shape.dim();
                    assert_eq!(naive[b * d..b * d + kept], req.images[b * d..b * d + kept]);
                }
            }
        }
    }
}

#[test]
fn conditional_fast_sampler_matches_naive_and_uses_the_label() {
    let model = net(PixelKind::Gated, 1, PixelOutput::Bernoulli, 4);
    let shape = Shape {
        height: 6,
        width: 6,
        channels: 1,
    };
    let labels = [0u8, 3, 1];
    let req = request(shape, 3, 0, 9, Some(&labels));
    let naive = generate(&model, &req, Method::Naive).unwrap();
    assert_eq!(naive, generate(&model, &req, Method::Fast).unwrap());
    // The label moves the logits (an untrained model's samples may not show it).
    let device = Device::flex();
    let x = elbo::models::pixel::to_nchw(&naive[..36], [1, 6, 6, 1], &device);
    let logits = |l: u8| {
        let one = elbo::models::pixel::one_hot(&[l], 4, &device).unwrap();
        let t = model.forward(x.clone(), Some(&one));
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    };
    assert_ne!(logits(0), logits(2), "the label changes nothing");
    // A label on an unconditional model, or none on a conditional one: errors.
    let plain = net(PixelKind::Gated, 1, PixelOutput::Bernoulli, 0);
    assert!(generate(&plain, &req, Method::Fast).is_err());
    assert!(generate(&model, &request(shape, 3, 0, 9, None), Method::Fast).is_err());
}

#[test]
fn seeded_sampling_is_reproducible() {
    for kind in KINDS {
        let model = net(kind, 1, PixelOutput::Bernoulli, 0);
        let shape = Shape {
            height: 7,
            width: 7,
            channels: 1,
        };
        let a = generate(&model, &request(shape, 4, 0, 1, None), Method::Fast).unwrap();
        let b = generate(&model, &request(shape, 4, 0, 1, None), Method::Fast).unwrap();
        let c = generate(&model, &request(shape, 4, 0, 2, None), Method::Fast).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|&v| v == 0.0 || v == 1.0));
    }
}
