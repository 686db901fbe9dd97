//! Seeded train/test splits and subsets.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;

use super::ImageSet;
use crate::{Error, Result};

impl ImageSet {
    /// The images at `idx`, in that order, with their labels.
    ///
    /// # Panics
    /// If an index is `>= self.n` (indices come from the caller, not from data).
    pub fn subset(&self, idx: &[usize]) -> ImageSet {
        let d = self.dim();
        let mut pixels = Vec::with_capacity(idx.len() * d);
        for &i in idx {
            pixels.extend_from_slice(self.image(i));
        }
        ImageSet {
            pixels,
            n: idx.len(),
            labels: self
                .labels
                .as_ref()
                .map(|l| idx.iter().map(|&i| l[i]).collect()),
            ..*self
        }
    }
}

/// Splits `set` into `(train, test)` after a shuffle seeded by `seed`.
///
/// The test part gets `round(n * test_fraction)` images (at least one when
/// `test_fraction > 0`); both parts keep the original relative order of their
/// images. `test_fraction` must lie in `[0, 1)` and leave at least one
/// training image. The same `seed` gives the same split on every run.
pub fn split(set: ImageSet, test_fraction: f64, seed: u64) -> Result<(ImageSet, ImageSet)> {
    if !(0.0..1.0).contains(&test_fraction) {
        return Err(Error::invalid(format!(
            "test fraction {test_fraction} is not in [0, 1)"
        )));
    }
    let n = set.n;
    let mut n_test = (n as f64 * test_fraction).round() as usize;
    if test_fraction > 0.0 {
        n_test = n_test.max(1);
    }
    if n_test >= n {
        return Err(Error::invalid(format!(
            "test fraction {test_fraction} of {n} images leaves no training images"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    let (test_idx, train_idx) = order.split_at_mut(n_test);
    test_idx.sort_unstable();
    train_idx.sort_unstable();
    Ok((set.subset(train_idx), set.subset(test_idx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> ImageSet {
        let pixels = (0..n).map(|i| i as f32 / n as f32).collect();
        let labels = (0..n).map(|i| (i % 256) as u8).collect();
        ImageSet::new(pixels, n, 1, 1, 1, Some(labels)).unwrap()
    }

    #[test]
    fn subset_picks_images_and_labels() {
        let s = numbered(10);
        let sub = s.subset(&[3, 1]);
        assert_eq!(sub.n, 2);
        assert_eq!(sub.pixels, vec![0.3, 0.1]);
        assert_eq!(sub.labels, Some(vec![3, 1]));
    }

    #[test]
    fn split_is_a_seeded_partition() {
        let (train, test) = split(numbered(100), 0.1, 7).unwrap();
        assert_eq!((train.n, test.n), (90, 10));
        let mut all: Vec<u8> = train.labels.clone().unwrap();
        all.extend(test.labels.clone().unwrap());
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<u8>>());
        assert_eq!(split(numbered(100), 0.1, 7).unwrap(), (train, test.clone()));
        assert_ne!(split(numbered(100), 0.1, 8).unwrap().1, test);
    }

    #[test]
    fn split_is_pinned_across_runs_and_versions() {
        let (_, test) = split(numbered(20), 0.25, 2024).unwrap();
        assert_eq!(test.labels, Some(vec![0, 7, 9, 10, 14]));
    }

    #[test]
    fn split_edge_cases() {
        assert_eq!(split(numbered(5), 0.0, 1).unwrap().1.n, 0);
        assert_eq!(split(numbered(5), 0.01, 1).unwrap().1.n, 1);
        for bad in [-0.1, 1.0, f64::NAN] {
            let msg = split(numbered(5), bad, 1).unwrap_err().to_string();
            assert!(msg.contains("test fraction"), "{msg}");
        }
        assert!(split(numbered(1), 0.5, 1).is_err());
    }
}
