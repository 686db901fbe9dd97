//! Charts: the PNGs decode at the requested size, the series are drawn in their
//! colours inside the plot area, legends and text appear, and bad input is
//! refused with the file or series named.

use std::path::Path;

use elbo::folder::EpochMetrics;
use elbo::plot::{Chart, Series, save_line_chart, save_scatter, save_training_curves};

/// matplotlib's tab10 blue, orange and green: the first three series colours.
const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];
const GREEN: [u8; 3] = [44, 160, 44];

fn decode(path: &Path) -> image::RgbImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()))
        .to_rgb8()
}

/// Pixels of exactly `rgb` inside the box x0..x1, y0..y1.
fn count(img: &image::RgbImage, rgb: [u8; 3], (x0, y0, x1, y1): (u32, u32, u32, u32)) -> usize {
    img.enumerate_pixels()
        .filter(|(x, y, p)| (x0..x1).contains(x) && (y0..y1).contains(y) && p.0 == rgb)
        .count()
}

/// Dark (text-like) pixels inside a box.
fn dark(img: &image::RgbImage, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> usize {
    img.enumerate_pixels()
        .filter(|(x, y, p)| {
            (x0..x1).contains(x) && (y0..y1).contains(y) && p.0.iter().all(|&c| c < 100)
        })
        .count()
}

fn two_curves() -> Vec<Series> {
    let a = (1..=20).map(|i| (i as f64, 100.0 / i as f64)).collect();
    let b = (1..=20)
        .map(|i| (i as f64, 110.0 / i as f64 + 5.0))
        .collect();
    vec![Series::new("train", a), Series::new("test", b)]
}

#[test]
fn line_chart_is_a_png_of_the_requested_size_with_both_curves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("line.png");
    let chart = Chart::new("Loss", "epoch", "nats").size(640, 400);
    let size = save_line_chart(&chart, &two_curves(), &path).unwrap();
    assert_eq!(size, (640, 400));
    let img = decode(&path);
    assert_eq!(img.dimensions(), (640, 400));
    // The plot area (inside the axis-label areas and the caption) holds
    // many pixels of each series colour.
    let plot = (100, 50, 620, 340);
    assert!(count(&img, BLUE, plot) > 200, "blue curve");
    assert!(count(&img, ORANGE, plot) > 200, "orange curve");
    // The caption band and the bottom axis title hold text.
    assert!(dark(&img, (0, 0, 640, 40)) > 30, "title text");
    assert!(dark(&img, (100, 360, 640, 400)) > 30, "axis title text");
}

#[test]
fn line_chart_legend_shows_the_series_colours_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let chart = Chart::new("", "epoch", "nats");
    let named = dir.path().join("named.png");
    save_line_chart(&chart, &two_curves(), &named).unwrap();
    let unnamed_series: Vec<Series> = two_curves()
        .into_iter()
        .map(|s| Series::new("", s.points))
        .collect();
    let unnamed = dir.path().join("unnamed.png");
    save_line_chart(&chart, &unnamed_series, &unnamed).unwrap();
    let (a, b) = (decode(&named), decode(&unnamed));
    let all = (0, 0, 800, 500);
    // The legend adds a sample line of each colour and two dark names.
    assert!(count(&a, BLUE, all) >= count(&b, BLUE, all) + 40);
    assert!(count(&a, ORANGE, all) >= count(&b, ORANGE, all) + 40);
    assert!(dark(&a, all) > dark(&b, all) + 40);
}

#[test]
fn log_x_chart_draws_over_decades() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.png");
    let pts = (0..30)
        .map(|i| (10f64.powf(i as f64 / 10.0), 100.0 - i as f64))
        .collect();
    let chart = Chart::new("NLL against wall time", "seconds", "nats").log_x(true);
    save_line_chart(&chart, &[Series::new("elbo", pts)], &path).unwrap();
    let img = decode(&path);
    // Log x spaces equal ratios equally: the straight line in log x crosses
    // both halves of the plot area.
    assert!(count(&img, BLUE, (100, 40, 450, 440)) > 100);
    assert!(count(&img, BLUE, (450, 40, 790, 440)) > 100);
}

#[test]
fn scatter_colours_each_class_and_lists_it_in_the_legend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scatter.png");
    let cluster = |cx: f64, cy: f64| -> Vec<(f64, f64)> {
        (0..50)
            .map(|i| (cx + (i % 7) as f64 * 0.1, cy + (i / 7) as f64 * 0.1))
            .collect()
    };
    let groups = vec![
        Series::new("label 0", cluster(0.0, 0.0)),
        Series::new("label 1", cluster(3.0, 0.0)),
        Series::new("label 2", cluster(0.0, 3.0)),
    ];
    let chart = Chart::new("codes", "z0", "z1")
        .size(700, 600)
        .equal_axes(true);
    assert_eq!(save_scatter(&chart, &groups, &path).unwrap(), (700, 600));
    let img = decode(&path);
    assert_eq!(img.dimensions(), (700, 600));
    // Dots are translucent (85 % over white), so exact class colours appear
    // only in the legend column on the right, one filled dot per class.
    for rgb in [BLUE, ORANGE, GREEN] {
        assert!(
            count(&img, rgb, (590, 0, 700, 600)) > 50,
            "legend dot {rgb:?}"
        );
        assert_eq!(count(&img, rgb, (0, 0, 560, 600)), 0, "translucent dots");
    }
    assert!(dark(&img, (590, 30, 700, 130)) > 30, "legend names");
    // In the plot area: many dots of each class's blended colour.
    let blend = |c: [u8; 3]| c.map(|v| (0.85 * v as f64 + 0.15 * 255.0).round() as i32);
    for rgb in [BLUE, ORANGE, GREEN] {
        let want = blend(rgb);
        let n = img
            .enumerate_pixels()
            .filter(|(x, _, p)| {
                *x < 560
                    && p.0
                        .iter()
                        .zip(want)
                        .all(|(&v, w)| (v as i32 - w).abs() <= 2)
            })
            .count();
        assert!(n > 300, "dots of {rgb:?}: {n}");
    }
}

