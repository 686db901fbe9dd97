//! Scatter plots: one colour per group (class), legend beside the plot.

use std::path::Path;

use plotters::prelude::*;

use super::{Chart, Series, check_series, color, draw_err, font, padded_range, render_png};
use crate::Result;

/// Height of one legend row in pixels.
const LEGEND_ROW: i32 = 24;
/// Space the axis labels take, as in the chart builder below.
const Y_LABEL_AREA: u32 = 74;
const X_LABEL_AREA: u32 = 56;
/// Top margin plus caption, approximately (for the equal-axes adjustment).
const TOP: u32 = 50;

/// Draws every group of `groups` as dots of its own colour on `chart` and
/// writes the PNG to `out` (atomically); named groups are listed in a legend
/// to the right of the plot. Points are drawn interleaved across groups so
/// that no class hides the others. Returns the PNG's (width, height).
///
/// Errors as [`save_line_chart`](super::save_line_chart) (`log_x` is ignored).
///
/// ```no_run
/// use elbo::plot::{save_scatter, Chart, Series};
///
/// let chart = Chart::new("codes", "z₀", "z₁").size(760, 640).equal_axes(true);
/// let groups = vec![
///     Series::new("label 0", vec![(0.1, 0.3), (0.2, 0.1)]),
///     Series::new("label 1", vec![(-1.0, 0.5), (-0.8, 0.9)]),
/// ];
/// save_scatter(&chart, &groups, "codes.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_scatter(chart: &Chart, groups: &[Series], out: &Path) -> Result<(u32, u32)> {
    let chart = Chart {
        log_x: false,
        ..chart.clone()
    };
    check_series(&chart, groups)?;
    let named = groups.iter().any(|g| !g.name.is_empty());
    let legend_w = if named { legend_width(groups) } else { 0 };
    let all = || groups.iter().flat_map(|g| g.points.iter());
    let mut xr = padded_range(all().map(|p| p.0), 0.04, false);
    let mut yr = padded_range(all().map(|p| p.1), 0.04, false);
    if let Some(fixed) = chart.y_range {
        yr = fixed;
    }
    if chart.equal_axes {
        let plot_w = chart
            .size
            .0
            .saturating_sub(legend_w + Y_LABEL_AREA + 24)
            .max(1);
        let plot_h = chart.size.1.saturating_sub(X_LABEL_AREA + TOP).max(1);
        (xr, yr) = equalize(xr, yr, (plot_w as f64, plot_h as f64));
    }
    let n: usize = groups.iter().map(|g| g.points.len()).sum();
    // Many points: smaller, translucent dots so dense regions stay readable.
    let (radius, alpha) = match n {
        0..=500 => (4, 0.85),
        501..=3000 => (3, 0.7),
        _ => (2, 0.5),
    };
    render_png(out, chart.size, |root| {
        root.fill(&WHITE).map_err(draw_err)?;
        let (plot, legend) = root.split_horizontally(chart.size.0 - legend_w);
        let mut ctx = ChartBuilder::on(&plot)
            .caption(&chart.title, font(22.0))
            .margin_top(12)
            .margin_right(16)
            .margin_left(8)
            .margin_bottom(8)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(draw_err)?;
        super::draw_mesh(&mut ctx, &chart)?;
        let dots =
            interleave(groups).map(|(i, p)| Circle::new(p, radius, color(i).mix(alpha).filled()));
        ctx.draw_series(dots).map_err(draw_err)?;
        if named {
            draw_legend(&legend, groups)?;
        }
        Ok(())
    })
}

/// (group index, point) for every point, taking the k-th point of each
/// group in turn.
fn interleave(groups: &[Series]) -> impl Iterator<Item = (usize, (f64, f64))> + '_ {
    let longest = groups.iter().map(|g| g.points.len()).max().unwrap_or(0);
    (0..longest).flat_map(move |k| {
        groups
            .iter()
            .enumerate()
            .filter_map(move |(i, g)| g.points.get(k).map(|&p| (i, p)))
    })
}

/// Widens the narrower of the two ranges so that one unit spans as many
/// pixels on both axes of a `plot` (width, height) pixel area.
fn equalize(xr: (f64, f64), yr: (f64, f64), plot: (f64, f64)) -> ((f64, f64), (f64, f64)) {
    let (ux, uy) = ((xr.1 - xr.0) / plot.0, (yr.1 - yr.0) / plot.1); // units per pixel
    let widen = |r: (f64, f64), u: f64, px: f64| {
        let half = u * px / 2.0;
        let mid = (r.0 + r.1) / 2.0;
        (mid - half, mid + half)
    };
    if ux > uy {
        (xr, widen(yr, ux, plot.1))
    } else {
        (widen(xr, uy, plot.0), yr)
    }
}

/// Pixels for the legend column: a dot, a gap and the longest name.
fn legend_width(groups: &[Series]) -> u32 {
    let chars = groups
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(0);
    (44 + 9 * chars as u32).clamp(90, 280)
}

/// A boxed list of coloured dots and names, top-aligned with the plot.
fn draw_legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    groups: &[Series],
) -> std::result::Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    let top = TOP as i32;
    let fits = ((h as i32 - top - X_LABEL_AREA as i32) / LEGEND_ROW).max(1) as usize;
    let shown: Vec<(usize, &Series)> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.name.is_empty())
        .take(fits)
        .collect();
    let bottom = top + LEGEND_ROW * shown.len() as i32 + 8;
    area.draw(&Rectangle::new(
        [(0, top - 8), (w as i32 - 12, bottom)],
        BLACK.mix(0.3).stroke_width(1),
    ))
    .map_err(draw_err)?;
    for (row, (i, g)) in shown.iter().enumerate() {
        let y = top + 6 + LEGEND_ROW * row as i32;
        area.draw(&Circle::new((14, y), 6, color(*i).filled()))
            .map_err(draw_err)?;
        area.draw(&Text::new(g.name.as_str(), (28, y - 8), font(15.0)))
            .map_err(draw_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_axes_give_both_axes_the_same_units_per_pixel() {
        let (xr, yr) = equalize((0.0, 10.0), (0.0, 1.0), (500.0, 400.0));
        assert_eq!(xr, (0.0, 10.0));
        let (ux, uy) = ((xr.1 - xr.0) / 500.0, (yr.1 - yr.0) / 400.0);
        assert!((ux - uy).abs() < 1e-12);
        assert!(((yr.0 + yr.1) / 2.0 - 0.5).abs() < 1e-12, "centre kept");
    }

    #[test]
    fn interleaving_takes_each_group_in_turn() {
        let g = [
            Series::new("a", vec![(0.0, 0.0), (1.0, 1.0)]),
            Series::new("b", vec![(2.0, 2.0)]),
        ];
        let order: Vec<usize> = interleave(&g).map(|(i, _)| i).collect();
        assert_eq!(order, [0, 1, 0]);
    }
}
