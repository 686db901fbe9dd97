//! The report page, section by section, from the fitted entries.

use std::path::PathBuf;

use super::fit::Entry;
use super::novelty::{Novelty, median};
use super::{Block, Page, ReportOptions};
use crate::data::{PixelMode, Splits};
use crate::image::{GridLayout, Shape, save_grid};
use crate::plot::{Chart, save_histogram};
use crate::run::{self, Run};
use crate::{Error, Result};

/// File-name stem for an entry's pictures.
fn stem(e: &Entry) -> String {
    e.run_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}

fn shape_of(splits: &Splits) -> Shape {
    let t = &splits.train;
    Shape {
        height: t.height,
        width: t.width,
        channels: t.channels,
    }
}

/// Builds the whole page; pictures are written into `opts.out` as it goes.
pub fn page(
    opts: &ReportOptions,
    splits: &Splits,
    entries: &[Entry],
    missing: &[(String, String)],
) -> Result<Page> {
    let mut blocks = vec![Block::Text(format!(
        "Data: {} ({} training and {} test images of {}x{}x{}). Every model is fitted to the same training images and evaluated on the same test images; binary models (Bernoulli mixture, VAE, autoencoder, PixelCNN, NADE) see them statically binarized (threshold 0.5), so their likelihoods are probabilities of the same binary test images and compare directly. The GMM models the grey images, so its NLL (a bound on the probability of the grey images at the data's number of grey levels, through dequantization) answers a harder question and does not compare with the binary models' numbers.",
        opts.data,
        splits.train.n,
        splits.test.n,
        splits.train.height,
        splits.train.width,
        splits.train.channels
    ))];
    for (kind, why) in missing {
        blocks.push(Block::Warning(format!("{kind}: not in this report: {why}")));
    }
    blocks.extend(grey_warnings(entries));
    blocks.extend(table(entries, splits));
    blocks.extend(samples(opts, splits, entries)?);
    blocks.extend(vae_and_ae(opts, splits, entries)?);
    blocks.extend(novelty(opts, splits, entries)?);
    blocks.extend(reproduce(opts, entries));
    Ok(Page {
        title: format!("elbo report: {}", opts.data),
        blocks,
    })
}

fn table(entries: &[Entry], splits: &Splits) -> Vec<Block> {
    let dim = splits.test.dim();
    let rows = entries
        .iter()
        .map(|e| {
            let (nats, bpd, how) = match &e.nll {
                Some(n) => (
                    format!("{:.2} ± {:.2}", n.nats, n.std_error),
                    format!("{:.4}", n.bits_per_dim),
                    n.method.describe(),
                ),
                None => (
                    "—".into(),
                    "—".into(),
                    "no likelihood (not a density model)".into(),
                ),
            };
            vec![
                e.name.clone(),
                pixels_name(e.pixels).into(),
                nats,
                bpd,
                how,
                e.params.to_string(),
                format!("{:.1}", e.train_seconds),
                if e.epochs.fract() == 0.0 {
                    format!("{}", e.epochs)
                } else {
                    format!("{:.2}", e.epochs)
                },
                format!("{:.0}", e.samples_per_second),
            ]
        })
        .collect();
    vec![
        Block::Heading("Test log-likelihood".into()),
        Block::Text(format!(
            "Negative log-likelihood of the {} test images ({dim} values each), lower is better. Bounds say which way they err.",
            splits.test.n
        )),
        Block::Table {
            header: [
                "model",
                "pixels",
                "NLL (nats/image)",
                "bits/dim",
                "how",
                "parameters",
                "training s",
                "epochs / EM iterations",
                "samples/s",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        },
    ]
}

/// A warning for each model other than the GMM that saw grey pixels (a run
/// given with `--run`): the text above says binary models see binarized
/// images, which is not true of it, and its NLL does not compare with theirs.
pub fn grey_warnings(entries: &[Entry]) -> Vec<Block> {
    entries
        .iter()
        .filter(|e| e.kind != "gmm" && !e.pixels.is_binary())
        .map(|e| {
            Block::Warning(format!(
                "{} was trained on grey pixels, not binarized ones: its figures are of the grey test images under its own likelihood and do not compare with the binary models' numbers.",
                e.name
            ))
        })
        .collect()
}

fn pixels_name(p: PixelMode) -> &'static str {
    if p.is_binary() { "binarized" } else { "grey" }
}

