//! The data readers under generated and mutated files: IDX and amat (raw
//! and gzip), NPY (header and body), PNG/JPEG folders.

use std::path::Path;

use elbo::data::{
    Color, ImageSet, read_amat, read_folder, read_idx_images, read_idx_labels, read_npy,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Mutation, clean_error, fuzz, mutate, mutations};
use crate::common::gzip;

/// How a generated file is stored: raw, or gzip with the mutations applied
/// before compressing (a valid stream of bad content) or after (a bad stream).
#[derive(Debug, Clone, Copy)]
enum Wrap {
    Raw,
    GzipContent,
    GzipStream,
}

fn wrap() -> impl Strategy<Value = Wrap> {
    prop_oneof![
        Just(Wrap::Raw),
        Just(Wrap::GzipContent),
        Just(Wrap::GzipStream)
    ]
}

/// The file's bytes: `valid` with `muts` applied as `how` says.
fn stored(valid: Vec<u8>, muts: &[Mutation], how: Wrap) -> Vec<u8> {
    match how {
        Wrap::Raw => mutate(valid, muts),
        Wrap::GzipContent => gzip(&mutate(valid, muts)),
        Wrap::GzipStream => mutate(gzip(&valid), muts),
    }
}

/// A read image set must be consistent: its pixels fill its shape and lie in [0, 1].
fn consistent(set: &ImageSet) -> Result<(), TestCaseError> {
    prop_assert_eq!(set.pixels.len(), set.n * set.dim());
    prop_assert!(set.n > 0 && set.dim() > 0);
    prop_assert!(set.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    Ok(())
}

/// Writes `bytes` to a fresh file named `name` and reads it with `read`.
fn read_file<T>(
    name: &str,
    bytes: &[u8],
    read: impl Fn(&Path) -> elbo::Result<T>,
    ok: impl Fn(&T) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match read(&path) {
        Ok(v) => ok(&v),
        Err(e) => clean_error(&e),
    }
}

fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    dims.iter()
        .for_each(|d| v.extend_from_slice(&d.to_be_bytes()));
    v.extend_from_slice(data);
    v
}

#[test]
fn idx_images_and_labels_never_panic_on_mutated_files() {
    let case = (
        1u32..6,
        1u32..9,
        1u32..9,
        any::<u64>(),
        mutations(3),
        wrap(),
        any::<bool>(),
    );
    fuzz("idx", case, |(n, r, c, seed, muts, how, labels)| {
        let data: Vec<u8> = (0..n * r * c)
            .map(|i| (u64::from(i) ^ seed) as u8)
            .collect();
        if labels {
            let bytes = stored(idx(0x0801, &[n], &data[..n as usize]), &muts, how);
            read_file("labels-idx1-ubyte", &bytes, read_idx_labels, |l| {
                prop_assert!(!l.is_empty());
                Ok(())
            })
        } else {
            let bytes = stored(idx(0x0803, &[n, r, c], &data), &muts, how);
            read_file("images-idx3-ubyte", &bytes, read_idx_images, consistent)
        }
    });
}

/// An `.amat` file of `n` lines of 784 values, written as `0`/`1` or in a
/// float spelling.
fn amat(n: usize, seed: u64, floats: bool) -> Vec<u8> {
    let mut text = String::new();
    for i in 0..n {
        let line: Vec<&str> = (0..784)
            .map(|j| match ((i * 784 + j) as u64 ^ seed).is_multiple_of(3) {
                true if floats => "1.0",
                true => "1",
                false if floats => "0.000",
                false => "0",
            })
            .collect();
        text.push_str(&line.join(" "));
        text.push('\n');
    }
    text.into_bytes()
}

#[test]
fn amat_never_panics_on_mutated_files() {
    let case = (1usize..4, any::<u64>(), any::<bool>(), mutations(3), wrap());
    fuzz("amat", case, |(n, seed, floats, muts, how)| {
        let bytes = stored(amat(n, seed, floats), &muts, how);
        read_file("x.amat", &bytes, read_amat, consistent)
    });
}

/// An NPY file: version 1.0 or 2.0 header, `|u1` or `<f4` data of `shape`.
fn npy(shape: &[usize], float: bool, v2: bool, seed: u64) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let descr = if float { "<f4" } else { "|u1" };
    let header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}), }}\n",
        dims.join(", ") + if shape.len() == 1 { "," } else { "" }
    );
    let mut v = b"\x93NUMPY".to_vec();
    if v2 {
        v.extend_from_slice(&[2, 0]);
        v.extend_from_slice(&(header.len() as u32).to_le_bytes());
    } else {
        v.extend_from_slice(&[1, 0]);
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    }
    v.extend_from_slice(header.as_bytes());
    let count: usize = shape.iter().product();
    for i in 0..count {
        let x = ((i as u64 ^ seed) % 256) as u8;
        match float {
            true => v.extend_from_slice(&(f32::from(x) / 255.0).to_le_bytes()),
            false => v.push(x),
        }
    }
    v
}

#[test]
fn npy_header_and_body_never_panic_on_mutated_files() {
    let shape = prop_oneof![
        (1usize..4, 1usize..6, 1usize..6).prop_map(|(n, h, w)| vec![n, h, w]),
        (
            1usize..4,
            1usize..5,
            1usize..5,
            prop_oneof![Just(1usize), Just(3)]
        )
            .prop_map(|(n, h, w, c)| vec![n, h, w, c]),
    ];
    let case = (
        shape,
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
        mutations(3),
        wrap(),
    );
    fuzz("npy", case, |(shape, float, v2, seed, muts, how)| {
        let bytes = stored(npy(&shape, float, v2, seed), &muts, how);
        read_file("x.npy", &bytes, read_npy, consistent)
    });
}

/// A PNG or JPEG of `w x h` grey or RGB pixels.
fn encoded(w: u32, h: u32, rgb: bool, jpeg: bool, seed: u8) -> Vec<u8> {
    let fill = |x: u32, y: u32| (x * 31 + y * 17) as u8 ^ seed;
    let img = match rgb {
        true => image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([fill(x, y), fill(y, x), seed])
        })),
        false => image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(w, h, |x, y| {
            image::Luma([fill(x, y)])
        })),
    };
    let format = if jpeg {
        image::ImageFormat::Jpeg
    } else {
        image::ImageFormat::Png
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encodes");
    out.into_inner()
}

#[test]
fn image_folders_never_panic_on_mutated_png_and_jpeg() {
    let image = (
        1u32..24,
        1u32..24,
        any::<bool>(),
        any::<bool>(),
        any::<u8>(),
        mutations(2),
    );
    let size = prop_oneof![Just(None), (1usize..12, 1usize..12).prop_map(Some)];
    let case = (prop::collection::vec(image, 1..4), size, any::<bool>());
    fuzz("images", case, |(images, size, rgb)| {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, (w, h, color, jpeg, seed, muts)) in images.iter().enumerate() {
            let bytes = mutate(encoded(*w, *h, *color, *jpeg, *seed), muts);
            let name = format!("{i}.{}", if *jpeg { "jpg" } else { "png" });
            std::fs::write(dir.path().join(name), bytes)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let color = if rgb { Color::Rgb } else { Color::Grey };
        match read_folder(dir.path(), color, size) {
            Ok(set) => {
                prop_assert_eq!(set.n, images.len());
                consistent(&set)
            }
            Err(e) => clean_error(&e),
        }
    });
}
