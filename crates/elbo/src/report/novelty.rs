//! Are a model's samples new? The lecture warns that a generative model may
//! only imitate its training images. The test here: for each sample, the
//! Euclidean distance to its nearest training image, compared with the same
//! distance for held-out test images, which are new by construction. Samples
//! that sit much closer to the training set than test images do are copies.

use burn::tensor::{Device, Tensor, TensorData};

use crate::{Error, Result};

/// Training images compared per matmul: bounds memory at
/// `queries × CHUNK` distances.
const CHUNK: usize = 4096;

/// For each query image, (index of the nearest training image, its Euclidean
/// distance). `train` and `queries` are `[n, dim]` row-major.
///
/// ```
/// let train = [0.0, 0.0, 1.0, 1.0]; // two 2-pixel images
/// let near = elbo::report::novelty::nearest(&train, &[0.9, 1.2], 2).unwrap();
/// assert_eq!(near[0].0, 1);
/// assert!((near[0].1 - 0.2236).abs() < 1e-3);
/// ```
pub fn nearest(train: &[f32], queries: &[f32], dim: usize) -> Result<Vec<(usize, f32)>> {
    if dim == 0 || !train.len().is_multiple_of(dim) || !queries.len().is_multiple_of(dim) {
        return Err(Error::invalid(format!(
            "nearest neighbours: {} training and {} query values are not rows of {dim}",
            train.len(),
            queries.len()
        )));
    }
    let (n_train, n_q) = (train.len() / dim, queries.len() / dim);
    if n_train == 0 {
        return Err(Error::invalid("nearest neighbours: no training images"));
    }
    let device = Device::flex();
    let q = Tensor::<2>::from_data(TensorData::new(queries.to_vec(), [n_q, dim]), &device);
    let q_sq = q.clone().powi_scalar(2).sum_dim(1); // [n_q, 1]
    let mut best = vec![(0usize, f32::INFINITY); n_q];
    for start in (0..n_train).step_by(CHUNK) {
        let end = (start + CHUNK).min(n_train);
        let rows = train[start * dim..end * dim].to_vec();
        let t = Tensor::<2>::from_data(TensorData::new(rows, [end - start, dim]), &device);
        let t_sq = t.clone().powi_scalar(2).sum_dim(1).transpose(); // [1, chunk]
        // ‖q − t‖² = ‖q‖² + ‖t‖² − 2 q·t, one GEMM per chunk.
        let d2 = q_sq.clone() + t_sq - q.clone().matmul(t.transpose()).mul_scalar(2.0); // [n_q, chunk]
        let d2: Vec<f32> = d2
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| Error::invalid(format!("distance read-back: {e:?}")))?;
        for (i, row) in d2.chunks(end - start).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if v < best[i].1 {
                    best[i] = (start + j, v);
                }
            }
        }
    }
    // Cancellation can leave tiny negatives for identical images.
    Ok(best
        .into_iter()
        .map(|(j, d2)| (j, d2.max(0.0).sqrt()))
        .collect())
}

/// The comparison for one model: sample and test distances to the training
/// set, and what they say.
#[derive(Debug, Clone, PartialEq)]
pub struct Novelty {
    /// Per sample: (nearest training image, distance).
    pub samples: Vec<(usize, f32)>,
    /// Per held-out test image: its distance to the nearest training image.
    pub test: Vec<f32>,
    /// median(sample distances) / median(test distances).
    pub ratio: f64,
}

/// Below this ratio of medians the samples are called copies: half the
/// distance a new image typically has from its nearest training image.
pub const COPY_RATIO: f64 = 0.5;

/// Above this ratio of medians the samples are new but far from anything
/// in the data (an autoencoder's decodes of N(0, I) codes, say): 1.5 times
/// the distance a new image typically has.
pub const FAR_RATIO: f64 = 1.5;

impl Novelty {
    /// Distances of `samples` and of `test` images to `train` (all `[n, dim]`).
    pub fn measure(train: &[f32], samples: &[f32], test: &[f32], dim: usize) -> Result<Novelty> {
        let samples = nearest(train, samples, dim)?;
        let test: Vec<f32> = nearest(train, test, dim)?
            .into_iter()
            .map(|p| p.1)
            .collect();
        let sample_d: Vec<f32> = samples.iter().map(|p| p.1).collect();
        let (ms, mt) = (median(&sample_d), median(&test));
        let ratio = if mt > 0.0 { ms / mt } else { f64::INFINITY };
        Ok(Novelty {
            samples,
            test,
            ratio,
        })
    }

