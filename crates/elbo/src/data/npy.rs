//! NumPy's `.npy` format (header versions 1.0, 2.0 and 3.0): a reader for image
//! arrays and a small `float32` writer (used for embeddings).
//!
//! Images must be C-ordered `[N, H, W]` (grey) or `[N, H, W, C]` with `C` in
//! {1, 3}, of dtype `|u1` (mapped to `[0, 1]` as `v / 255`) or `<f4` (which
//! must already lie in `[0, 1]`). The file may be gzip-compressed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::{ImageSet, gz, npy_header};
use crate::memory::{self, Bytes};
use crate::{Error, Result};

/// The six bytes every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The element types elbo reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dtype {
    U8,
    F32,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::U8 => 1,
            Dtype::F32 => 4,
        }
    }
}

/// A parsed array: shape, element type and the raw little-endian data.
struct Array {
    shape: Vec<usize>,
    dtype: Dtype,
    data: Vec<u8>,
}

/// NumPy writes headers of a few hundred bytes; a longer one (version 2.0
/// allows 4 GiB) is refused before it is read.
const MAX_HEADER_LEN: usize = 1 << 20;

/// Reads an `.npy` file of images into an [`ImageSet`] without labels.
pub fn read_npy(path: &Path) -> Result<ImageSet> {
    let a = parse(path)?;
    let (n, h, w, c) = match a.shape[..] {
        [n, h, w] => (n, h, w, 1),
        [n, h, w, c @ (1 | 3)] => (n, h, w, c),
        [_, _, _, c] => {
            return Err(Error::format(
                path,
                format!(
                    "shape {:?} has {c} channels in its last dimension; expected 1 or 3",
                    a.shape
                ),
            ));
        }
        _ => {
            return Err(Error::format(
                path,
                format!(
                    "shape {:?} has rank {}; expected [N, H, W] or [N, H, W, C]",
                    a.shape,
                    a.shape.len()
                ),
            ));
        }
    };
    if n == 0 || h == 0 || w == 0 {
        return Err(Error::format(
            path,
            format!("shape {:?} holds no pixels", a.shape),
        ));
    }
    let pixels = match a.dtype {
        Dtype::U8 => a.data.iter().map(|&v| f32::from(v) / 255.0).collect(),
        Dtype::F32 => unit_floats(path, &a.data, &a.shape)?,
    };
    ImageSet::new(pixels, n, h, w, c, None)
}

/// Reads any C-ordered `.npy` array of dtype `<f4` or `|u1` as `f32` values
/// as stored (no scaling), returning its shape and data.
pub fn read_npy_f32(path: &Path) -> Result<(Vec<usize>, Vec<f32>)> {
    let a = parse(path)?;
    let data = match a.dtype {
        Dtype::U8 => a.data.iter().map(|&v| f32::from(v)).collect(),
        Dtype::F32 => a.data.chunks_exact(4).map(le_f32).collect(),
    };
    Ok((a.shape, data))
}

