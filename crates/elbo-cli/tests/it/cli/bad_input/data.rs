//! Data files that cannot be read: missing, empty, truncated or of the wrong
//! kind (IDX, amat, NPY and image folders).

use super::train_on;
use crate::common::*;

// ---------------------------------------------------------------- missing data

#[test]
fn missing_mnist_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "mnist:/nonexistent");
    assert_app_error(&out, &["/nonexistent", "not found"]);
}

#[test]
fn missing_npy_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "npy:/nonexistent.npy");
    assert_app_error(&out, &["/nonexistent.npy", "no such file"]);
}

#[test]
fn missing_mnist_file_in_folder_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    std::fs::remove_file(mnist.join("t10k-labels-idx1-ubyte")).unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(
        &out,
        &[
            "t10k-labels-idx1-ubyte",
            "not found",
            "elbo data download mnist",
        ],
    );
}

/// The cause of an I/O error should be said once. `Error::Io` prints
/// "{path}: {source}" and also exposes `source` as its cause, and main.rs
/// joins the whole cause chain, so the OS message appears twice.
#[test]
fn io_error_cause_is_not_repeated() {
    let tmp = tempfile::tempdir().unwrap();
    let out = train_on(tmp.path(), "npy:/nonexistent.npy");
    let err = assert_app_error(&out, &["/nonexistent.npy"]);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let out = train_on(tmp.path(), "mnist:/nonexistent");
    let err = assert_app_error(&out, &["/nonexistent"]);
    assert_eq!(err.matches("MNIST folder not found").count(), 1, "{err}");
}

// ----------------------------------------------------------------- empty files

#[test]
fn empty_npy_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("empty.npy");
    std::fs::write(&f, b"").unwrap();
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["empty.npy", "empty"]);
}

#[test]
fn empty_amat_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("empty.amat");
    std::fs::write(&f, b"").unwrap();
    let out = train_on(tmp.path(), &format!("amat:{}", f.display()));
    assert_app_error(&out, &["empty.amat", "empty"]);
}

// ------------------------------------------------------------------------- IDX

#[test]
fn truncated_idx_images() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    // The header says 10 images of 4x4, but only 3 follow.
    let images = mnist.join("train-images-idx3-ubyte");
    std::fs::write(&images, idx_bytes(IDX_IMAGES, &[10, 4, 4], &[7u8; 3 * 16])).unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["train-images-idx3-ubyte", "truncated", "10 items"]);
}

#[test]
fn wrong_idx_magic() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    let images = mnist.join("train-images-idx3-ubyte");
    std::fs::write(
        &images,
        idx_bytes(0x1234_5678, &[10, 4, 4], &[0u8; 10 * 16]),
    )
    .unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["train-images-idx3-ubyte", "magic", "0x12345678"]);
}

#[test]
fn swapped_idx_files_are_recognized() {
    // A labels file where the images file should be: the magic says what it is.
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    std::fs::copy(
        mnist.join("train-labels-idx1-ubyte"),
        mnist.join("train-images-idx3-ubyte"),
    )
    .unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["train-images-idx3-ubyte", "magic", "labels"]);
}

#[test]
fn idx_image_label_count_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    write_mnist(&mnist, 10, 4);
    let labels = mnist.join("t10k-labels-idx1-ubyte");
    std::fs::write(&labels, idx_bytes(IDX_LABELS, &[3], &[1, 2, 3])).unwrap();
    let out = train_on(tmp.path(), &format!("mnist:{}", mnist.display()));
    assert_app_error(&out, &["t10k-labels-idx1-ubyte", "3 labels", "4 images"]);
}

// ------------------------------------------------------------------------ amat

fn amat_row(value: &str, count: usize) -> String {
    vec![value; count].join(" ")
}

#[test]
fn amat_line_with_wrong_number_of_values() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.amat");
    let text = format!("{}\n{}\n", amat_row("0", 784), amat_row("1", 783));
    std::fs::write(&f, text).unwrap();
    let out = train_on(tmp.path(), &format!("amat:{}", f.display()));
    assert_app_error(&out, &["bad.amat", "line 2", "783 values", "784"]);
}

#[test]
fn amat_value_other_than_0_or_1() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.amat");
    let mut values = vec!["0"; 784];
    values[4] = "0.5";
    std::fs::write(
        &f,
        format!("{}\n{}\n", amat_row("1", 784), values.join(" ")),
    )
    .unwrap();
    let out = train_on(tmp.path(), &format!("amat:{}", f.display()));
    assert_app_error(
        &out,
        &["bad.amat", "line 2", "column 5", "0.5", "not 0 or 1"],
    );
}

// ------------------------------------------------------------------------- NPY

#[test]
fn npy_with_unsupported_dtype() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f8.npy");
    write_npy(&f, "<f8", &[2, 4, 4], &[0u8; 2 * 16 * 8]);
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["f8.npy", "dtype", "<f8"]);
}

#[test]
fn npy_with_unsupported_rank() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("flat.npy");
    write_npy(&f, "|u1", &[64], &[0u8; 64]);
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["flat.npy", "rank 1", "[N, H, W]"]);
}

#[test]
fn npy_that_is_not_npy() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("text.npy");
    std::fs::write(&f, "hello, world\n").unwrap();
    let out = train_on(tmp.path(), &format!("npy:{}", f.display()));
    assert_app_error(&out, &["text.npy", "not an npy file"]);
}

// --------------------------------------------------------------- image folders

#[test]
fn image_folder_without_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a picture").unwrap();
    let out = train_on(tmp.path(), &format!("images:{}", dir.display()));
    assert_app_error(&out, &["pictures", "no images"]);
}

#[test]
fn image_folder_with_a_png_that_is_not_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    std::fs::create_dir(&dir).unwrap();
    image::GrayImage::new(4, 4).save(dir.join("a.png")).unwrap();
    std::fs::write(dir.join("b.png"), "this is text, not a PNG").unwrap();
    let out = train_on(tmp.path(), &format!("images:{}", dir.display()));
    assert_app_error(&out, &["b.png", "cannot decode"]);
}

#[test]
fn image_folder_with_images_of_different_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pictures");
    std::fs::create_dir(&dir).unwrap();
    image::GrayImage::new(4, 4).save(dir.join("a.png")).unwrap();
    image::GrayImage::new(6, 5).save(dir.join("b.png")).unwrap();
    let out = train_on(tmp.path(), &format!("images:{}", dir.display()));
    assert_app_error(&out, &["b.png", "a.png", "6x5", "4x4"]);
}
