//! The data readers on fixtures each test writes into a temporary folder:
//! a good case and every documented bad case, with the error naming the file
//! and the problem.

use std::path::Path;

use elbo::data::{
    Color, read_amat, read_folder, read_idx_images, read_idx_labels, read_idx_pair, read_npy,
};

use crate::common::*;

// ---------------------------------------------------------------- IDX

#[test]
fn idx_reads_raw_and_gzip_detected_by_magic() {
    let d = tempfile::tempdir().unwrap();
    let raw = write(d.path(), "imgs", &idx_images(3, 2, 4));
    let gz = write(d.path(), "imgs-no-extension", &gzip(&idx_images(3, 2, 4)));
    let a = read_idx_images(&raw).unwrap();
    assert_eq!(a.shape(), [3, 2, 4, 1]);
    assert_eq!(a.labels, None);
    assert_eq!(a.pixels[5], 5.0 / 255.0);
    assert_eq!(read_idx_images(&gz).unwrap(), a);
    let l = write(d.path(), "labels.gz", &gzip(&idx_labels(3)));
    assert_eq!(read_idx_labels(&l).unwrap(), vec![0, 1, 2]);
    let pair = read_idx_pair(&raw, &l).unwrap();
    assert_eq!(pair.labels, Some(vec![0, 1, 2]));
}

#[test]
fn idx_errors_name_the_file_and_the_problem() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("absent-idx3-ubyte");
    err_mentions(read_idx_images(&missing), &missing, &["No such file"]);
    let empty = write(d.path(), "empty-idx", b"");
    err_mentions(read_idx_images(&empty), &empty, &["empty"]);
    let labels = write(d.path(), "labels-idx1", &idx_labels(4));
    err_mentions(
        read_idx_images(&labels),
        &labels,
        &["magic", "0x00000801", "labels"],
    );
    let junk = write(d.path(), "junk.bin", b"PK\x03\x04 not idx at all");
    err_mentions(read_idx_labels(&junk), &junk, &["wrong magic"]);
    let mut t = idx_images(10, 28, 28);
    t.truncate(t.len() - 100);
    let trunc = write(d.path(), "trunc.gz", &gzip(&t));
    err_mentions(read_idx_images(&trunc), &trunc, &["truncated", "10 items"]);
    let imgs = write(d.path(), "imgs", &idx_images(5, 2, 2));
    let few = write(d.path(), "few-labels", &idx_labels(4));
    err_mentions(
        read_idx_pair(&imgs, &few),
        &few,
        &["4 labels", "5 images", "imgs"],
    );
}

// ---------------------------------------------------------------- AMAT

fn amat_line(ones: usize) -> String {
    (0..784)
        .map(|i| if i < ones { "1" } else { "0" })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn amat_reads_raw_and_gzip() {
    let d = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n{}\r\n",
        amat_line(3),
        amat_line(784).replace('1', "1.0")
    );
    let raw = write(d.path(), "b.amat", text.as_bytes());
    let gz = write(d.path(), "b.amat.gz", &gzip(text.as_bytes()));
    let s = read_amat(&raw).unwrap();
    assert_eq!(s.shape(), [2, 28, 28, 1]);
    assert_eq!(s.image(0).iter().sum::<f32>(), 3.0);
    assert_eq!(s.image(1).iter().sum::<f32>(), 784.0);
    assert_eq!(read_amat(&gz).unwrap(), s);
}

#[test]
fn amat_errors_name_line_column_and_count() {
    let d = tempfile::tempdir().unwrap();
    let short = format!("{}\n{}\n", amat_line(1), &amat_line(1)[..783 * 2 - 1]);
    let f = write(d.path(), "short.amat", short.as_bytes());
    err_mentions(read_amat(&f), &f, &["line 2", "783 values", "784"]);
    let long = format!("{} 0\n", amat_line(1));
    let f = write(d.path(), "long.amat", long.as_bytes());
    err_mentions(read_amat(&f), &f, &["line 1", "785 values"]);
    let bad = amat_line(0).replacen("0 0 0 0 0", "0 0 0 0 0.5", 1);
    let f = write(
        d.path(),
        "bad.amat.gz",
        &gzip(format!("{}\n{bad}\n", amat_line(0)).as_bytes()),
    );
    err_mentions(
        read_amat(&f),
        &f,
        &["line 2, column 5", "\"0.5\"", "not 0 or 1"],
    );
    let f = write(d.path(), "empty.amat", b"");
    err_mentions(read_amat(&f), &f, &["empty"]);
    let f = write(d.path(), "blank.amat", b"\n\n");
    err_mentions(read_amat(&f), &f, &["no images"]);
}

// ---------------------------------------------------------------- NPY

fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let f = if fortran { "True" } else { "False" };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {tuple}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(data);
    v
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn npy_reads_u8_grey_and_f32_rgb() {
    let d = tempfile::tempdir().unwrap();
    let u8s: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8 * 10).collect();
    let f = write(d.path(), "g.npy", &npy("|u1", false, &[2, 3, 4], &u8s));
    let s = read_npy(&f).unwrap();
    assert_eq!(s.shape(), [2, 3, 4, 1]);
    assert_eq!(s.pixels[1], 10.0 / 255.0);
    let vals: Vec<f32> = (0..2 * 2 * 2 * 3).map(|i| i as f32 / 23.0).collect();
    let f = write(
        d.path(),
        "c.npy",
        &npy("<f4", false, &[2, 2, 2, 3], &f32_bytes(&vals)),
    );
    let s = read_npy(&f).unwrap();
    assert_eq!((s.shape(), &s.pixels), ([2, 2, 2, 3], &vals));
    let f = write(
        d.path(),
        "c1.npy",
        &npy("<f4", false, &[2, 2, 6, 1], &f32_bytes(&vals)),
    );
    assert_eq!(read_npy(&f).unwrap().shape(), [2, 2, 6, 1]);
}

