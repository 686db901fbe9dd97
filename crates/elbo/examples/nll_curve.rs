//! Draws a benchmark's NLL-against-training-time curve (the CSV written by
//! `bench/iwae_table1.sh`: epoch, train_seconds, test_elbo_loss, iwae_k, nll)
//! as a PNG with elbo's plot module, with the published figure as a line.
//!
//! `cargo run --release -p elbo --example nll_curve -- CURVE.csv OUT.png [PAPER_NATS]`

use std::path::Path;

use elbo::plot::{Chart, Series, save_line_chart};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: nll_curve CURVE.csv OUT.png [PAPER_NATS]".into());
    }
    let text = std::fs::read_to_string(&args[1])?;
    let (mut elbo_pts, mut nll_pts) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return Err(format!("{}: line {}: expected 5 fields", args[1], i + 1).into());
        }
        let (t, loss, k, nll): (f64, f64, usize, f64) =
            (f[1].parse()?, f[2].parse()?, f[3].parse()?, f[4].parse()?);
        // The final evaluation (another k) re-reports the last −ELBO: draw it once.
        if elbo_pts.last().is_none_or(|p: &(f64, f64)| p.0 != t / 60.0) {
            elbo_pts.push((t / 60.0, loss));
        }
        // The curve's points use one k; the final row (another k) is drawn separately.
        nll_pts.push((t / 60.0, nll, k));
    }
    let first_k = nll_pts.first().map(|p| p.2).ok_or("no rows")?;
    let mut series = vec![
        Series::new("test −ELBO", elbo_pts),
        Series::new(
            format!("test NLL, IWAE k = {first_k}"),
            nll_pts
                .iter()
                .filter(|p| p.2 == first_k)
                .map(|p| (p.0, p.1))
                .collect(),
        ),
    ];
    if let Some(last) = nll_pts.iter().rfind(|p| p.2 != first_k) {
        series.push(Series::new(
            format!("final NLL, IWAE k = {}", last.2),
            vec![(last.0, last.1)],
        ));
    }
    if let Some(paper) = args.get(3) {
        let paper: f64 = paper.parse()?;
        let end = series[0].points.last().map_or(60.0, |p| p.0);
        series.push(Series::new(
            format!("Burda et al. 2016: {paper}"),
            vec![(series[0].points[0].0, paper), (end, paper)],
        ));
    }
    let chart = Chart::new(
        "VAE (Burda et al. 784-200-200-50, tanh), dynamically binarized MNIST",
        "training wall time (minutes, 2 threads)",
        "nats per test image",
    )
    .log_x(true);
    save_line_chart(&chart, &series, Path::new(&args[2]))?;
    println!("wrote {}", args[2]);
    Ok(())
}
