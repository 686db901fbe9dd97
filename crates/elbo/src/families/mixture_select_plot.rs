//! A small line chart of BIC and AIC against K as PNG, drawn with the
//! `image` crate (no fonts: the numbers are in the CSV beside it). BIC is
//! blue, AIC orange; a square marks each curve's minimum; one tick per K on
//! the horizontal axis.

use std::path::Path;

use image::{ImageBuffer, ImageFormat, Rgb};

use super::mixture_select::SelectRow;
use crate::{Error, Result};

type Canvas = ImageBuffer<Rgb<u8>, Vec<u8>>;

const W: u32 = 640;
const H: u32 = 400;
const MARGIN: f64 = 40.0;
/// Curve colours: BIC, AIC.
pub const COLORS: [[u8; 3]; 2] = [[31, 119, 180], [255, 127, 14]];

fn dot(c: &mut Canvas, x: f64, y: f64, r: i64, color: [u8; 3]) {
    for dx in -r..=r {
        for dy in -r..=r {
            let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
            if (0..W as i64).contains(&px) && (0..H as i64).contains(&py) {
                c.put_pixel(px as u32, py as u32, Rgb(color));
            }
        }
    }
}

fn line(c: &mut Canvas, a: (f64, f64), b: (f64, f64), color: [u8; 3]) {
    let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for s in 0..=steps {
        let t = s as f64 / steps as f64;
        dot(c, a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1), 1, color);
    }
}

/// Draws BIC and AIC of `rows` against K into the PNG `out` (written
/// atomically); both curves share one vertical scale.
pub fn plot_criteria(rows: &[SelectRow], out: &Path) -> Result<()> {
    if rows.is_empty() {
        return Err(Error::invalid("nothing to plot: no fitted K"));
    }
    let mut c: Canvas = ImageBuffer::from_pixel(W, H, Rgb([255, 255, 255]));
    let values = rows.iter().flat_map(|r| [r.bic, r.aic]);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let (k0, k1) = (rows[0].k as f64, rows[rows.len() - 1].k as f64);
    let px =
        |k: usize| MARGIN + (k as f64 - k0) / (k1 - k0).max(1.0) * (f64::from(W) - 2.0 * MARGIN);
    let py = |v: f64| f64::from(H) - MARGIN - (v - lo) / span * (f64::from(H) - 2.0 * MARGIN);
    let grey = [90, 90, 90];
    let bottom = f64::from(H) - MARGIN / 2.0;
    line(
        &mut c,
        (MARGIN / 2.0, bottom),
        (f64::from(W) - MARGIN / 2.0, bottom),
        grey,
    );
    line(
        &mut c,
        (MARGIN / 2.0, bottom),
        (MARGIN / 2.0, MARGIN / 2.0),
        grey,
    );
    for r in rows {
        line(&mut c, (px(r.k), bottom), (px(r.k), bottom + 6.0), grey);
    }
    for (i, pick) in [|r: &SelectRow| r.bic, |r: &SelectRow| r.aic]
        .into_iter()
        .enumerate()
    {
        for pair in rows.windows(2) {
            line(
                &mut c,
                (px(pair[0].k), py(pick(&pair[0]))),
                (px(pair[1].k), py(pick(&pair[1]))),
                COLORS[i],
            );
        }
        for r in rows {
            dot(&mut c, px(r.k), py(pick(r)), 2, COLORS[i]);
        }
        if let Some(best) = rows.iter().min_by(|a, b| pick(a).total_cmp(&pick(b))) {
            dot(&mut c, px(best.k), py(pick(best)), 6, COLORS[i]);
        }
    }
    let mut bytes = Vec::new();
    c.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| Error::invalid(format!("cannot encode {}: {e}", out.display())))?;
    crate::fsutil::atomic_write(out, &bytes)
}
