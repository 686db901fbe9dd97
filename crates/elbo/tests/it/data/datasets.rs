//! The data sets people have: torchvision's ImageFolder layout, CIFAR-10's
//! binary files and Fashion-MNIST, from fixtures in the real formats that
//! each test writes; and the grey levels recorded with each set.

use std::path::Path;

use elbo::data::cifar::{CIFAR_RECORD, CIFAR10_SUBDIR, CIFAR10_TEST, CIFAR10_TRAIN};
use elbo::data::{Color, DataSpec, LoadOptions, folder_images, read_folder};

use crate::common::*;

fn png(path: &Path, v: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_pixel(3, 2, image::Luma([v]))
        .save(path)
        .unwrap();
}

/// `n` CIFAR-10 records in the binary format: record `i` has label
/// `(first + i) % 10` and a red plane of `i`, green of `2i`, blue of `3i`.
fn cifar_records(n: usize, first: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * CIFAR_RECORD);
    for i in 0..n {
        out.push(((first + i) % 10) as u8);
        for c in 1..=3 {
            out.extend(std::iter::repeat_n((c * i % 256) as u8, 1024));
        }
    }
    out
}

#[test]
fn image_folder_classes_are_labelled_by_sorted_subfolder_names() {
    let d = tempfile::tempdir().unwrap();
    png(&d.path().join("dog/b.png"), 200);
    png(&d.path().join("dog/a.png"), 100);
    png(&d.path().join("cat/x.png"), 0);
    png(&d.path().join("zebra/1.jpg.png"), 255);
    png(&d.path().join(".cache/skip.png"), 7);
    std::fs::write(d.path().join("dog/notes.txt"), "not an image").unwrap();
    let listed = folder_images(d.path()).unwrap();
    assert_eq!(listed.classes, ["cat", "dog", "zebra"]);
    assert_eq!(listed.labels, Some(vec![0, 1, 1, 2]));
    let set = read_folder(d.path(), Color::Grey, None).unwrap();
    assert_eq!(set.shape(), [4, 2, 3, 1]);
    assert_eq!(set.labels, Some(vec![0, 1, 1, 2]));
    // Within a class, files in name order: dog/a (100) before dog/b (200).
    let firsts: Vec<u8> = (0..4)
        .map(|i| (set.image(i)[0] * 255.0).round() as u8)
        .collect();
    assert_eq!(firsts, [0, 100, 200, 255]);
    // Through --data: the labels survive the seeded split.
    let opts = LoadOptions {
        test_fraction: 0.25,
        ..Default::default()
    };
    let s = DataSpec::Images(d.path().to_path_buf())
        .load(&opts)
        .unwrap();
    let mut all: Vec<u8> = s.train.labels.unwrap();
    all.extend(s.test.labels.unwrap());
    all.sort();
    assert_eq!(all, [0, 1, 1, 2]);
}

#[test]
fn flat_image_folders_stay_unlabelled_and_mixed_layouts_are_refused() {
    let d = tempfile::tempdir().unwrap();
    png(&d.path().join("a.png"), 1);
    std::fs::create_dir(d.path().join("empty-sub")).unwrap();
    let set = read_folder(d.path(), Color::Grey, None).unwrap();
    assert_eq!((set.n, set.labels), (1, None));
    png(&d.path().join("cls/b.png"), 2);
    err_mentions(
        read_folder(d.path(), Color::Grey, None),
        d.path(),
        &["class sub-folder", "cls"],
    );
    let classes = tempfile::tempdir().unwrap();
    png(&classes.path().join("one/a.png"), 1);
    std::fs::create_dir(classes.path().join("two")).unwrap();
    err_mentions(
        read_folder(classes.path(), Color::Grey, None),
        &classes.path().join("two"),
        &["class folder holds no images"],
    );
}