    /// True when the samples sit much closer to the training set than new
    /// images do (see [`COPY_RATIO`]).
    pub fn copying(&self) -> bool {
        self.ratio < COPY_RATIO
    }

    /// A few words for the report's table, beside the numbers it sums up.
    pub fn short_verdict(&self) -> &'static str {
        if self.copying() {
            "copies"
        } else if self.ratio < 0.9 {
            "partly memorized"
        } else if self.ratio <= FAR_RATIO {
            "new images"
        } else {
            "new, unlike the data"
        }
    }

    /// One sentence for the report.
    pub fn verdict(&self) -> String {
        let sample_d: Vec<f32> = self.samples.iter().map(|p| p.1).collect();
        let (ms, mt) = (median(&sample_d), median(&self.test));
        let what = if self.copying() {
            "much closer to the training set than held-out test images are: the model is copying training images"
        } else if self.ratio < 0.9 {
            "somewhat closer to the training set than held-out test images are: partly memorized"
        } else if self.ratio <= FAR_RATIO {
            "as far from the training set as held-out test images are, or farther: new images, not copies"
        } else {
            "much farther from the training set than held-out test images are: not copies, but unlike the data too (look at the samples)"
        };
        format!(
            "median distance to the nearest training image: samples {ms:.3}, test images {mt:.3} (ratio {:.2}); the samples are {what}.",
            self.ratio
        )
    }
}

/// The median of `v` (0 for an empty slice), NaN-safe by total ordering.
pub fn median(v: &[f32]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        f64::from(s[n / 2])
    } else {
        (f64::from(s[n / 2 - 1]) + f64::from(s[n / 2])) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    fn random(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n * dim)
            .map(|_| rng.random_range(0.0f32..1.0))
            .collect()
    }

    /// Against brute force, across a chunk boundary.
    #[test]
    fn nearest_matches_brute_force() {
        let dim = 7;
        let train = random(CHUNK + 300, dim, 1);
        let queries = random(25, dim, 2);
        let got = nearest(&train, &queries, dim).unwrap();
        for (q, &(j, d)) in queries.chunks(dim).zip(&got) {
            let (bj, bd) = train
                .chunks(dim)
                .map(|t| {
                    t.iter()
                        .zip(q)
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f32>()
                        .sqrt()
                })
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            assert!((d - bd).abs() < 1e-4, "{d} vs {bd}");
            assert!(j == bj || (d - bd).abs() < 1e-5);
        }
    }

    /// Copies of training images are flagged; fresh draws from the same
    /// distribution are not.
    #[test]
    fn copies_are_flagged_and_new_images_are_not() {
        let dim = 20;
        let train = random(500, dim, 3);
        let test = random(64, dim, 4);
        let copies: Vec<f32> = train[..64 * dim].iter().map(|v| v + 0.001).collect();
        let c = Novelty::measure(&train, &copies, &test, dim).unwrap();
        assert!(
            c.copying() && c.verdict().contains("copying") && c.short_verdict() == "copies",
            "{}",
            c.verdict()
        );
        let fresh = random(64, dim, 5);
        let f = Novelty::measure(&train, &fresh, &test, dim).unwrap();
        assert!(!f.copying() && f.ratio > 0.8, "{}", f.verdict());
        assert!(f.verdict().contains("new images"));
        assert_eq!(f.short_verdict(), "new images");
        let noise: Vec<f32> = random(64, dim, 6).iter().map(|v| 4.0 * v).collect();
        let n = Novelty::measure(&train, &noise, &test, dim).unwrap();
        assert!(
            n.ratio > FAR_RATIO && n.verdict().contains("unlike the data"),
            "{}",
            n.verdict()
        );
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(nearest(&[0.0; 6], &[0.0; 4], 3).is_err());
        assert!(nearest(&[], &[0.0; 3], 3).is_err());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
