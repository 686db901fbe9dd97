//! PNG pictures of images: grids of samples, reconstruction pairs and
//! interpolation strips. Pixels come in as `f32` in `[0, 1]`.

use std::path::Path;

use image::{ImageBuffer, ImageFormat, Rgb};

use crate::{Error, Result};

/// The shape of one image: height, width, channels (1 or 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
}

impl Shape {
    /// Values per image.
    pub fn dim(&self) -> usize {
        self.height * self.width * self.channels
    }
}

/// Side in pixels a drawn image reaches by default: 28x28 images at 4x,
/// the 8x8 digits at 14x, 32x32 at 4x.
pub const READABLE_SIDE: usize = 112;
/// Largest `--scale` accepted.
pub const MAX_SCALE: usize = 64;
/// Largest picture drawn, in pixels (a 64-sample grid of 32x32 RGB images
/// at 16x is 17 M).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Grey of the background and the separators between cells: mid-grey, so
/// it shows against black (MNIST) and white (CIFAR-10) images alike.
pub const SEPARATOR_GREY: u8 = 128;
/// Extra gap between groups of rows (a sample row and its nearest
/// training images, say), so the pairing shows.
pub const GROUP_GAP: usize = 8;

/// How a grid is laid out and scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    /// Images per row.
    pub cols: usize,
    /// Each pixel becomes a `scale × scale` block (nearest neighbour).
    pub scale: usize,
    /// Pixels of separator between images.
    pub padding: usize,
    /// Rows per group, groups set apart by [`GROUP_GAP`]; 0 for none.
    pub group_rows: usize,
}

impl GridLayout {
    /// A layout with `cols` columns at [`readable_scale`] and a 2-pixel
    /// separator.
    pub fn new(cols: usize, shape: Shape) -> Self {
        GridLayout {
            cols: cols.max(1),
            scale: readable_scale(shape),
            padding: 2,
            group_rows: 0,
        }
    }

    /// This layout at `scale` when given (the `--scale` flag), else as it is.
    pub fn with_scale(self, scale: Option<usize>) -> Self {
        GridLayout {
            scale: scale.unwrap_or(self.scale),
            ..self
        }
    }

    /// This layout with rows set apart in groups of `rows` (0: no groups).
    pub fn grouped(self, rows: usize) -> Self {
        GridLayout {
            group_rows: rows,
            ..self
        }
    }

    /// Pixel size (width, height) of a grid holding `n` images of `shape`.
    pub fn size(&self, n: usize, shape: Shape) -> (u32, u32) {
        let (w, h) = self.size_u64(n, shape);
        (w as u32, h as u32)
    }

    /// [`GridLayout::size`] before the conversion to `u32`, saturating.
    fn size_u64(&self, n: usize, shape: Shape) -> (u64, u64) {
        let rows = n.div_ceil(self.cols).max(1) as u64;
        let cols = self.cols.min(n.max(1)) as u64;
        let (scale, pad) = (self.scale as u64, self.padding as u64);
        let cell_w = (shape.width as u64).saturating_mul(scale) + pad;
        let cell_h = (shape.height as u64).saturating_mul(scale) + pad;
        let gaps = match self.group_rows {
            0 => 0,
            g => (rows - 1) / g as u64,
        };
        (
            cols.saturating_mul(cell_w) + pad,
            rows.saturating_mul(cell_h) + pad + gaps * GROUP_GAP as u64,
        )
    }

    /// Top-left corner of cell `i`.
    fn origin(&self, i: usize, shape: Shape) -> (usize, usize) {
        let (row, col) = (i / self.cols, i % self.cols);
        let gaps = match self.group_rows {
            0 => 0,
            g => row / g,
        };
        (
            self.padding + col * (shape.width * self.scale + self.padding),
            self.padding + row * (shape.height * self.scale + self.padding) + gaps * GROUP_GAP,
        )
    }
}

/// The default scale: the smallest whole factor that draws the image's
/// larger side at [`READABLE_SIDE`] pixels or more (1 for large images).
pub fn readable_scale(shape: Shape) -> usize {
    READABLE_SIDE
        .div_ceil(shape.height.max(shape.width).max(1))
        .max(1)
}

/// Renders `n` images (`pixels: [n, height, width, channels]`) into a grid and
/// writes it as a PNG at `path` (atomically). Returns the PNG's (width, height).
pub fn save_grid(
    path: &Path,
    pixels: &[f32],
    shape: Shape,
    layout: GridLayout,
) -> Result<(u32, u32)> {
    let dim = shape.dim();
    if dim == 0 || !pixels.len().is_multiple_of(dim) {
        return Err(Error::invalid(format!(
            "cannot draw {} values as images of {}x{}x{}",
            pixels.len(),
            shape.height,
            shape.width,
            shape.channels
        )));
    }
    if !(1..=MAX_SCALE).contains(&layout.scale) {
        return Err(Error::invalid(format!(
            "picture scale {} is not in 1..={MAX_SCALE}",
            layout.scale
        )));
    }
    let n = pixels.len() / dim;
    let (w, h) = layout.size_u64(n, shape);
    if w.saturating_mul(h) > MAX_PIXELS {
        return Err(Error::invalid(format!(
            "a {w}x{h} picture is over the limit of {MAX_PIXELS} pixels: lower the scale (now {})",
            layout.scale
        )));
    }
    let grey = Rgb([SEPARATOR_GREY; 3]);
    // Both sides are under MAX_PIXELS, so they fit a u32.
    let mut canvas = ImageBuffer::from_pixel(w as u32, h as u32, grey);
    for (i, img) in pixels.chunks_exact(dim).enumerate() {
        draw(
            &mut canvas,
            img,
            shape,
            layout.scale,
            layout.origin(i, shape),
        );
    }
    let mut bytes = Vec::new();
    canvas
        .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| Error::invalid(format!("PNG encoding failed: {e}")))?;
    crate::fsutil::atomic_write(path, &bytes)?;
    Ok((w as u32, h as u32))
}

