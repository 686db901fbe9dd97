//! Charts as PNG files: line charts (training curves, benchmark curves such as
//! NLL against wall time), scatter plots (latent maps) and overlaid
//! histograms (the report's novelty distances), drawn with
//! `plotters` into an in-memory RGB buffer and written atomically.
//!
//! Text is rendered with an embedded subset of DejaVu Sans
//! (`assets/fonts/`, licence beside it) through plotters' `ab_glyph`
//! feature, so charts draw the same on a machine without any system fonts
//! or fontconfig, and nothing is looked up or downloaded at run time.

mod curves;
mod histogram;
mod latent_map;
mod line;
mod pca;
mod scatter;

use std::path::Path;
use std::sync::OnceLock;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::{Error, Result};

pub use curves::{TrainingCurves, save_training_curves};
pub use histogram::{density_bins, save_histogram};
pub use latent_map::{LatentMap, save_latent_map};
pub use line::save_line_chart;
pub use scatter::save_scatter;

/// One named set of (x, y) points: a curve of a line chart, or a group
/// (class) of a scatter plot. The name is its legend entry; a chart whose
/// only series has an empty name gets no legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// The points, in drawing order (a line chart joins them in this order).
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series called `name` with `points`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
        }
    }
}

/// Title, axis titles, scale and pixel size of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Caption above the plot (empty: none).
    pub title: String,
    /// Title of the horizontal axis.
    pub x_label: String,
    /// Title of the vertical axis.
    pub y_label: String,
    /// Logarithmic horizontal axis (every x must then be positive).
    pub log_x: bool,
    /// Width and height of the PNG in pixels.
    pub size: (u32, u32),
    /// Scatter plots: one unit is as long on both axes (so distances in the
    /// picture are true distances), widening the narrower range.
    pub equal_axes: bool,
    /// Fixed y range (lowest, highest); `None`: fitted to the data.
    pub y_range: Option<(f64, f64)>,
}

impl Chart {
    /// An 800 × 500 chart with a linear x axis.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            size: (800, 500),
            equal_axes: false,
            y_range: None,
        }
    }

    /// The same chart with a logarithmic (`true`) or linear x axis.
    pub fn log_x(mut self, log_x: bool) -> Self {
        self.log_x = log_x;
        self
    }

    /// The same chart at `width × height` pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }

    /// The same chart with equal (`true`) or independent axis scales.
    pub fn equal_axes(mut self, equal: bool) -> Self {
        self.equal_axes = equal;
        self
    }

    /// The same chart with the y axis fixed to `lo ..= hi`.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    fn check(&self) -> Result<()> {
        let (w, h) = self.size;
        if !(200..=8000).contains(&w) || !(150..=8000).contains(&h) {
            return Err(Error::invalid(format!(
                "chart size {w}x{h} is outside 200x150 ..= 8000x8000 pixels"
            )));
        }
        if let Some((lo, hi)) = self.y_range
            && !(lo.is_finite() && hi.is_finite() && lo < hi)
        {
            return Err(Error::invalid(format!(
                "the y range {lo} ..= {hi} of chart '{}' is empty or not finite",
                self.title
            )));
        }
        Ok(())
    }
}

/// The font family name under which the embedded font is registered.
const FONT: &str = "sans-serif";
/// DejaVu Sans, subset to Latin, Greek and a few symbols (28 KB); see
/// `assets/fonts/make_font.sh`.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Registers the embedded font with plotters once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("the embedded chart font failed to load"))
    }
}

/// The text style of size `px` in the embedded font.
fn font(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().color(&BLACK)
}

/// Colour of series `i`: the Tableau 10 palette (matplotlib's default, made
/// to stay distinguishable), then evenly spaced hues.
pub(crate) fn color(i: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    match TAB10.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b),
        None => {
            // Golden-ratio steps around the hue circle keep neighbours apart.
            let hue = (i as f64 * 0.618_034) % 1.0;
            let (r, g, b) = HSLColor(hue, 0.65, 0.45).to_backend_color().rgb;
            RGBColor(r, g, b)
        }
    }
}

