//! `DataSpec`: parsing and loading every kind of source from fixtures each
//! test writes into a temporary folder.

use std::path::Path;

use elbo::data::{Color, DataSpec, LoadOptions};

use crate::common::*;

fn amat_line(ones: usize) -> String {
    (0..784)
        .map(|i| if i < ones { "1" } else { "0" })
        .collect::<Vec<_>>()
        .join(" ")
}

fn grey_png(path: &Path, w: u32, h: u32, v: u8) {
    image::GrayImage::from_pixel(w, h, image::Luma([v]))
        .save(path)
        .unwrap();
}

#[test]
fn spec_loads_mnist_layout_with_its_own_split() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "train-images-idx3-ubyte.gz",
        &gzip(&idx_images(6, 28, 28)),
    );
    write(d.path(), "train-labels-idx1-ubyte", &idx_labels(6));
    write(d.path(), "t10k-images-idx3-ubyte", &idx_images(2, 28, 28));
    let spec: DataSpec = format!("mnist:{}", d.path().display()).parse().unwrap();
    let missing = d.path().join("t10k-labels-idx1-ubyte.gz");
    err_mentions(spec.load(&LoadOptions::default()), &missing, &["not found"]);
    write(d.path(), "t10k-labels-idx1-ubyte.gz", &gzip(&idx_labels(2)));
    let s = spec.load(&LoadOptions::default()).unwrap();
    assert_eq!((s.train.n, s.test.n), (6, 2));
    assert_eq!(s.test.labels, Some(vec![0, 1]));
    let opts = LoadOptions {
        image_size: Some((14, 14)),
        color: Color::Rgb,
        ..Default::default()
    };
    let s = spec.load(&opts).unwrap();
    assert_eq!(s.train.shape(), [6, 14, 14, 3]);
    let gone = DataSpec::Mnist(d.path().join("no-such-dir"));
    err_mentions(
        gone.load(&LoadOptions::default()),
        &d.path().join("no-such-dir"),
        &["not found"],
    );
}

#[test]
fn spec_amat_uses_the_valid_sibling_or_a_seeded_split() {
    let d = tempfile::tempdir().unwrap();
    let lines: String = (0..10).map(|i| amat_line(i) + "\n").collect();
    let train = write(d.path(), "bm_train.amat", lines.as_bytes());
    let spec = DataSpec::Amat(train.clone());
    let opts = LoadOptions {
        test_fraction: 0.2,
        seed: 3,
        ..Default::default()
    };
    let s = spec.load(&opts).unwrap();
    assert_eq!((s.train.n, s.test.n), (8, 2));
    assert_eq!(spec.load(&opts).unwrap(), s);
    write(d.path(), "bm_valid.amat", amat_line(5).as_bytes());
    let s = spec.load(&opts).unwrap();
    assert_eq!((s.train.n, s.test.n), (10, 1));
}

#[test]
fn spec_digits_npy_and_images_are_split_by_seed() {
    let s = DataSpec::Digits.load(&LoadOptions::default()).unwrap();
    assert_eq!((s.train.n, s.test.n), (1617, 180));
    assert_eq!(s.train.shape()[1..], [8, 8, 1]);
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("x.npy");
    elbo::data::write_npy_f32(&f, &[20, 2, 2], &[0.5; 80]).unwrap();
    let opts = LoadOptions {
        test_fraction: 0.25,
        ..Default::default()
    };
    let s = DataSpec::Npy(f).load(&opts).unwrap();
    assert_eq!((s.train.n, s.test.n), (15, 5));
    for i in 0..4 {
        grey_png(&d.path().join(format!("{i}.png")), 3, 3, 100);
    }
    let s = DataSpec::Images(d.path().to_path_buf())
        .load(&opts)
        .unwrap();
    assert_eq!((s.train.n, s.test.n), (3, 1));
    let bad = LoadOptions {
        test_fraction: 1.5,
        ..Default::default()
    };
    assert!(
        DataSpec::Digits
            .load(&bad)
            .unwrap_err()
            .to_string()
            .contains("1.5")
    );
}

#[test]
fn spec_unknown_scheme_lists_the_valid_ones() {
    let msg = "hdf5:x.h5".parse::<DataSpec>().unwrap_err().to_string();
    for s in [
        "hdf5:x.h5",
        "digits",
        "mnist:DIR",
        "amat:FILE",
        "npy:FILE",
        "images:DIR",
    ] {
        assert!(msg.contains(s), "{msg}");
    }
}
