//! Data: readers for the image formats elbo understands, the embedded digits
//! set, pixel modes (grey, static and dynamic binarization) and train/test splits.
//!
//! All readers produce an [`ImageSet`]: pixels as `f32` in `[0, 1]`, laid out
//! `[n, height, width, channels]` row-major, plus optional labels.
//!
//! The usual entry point is [`DataSpec`], the parsed `--data` argument, whose
//! [`DataSpec::load`] returns train and test [`Splits`].

pub mod amat;
pub mod catalog;
pub mod cifar;
pub mod digits;
pub mod download;
mod fetch;
pub mod folder;
pub mod folder_layout;
mod gz;
pub mod idx;
pub mod npy;
mod npy_header;
pub mod pixels;
pub mod spec;
pub mod split;
pub mod transform;

pub use amat::read_amat;
pub use catalog::{DATASETS, Dataset, dataset};
pub use cifar::{load_cifar10, read_cifar_batch};
pub use digits::digits;
pub use download::{
    DownloadOptions, MNIST_FILES, MNIST_MIRRORS, cache_root, default_cache_dir, download_files,
    download_files_with, download_mnist,
};
pub use folder::{Color, read_folder};
pub use folder_layout::{FolderImages, folder_images};
pub use idx::{read_idx_images, read_idx_labels, read_idx_pair};
pub use npy::{read_npy, read_npy_f32, write_npy_f32};
pub use pixels::PixelMode;
pub use spec::{DataSpec, LoadOptions, Splits};
pub use split::split;

use crate::{Error, Result};

/// A set of images held in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// Pixels in `[0, 1]`, `[n, height, width, channels]` row-major.
    pub pixels: Vec<f32>,
    /// Number of images.
    pub n: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// One label per image where the source has them.
    pub labels: Option<Vec<u8>>,
    /// Distinct intensity levels of the source: 256 for 8-bit files, 17
    /// for the embedded digits (0..=16), 2 for binary files. Pixels are
    /// multiples of `1 / (levels - 1)`; a dequantized density uses it.
    pub levels: u32,
}

impl ImageSet {
    /// Builds a set after checking that `pixels` holds exactly
    /// `n * height * width * channels` values, that `channels` is 1 or 3 and
    /// that `labels`, if any, has one entry per image. The set has 256
    /// levels ([`ImageSet::with_levels`] changes that).
    pub fn new(
        pixels: Vec<f32>,
        n: usize,
        height: usize,
        width: usize,
        channels: usize,
        labels: Option<Vec<u8>>,
    ) -> Result<Self> {
        if channels != 1 && channels != 3 {
            return Err(Error::invalid(format!(
                "an image set needs 1 or 3 channels, not {channels}"
            )));
        }
        let expected = n
            .checked_mul(height)
            .and_then(|v| v.checked_mul(width))
            .and_then(|v| v.checked_mul(channels));
        if expected != Some(pixels.len()) {
            return Err(Error::invalid(format!(
                "{} pixel values do not make {n} images of {height}x{width}x{channels}",
                pixels.len()
            )));
        }
        if let Some(l) = &labels
            && l.len() != n
        {
            return Err(Error::invalid(format!("{} labels for {n} images", l.len())));
        }
        Ok(ImageSet {
            pixels,
            n,
            height,
            width,
            channels,
            labels,
            levels: 256,
        })
    }

    /// This set, recorded as holding `levels` distinct intensities (at
    /// least 2).
    pub fn with_levels(self, levels: u32) -> Result<Self> {
        if levels < 2 {
            return Err(Error::invalid(format!(
                "an image set needs at least 2 intensity levels, not {levels}"
            )));
        }
        Ok(ImageSet { levels, ..self })
    }

    /// Values per image: `height * width * channels`.
    pub fn dim(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// The pixels of image `i`.
    ///
    /// # Panics
    /// If `i >= self.n`.
    pub fn image(&self, i: usize) -> &[f32] {
        let d = self.dim();
        &self.pixels[i * d..(i + 1) * d]
    }

    /// The shape `[n, height, width, channels]`.
    pub fn shape(&self) -> [usize; 4] {
        [self.n, self.height, self.width, self.channels]
    }

    /// True when the set holds no images.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Mean pixel value over the whole set (0 for an empty set).
    pub fn mean(&self) -> f64 {
        if self.pixels.is_empty() {
            return 0.0;
        }
        self.pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / self.pixels.len() as f64
    }
}
