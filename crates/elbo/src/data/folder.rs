//! A folder of PNG/JPEG images, read in file-name order.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use image::{DynamicImage, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use super::ImageSet;
use super::folder_layout::folder_images;
use super::transform::RESIZE_FILTER;
use crate::memory::{self, Bytes};
use crate::{Error, Result};

/// What the decoder may allocate for one image at most (`image`'s own
/// default), lowered to the memory limit where that is smaller.
const MAX_DECODE_ALLOC: u64 = 512 << 20;

/// File extensions (lower-case) read as images; other files are skipped.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The colour images are converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// One channel: the Rec. 709 luma of colour images.
    #[default]
    #[serde(alias = "gray")]
    Grey,
    /// Three channels, red, green, blue.
    Rgb,
}

impl Color {
    /// Channels per pixel: 1 or 3.
    pub fn channels(self) -> usize {
        match self {
            Color::Grey => 1,
            Color::Rgb => 3,
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Color::Grey => "grey",
            Color::Rgb => "rgb",
        })
    }
}

impl FromStr for Color {
    type Err = Error;

    /// Parses `grey` (or `gray`) and `rgb`, ignoring case.
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "grey" | "gray" => Ok(Color::Grey),
            "rgb" => Ok(Color::Rgb),
            _ => Err(Error::invalid(format!(
                "unknown color {s:?}: expected grey or rgb"
            ))),
        }
    }
}

/// Reads the PNG/JPEG images of `dir` into an [`ImageSet`] converted to
/// `color`: the images directly inside it (hidden files skipped, sorted by
/// file name) without labels, or, for a folder of class sub-folders
/// (torchvision's `ImageFolder`), every class's images labelled by the rank
/// of the sub-folder's name; see [`folder_images`].
///
/// With `size = Some((height, width))` each image is resized to it (Lanczos3);
/// without, all images must have the size of the first one.
pub fn read_folder(dir: &Path, color: Color, size: Option<(usize, usize)>) -> Result<ImageSet> {
    if let Some((h, w)) = size
        && (h == 0 || w == 0)
    {
        return Err(Error::invalid(format!(
            "image size {h}x{w} has a zero side"
        )));
    }
    let listed = folder_images(dir)?;
    let files = listed.files;
    if let Some((h, w)) = size {
        memory::check(
            &format!("{}: {} images of {h}x{w}", dir.display(), files.len()),
            "the image size (--image-size / [data] image_size)",
            Bytes::of(&[files.len(), h, w, color.channels()], memory::F32),
        )?;
    }
    let limits = decode_limits()?;
    let mut pixels = Vec::new();
    let mut shape: Option<(usize, usize, &Path)> = None;
    for file in &files {
        if crate::device::stop_requested() {
            return Err(Error::Interrupted(format!(
                "while reading the images of {}",
                dir.display()
            )));
        }
        let (img, h, w) = decode(file, color, size, &limits)?;
        let img = match size {
            Some(_) => img,
            None => match shape {
                Some((h0, w0, first)) if (h0, w0) != (h, w) => {
                    return Err(Error::format(
                        file,
                        format!(
                            "image is {w}x{h} (width x height) but {} is {w0}x{h0}; \
                             give an image size to resize them all",
                            first.display()
                        ),
                    ));
                }
                _ => img,
            },
        };
        if shape.is_none() && size.is_none() {
            memory::check(
                &format!("{}: {} images of {h}x{w}", dir.display(), files.len()),
                "the image size (give --image-size to shrink them)",
                Bytes::of(&[files.len(), h, w, color.channels()], memory::F32),
            )?;
        }
        shape.get_or_insert((h, w, file));
        pixels.extend_from_slice(&img);
    }
    let (h, w) = match (size, shape) {
        (Some(s), _) => s,
        (None, Some((h, w, _))) => (h, w),
        (None, None) => (0, 0),
    };
    ImageSet::new(pixels, files.len(), h, w, color.channels(), listed.labels)
}

/// Whether `path` ends in one of [`IMAGE_EXTENSIONS`], ignoring case.
pub(super) fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The decoder's limits: at most [`MAX_DECODE_ALLOC`] bytes (or the memory
/// limit) per image, so a small file that declares a huge image is refused
/// by the decoder before it allocates the pixels.
fn decode_limits() -> Result<Limits> {
    let mut limits = Limits::default();
    let cap = memory::limit()?.map_or(MAX_DECODE_ALLOC, |l| l.bytes.min(MAX_DECODE_ALLOC));
    limits.max_alloc = Some(cap);
    Ok(limits)
}

/// Decodes one image into `color` as `f32` in `[0, 1]`, resized to `size`
/// (height, width) if given; returns the pixels and the image's own height
/// and width. The resize runs on the decoded 8- or 16-bit pixels, before the
/// conversion to `f32`, so a large image never exists as floats.
fn decode(
    file: &Path,
    color: Color,
    size: Option<(usize, usize)>,
    limits: &Limits,
) -> Result<(Vec<f32>, usize, usize)> {
    let bad = |e: &dyn fmt::Display| Error::format(file, format!("cannot decode image: {e}"));
    let mut reader = ImageReader::open(file)
        .map_err(|e| Error::io(file, e))?
        .with_guessed_format()
        .map_err(|e| Error::io(file, e))?;
    reader.limits(limits.clone());
    let img: DynamicImage = reader.decode().map_err(|e| bad(&e))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let img = match size {
        Some((nh, nw)) if (nh, nw) != (h, w) => {
            let side = |v: usize| {
                u32::try_from(v).map_err(|_| Error::invalid(format!("image side {v} is too large")))
            };
            img.resize_exact(side(nw)?, side(nh)?, RESIZE_FILTER)
        }
        _ => img,
    };
    let mut pixels = match color {
        Color::Grey => img.to_luma32f().into_raw(),
        Color::Rgb => img.to_rgb32f().into_raw(),
    };
    // The Rec. 709 luma of a white pixel rounds to 1.0000001 in f32.
    pixels.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    Ok((pixels, h, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_parses_and_displays() {
        for (s, c) in [
            ("grey", Color::Grey),
            ("Gray", Color::Grey),
            ("RGB", Color::Rgb),
        ] {
            assert_eq!(s.parse::<Color>().unwrap(), c);
        }
        assert_eq!(Color::Rgb.to_string().parse::<Color>().unwrap(), Color::Rgb);
        let msg = "cmyk".parse::<Color>().unwrap_err().to_string();
        assert!(msg.contains("cmyk") && msg.contains("rgb"), "{msg}");
    }

    #[test]
    fn extensions_are_case_insensitive() {
        assert!(has_image_extension(Path::new("a/B.PNG")));
        assert!(has_image_extension(Path::new("c.JpEg")));
        assert!(!has_image_extension(Path::new("notes.txt")));
        assert!(!has_image_extension(Path::new("png")));
    }
}