fn samples(opts: &ReportOptions, splits: &Splits, entries: &[Entry]) -> Result<Vec<Block>> {
    let shape = shape_of(splits);
    let mut blocks = vec![Block::Heading(format!(
        "Samples (seed {}, the same for every model)",
        opts.seed
    ))];
    for e in entries {
        let file = PathBuf::from(format!("samples-{}.png", stem(e)));
        let layout = GridLayout::new(8, shape).with_scale(opts.scale);
        save_grid(&opts.out.join(&file), &e.shown, shape, layout)?;
        blocks.push(Block::Image {
            file,
            caption: format!("{}: 64 samples ({})", e.name, sample_note(&e.kind)),
        });
    }
    Ok(blocks)
}

/// What a shown sample is, per family.
fn sample_note(kind: &str) -> &'static str {
    match kind {
        "vae" | "ae" => "decoder means of z ~ N(0, I)",
        "gmm" => "m ~ P(m), x ~ N(μ_m, Σ_m), mapped back from PCA and clipped to [0, 1]",
        "bernoulli-mixture" => "pixel probabilities of the drawn component",
        _ => "drawn pixel by pixel",
    }
}

/// The VAE's reconstructions and interpolation, beside the autoencoder's.
fn vae_and_ae(opts: &ReportOptions, splits: &Splits, entries: &[Entry]) -> Result<Vec<Block>> {
    // Only the two runs this section draws from are loaded.
    let find = |kind: &str| -> Result<Option<Run>> {
        entries
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| Run::load(&e.run_dir).map(|r| r.with_scale(opts.scale)))
            .transpose()
    };
    let (vae, ae) = (find("vae")?, find("ae")?);
    let Some(vae) = vae else {
        return Ok(vec![]);
    };
    let test = &splits.test;
    let pair = run::default_pair(test);
    let mut blocks = vec![
        Block::Heading("VAE: reconstructions and interpolation".into()),
        Block::Text(format!(
            "Top rows: test images; below each, the decoding of its code. The strip decodes evenly spaced points between the codes of test images {} and {}.",
            pair.0, pair.1
        )),
    ];
    for (run, who) in std::iter::once((&vae, "vae")).chain(ae.as_ref().map(|a| (a, "ae"))) {
        let recon = PathBuf::from(format!("reconstructions-{who}.png"));
        run::save_reconstructions(run, test, 16, opts.seed, &opts.out.join(&recon))?;
        let path = PathBuf::from(format!("interpolation-{who}.png"));
        run::save_interpolation(run, test, pair.0, pair.1, 10, &opts.out.join(&path))?;
        let name = if who == "vae" { "VAE" } else { "Autoencoder" };
        blocks.push(Block::Image {
            file: recon,
            caption: format!("{name}: test images above their reconstructions"),
        });
        blocks.push(Block::Image {
            file: path,
            caption: format!("{name}: interpolation between two test images"),
        });
    }
    if let Some(ae) = &ae {
        let file = PathBuf::from("vae-vs-autoencoder.png");
        run::save_ae_comparison(&vae, ae, test, pair, opts.seed, &opts.out.join(&file))?;
        blocks.push(Block::Image {
            file,
            caption: "Why a VAE: left the VAE, right the autoencoder. Top: the path between two codes; below: codes drawn from N(0, I). The VAE's KL term keeps its codes near N(0, I), so its draws decode to digits; the autoencoder's do not.".into(),
        });
    }
    Ok(blocks)
}