#[test]
fn cifar10_binary_files_load_with_their_own_split_channels_last() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join(CIFAR10_SUBDIR);
    std::fs::create_dir(&root).unwrap();
    for (k, name) in CIFAR10_TRAIN.iter().enumerate() {
        write(&root, name, &cifar_records(2, 2 * k));
    }
    let spec: DataSpec = format!("cifar10:{}", d.path().display()).parse().unwrap();
    err_mentions(
        spec.load(&LoadOptions::default()),
        Path::new(CIFAR10_TEST),
        &["not found", "elbo data download cifar10"],
    );
    write(&root, CIFAR10_TEST, &cifar_records(3, 0));
    let opts = LoadOptions {
        color: Color::Rgb,
        ..Default::default()
    };
    let s = spec.load(&opts).unwrap();
    assert_eq!(s.train.shape(), [10, 32, 32, 3]);
    assert_eq!(s.test.shape(), [3, 32, 32, 3]);
    assert_eq!(s.train.labels, Some((0..10).collect::<Vec<u8>>()));
    assert_eq!(s.test.labels, Some(vec![0, 1, 2]));
    assert_eq!(s.train.levels, 256);
    // Test image 2: red 2, green 4, blue 6 at every pixel, channels last.
    let px: Vec<u8> = s.test.image(2)[..6]
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    assert_eq!(px, [2, 4, 6, 2, 4, 6]);
    // The folder itself works too, and the default grey is the luma.
    let s = DataSpec::Cifar10(root.clone())
        .load(&LoadOptions::default())
        .unwrap();
    assert_eq!(s.test.shape(), [3, 32, 32, 1]);
    write(
        &root,
        "data_batch_3.bin",
        &cifar_records(2, 0)[..CIFAR_RECORD + 9],
    );
    err_mentions(
        spec.load(&opts),
        &root.join("data_batch_3.bin"),
        &["not a whole number of CIFAR-10 records"],
    );
}

#[test]
fn cifar10_python_version_is_named_in_the_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "test_batch", b"\x80\x02}q\x00.");
    let msg = DataSpec::Cifar10(d.path().to_path_buf())
        .load(&LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("python (pickle) version"), "{msg}");
}

#[test]
fn fashion_mnist_reads_the_idx_files_and_names_itself_when_missing() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "train-images-idx3-ubyte.gz",
        &gzip(&idx_images(4, 28, 28)),
    );
    write(
        d.path(),
        "train-labels-idx1-ubyte.gz",
        &gzip(&idx_labels(4)),
    );
    write(
        d.path(),
        "t10k-images-idx3-ubyte.gz",
        &gzip(&idx_images(2, 28, 28)),
    );
    let spec: DataSpec = format!("fashion-mnist:{}", d.path().display())
        .parse()
        .unwrap();
    assert_eq!(spec, DataSpec::FashionMnist(d.path().to_path_buf()));
    err_mentions(
        spec.load(&LoadOptions::default()),
        Path::new("t10k-labels-idx1-ubyte.gz"),
        &[
            "fashion-mnist file not found",
            "elbo data download fashion-mnist",
        ],
    );
    write(d.path(), "t10k-labels-idx1-ubyte", &idx_labels(2));
    let s = spec.load(&LoadOptions::default()).unwrap();
    assert_eq!((s.train.n, s.test.n), (4, 2));
    assert_eq!(s.train.shape()[1..], [28, 28, 1]);
    assert_eq!(s.test.labels, Some(vec![0, 1]));
}

#[test]
fn each_source_records_its_grey_levels() {
    let s = DataSpec::Digits.load(&LoadOptions::default()).unwrap();
    assert_eq!((s.train.levels, s.test.levels), (17, 17));
    let d = tempfile::tempdir().unwrap();
    let line: String = (0..784)
        .map(|i| if i % 2 == 0 { "1 " } else { "0 " })
        .collect();
    let f = write(d.path(), "b.amat", format!("{line}\n{line}\n").as_bytes());
    let opts = LoadOptions {
        test_fraction: 0.5,
        ..Default::default()
    };
    assert_eq!(DataSpec::Amat(f).load(&opts).unwrap().train.levels, 2);
    // Grey to RGB copies values; resampling puts them between the levels.
    let rgb = LoadOptions {
        color: Color::Rgb,
        ..Default::default()
    };
    assert_eq!(DataSpec::Digits.load(&rgb).unwrap().test.levels, 17);
    let resized = LoadOptions {
        image_size: Some((4, 4)),
        ..Default::default()
    };
    assert_eq!(DataSpec::Digits.load(&resized).unwrap().test.levels, 256);
}
