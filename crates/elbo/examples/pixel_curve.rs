//! Draws an autoregressive model's exact validation NLL against cumulative
//! training time, from its run's `metrics.jsonl`, with the published
//! PixelCNN and Diagonal BiLSTM figures and a target (default 85 nats) as
//! lines.
//!
//! `cargo run --release -p elbo --example pixel_curve -- METRICS.jsonl OUT.png [LABEL] [TARGET]`

use std::path::Path;

use elbo::folder::metrics::EpochMetrics;
use elbo::plot::{Chart, Series, save_line_chart};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: pixel_curve METRICS.jsonl OUT.png [LABEL] [TARGET]".into());
    }
    let epochs = elbo::folder::metrics::read(Path::new(&args[1]))?;
    let mut minutes = 0.0;
    let points: Vec<(f64, f64)> = epochs
        .iter()
        .map(|m: &EpochMetrics| {
            minutes += m.epoch_seconds / 60.0;
            (minutes, m.test_loss)
        })
        .collect();
    let end = points.last().ok_or("no epochs in the metrics file")?.0;
    let label = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "elbo PixelCNN".into());
    let target: f64 = match args.get(4) {
        Some(t) => t
            .parse()
            .map_err(|_| format!("TARGET: not a number: {t}"))?,
        None => 85.0,
    };
    let flat = |name: &str, v: f64| Series::new(name, vec![(0.0, v), (end, v)]);
    // Table 4 of van den Oord et al. 2016 (test-set NLL).
    let series = [
        Series::new(format!("{label}: validation NLL (exact)"), points),
        flat(&format!("target: {target}"), target),
        flat("PixelCNN, van den Oord et al. 2016 (test): 81.30", 81.30),
        flat("Diagonal BiLSTM, same paper (test): 79.20", 79.20),
    ];
    let chart = Chart::new(
        "PixelCNN on statically binarized MNIST",
        "training wall time (minutes, 2 threads)",
        "nats per validation image",
    )
    // Room above the curve for the legend.
    .y_range(78.0, 110.0);
    save_line_chart(&chart, &series, Path::new(&args[2]))?;
    println!("wrote {}", args[2]);
    Ok(())
}
