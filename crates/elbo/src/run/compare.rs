//! The lecture's "why VAE" figure: a VAE and a plain autoencoder side by
//! side, each decoding (top row) the points between the codes of two test
//! images and (below) codes drawn from N(0, I). The VAE's KL term pulls its
//! codes into N(0, I), so both give digits; the autoencoder's codes sit
//! wherever training left them, so N(0, I) draws (and often the path between
//! two codes) land where its decoder has never been, and give noise.

use std::path::Path;

use super::Run;
use crate::data::ImageSet;
use crate::image::{SEPARATOR_GREY, save_grid};
use crate::{Error, Result};

/// Decoded points per interpolation row, and samples per row.
const COLS: usize = 10;
/// Rows of N(0, I) samples under each interpolation.
const SAMPLE_ROWS: usize = 4;

/// Writes the comparison PNG: left block the VAE run `vae`, right block the
/// autoencoder run `ae`, separated by a blank column. Each block's first row
/// decodes 10 evenly spaced points from the code of test image `pair.0` to
/// that of `pair.1` (images of `set`); after a blank row, 40 decodes of codes
/// drawn from N(0, I) with `seed` (the same draws for both where the latent
/// sizes agree). Returns the PNG's (width, height).
///
/// ```no_run
/// use elbo::run::{default_pair, save_ae_comparison, test_images, Run};
///
/// let vae = Run::load("runs/vae".as_ref())?;
/// let ae = Run::load("runs/ae".as_ref())?; // elbo train ae
/// let test = test_images(&vae, None)?;
/// save_ae_comparison(&vae, &ae, &test, default_pair(&test), 0, "why-vae.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_ae_comparison(
    vae: &Run,
    ae: &Run,
    set: &ImageSet,
    pair: (usize, usize),
    seed: u64,
    out: &Path,
) -> Result<(u32, u32)> {
    if vae.kind() != "vae" {
        return Err(Error::invalid(format!(
            "{} is not a VAE run (--vae wants one trained with `elbo train vae`)",
            vae.dir.root.display()
        )));
    }
    if ae.kind() != "ae" {
        return Err(Error::invalid(format!(
            "{} is not an autoencoder run (--ae wants one trained with `elbo train ae`)",
            ae.dir.root.display()
        )));
    }
    vae.check_shape(set)?;
    ae.check_shape(set)?;
    for i in [pair.0, pair.1] {
        if i >= set.n {
            return Err(Error::invalid(format!(
                "image index {i} is out of range: the set holds {} images",
                set.n
            )));
        }
    }
    let blocks = [block(vae, set, pair, seed)?, block(ae, set, pair, seed)?];
    let shape = vae.shape()?;
    let dim = shape.dim();
    // The background's grey, so blank cells vanish into it.
    let blank = vec![f32::from(SEPARATOR_GREY) / 255.0; dim];
    let mut grid = Vec::with_capacity((2 * COLS + 1) * (SAMPLE_ROWS + 2) * dim);
    for row in 0..SAMPLE_ROWS + 2 {
        for (b, block) in blocks.iter().enumerate() {
            if b > 0 {
                grid.extend_from_slice(&blank);
            }
            match row {
                1 => (0..COLS).for_each(|_| grid.extend_from_slice(&blank)),
                0 => grid.extend_from_slice(&block[..COLS * dim]),
                r => grid.extend_from_slice(&block[(r - 1) * COLS * dim..r * COLS * dim]),
            }
        }
    }
    save_grid(out, &grid, shape, vae.layout(2 * COLS + 1, shape))
}

/// One model's rows: the interpolation (`COLS` images), then the samples
/// (`SAMPLE_ROWS · COLS` images), `[images, dim]` row-major.
fn block(run: &Run, set: &ImageSet, pair: (usize, usize), seed: u64) -> Result<Vec<f32>> {
    let a = run.row(set, pair.0)?;
    let b = run.row(set, pair.1)?;
    let mut out = run.interpolate(&a, &b, COLS)?;
    out.extend(run.sample(SAMPLE_ROWS * COLS, seed)?);
    Ok(out)
}
