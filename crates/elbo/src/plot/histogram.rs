//! Overlaid histograms: several named sets of values on shared bins, each
//! normalized to a density so sets of different sizes (64 samples against
//! 1,000 test images) compare by shape. The report's novelty section draws
//! one per model: distances to the nearest training image.

use std::path::Path;

use plotters::prelude::*;

use super::{Chart, Series, check_series, color, draw_err, font, padded_range, render_png};
use crate::{Error, Result};

/// Counts of `values` in `bins` equal bins spanning `lo ..= hi`, divided by
/// (number of values × bin width): a density that integrates to 1 over
/// the range. Values outside the range are not counted.
///
/// ```
/// let d = elbo::plot::density_bins(&[0.1, 0.2, 0.9], 0.0, 1.0, 2);
/// assert_eq!(d, vec![4.0 / 3.0, 2.0 / 3.0]);
/// ```
pub fn density_bins(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    let width = (hi - lo) / bins as f64;
    if bins == 0 || width.is_nan() || width <= 0.0 {
        return vec![0.0; bins];
    }
    for &v in values.iter().filter(|v| (lo..=hi).contains(*v)) {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let n = values.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / (n * width)).collect()
}

/// Draws each of `groups` (name, values) as a translucent density
/// histogram on `bins` shared bins over all values, with a legend, and
/// writes the PNG to `out` (atomically). Returns the PNG's (width, height).
///
/// Errors: no values at all, a non-finite value, `bins` of 0, a bad chart
/// size, or a file that cannot be written.
///
/// ```no_run
/// use elbo::plot::{save_histogram, Chart};
///
/// let chart = Chart::new("distance to the nearest training image", "distance", "density");
/// let groups = [("samples".to_string(), vec![3.1, 3.4, 2.9]), ("test".to_string(), vec![3.3, 3.8, 3.5])];
/// save_histogram(&chart, &groups, 20, "novelty.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_histogram(
    chart: &Chart,
    groups: &[(String, Vec<f64>)],
    bins: usize,
    out: &Path,
) -> Result<(u32, u32)> {
    if bins == 0 {
        return Err(Error::invalid(format!(
            "histogram '{}' needs at least one bin",
            chart.title
        )));
    }
    // The same checks as a line chart's: finite values, something to draw.
    let as_series: Vec<Series> = groups
        .iter()
        .map(|(name, v)| Series::new(name.clone(), v.iter().map(|&x| (x, 0.0)).collect()))
        .collect();
    check_series(chart, &as_series)?;
    let (lo, hi) = padded_range(groups.iter().flat_map(|g| g.1.iter().copied()), 0.0, false);
    let width = (hi - lo) / bins as f64;
    let densities: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| density_bins(&g.1, lo, hi, bins))
        .collect();
    let top = densities.iter().flatten().fold(0.0f64, |a, &b| a.max(b)) * 1.1;
    let top = if top > 0.0 { top } else { 1.0 };
    render_png(out, chart.size, |root| {
        root.fill(&WHITE).map_err(draw_err)?;
        let mut ctx = ChartBuilder::on(root)
            .caption(&chart.title, font(22.0))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(56)
            .y_label_area_size(74)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(draw_err)?;
        super::draw_mesh(&mut ctx, chart)?;
        for (i, ((name, _), dens)) in groups.iter().zip(&densities).enumerate() {
            let c = color(i);
            let bars = dens.iter().enumerate().map(|(b, &d)| {
                let x0 = lo + b as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, d)], c.mix(0.45).filled())
            });
            ctx.draw_series(bars)
                .map_err(draw_err)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.filled()));
        }
        ctx.configure_series_labels()
            .position(plotters::chart::SeriesLabelPosition::UpperRight)
            .margin(12)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(font(15.0))
            .draw()
            .map_err(draw_err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn densities_integrate_to_one_over_the_range() {
        let v: Vec<f64> = (0..1000)
            .map(|i| (i as f64 * 0.618).fract() * 5.0)
            .collect();
        let d = density_bins(&v, 0.0, 5.0, 17);
        let area: f64 = d.iter().map(|x| x * 5.0 / 17.0).sum();
        assert!((area - 1.0).abs() < 1e-12, "{area}");
    }

    #[test]
    fn the_top_edge_falls_in_the_last_bin() {
        assert_eq!(density_bins(&[1.0], 0.0, 1.0, 4), vec![0.0, 0.0, 0.0, 4.0]);
        assert_eq!(density_bins(&[2.0], 0.0, 1.0, 2), vec![0.0, 0.0]);
    }

    #[test]
    fn empty_and_non_finite_input_is_refused() {
        let chart = Chart::new("h", "x", "density");
        let out = Path::new("/nonexistent/h.png");
        assert!(save_histogram(&chart, &[], 10, out).is_err());
        let nan = [("bad".to_string(), vec![1.0, f64::NAN])];
        let err = save_histogram(&chart, &nan, 10, out)
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("bad"));
        let ok = [("a".to_string(), vec![1.0])];
        assert!(save_histogram(&chart, &ok, 0, out).is_err());
    }
}
