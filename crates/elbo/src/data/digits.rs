//! The embedded default data set: the UCI optical handwritten digits
//! (E. Alpaydin and C. Kaynak, 1998; CC BY 4.0), 1,797 greyscale 8x8 images
//! with values 0..16 and labels 0..9. See `crates/elbo/assets/README.md` for
//! provenance and `assets/make_digits.py` for how the embedded file was made.

use std::io::Read;

use flate2::read::GzDecoder;

use super::ImageSet;
use crate::{Error, Result};

/// Number of images in the digits set.
pub const DIGITS_N: usize = 1797;
/// Side of a digits image.
pub const DIGITS_SIDE: usize = 8;
/// Largest pixel value in the source data (pixels map to `v / 16`).
pub const DIGITS_MAX: u8 = 16;

/// gzip of `DIGITS_N * 64` pixel bytes followed by `DIGITS_N` label bytes.
static DIGITS_GZ: &[u8] = include_bytes!("../../assets/digits.bin.gz");

/// Name used in errors about the embedded file.
const SOURCE: &str = "<embedded assets/digits.bin.gz>";

/// The embedded digits set: 1,797 images of 8x8x1, pixels `v / 16` in
/// `[0, 1]`, with labels 0..9.
pub fn digits() -> Result<ImageSet> {
    let dim = DIGITS_SIDE * DIGITS_SIDE;
    let mut raw = Vec::with_capacity(DIGITS_N * (dim + 1));
    GzDecoder::new(DIGITS_GZ)
        .read_to_end(&mut raw)
        .map_err(|e| Error::format(SOURCE, format!("cannot decompress: {e}")))?;
    if raw.len() != DIGITS_N * (dim + 1) {
        return Err(Error::format(
            SOURCE,
            format!(
                "holds {} bytes, expected {}",
                raw.len(),
                DIGITS_N * (dim + 1)
            ),
        ));
    }
    let (pix, labels) = raw.split_at(DIGITS_N * dim);
    if pix.iter().any(|&v| v > DIGITS_MAX) || labels.iter().any(|&l| l > 9) {
        return Err(Error::format(SOURCE, "holds a value out of range"));
    }
    let pixels = pix
        .iter()
        .map(|&v| f32::from(v) / f32::from(DIGITS_MAX))
        .collect();
    ImageSet::new(
        pixels,
        DIGITS_N,
        DIGITS_SIDE,
        DIGITS_SIDE,
        1,
        Some(labels.to_vec()),
    )?
    .with_levels(u32::from(DIGITS_MAX) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_has_the_documented_shape_and_ranges() {
        let d = digits().unwrap();
        assert_eq!(d.shape(), [1797, 8, 8, 1]);
        let labels = d.labels.as_ref().unwrap();
        assert_eq!(labels.len(), 1797);
        for c in 0..10u8 {
            let count = labels.iter().filter(|&&l| l == c).count();
            assert!((170..=190).contains(&count), "class {c}: {count}");
        }
        assert!(d.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(d.pixels.iter().cloned().fold(0.0, f32::max), 1.0);
        // First image of the source CSV, row 0: 0,0,5,13,9,1,0,0 (a zero).
        assert_eq!(labels[0], 0);
        let row0: Vec<f32> = [0., 0., 5., 13., 9., 1., 0., 0.]
            .iter()
            .map(|v| v / 16.0)
            .collect();
        assert_eq!(&d.image(0)[..8], &row0[..]);
        // Values 0..=16: 17 grey levels, not 256.
        assert_eq!(d.levels, 17);
    }
}
