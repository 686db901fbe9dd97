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

/// How a grid is laid out and scaled.
#[derive(Debug, Clone, Copy)]
pub struct GridLayout {
    /// Images per row.
    pub cols: usize,
    /// Each pixel becomes a `scale × scale` block (small digits are 8x8).
    pub scale: usize,
    /// Pixels of background between images.
    pub padding: usize,
}

impl GridLayout {
    /// A layout with `cols` columns, scaling small images up to ~28 px.
    pub fn new(cols: usize, shape: Shape) -> Self {
        let scale = (28 / shape.height.max(shape.width).max(1)).max(1);
        GridLayout {
            cols: cols.max(1),
            scale,
            padding: 2,
        }
    }

    /// Pixel size (width, height) of a grid holding `n` images of `shape`.
    pub fn size(&self, n: usize, shape: Shape) -> (u32, u32) {
        let rows = n.div_ceil(self.cols).max(1);
        let cols = self.cols.min(n.max(1));
        let cell_w = shape.width * self.scale + self.padding;
        let cell_h = shape.height * self.scale + self.padding;
        (
            (cols * cell_w + self.padding) as u32,
            (rows * cell_h + self.padding) as u32,
        )
    }
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
    let n = pixels.len() / dim;
    let (w, h) = layout.size(n, shape);
    let mut canvas = ImageBuffer::from_pixel(w, h, Rgb([40u8, 40, 40]));
    for (i, img) in pixels.chunks_exact(dim).enumerate() {
        let x0 = layout.padding + (i % layout.cols) * (shape.width * layout.scale + layout.padding);
        let y0 =
            layout.padding + (i / layout.cols) * (shape.height * layout.scale + layout.padding);
        draw(&mut canvas, img, shape, layout.scale, (x0, y0));
    }
    let mut bytes = Vec::new();
    canvas
        .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| Error::invalid(format!("PNG encoding failed: {e}")))?;
    crate::fsutil::atomic_write(path, &bytes)?;
    Ok((w, h))
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