/// Writes `data` as a C-ordered little-endian `float32` array of `shape` in
/// `.npy` format 1.0, its header padded so the data starts at a multiple of 64.
pub fn write_npy_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if count != Some(data.len()) {
        return Err(Error::invalid(format!(
            "cannot write {}: shape {shape:?} does not hold {} values",
            path.display(),
            data.len()
        )));
    }
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.as_slice() {
        [one] => format!("({one},)"),
        all => format!("({})", all.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let len = u16::try_from(header.len()).map_err(|_| {
        Error::invalid(format!(
            "cannot write {}: rank too large for an NPY header",
            path.display()
        ))
    })?;
    let io = |e| Error::io(path, e);
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    out.write_all(MAGIC).map_err(io)?;
    out.write_all(&[1, 0]).map_err(io)?;
    out.write_all(&len.to_le_bytes()).map_err(io)?;
    out.write_all(header.as_bytes()).map_err(io)?;
    for v in data {
        out.write_all(&v.to_le_bytes()).map_err(io)?;
    }
    out.into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?
        .sync_all()
        .map_err(io)
}

/// Reads and checks magic, version and header, checks the array's size
/// against the memory limit, then reads exactly the data the header
/// declares and checks that the file ends there.
fn parse(path: &Path) -> Result<Array> {
    let mut opened = gz::open(path)?;
    let head = opened.read_up_to(path, 8)?;
    if !head.starts_with(MAGIC) {
        return Err(Error::format(
            path,
            "not an NPY file (missing the \\x93NUMPY magic)",
        ));
    }
    let len = header_len(path, &head, &mut opened)?;
    let text = opened.read_up_to(path, len as u64)?;
    if text.len() < len {
        return Err(Error::format(path, "truncated NPY header"));
    }
    let text = std::str::from_utf8(&text)
        .map_err(|_| Error::format(path, "NPY header is not valid text"))?;
    let header = npy_header::parse(text)
        .map_err(|m| Error::format(path, format!("bad NPY header {text:?}: {m}")))?;
    let dtype = match header.descr.as_str() {
        "|u1" | "<u1" | ">u1" | "u1" => Dtype::U8,
        "<f4" => Dtype::F32,
        d => {
            return Err(Error::format(
                path,
                format!(
                    "unsupported dtype '{d}': elbo reads '|u1' (uint8) and '<f4' (little-endian float32)"
                ),
            ));
        }
    };
    if header.fortran_order {
        return Err(Error::format(
            path,
            "fortran_order arrays are not supported; save a C-ordered array (np.ascontiguousarray)",
        ));
    }
    let need = data_len(path, &header.shape, dtype)?;
    // The raw bytes plus their f32 copy.
    memory::check(
        &format!("{}: an array of shape {:?}", path.display(), header.shape),
        "the array's shape",
        Bytes::of(&header.shape, memory::F32).plus(Bytes(Some(need as u64))),
    )?;
    let data = read_data(path, &mut opened, need, &header.shape)?;
    Ok(Array {
        shape: header.shape,
        dtype,
        data,
    })
}

/// The header length from the version bytes in `head` (1.0: `u16` length;
/// 2.0 and 3.0: `u32`), read from `opened`; at most [`MAX_HEADER_LEN`].
fn header_len(path: &Path, head: &[u8], opened: &mut gz::Opened) -> Result<usize> {
    let short = || Error::format(path, "truncated NPY header");
    let width = match head.get(6..8).ok_or_else(short)? {
        [1, 0] => 2,
        [2 | 3, 0] => 4,
        v => {
            return Err(Error::format(
                path,
                format!("unsupported NPY format version {}.{}", v[0], v[1]),
            ));
        }
    };
    let bytes = opened.read_up_to(path, width)?;
    let len = match bytes[..] {
        [a, b] => usize::from(u16::from_le_bytes([a, b])),
        [a, b, c, d] => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => return Err(short()),
    };
    if len > MAX_HEADER_LEN {
        return Err(Error::format(
            path,
            format!("NPY header of {len} bytes is longer than the {MAX_HEADER_LEN} elbo reads"),
        ));
    }
    Ok(len)
}

/// Reads the `need` data bytes and checks that the file ends after them.
fn read_data(
    path: &Path,
    opened: &mut gz::Opened,
    need: usize,
    shape: &[usize],
) -> Result<Vec<u8>> {
    let data = opened.read_up_to(path, need as u64)?;
    if data.len() < need {
        return Err(Error::format(
            path,
            format!(
                "truncated data: shape {shape:?} needs {need} bytes, the file holds {}",
                data.len()
            ),
        ));
    }
    let extra = opened.trailing(path)?;
    if extra > 0 {
        return Err(Error::format(
            path,
            format!(
                "{} after the {need} bytes of data for shape {shape:?}",
                gz::describe_trailing(extra)
            ),
        ));
    }
    Ok(data)
}

/// The data bytes `shape` and `dtype` call for, or an error if that overflows.
fn data_len(path: &Path, shape: &[usize], dtype: Dtype) -> Result<usize> {
    shape
        .iter()
        .try_fold(dtype.size(), |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::format(path, format!("shape {shape:?} is too large")))
}

/// Decodes `<f4` data that must lie in `[0, 1]`, naming the first bad value.
fn unit_floats(path: &Path, data: &[u8], shape: &[usize]) -> Result<Vec<f32>> {
    let out: Vec<f32> = data.chunks_exact(4).map(le_f32).collect();
    if let Some(i) = out.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::format(
            path,
            format!(
                "float32 value {} at flat index {i} (of shape {shape:?}) is outside [0, 1]; \
                 scale pixels to [0, 1] or save them as uint8",
                out[i]
            ),
        ));
    }
    Ok(out)
}

/// A little-endian `f32` from a 4-byte chunk.
fn le_f32(b: &[u8]) -> f32 {
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parser_handles_numpy_spellings() {
        let h =
            npy_header::parse("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }").unwrap();
        assert_eq!(
            (h.descr.as_str(), h.fortran_order, h.shape),
            ("|u1", false, vec![3])
        );
        let h = npy_header::parse("{\"shape\":(2L, 4),\"descr\":\"<f4\",\"fortran_order\":True}")
            .unwrap();
        assert_eq!(
            (h.descr.as_str(), h.fortran_order, h.shape),
            ("<f4", true, vec![2, 4])
        );
        assert!(
            npy_header::parse("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}")
                .is_err()
        );
        assert!(npy_header::parse("{'descr': '<f4'").is_err());
    }

    #[test]
    fn writer_round_trips_and_aligns_to_64() {
        let dir = tempfile::tempdir().unwrap();
        for shape in [vec![6usize], vec![2, 3], vec![1, 2, 3, 1]] {
            let p = dir.path().join("e.npy");
            let data: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
            write_npy_f32(&p, &shape, &data).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!((bytes.len() - 24) % 64, 0);
            assert_eq!(bytes[10 + usize::from(bytes[8]) - 1], b'\n');
            assert_eq!(read_npy_f32(&p).unwrap(), (shape, data));
        }
        let p = dir.path().join("bad.npy");
        assert!(write_npy_f32(&p, &[2, 2], &[0.0; 3]).is_err());
    }
}