/// Nearest training image beside each sample, and the distance comparison.
fn novelty(opts: &ReportOptions, splits: &Splits, entries: &[Entry]) -> Result<Vec<Block>> {
    let shape = shape_of(splits);
    let dim = shape.dim();
    let mut blocks = vec![
        Block::Heading("Are the samples new?".into()),
        Block::Text("For each sample, the Euclidean distance to its nearest training image, compared with the same distance for held-out test images, which are new by construction. Samples much closer to the training set than test images are copies. Binary models are compared in binary pixels (samples drawn from the decoder's probabilities).".into()),
    ];
    let mut rows = Vec::new();
    for e in entries {
        let train = e.pixels.prepare(&splits.train, 0);
        let test = e.pixels.prepare(&splits.test, 0);
        let n_test = (test.len() / dim).min(1000);
        let nov = Novelty::measure(&train, &e.samples, &test[..n_test * dim], dim)?;
        // Rows of 8 samples, each above its nearest training images.
        let mut grid = Vec::with_capacity(2 * 32 * dim);
        for (row, near) in e.shown.chunks(8 * dim).zip(nov.samples.chunks(8)).take(4) {
            grid.extend_from_slice(row);
            for &(j, _) in near {
                grid.extend_from_slice(&train[j * dim..(j + 1) * dim]);
            }
        }
        let file = PathBuf::from(format!("nearest-{}.png", stem(e)));
        // Pairs of rows (samples, their neighbours) set apart.
        let layout = GridLayout::new(8, shape).with_scale(opts.scale).grouped(2);
        save_grid(&opts.out.join(&file), &grid, shape, layout)?;
        blocks.push(Block::Image {
            file,
            caption: format!(
                "{}: each row of samples above its nearest training images, pairs of rows set apart",
                e.name
            ),
        });
        let sample_d: Vec<f32> = nov.samples.iter().map(|p| p.1).collect();
        blocks.push(distance_histogram(opts, e, &sample_d, &nov.test)?);
        rows.push(vec![
            e.name.clone(),
            format!("{:.3}", median(&sample_d)),
            format!("{:.3}", median(&nov.test)),
            format!("{:.2}", nov.ratio),
            nov.short_verdict().to_string(),
        ]);
        if nov.copying() {
            blocks.push(Block::Warning(format!("{}: {}", e.name, nov.verdict())));
        }
    }
    blocks.push(Block::Table {
        header: [
            "model",
            "median sample distance",
            "median test distance",
            "ratio",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    Ok(blocks)
}

/// The two distance distributions of one model, as overlaid histograms.
fn distance_histogram(
    opts: &ReportOptions,
    e: &Entry,
    samples: &[f32],
    test: &[f32],
) -> Result<Block> {
    let file = PathBuf::from(format!("distances-{}.png", stem(e)));
    let widen = |v: &[f32]| v.iter().map(|&d| f64::from(d)).collect::<Vec<f64>>();
    let groups = [
        (format!("{} samples", samples.len()), widen(samples)),
        (format!("{} test images", test.len()), widen(test)),
    ];
    let chart = Chart::new(
        e.name.clone(),
        "Euclidean distance to the nearest training image",
        "density",
    )
    .size(720, 360);
    save_histogram(&chart, &groups, 24, &opts.out.join(&file))?;
    Ok(Block::Image {
        file,
        caption: format!(
            "{}: distances to the nearest training image, samples against held-out test images (each histogram normalized to area 1)",
            e.name
        ),
    })
}

fn reproduce(opts: &ReportOptions, entries: &[Entry]) -> Vec<Block> {
    let mut blocks = vec![
        Block::Heading("Reproduce".into()),
        Block::Code(opts.command.clone()),
    ];
    if !entries.is_empty() {
        blocks.push(Block::Text(
            "Explore these runs live in the browser (latent maps decoded under the pointer, paths between test images, completions, samples, mixture components; `elbo serve` prints the address):".into(),
        ));
        blocks.push(Block::Code(serve_command(entries)));
    }
    for e in entries {
        let path = e.run_dir.join("config.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|err| Error::io(&path, err))
            .unwrap_or_else(|err| format!("# {err}"));
        blocks.push(Block::Text(format!("{}: {}", e.name, path.display())));
        blocks.push(Block::Code(text));
    }
    blocks
}

/// `elbo serve` over the runs of the page, with each folder quoted for a
/// shell where it needs it.
fn serve_command(entries: &[Entry]) -> String {
    let mut cmd = String::from("elbo serve");
    for e in entries {
        let dir = e.run_dir.display().to_string();
        let plain = dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:".contains(c));
        if plain {
            cmd.push_str(&format!(" --model {dir}"));
        } else {
            cmd.push_str(&format!(" --model '{}'", dir.replace('\'', "'\\''")));
        }
    }
    cmd
}
