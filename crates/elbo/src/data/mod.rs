//! Data: readers for the image formats elbo understands, the embedded digits
//! set, pixel modes (grey, static and dynamic binarization) and train/test splits.
//!
//! All readers produce an [`ImageSet`]: pixels as `f32` in `[0, 1]`, laid out
//! `[n, height, width, channels]` row-major, plus optional labels.

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
}

impl ImageSet {
    /// Values per image: `height * width * channels`.
    pub fn dim(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let d = self.dim();
        &self.pixels[i * d..(i + 1) * d]
    }
}
