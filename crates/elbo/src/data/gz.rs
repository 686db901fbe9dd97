//! Opening data files that may or may not be gzip-compressed. Compression is
//! detected from the magic bytes `1f 8b`, not from the file name.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::{Error, Result};

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Upper bound on the capacity reserved from the gzip size trailer, so that a
/// corrupt trailer cannot make us reserve absurd amounts of memory up front.
const MAX_PREALLOC: usize = 1 << 30;

/// A data file opened for reading, decompressing on the fly if it is gzip.
pub(crate) struct Opened {
    /// The (decompressed) contents.
    pub reader: Box<dyn BufRead>,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
}

/// Opens `path`, failing if it does not exist or has zero bytes.
pub(crate) fn open(path: &Path) -> Result<Opened> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return Err(Error::format(path, "file is empty"));
    }
    let mut buf = BufReader::with_capacity(1 << 16, file);
    let head = buf.fill_buf().map_err(|e| Error::io(path, e))?;
    let gzip = head.starts_with(&GZIP_MAGIC);
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(buf)))
    } else {
        Box::new(buf)
    };
    Ok(Opened { reader, gzip })
}

/// Reads the whole (decompressed) contents of `path`. Fails if the file is
/// missing, empty, or decompresses to nothing.
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if raw.is_empty() {
        return Err(Error::format(path, "file is empty"));
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(gzip_size_hint(&raw));
    MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| read_error(path, true, e))?;
    if out.is_empty() {
        return Err(Error::format(
            path,
            "file is empty after gzip decompression",
        ));
    }
    Ok(out)
}

/// Turns an error met while reading `path` into an [`Error`]: corrupt gzip
/// data becomes a format error, anything else an I/O error.
pub(crate) fn read_error(path: &Path, gzip: bool, e: io::Error) -> Error {
    let corrupt = matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    );
    if gzip && corrupt {
        Error::format(path, format!("corrupt or truncated gzip data: {e}"))
    } else {
        Error::io(path, e)
    }
}

/// The uncompressed size recorded in the gzip trailer (modulo 2^32), capped.
fn gzip_size_hint(raw: &[u8]) -> usize {
    match raw.len().checked_sub(4).and_then(|at| raw.get(at..)) {
        Some(&[a, b, c, d]) => (u32::from_le_bytes([a, b, c, d]) as usize).min(MAX_PREALLOC),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzip_alike_regardless_of_name() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("a.gz");
        std::fs::write(&raw, b"hello").unwrap();
        let gz = dir.path().join("b.bin");
        std::fs::write(&gz, gzip(b"hello")).unwrap();
        assert_eq!(read_all(&raw).unwrap(), b"hello");
        assert_eq!(read_all(&gz).unwrap(), b"hello");
        let mut s = String::new();
        let mut o = open(&gz).unwrap();
        assert!(o.gzip);
        o.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }

    #[test]
    fn empty_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e");
        std::fs::write(&empty, b"").unwrap();
        assert!(read_all(&empty).unwrap_err().to_string().contains("empty"));
        assert!(open(&empty).is_err());
        let bad = dir.path().join("bad.gz");
        let mut bytes = gzip(&[7u8; 1000]);
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&bad, bytes).unwrap();
        let msg = read_all(&bad).unwrap_err().to_string();
        assert!(msg.contains("bad.gz") && msg.contains("gzip"), "{msg}");
    }
}
