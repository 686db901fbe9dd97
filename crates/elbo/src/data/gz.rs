//! Opening data files that may or may not be gzip-compressed. Compression is
//! detected from the magic bytes `1f 8b`, not from the file name.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::{Error, Result};

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Capacity reserved up front for a body, whatever size a header claims:
/// larger bodies grow as their bytes actually arrive, so a header (or a gzip
/// trailer) that lies cannot make elbo reserve memory the file does not fill.
const INITIAL_RESERVE: u64 = 1 << 24;

/// How many trailing bytes are counted for the error message after a body
/// that should have ended; a bomb's tail is not decompressed to the end.
const TAIL_COUNT_CAP: u64 = 1 << 20;

/// A data file opened for reading, decompressing on the fly if it is gzip.
pub(crate) struct Opened {
    /// The (decompressed) contents.
    pub reader: Box<dyn BufRead>,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
    /// The file's length, for a raw file: no read can return more, so it
    /// bounds what is worth reserving (for gzip nothing is trusted).
    raw_len: Option<u64>,
}

/// Opens `path`, failing if it does not exist, is not a regular file (a
/// FIFO or a device would block or never end) or has zero bytes.
pub(crate) fn open(path: &Path) -> Result<Opened> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::format(
            path,
            "is not a regular file (a folder, FIFO, socket or device); give a data file",
        ));
    }
    if meta.len() == 0 {
        return Err(Error::format(path, "file is empty"));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = BufReader::with_capacity(1 << 16, file);
    let head = buf.fill_buf().map_err(|e| Error::io(path, e))?;
    let gzip = head.starts_with(&GZIP_MAGIC);
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(buf)))
    } else {
        Box::new(buf)
    };
    let raw_len = (!gzip).then_some(meta.len());
    Ok(Opened {
        reader,
        gzip,
        raw_len,
    })
}

impl Opened {
    /// Reads up to `len` (decompressed) bytes: fewer only where the stream
    /// ends first. Never reads past `len`.
    pub fn read_up_to(&mut self, path: &Path, len: u64) -> Result<Vec<u8>> {
        let reserve = len.min(self.raw_len.unwrap_or(INITIAL_RESERVE));
        let mut out = Vec::with_capacity(reserve as usize);
        (&mut self.reader)
            .take(len)
            .read_to_end(&mut out)
            .map_err(|e| read_error(path, self.gzip, e))?;
        Ok(out)
    }

    /// How many bytes follow (counted up to [`TAIL_COUNT_CAP`]; `Ok(0)` at
    /// the end of the stream, where gzip has checked its CRC trailer).
    pub fn trailing(&mut self, path: &Path) -> Result<u64> {
        io::copy(
            &mut (&mut self.reader).take(TAIL_COUNT_CAP),
            &mut io::sink(),
        )
        .map_err(|e| read_error(path, self.gzip, e))
    }
}

/// "N unexpected bytes" or "more than 1 MiB of unexpected bytes".
pub(crate) fn describe_trailing(count: u64) -> String {
    match count >= TAIL_COUNT_CAP {
        true => format!("more than {} unexpected bytes", TAIL_COUNT_CAP),
        false => format!("{count} unexpected bytes"),
    }
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
        assert_eq!(open(&raw).unwrap().read_up_to(&raw, 99).unwrap(), b"hello");
        assert_eq!(open(&gz).unwrap().read_up_to(&gz, 99).unwrap(), b"hello");
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
        assert!(open(&empty).err().unwrap().to_string().contains("empty"));
        let bad = dir.path().join("bad.gz");
        let mut bytes = gzip(&[7u8; 1000]);
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&bad, bytes).unwrap();
        let mut o = open(&bad).unwrap();
        let msg = o.read_up_to(&bad, 5000).unwrap_err().to_string();
        assert!(msg.contains("bad.gz") && msg.contains("gzip"), "{msg}");
    }

    #[test]
    fn reading_stops_at_the_requested_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.gz");
        std::fs::write(&p, gzip(&vec![0u8; 3 << 20])).unwrap();
        let mut o = open(&p).unwrap();
        assert_eq!(o.read_up_to(&p, 10).unwrap().len(), 10);
        assert_eq!(o.trailing(&p).unwrap(), TAIL_COUNT_CAP);
        assert!(describe_trailing(TAIL_COUNT_CAP).starts_with("more than"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pipe.npy");
        let made = std::process::Command::new("mkfifo").arg(&p).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this system: nothing to check
        }
        let msg = open(&p).err().unwrap().to_string();
        assert!(
            msg.contains("pipe.npy") && msg.contains("not a regular file"),
            "{msg}"
        );
    }
}