#[test]
fn npy_errors_name_the_file_and_the_problem() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "f8.npy", &npy("<f8", false, &[1, 2, 2], &[0; 32]));
    err_mentions(read_npy(&f), &f, &["unsupported dtype '<f8'", "|u1", "<f4"]);
    let f = write(d.path(), "rank2.npy", &npy("|u1", false, &[4, 4], &[0; 16]));
    err_mentions(read_npy(&f), &f, &["rank 2", "[N, H, W]"]);
    let f = write(
        d.path(),
        "c2.npy",
        &npy("|u1", false, &[1, 2, 2, 2], &[0; 8]),
    );
    err_mentions(read_npy(&f), &f, &["2 channels"]);
    let f = write(
        d.path(),
        "fortran.npy",
        &npy("|u1", true, &[1, 2, 2], &[0; 4]),
    );
    err_mentions(read_npy(&f), &f, &["fortran_order"]);
    let f = write(
        d.path(),
        "trunc.npy",
        &npy("<f4", false, &[2, 2, 2], &[0; 31]),
    );
    err_mentions(read_npy(&f), &f, &["truncated", "32 bytes", "31"]);
    let f = write(
        d.path(),
        "range.npy",
        &npy("<f4", false, &[1, 1, 2], &f32_bytes(&[0.5, 1.5])),
    );
    err_mentions(read_npy(&f), &f, &["1.5", "outside [0, 1]"]);
    let f = write(
        d.path(),
        "nan.npy",
        &npy("<f4", false, &[1, 1, 1], &f32_bytes(&[f32::NAN])),
    );
    err_mentions(read_npy(&f), &f, &["NaN"]);
    let f = write(d.path(), "text.npy", b"just text");
    err_mentions(read_npy(&f), &f, &["not an NPY file"]);
    let f = d.path().join("absent.npy");
    err_mentions(read_npy(&f), &f, &["No such file"]);
}

#[test]
fn npy_writer_output_is_read_back() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("emb.npy");
    let data: Vec<f32> = (0..12).map(|i| i as f32 / 12.0).collect();
    elbo::data::write_npy_f32(&f, &[3, 2, 2], &data).unwrap();
    let s = read_npy(&f).unwrap();
    assert_eq!((s.shape(), s.pixels), ([3, 2, 2, 1], data));
}

// ---------------------------------------------------------------- folder

fn grey_png(path: &Path, w: u32, h: u32, v: u8) {
    image::GrayImage::from_pixel(w, h, image::Luma([v]))
        .save(path)
        .unwrap();
}

#[test]
fn folder_reads_sorted_images_skipping_others() {
    let d = tempfile::tempdir().unwrap();
    grey_png(&d.path().join("b.png"), 4, 3, 255);
    grey_png(&d.path().join("a.PNG"), 4, 3, 0);
    image::RgbImage::from_pixel(4, 3, image::Rgb([255, 0, 0]))
        .save(d.path().join("c.jpg"))
        .unwrap();
    grey_png(&d.path().join(".hidden.png"), 9, 9, 7);
    std::fs::write(d.path().join("notes.txt"), "not an image").unwrap();
    std::fs::create_dir(d.path().join("sub.png")).unwrap();
    let s = read_folder(d.path(), Color::Grey, None).unwrap();
    assert_eq!(s.shape(), [3, 3, 4, 1]);
    assert_eq!((s.image(0)[0], s.image(1)[0]), (0.0, 1.0));
    let rgb = read_folder(d.path(), Color::Rgb, Some((6, 5))).unwrap();
    assert_eq!(rgb.shape(), [3, 6, 5, 3]);
    let red = rgb.image(2);
    assert!(
        red[0] > 0.9 && red[1] < 0.1 && red[2] < 0.1,
        "{:?}",
        &red[..3]
    );
}

#[test]
fn folder_errors_name_the_folder_or_file() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nowhere");
    err_mentions(
        read_folder(&missing, Color::Grey, None),
        &missing,
        &["No such file"],
    );
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("readme.md"), "x").unwrap();
    err_mentions(
        read_folder(&empty, Color::Grey, None),
        &empty,
        &["no images"],
    );
    let mixed = d.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    grey_png(&mixed.join("1.png"), 4, 4, 10);
    grey_png(&mixed.join("2.png"), 5, 4, 10);
    err_mentions(
        read_folder(&mixed, Color::Grey, None),
        &mixed.join("2.png"),
        &["5x4", "1.png", "4x4"],
    );
    assert_eq!(read_folder(&mixed, Color::Grey, Some((4, 4))).unwrap().n, 2);
    std::fs::write(mixed.join("3.jpeg"), b"this is not a jpeg").unwrap();
    let bad = mixed.join("3.jpeg");
    err_mentions(
        read_folder(&mixed, Color::Grey, Some((4, 4))),
        &bad,
        &["cannot decode"],
    );
}

#[test]
fn folder_pixels_stay_in_the_unit_interval_for_white_rgb_as_grey() {
    // Found by the fuzz suite: Rec. 709 luma of (255, 255, 255) is 1.0000001 in f32.
    let d = tempfile::tempdir().unwrap();
    image::RgbImage::from_pixel(3, 2, image::Rgb([255, 255, 255]))
        .save(d.path().join("white.png"))
        .unwrap();
    for size in [None, Some((4, 5))] {
        let s = read_folder(d.path(), Color::Grey, size).unwrap();
        assert!(
            s.pixels.iter().all(|v| (0.0..=1.0).contains(v)),
            "{:?}",
            s.pixels
        );
        assert!(s.pixels.contains(&1.0));
    }
}
