//! `elbo embed`, `elbo score` and `elbo eval --iwae` through the binary on
//! the embedded digits (180 held-out 8x8 images).

use crate::common::*;

/// Parses an NPY v1 file: (descr, fortran_order, shape, data bytes).
fn parse_npy(bytes: &[u8]) -> (String, bool, Vec<usize>, &[u8]) {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "magic");
    assert_eq!(bytes[6], 1, "version 1.0");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + len) % 64, 0, "header padded to 64 bytes");
    let header = std::str::from_utf8(&bytes[10..10 + len]).expect("ASCII header");
    assert!(header.ends_with('\n'));
    let field = |key: &str| {
        let start = header.find(key).expect(key) + key.len();
        header[start..]
            .trim_start_matches([':', ' ', '\''])
            .to_string()
    };
    let descr = field("'descr'")
        .split('\'')
        .next()
        .unwrap_or_default()
        .to_string();
    let fortran = field("'fortran_order'").starts_with("True");
    let shape_text = field("'shape'");
    let inner = &shape_text[shape_text.find('(').expect("(") + 1..shape_text.find(')').expect(")")];
    let shape = inner
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().expect("dim"))
        .collect();
    (descr, fortran, shape, &bytes[10 + len..])
}

#[test]
fn embed_writes_npy_and_csv_with_one_row_per_image() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    train_digits(&run, 1, &["--latent", "5"]);
    let npy = dir.path().join("latents.npy");
    assert_ok(&elbo([
        "embed",
        "--model",
        &path_str(&run),
        "--out",
        &path_str(&npy),
    ]));
    let bytes = std::fs::read(&npy).expect("npy");
    let (descr, fortran, shape, data) = parse_npy(&bytes);
    assert_eq!(
        (descr.as_str(), fortran, shape.clone()),
        ("<f4", false, vec![180, 2, 5])
    );
    assert_eq!(data.len(), 180 * 2 * 5 * 4);
    let values: Vec<f32> = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert!(values.iter().all(|v| v.is_finite()));

    let csv = dir.path().join("latents.csv");
    assert_ok(&elbo([
        "embed",
        "--model",
        &path_str(&run),
        "--out",
        &path_str(&csv),
        "--split",
        "train",
    ]));
    let text = std::fs::read_to_string(&csv).expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 1617,
        "header + one line per training image"
    );
    assert!(lines[0].starts_with("index,label,mean_0,") && lines[0].ends_with(",log_var_4"));
    assert!(lines.iter().all(|l| l.split(',').count() == 2 + 2 * 5));

    let bad = dir.path().join("latents.txt");
    assert_app_error(
        &elbo([
            "embed",
            "--model",
            &path_str(&run),
            "--out",
            &path_str(&bad),
        ]),
        &["latents.txt", ".npy or .csv"],
    );
}

#[test]
fn score_and_iwae_eval_report_consistent_likelihoods() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    train_digits(&run, 2, &[]);
    let csv = dir.path().join("scores.csv");
    assert_ok(&elbo([
        "score",
        "--model",
        &path_str(&run),
        "--iwae",
        "20",
        "--out",
        &path_str(&csv),
    ]));
    let text = std::fs::read_to_string(&csv).expect("csv");
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().expect("number")).collect())
        .collect();
    assert_eq!(text.lines().next(), Some("index,label,neg_elbo,iwae_nll"));
    assert_eq!(rows.len(), 180);
    assert!(
        rows.iter()
            .enumerate()
            .all(|(i, r)| r[0] == i as f64 && r[1] < 10.0 && r[2].is_finite() && r[3].is_finite())
    );

    let out = elbo(["eval", "--model", &path_str(&run), "--iwae", "20", "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    let iwae = &v["nll"];
    assert_eq!(iwae["method"]["kind"], "iwae-bound");
    assert_eq!(iwae["method"]["k"], 20);
    // Same seed, same K: the CSV's per-image IWAE values average to eval's.
    let mean = rows.iter().map(|r| r[3]).sum::<f64>() / 180.0;
    assert!(
        (num(iwae, "nats") - mean).abs() < 1e-3,
        "{} vs {mean}",
        num(iwae, "nats")
    );
    // The IWAE bound with K = 20 is tighter than the one-sample ELBO on average.
    assert!(num(iwae, "nats") < num(&v["loss"], "loss"), "{v}");
}

#[test]
fn manifold_grid_for_a_two_dimensional_latent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    train_digits(&run, 2, &["--latent", "2"]);
    let png = dir.path().join("m.png");
    assert_ok(&elbo([
        "manifold",
        "--model",
        &path_str(&run),
        "-n",
        "5",
        "--out",
        &path_str(&png),
    ]));
    // 5 cells of 8 px scaled 14x (up to at least 112 px), no padding.
    assert_eq!(png_size(&png), (560, 560));

    let other = dir.path().join("run20");
    train_digits(&other, 1, &[]);
    let out = elbo(["manifold", "--model", &path_str(&other)]);
    assert_app_error(&out, &["2-D latent", "20 dimensions"]);
}