/// Paints one image at `origin`, each pixel a `scale × scale` block.
fn draw(
    canvas: &mut ImageBuffer<Rgb<u8>, Vec<u8>>,
    img: &[f32],
    shape: Shape,
    scale: usize,
    origin: (usize, usize),
) {
    let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for r in 0..shape.height {
        for c in 0..shape.width {
            let base = (r * shape.width + c) * shape.channels;
            let px = if shape.channels >= 3 {
                Rgb([to_u8(img[base]), to_u8(img[base + 1]), to_u8(img[base + 2])])
            } else {
                let v = to_u8(img[base]);
                Rgb([v, v, v])
            };
            for dy in 0..scale {
                for dx in 0..scale {
                    let x = (origin.0 + c * scale + dx) as u32;
                    let y = (origin.1 + r * scale + dy) as u32;
                    canvas.put_pixel(x, y, px);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_png_has_the_computed_size_and_pixels() {
        let dir = std::env::temp_dir().join(format!("elbo-grid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shape = Shape {
            height: 2,
            width: 3,
            channels: 1,
        };
        let pixels: Vec<f32> = (0..5 * 6).map(|i| (i % 6) as f32 / 5.0).collect();
        let layout = GridLayout {
            cols: 2,
            scale: 1,
            padding: 1,
            group_rows: 0,
        };
        let path = dir.join("g.png");
        let (w, h) = save_grid(&path, &pixels, shape, layout).unwrap();
        // 2 columns of (3 + 1) plus 1; 3 rows of (2 + 1) plus 1.
        assert_eq!((w, h), (9, 10));
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (9, 10));
        assert_eq!(img.get_pixel(1, 1).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(3, 1).0, [102, 102, 102]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn square(side: usize) -> Shape {
        Shape {
            height: side,
            width: side,
            channels: 1,
        }
    }

    #[test]
    fn default_scale_draws_small_images_at_a_readable_size() {
        assert_eq!(readable_scale(square(28)), 4);
        assert_eq!(readable_scale(square(8)), 14);
        assert_eq!(readable_scale(square(32)), 4);
        assert_eq!(readable_scale(square(300)), 1);
        // 64 MNIST samples: 8 cells of 28·4 + 2 px separator, plus the edge
        // (242 px at 1x before).
        let mnist = square(28);
        assert_eq!(GridLayout::new(8, mnist).size(64, mnist), (914, 914));
        // An interpolation strip of 12: 314x28 at 1x before.
        assert_eq!(GridLayout::new(12, mnist).size(12, mnist), (1370, 116));
        let at2 = GridLayout::new(8, mnist).with_scale(Some(2));
        assert_eq!(at2.size(64, mnist), (8 * 58 + 2, 8 * 58 + 2));
        assert_eq!(at2.with_scale(None), at2);
    }

    #[test]
    fn grouped_rows_are_set_apart_by_a_wider_separator() {
        let dir = tempfile::tempdir().unwrap();
        let shape = square(2);
        let layout = GridLayout {
            cols: 3,
            scale: 2,
            padding: 1,
            group_rows: 2,
        };
        // 4 rows of (4 + 1) px, the edge, and one gap between the 2 groups.
        assert_eq!(layout.size(12, shape), (16, 21 + GROUP_GAP as u32));
        let path = dir.path().join("pairs.png");
        save_grid(&path, &[1.0; 12 * 4], shape, layout).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // Row 1 (paired with row 0) starts right after the thin separator;
        // row 2 starts a group gap lower.
        assert_eq!(img.get_pixel(1, 6).0, [255; 3]);
        assert_eq!(img.get_pixel(1, 11).0, [SEPARATOR_GREY; 3]);
        assert_eq!(img.get_pixel(1, 11 + GROUP_GAP as u32).0, [255; 3]);
    }

    #[test]
    fn scales_out_of_range_and_oversized_pictures_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let shape = square(28);
        let path = dir.path().join("x.png");
        let zero = GridLayout::new(8, shape).with_scale(Some(0));
        let msg = save_grid(&path, &[0.0; 784], shape, zero)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("scale 0"), "{msg}");
        let big = GridLayout::new(64, shape).with_scale(Some(MAX_SCALE));
        let msg = save_grid(&path, &vec![0.0; 784 * 4096], shape, big)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("lower the scale"), "{msg}");
        assert!(!path.exists());
    }

    #[test]
    fn values_that_do_not_fill_whole_images_are_refused() {
        let shape = Shape {
            height: 2,
            width: 2,
            channels: 1,
        };
        let err = save_grid(
            Path::new("/nonexistent/x.png"),
            &[0.0; 5],
            shape,
            GridLayout::new(2, shape),
        );
        assert!(err.is_err());
    }
}
