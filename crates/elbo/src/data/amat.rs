//! The `.amat` text format of binarized MNIST (Larochelle & Murray, 2011):
//! one 28x28 image per line, 784 whitespace-separated values, each 0 or 1,
//! raw or gzip-compressed.

use std::io::{BufRead, Read};
use std::path::Path;

use super::{ImageSet, gz};
use crate::memory::{self, Bytes};
use crate::{Error, Result};

/// Side of an `.amat` image.
pub const AMAT_SIDE: usize = 28;
/// Values per `.amat` line.
pub const AMAT_DIM: usize = AMAT_SIDE * AMAT_SIDE;

/// The longest line read: 784 values of up to 80 characters each, far more
/// than any writer of 0s and 1s produces. A longer line is refused after
/// this many bytes instead of being held whole in memory.
const MAX_LINE: u64 = (AMAT_DIM * 80) as u64;

/// Images between two checks of the growing set against the memory limit.
const CHECK_EVERY: usize = 4096;

/// Reads a binarized-MNIST `.amat` file (raw or gzip) into a 28x28x1
/// [`ImageSet`] without labels.
///
/// Each value must be numerically exactly 0 or 1 (`0`, `1`, `0.0`, `1.000`,
/// `1e0` are all accepted). Blank lines are only allowed at the end of the file.
pub fn read_amat(path: &Path) -> Result<ImageSet> {
    let mut opened = gz::open(path)?;
    let mut pixels = Vec::new();
    let mut line = Vec::with_capacity(2 * AMAT_DIM + 16);
    let mut lineno = 0usize;
    let mut blank: Option<usize> = None;
    loop {
        line.clear();
        let read = (&mut opened.reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| gz::read_error(path, opened.gzip, e))?;
        if read == 0 {
            break;
        }
        lineno += 1;
        if read as u64 > MAX_LINE {
            return Err(Error::format(
                path,
                format!(
                    "line {lineno} is longer than {MAX_LINE} bytes; an image line holds {AMAT_DIM} values 0 or 1"
                ),
            ));
        }
        check_growth(path, pixels.len() / AMAT_DIM)?;
        if line.iter().all(u8::is_ascii_whitespace) {
            blank.get_or_insert(lineno);
            continue;
        }
        if let Some(b) = blank {
            return Err(Error::format(
                path,
                format!("line {b} is blank but more images follow it"),
            ));
        }
        parse_line(path, lineno, &line, &mut pixels)?;
    }
    if pixels.is_empty() {
        return Err(Error::format(
            path,
            "file holds no images (only blank lines)",
        ));
    }
    let n = pixels.len() / AMAT_DIM;
    ImageSet::new(pixels, n, AMAT_SIDE, AMAT_SIDE, 1, None)
}

/// Every [`CHECK_EVERY`] images, checks that the set can grow by as many
/// again within the memory limit (a highly compressed file can hold
/// millions of lines).
fn check_growth(path: &Path, images: usize) -> Result<()> {
    if !images.is_multiple_of(CHECK_EVERY) {
        return Ok(());
    }
    let next = images.saturating_add(CHECK_EVERY);
    memory::check(
        &format!("{}: {next} images of 28x28", path.display()),
        "the number of lines in the file",
        Bytes::of(&[next, AMAT_DIM], memory::F32),
    )
}

/// Appends the 784 values of line `lineno` to `out`, or explains what is wrong.
fn parse_line(path: &Path, lineno: usize, line: &[u8], out: &mut Vec<f32>) -> Result<()> {
    let start = out.len();
    let mut count = 0usize;
    for token in line
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
    {
        count += 1;
        if count > AMAT_DIM {
            continue;
        }
        match binary_value(token) {
            Some(v) => out.push(v),
            None => {
                out.truncate(start);
                return Err(Error::format(
                    path,
                    format!(
                        "line {lineno}, column {count}: value {:?} is not 0 or 1",
                        String::from_utf8_lossy(token)
                    ),
                ));
            }
        }
    }
    if count != AMAT_DIM {
        out.truncate(start);
        return Err(Error::format(
            path,
            format!("line {lineno} has {count} values, expected {AMAT_DIM} (28x28)"),
        ));
    }
    Ok(())
}

/// `Some(0.0)` or `Some(1.0)` if the token is numerically 0 or 1.
fn binary_value(token: &[u8]) -> Option<f32> {
    match token {
        b"0" => Some(0.0),
        b"1" => Some(1.0),
        _ => {
            let v: f64 = std::str::from_utf8(token).ok()?.parse().ok()?;
            if v == 0.0 {
                Some(0.0)
            } else if v == 1.0 {
                Some(1.0)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_forms_of_zero_and_one_are_accepted() {
        for (t, v) in [
            ("0", 0.0),
            ("1", 1.0),
            ("0.0", 0.0),
            ("1.000", 1.0),
            ("1e0", 1.0),
            ("-0", 0.0),
        ] {
            assert_eq!(binary_value(t.as_bytes()), Some(v), "{t}");
        }
        for t in ["2", "0.5", "x", "nan", "1.0001"] {
            assert_eq!(binary_value(t.as_bytes()), None, "{t}");
        }
    }

    #[test]
    fn blank_line_in_the_middle_is_an_error_but_trailing_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.amat");
        let row = vec!["1"; AMAT_DIM].join(" ");
        std::fs::write(&p, format!("{row}\n{row}\n\n  \n")).unwrap();
        assert_eq!(read_amat(&p).unwrap().n, 2);
        std::fs::write(&p, format!("{row}\n\n{row}\n")).unwrap();
        let msg = read_amat(&p).unwrap_err().to_string();
        assert!(msg.contains("line 2 is blank"), "{msg}");
    }

    #[test]
    fn an_overlong_line_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.amat");
        std::fs::write(&p, "0 ".repeat(MAX_LINE as usize)).unwrap();
        let msg = read_amat(&p).unwrap_err().to_string();
        assert!(msg.contains("line 1 is longer than"), "{msg}");
    }
}
