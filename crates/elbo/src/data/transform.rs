//! Whole-set conversions: colour (grey ↔ RGB) and resizing.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma, Pixel, Rgb};

use super::{Color, ImageSet};
use crate::{Error, Result};

/// The filter used for every resize: Lanczos with 3 lobes, which scales its
/// support when shrinking, so downsampling does not alias.
pub const RESIZE_FILTER: FilterType = FilterType::Lanczos3;

/// Rec. 709 luma weights, the ones the `image` crate uses for RGB → grey.
const LUMA: [f32; 3] = [0.2126, 0.7152, 0.0722];

impl ImageSet {
    /// The colour of this set: grey for 1 channel, RGB otherwise.
    pub fn color(&self) -> Color {
        match self.channels {
            1 => Color::Grey,
            _ => Color::Rgb,
        }
    }

    /// This set with `color`'s channel count: grey → RGB replicates the grey
    /// value, RGB → grey takes the Rec. 709 luma. Labels are kept.
    pub fn to_color(&self, color: Color) -> ImageSet {
        let pixels = match (self.color(), color) {
            (Color::Grey, Color::Rgb) => self.pixels.iter().flat_map(|&v| [v, v, v]).collect(),
            (Color::Rgb, Color::Grey) => self
                .pixels
                .chunks_exact(3)
                .map(|p| (LUMA[0] * p[0] + LUMA[1] * p[1] + LUMA[2] * p[2]).clamp(0.0, 1.0))
                .collect(),
            _ => self.pixels.clone(),
        };
        // A luma falls between the source's levels: 8-bit from then on.
        let levels = match (self.color(), color) {
            (Color::Rgb, Color::Grey) => self.levels.max(256),
            _ => self.levels,
        };
        ImageSet {
            pixels,
            channels: color.channels(),
            labels: self.labels.clone(),
            levels,
            ..*self
        }
    }

    /// This set with every image resized to `height` x `width` with
    /// [`RESIZE_FILTER`]; values stay in `[0, 1]`. Labels are kept.
    pub fn resized(&self, height: usize, width: usize) -> Result<ImageSet> {
        if height == 0 || width == 0 {
            return Err(Error::invalid(format!(
                "cannot resize images to {height}x{width}"
            )));
        }
        crate::memory::check(
            &format!("{} images resized to {height}x{width}", self.n),
            "the image size (--image-size / [data] image_size)",
            crate::memory::Bytes::of(&[self.n, height, width, self.channels], crate::memory::F32),
        )?;
        let mut pixels = Vec::with_capacity(self.n * height * width * self.channels);
        for i in 0..self.n {
            let src = (self.height, self.width, self.channels);
            pixels.extend(resize_image(self.image(i), src, (height, width))?);
        }
        Ok(ImageSet {
            pixels,
            height,
            width,
            labels: self.labels.clone(),
            // Resampled values fall between the source's levels: 8-bit
            // from then on, as if the resized images were saved as PNG.
            levels: self.levels.max(256),
            ..*self
        })
    }

    /// Converts to `color` and, if `size` is given, resizes to it, copying
    /// nothing when the set already conforms.
    pub fn conform(self, color: Color, size: Option<(usize, usize)>) -> Result<ImageSet> {
        let set = match self.color() == color {
            true => self,
            false => self.to_color(color),
        };
        match size {
            Some((h, w)) if (h, w) != (set.height, set.width) => set.resized(h, w),
            _ => Ok(set),
        }
    }
}

/// Resizes one image of `(height, width, channels)` (1 or 3 channels) to
/// `(new_height, new_width)`.
pub(crate) fn resize_image(
    pixels: &[f32],
    (height, width, channels): (usize, usize, usize),
    (new_height, new_width): (usize, usize),
) -> Result<Vec<f32>> {
    let dim = |v: usize| {
        u32::try_from(v).map_err(|_| Error::invalid(format!("image side {v} is too large")))
    };
    let (w, h, nw, nh) = (dim(width)?, dim(height)?, dim(new_width)?, dim(new_height)?);
    let out = match channels {
        1 => resize_buffer::<Luma<f32>>(pixels, (w, h), (nw, nh)),
        3 => resize_buffer::<Rgb<f32>>(pixels, (w, h), (nw, nh)),
        c => {
            return Err(Error::invalid(format!(
                "cannot resize images with {c} channels"
            )));
        }
    };
    out.ok_or_else(|| {
        Error::invalid(format!(
            "{} values do not make a {height}x{width}x{channels} image",
            pixels.len()
        ))
    })
}

/// Resizes a buffer of pixel type `P`; `None` if `pixels` has the wrong length.
fn resize_buffer<P>(pixels: &[f32], (w, h): (u32, u32), (nw, nh): (u32, u32)) -> Option<Vec<f32>>
where
    P: Pixel<Subpixel = f32> + 'static,
{
    let img: ImageBuffer<P, Vec<f32>> = ImageBuffer::from_raw(w, h, pixels.to_vec())?;
    let mut out = imageops::resize(&img, nw, nh, RESIZE_FILTER).into_raw();
    for v in &mut out {
        *v = v.clamp(0.0, 1.0);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pixels: Vec<f32>, h: usize, w: usize, c: usize) -> ImageSet {
        let n = pixels.len() / (h * w * c);
        ImageSet::new(pixels, n, h, w, c, Some(vec![7; n])).unwrap()
    }

    #[test]
    fn grey_rgb_round_trip() {
        let g = set(vec![0.0, 0.25, 0.5, 1.0], 2, 2, 1);
        let rgb = g.to_color(Color::Rgb);
        assert_eq!(rgb.channels, 3);
        assert_eq!(&rgb.pixels[3..6], &[0.25, 0.25, 0.25]);
        let back = rgb.to_color(Color::Grey);
        for (a, b) in back.pixels.iter().zip(&g.pixels) {
            assert!((a - b).abs() < 1e-6);
        }
        assert_eq!(back.labels, g.labels);
    }

    #[test]
    fn resize_keeps_constant_images_and_range() {
        let s = set(vec![0.5; 2 * 8 * 8 * 3], 8, 8, 3);
        let r = s.resized(4, 2).unwrap();
        assert_eq!(r.shape(), [2, 4, 2, 3]);
        assert!(r.pixels.iter().all(|&v| (v - 0.5).abs() < 1e-5));
        let checker: Vec<f32> = (0..64).map(|i| ((i + i / 8) % 2) as f32).collect();
        let up = set(checker, 8, 8, 1).resized(20, 20).unwrap();
        assert!(up.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(s.resized(0, 3).is_err());
    }
}
