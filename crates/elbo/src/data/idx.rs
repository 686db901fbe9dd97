//! The IDX format of the MNIST files, raw or gzip-compressed.
//!
//! An IDX file starts with a big-endian `u32` magic number whose third byte is
//! the element type (`0x08` = `u8`) and whose fourth byte is the number of
//! dimensions, followed by one big-endian `u32` per dimension and the data.
//! Images are `0x00000803` (`[n, rows, cols]`), labels `0x00000801` (`[n]`).

use std::path::Path;

use super::{ImageSet, gz};
use crate::memory::{self, Bytes};
use crate::{Error, Result};

/// Magic number of an IDX file of `u8` images `[n, rows, cols]`.
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` labels `[n]`.
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads an IDX image file (`0x00000803`) into a grey [`ImageSet`] without
/// labels, pixels mapped to `[0, 1]` as `v / 255`.
///
/// The header is read and checked first (and the set's size against the
/// memory limit, see [`crate::memory`]); then exactly the bytes it declares
/// are read, so a file that continues past them is refused without
/// decompressing its tail.
pub fn read_idx_images(path: &Path) -> Result<ImageSet> {
    let mut opened = gz::open(path)?;
    let dims = header(path, &mut opened, IDX_IMAGES_MAGIC)?;
    let &[n, rows, cols] = dims.as_slice() else {
        return Err(Error::format(path, "IDX image header is not 3-dimensional"));
    };
    if rows == 0 || cols == 0 {
        return Err(Error::format(
            path,
            format!("IDX header declares images of {rows}x{cols} pixels"),
        ));
    }
    // The bytes as read plus their f32 copy: 5 bytes per pixel at the peak.
    memory::check(
        &format!("{}: {n} images of {rows}x{cols}", path.display()),
        "the number of images in the file",
        Bytes::of(&[n, rows, cols], 1 + memory::F32),
    )?;
    let data = body(path, &mut opened, &dims)?;
    let pixels = data.iter().map(|&v| f32::from(v) / 255.0).collect();
    ImageSet::new(pixels, n, rows, cols, 1, None)
}

/// Reads an IDX label file (`0x00000801`): one `u8` per item.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let mut opened = gz::open(path)?;
    let dims = header(path, &mut opened, IDX_LABELS_MAGIC)?;
    memory::check(
        &format!("{}: {:?} labels", path.display(), dims),
        "the number of labels in the file",
        Bytes::of(&dims, 1),
    )?;
    body(path, &mut opened, &dims)
}

/// Reads an image file and its label file, checking that they hold the same
/// number of items.
pub fn read_idx_pair(images: &Path, labels: &Path) -> Result<ImageSet> {
    let mut set = read_idx_images(images)?;
    let l = read_idx_labels(labels)?;
    if l.len() != set.n {
        return Err(Error::format(
            labels,
            format!(
                "holds {} labels but the image file {} holds {} images",
                l.len(),
                images.display(),
                set.n
            ),
        ));
    }
    set.labels = Some(l);
    Ok(set)
}

/// Reads and checks the header against `magic`; returns the dimensions.
fn header(path: &Path, opened: &mut gz::Opened, magic: u32) -> Result<Vec<usize>> {
    let head = opened.read_up_to(path, 4)?;
    let found = be_u32(&head, 0).ok_or_else(|| {
        Error::format(
            path,
            format!(
                "file of {} bytes is too short for an IDX header",
                head.len()
            ),
        )
    })?;
    if found != magic {
        return Err(wrong_magic(path, found, magic));
    }
    let ndim = (magic & 0xff) as usize;
    let bytes = opened.read_up_to(path, 4 * ndim as u64)?;
    (0..ndim)
        .map(|d| be_u32(&bytes, 4 * d).map(|v| v as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            Error::format(
                path,
                format!(
                    "truncated IDX header: {ndim} dimensions need {} bytes, file has {}",
                    4 + 4 * ndim,
                    4 + bytes.len()
                ),
            )
        })
}

/// Reads exactly the data bytes `dims` declare, then checks that nothing
/// but the end of the file (for gzip, its trailer) follows.
fn body(path: &Path, opened: &mut gz::Opened, dims: &[usize]) -> Result<Vec<u8>> {
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::format(path, format!("IDX dimensions {dims:?} overflow")))?;
    let (n, item) = dims.split_first().map_or((0, &[][..]), |(n, r)| (*n, r));
    if n == 0 {
        return Err(Error::format(path, "the IDX header declares 0 items"));
    }
    let data = opened.read_up_to(path, expected as u64)?;
    if data.len() < expected {
        return Err(Error::format(
            path,
            format!(
                "truncated: the IDX header declares {n} items of shape {item:?} ({expected} bytes) but only {} bytes of data follow",
                data.len()
            ),
        ));
    }
    let extra = opened.trailing(path)?;
    if extra > 0 {
        return Err(Error::format(
            path,
            format!(
                "{} after the {expected} bytes of data the IDX header declares",
                gz::describe_trailing(extra)
            ),
        ));
    }
    Ok(data)
}

/// The error for a magic number other than `expected`.
fn wrong_magic(path: &Path, found: u32, expected: u32) -> Error {
    let what = |m: u32| match m {
        IDX_IMAGES_MAGIC => "IDX images",
        IDX_LABELS_MAGIC => "IDX labels",
        _ => "IDX",
    };
    let hint = match found {
        IDX_IMAGES_MAGIC | IDX_LABELS_MAGIC => format!(" (this is an {} file)", what(found)),
        _ => String::new(),
    };
    Error::format(
        path,
        format!(
            "wrong magic number 0x{found:08x}{hint}: expected 0x{expected:08x} for {}",
            what(expected)
        ),
    )
}

/// The big-endian `u32` at byte `at`, if the slice is long enough.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images_file(n: u32, rows: u32, cols: u32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [IDX_IMAGES_MAGIC, n, rows, cols] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn parses_images() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, images_file(2, 1, 2, &[0, 255, 51, 102])).unwrap();
        let set = read_idx_images(&p).unwrap();
        assert_eq!(set.shape(), [2, 1, 2, 1]);
        assert_eq!(set.pixels, vec![0.0, 1.0, 0.2, 0.4]);
    }

    #[test]
    fn extra_bytes_and_short_header_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, images_file(1, 1, 1, &[1, 2])).unwrap();
        let msg = read_idx_images(&p).unwrap_err().to_string();
        assert!(msg.contains("1 unexpected bytes"), "{msg}");
        std::fs::write(&p, &images_file(1, 1, 1, &[])[..10]).unwrap();
        let msg = read_idx_images(&p).unwrap_err().to_string();
        assert!(msg.contains("truncated IDX header"), "{msg}");
    }
}