#[test]
fn scatter_without_names_has_no_legend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.png");
    let pts = (0..100).map(|i| (i as f64, (i * i) as f64)).collect();
    save_scatter(&Chart::new("t", "x", "y"), &[Series::new("", pts)], &path).unwrap();
    let img = decode(&path);
    assert_eq!(count(&img, BLUE, (0, 0, 800, 500)), 0, "no legend dot");
}

fn epoch(i: usize) -> EpochMetrics {
    let e = i as f64;
    EpochMetrics {
        epoch: i,
        train_loss: 60.0 / e + 20.0,
        train_recon: 50.0 / e + 15.0,
        train_kl: 10.0 / e + 5.0,
        test_loss: 58.0 / e + 22.0,
        test_recon: 48.0 / e + 16.0,
        test_kl: 10.0 / e + 6.0,
        epoch_seconds: 1.0,
        images_per_second: 1000.0,
        beta: 1.0,
        active_units: Some(3 + i % 3),
    }
}

#[test]
fn training_curves_are_drawn_from_metrics_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let lines: String = (1..=8)
        .map(|i| serde_json::to_string(&epoch(i)).unwrap() + "\n")
        .collect();
    std::fs::write(run.join("metrics.jsonl"), lines).unwrap();
    let out = dir.path().join("charts");
    let curves = save_training_curves(&run, &out).unwrap();
    assert_eq!(curves.epochs, 8);
    let names: Vec<_> = curves
        .files
        .iter()
        .map(|f| f.file_name().unwrap())
        .collect();
    assert_eq!(names, ["loss.png", "kl.png", "active_units.png"]);
    for f in &curves.files {
        assert!(f.starts_with(&out));
        let img = decode(f);
        assert_eq!(img.dimensions(), (800, 500));
        assert!(
            count(&img, BLUE, (90, 40, 780, 440)) > 100,
            "{}",
            f.display()
        );
    }
    assert!(count(&decode(&curves.files[0]), ORANGE, (90, 40, 780, 440)) > 100);
}

fn curve_error(run: &Path) -> String {
    match save_training_curves(run, run) {
        Ok(_) => panic!("expected an error for {}", run.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn training_curves_name_the_bad_metrics_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let err = curve_error(&run);
    assert!(err.contains("run folder not found"), "{err}");
    std::fs::create_dir(&run).unwrap();
    let metrics = run.join("metrics.jsonl");
    let err = curve_error(&run);
    assert!(
        err.contains(&metrics.display().to_string()) && err.contains("missing"),
        "{err}"
    );
    std::fs::write(&metrics, "\n\n").unwrap();
    let err = curve_error(&run);
    assert!(
        err.contains("metrics.jsonl") && err.contains("no epochs"),
        "{err}"
    );
    let good = serde_json::to_string(&epoch(1)).unwrap();
    std::fs::write(&metrics, format!("{good}\n{{\"epoch\": 2, \"train_lo")).unwrap();
    let err = curve_error(&run);
    assert!(
        err.contains("metrics.jsonl") && err.contains("line 2"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !run.join("loss.png").exists(),
        "nothing drawn from a corrupt file"
    );
}

#[test]
fn chart_errors_name_the_file_or_series_and_draw_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ok = [Series::new("s", vec![(1.0, 1.0), (2.0, 3.0)])];
    let missing = dir.path().join("no/such/dir/x.png");
    let err = save_line_chart(&Chart::new("t", "x", "y"), &ok, &missing)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("x.png"), "{err}");
    let tiny = Chart::new("t", "x", "y").size(10, 10);
    assert!(save_line_chart(&tiny, &ok, &dir.path().join("t.png")).is_err());
    let empty = Chart::new("t", "x", "y").y_range(2.0, 2.0);
    assert!(save_line_chart(&empty, &ok, &dir.path().join("t.png")).is_err());
    let inf = [Series::new("inf", vec![(1.0, f64::INFINITY)])];
    let err = save_scatter(&Chart::new("t", "x", "y"), &inf, &dir.path().join("s.png"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("'inf'"), "{err}");
    assert!(!dir.path().join("t.png").exists() && !dir.path().join("s.png").exists());
}

fn old_run(kind: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/old-runs")
        .join(kind)
}

#[test]
fn training_curves_of_a_pixel_run_are_its_nll_only() {
    let out = tempfile::tempdir().unwrap();
    let curves = save_training_curves(&old_run("pixelcnn"), out.path()).unwrap();
    let names: Vec<_> = curves
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["loss.png"],
        "no KL or active-units chart without a latent code"
    );
    assert!(!out.path().join("kl.png").exists());
    assert!(!out.path().join("active_units.png").exists());
}

#[test]
fn training_curves_of_a_mixture_run_say_em_has_none() {
    for kind in ["gmm", "bernoulli-mixture"] {
        let out = tempfile::tempdir().unwrap();
        let err = save_training_curves(&old_run(kind), out.path())
            .expect_err("a mixture has no curves")
            .to_string();
        assert!(err.contains(kind) && err.contains("EM"), "{err}");
        assert!(!err.contains("missing field"), "no JSON parser text: {err}");
        assert!(!out.path().join("loss.png").exists());
    }
}
