//! Line charts: one coloured line per named series, a legend in the emptiest
//! corner, optional logarithmic x axis.

use std::path::Path;

use plotters::chart::SeriesLabelPosition;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{Chart, Series, check_series, color, draw_err, font, padded_range, render_png};
use crate::Result;

/// Series with at most this many points also get a dot on every point, so
/// short runs (even a single epoch) stay visible.
const MARKERS_UP_TO: usize = 60;

/// Draws `series` as lines on `chart` and writes the PNG to `out`
/// (atomically). Returns the PNG's (width, height).
///
/// Errors: no points at all, a non-finite point, x ≤ 0 with `log_x`, a
/// chart size outside 200×150 ..= 8000×8000, or a file that cannot be written.
///
/// ```no_run
/// use elbo::plot::{save_line_chart, Chart, Series};
///
/// let chart = Chart::new("IWAE-5000 test NLL", "wall time (s)", "NLL (nats)").log_x(true);
/// let elbo_curve = Series::new("elbo, ELBO objective", vec![(60.0, 95.1), (600.0, 89.0), (3600.0, 87.5)]);
/// let torch_curve = Series::new("PyTorch", vec![(60.0, 97.0), (600.0, 90.2)]);
/// save_line_chart(&chart, &[elbo_curve, torch_curve], "nll.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_line_chart(chart: &Chart, series: &[Series], out: &Path) -> Result<(u32, u32)> {
    check_series(chart, series)?;
    let all = || series.iter().flat_map(|s| s.points.iter());
    let xr = padded_range(all().map(|p| p.0), 0.02, chart.log_x);
    let yr = chart
        .y_range
        .unwrap_or_else(|| padded_range(all().map(|p| p.1), 0.06, false));
    let legend = emptiest_corner(series, xr, yr, chart.log_x);
    render_png(out, chart.size, |root| {
        root.fill(&WHITE).map_err(draw_err)?;
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&chart.title, font(22.0))
            .margin_top(12)
            .margin_right(28)
            .margin_left(12)
            .margin_bottom(8)
            .x_label_area_size(56)
            .y_label_area_size(74);
        if chart.log_x {
            let ctx = builder
                .build_cartesian_2d((xr.0..xr.1).log_scale(), yr.0..yr.1)
                .map_err(draw_err)?;
            draw_lines(ctx, chart, series, legend)
        } else {
            let ctx = builder
                .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
                .map_err(draw_err)?;
            draw_lines(ctx, chart, series, legend)
        }
    })
}

/// Mesh, axis titles, one line (and dots) per series, legend.
fn draw_lines<'a, X>(
    mut ctx: ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
    chart: &Chart,
    series: &[Series],
    legend: SeriesLabelPosition,
) -> std::result::Result<(), String>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    super::draw_mesh(&mut ctx, chart)?;
    for (i, s) in series.iter().enumerate() {
        let c = color(i);
        let anno = ctx
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
            .map_err(draw_err)?;
        if !s.name.is_empty() {
            anno.label(s.name.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
            });
        }
        if s.points.len() <= MARKERS_UP_TO {
            ctx.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(draw_err)?;
        }
    }
    if series.iter().any(|s| !s.name.is_empty()) {
        ctx.configure_series_labels()
            .position(legend)
            .margin(12)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(font(15.0))
            .draw()
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The plot corner with the fewest data points in its 40 % × 40 % box, so
/// the legend hides as little as possible (ties: upper right first).
fn emptiest_corner(
    series: &[Series],
    xr: (f64, f64),
    yr: (f64, f64),
    log_x: bool,
) -> SeriesLabelPosition {
    let fx = |x: f64| {
        if log_x {
            (x.ln() - xr.0.ln()) / (xr.1.ln() - xr.0.ln())
        } else {
            (x - xr.0) / (xr.1 - xr.0)
        }
    };
    let fy = |y: f64| (y - yr.0) / (yr.1 - yr.0);
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let count = |right: bool, upper: bool| {
        let near = |v: f64, high: bool| if high { v >= 0.6 } else { v <= 0.4 };
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|&&(x, y)| near(fx(x), right) && near(fy(y), upper))
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|&(_, right, upper)| count(right, upper))
        .map_or(SeriesLabelPosition::UpperRight, |(pos, _, _)| pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_where_the_curves_are_not() {
        // A falling curve fills the upper left and lower right corners.
        let falling = Series::new("a", (0..20).map(|i| (i as f64, 20.0 - i as f64)).collect());
        let pos = emptiest_corner(&[falling], (0.0, 19.0), (1.0, 20.0), false);
        assert!(matches!(pos, SeriesLabelPosition::UpperRight));
        let rising = Series::new("b", (0..20).map(|i| (i as f64, i as f64)).collect());
        let pos = emptiest_corner(&[rising], (0.0, 19.0), (0.0, 19.0), false);
        assert!(matches!(pos, SeriesLabelPosition::UpperLeft));
    }

    #[test]
    fn bad_points_are_refused_with_the_series_name() {
        let chart = Chart::new("t", "x", "y").log_x(true);
        let s = Series::new("zero x", vec![(0.0, 1.0), (1.0, 2.0)]);
        let err = save_line_chart(&chart, &[s], "/nonexistent/x.png".as_ref())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("zero x") && err.contains("log x"), "{err}");
        let nan = Series::new("nan", vec![(1.0, f64::NAN)]);
        assert!(
            save_line_chart(
                &Chart::new("t", "x", "y"),
                &[nan],
                "/nonexistent/x.png".as_ref()
            )
            .is_err()
        );
        assert!(
            save_line_chart(
                &Chart::new("t", "x", "y"),
                &[],
                "/nonexistent/x.png".as_ref()
            )
            .is_err()
        );
    }
}