/// A tick label: integers as integers, others with at most 3 decimals,
/// very large or small magnitudes in scientific notation.
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if (v - v.round()).abs() < 1e-9 * a.max(1.0) {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `[lo, hi]` of `values` widened by `pad` of the span on each side; a
/// single value gets a unit-wide (or, on a log axis, factor-2) window.
fn padded_range(values: impl Iterator<Item = f64>, pad: f64, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if log {
        if hi <= lo {
            return (lo / 2.0, hi * 2.0);
        }
        let f = (hi / lo).powf(pad);
        return (lo / f, hi * f);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        return (lo - 0.5, hi + 0.5);
    }
    let p = (hi - lo) * pad;
    (lo - p, hi + p)
}

/// Refuses empty charts and non-finite points (or x ≤ 0 on a log axis),
/// naming the series.
fn check_series(chart: &Chart, series: &[Series]) -> Result<()> {
    chart.check()?;
    if series.iter().all(|s| s.points.is_empty()) {
        return Err(Error::invalid(format!(
            "the chart '{}' has no points to draw",
            chart.title
        )));
    }
    for s in series {
        if let Some((x, y)) = s
            .points
            .iter()
            .find(|(x, y)| !x.is_finite() || !y.is_finite() || (chart.log_x && *x <= 0.0))
        {
            return Err(Error::invalid(format!(
                "series '{}' of chart '{}' has the point ({x}, {y}), which cannot be drawn{}",
                s.name,
                chart.title,
                if chart.log_x { " on a log x axis" } else { "" }
            )));
        }
    }
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Runs `draw` on a white canvas of `size` and writes the result to `out` as
/// a PNG (atomically). Returns the PNG's (width, height).
fn render_png(
    out: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> std::result::Result<(), String>,
) -> Result<(u32, u32)> {
    ensure_font()?;
    let (w, h) = size;
    let mut rgb = vec![255u8; w as usize * h as usize * 3]; // [h, w, 3]
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root).map_err(|e| Error::invalid(format!("drawing {}: {e}", out.display())))?;
        root.present()
            .map_err(|e| Error::invalid(format!("drawing {}: {e}", out.display())))?;
    }
    let img = image::RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| Error::invalid("chart buffer has the wrong size"))?;
    // Charts are mostly flat colour: the best compression keeps them small.
    let mut bytes = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::Adaptive);
    img.write_with_encoder(encoder)
        .map_err(|e| Error::invalid(format!("PNG encoding failed: {e}")))?;
    crate::fsutil::atomic_write(out, &bytes)?;
    Ok(size)
}

/// Grid, tick labels and axis titles.
fn draw_mesh<X>(
    ctx: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, RangedCoordf64>>,
    chart: &Chart,
) -> std::result::Result<(), String>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .axis_desc_style(font(17.0))
        .label_style(font(14.0))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_labels(8)
        .y_labels(8)
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .axis_style(BLACK.mix(0.6))
        .draw()
        .map_err(draw_err)
}

/// Maps a plotters error to the text the caller wraps.
fn draw_err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_naturally() {
        assert_eq!(tick(&3.0), "3");
        assert_eq!(tick(&0.0), "0");
        assert_eq!(tick(&2.5), "2.5");
        assert_eq!(tick(&-0.125), "-0.125");
        assert_eq!(tick(&1e7), "1.0e7");
        assert_eq!(tick(&1e-4), "1.0e-4");
    }

    #[test]
    fn ranges_are_padded_and_never_empty() {
        assert_eq!(
            padded_range([0.0, 10.0].into_iter(), 0.1, false),
            (-1.0, 11.0)
        );
        assert_eq!(padded_range([3.0].into_iter(), 0.1, false), (2.5, 3.5));
        let (lo, hi) = padded_range([1.0, 100.0].into_iter(), 0.5, true);
        assert!((lo - 0.1).abs() < 1e-12 && (hi - 1000.0).abs() < 1e-9);
        assert_eq!(padded_range([4.0].into_iter(), 0.1, true), (2.0, 8.0));
    }
}
