//! Per-image outputs a user takes elsewhere: latent codes (embeddings) as NPY
//! or CSV, and likelihood scores (usable as anomaly scores) as CSV.

use std::fmt::Write as _;
use std::path::Path;

use burn::tensor::{Tensor, TensorData};

use crate::data::ImageSet;
use crate::run::Run;
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

/// Images encoded per pass.
const BATCH: usize = 1000;

/// Posterior means and log-variances of every image of `set`, each
/// `[n, latent]` row-major, plus the latent dimension.
pub fn encode_all(run: &Run, set: &ImageSet) -> Result<(Vec<f32>, Vec<f32>, usize)> {
    run.check_shape(set)?;
    let vae = &run.vae()?.vae;
    let latent = vae.latent();
    let (pixels, dim) = run.inputs(set, 0)?;
    let (mut means, mut log_vars) = (Vec::new(), Vec::new());
    let stage = crate::progress::Stage::start("encoding", set.n, "images");
    for start in (0..set.n).step_by(BATCH) {
        let rows = BATCH.min(set.n - start);
        let x = pixels[start * dim..(start + rows) * dim].to_vec();
        let x = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), &run.device); // [rows, dim]
        let (m, lv) = vae.encode(x); // [rows, latent] each
        means.extend(crate::eval::to_vec(m)?);
        log_vars.extend(crate::eval::to_vec(lv)?);
        stage.inc(rows);
    }
    stage.finish();
    Ok((means, log_vars, latent))
}

/// Writes the embeddings of `set` to `out`: `.npy` gives an f32 array of shape
/// `[n, 2, latent]` (`[:, 0]` the means, `[:, 1]` the log-variances); `.csv`
/// gives `index,label,mean_0..,log_var_0..`. Returns the number of images.
///
/// ```no_run
/// use elbo::run::{test_images, Run};
///
/// let run = Run::load("runs/vae".as_ref())?;
/// elbo::export::save_embeddings(&run, &test_images(&run, None)?, "latents.npy".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_embeddings(run: &Run, set: &ImageSet, out: &Path) -> Result<usize> {
    let (means, log_vars, latent) = encode_all(run, set)?;
    match out.extension().and_then(|e| e.to_str()) {
        Some("npy") => {
            let mut both = Vec::with_capacity(means.len() * 2);
            for (m, lv) in means.chunks(latent).zip(log_vars.chunks(latent)) {
                both.extend_from_slice(m);
                both.extend_from_slice(lv);
            }
            crate::data::write_npy_f32(out, &[set.n, 2, latent], &both)?;
        }
        Some("csv") => {
            let mut text = String::from("index,label");
            (0..latent).for_each(|j| write!(text, ",mean_{j}").unwrap_or(()));
            (0..latent).for_each(|j| write!(text, ",log_var_{j}").unwrap_or(()));
            text.push('\n');
            for i in 0..set.n {
                write!(text, "{i},{}", label(set, i)).unwrap_or(());
                for v in means[i * latent..(i + 1) * latent]
                    .iter()
                    .chain(&log_vars[i * latent..(i + 1) * latent])
                {
                    write!(text, ",{v}").unwrap_or(());
                }
                text.push('\n');
            }
            crate::fsutil::atomic_write(out, text.as_bytes())?;
        }
        _ => {
            return Err(Error::invalid(format!(
                "{}: the output must end in .npy or .csv",
                out.display()
            )));
        }
    }
    Ok(set.n)
}

fn label(set: &ImageSet, i: usize) -> String {
    set.labels
        .as_ref()
        .map_or(String::new(), |l| l[i].to_string())
}

/// Writes `index,label,neg_elbo,iwae_nll` for every image of `set` to the CSV
/// file `out`: the one-sample negative ELBO and the IWAE estimate of −log p(x)
/// with `k` samples, both in nats. High values flag unusual images.
///
/// ```no_run
/// use elbo::run::{test_images, Run};
///
/// let run = Run::load("runs/vae".as_ref())?;
/// elbo::export::save_scores(&run, &test_images(&run, None)?, 100, 0, "scores.csv".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_scores(run: &Run, set: &ImageSet, k: usize, seed: u64, out: &Path) -> Result<usize> {
    if out.extension().and_then(|e| e.to_str()) != Some("csv") {
        return Err(Error::invalid(format!(
            "{}: scores are written as .csv",
            out.display()
        )));
    }
    let iwae = run.iwae(set, k, seed)?;
    let vae = &run.vae()?.vae;
    let (pixels, dim) = run.inputs(set, seed)?;
    let rng = seeds::rng(seed, 0, 0, Purpose::TestNoise);
    let elbo = crate::eval::vae_loss_per_image(vae, &pixels, dim, rng)?;
    let mut text = String::from("index,label,neg_elbo,iwae_nll\n");
    for (i, ((r, kl), nll)) in elbo.iter().zip(&iwae).enumerate() {
        writeln!(text, "{i},{},{:.6},{:.6}", label(set, i), r + kl, nll).unwrap_or(());
    }
    crate::fsutil::atomic_write(out, text.as_bytes())?;
    Ok(set.n)
}
