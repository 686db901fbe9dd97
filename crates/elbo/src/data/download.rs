//! Downloading data sets (the backend of `elbo data download`).
//!
//! Each file is streamed into `NAME.part` next to its destination, its SHA-256
//! checked, synced to disk and only then renamed to `NAME`, so a file under its
//! final name is always complete and correct; a failed file leaves no `.part`
//! behind. Files already present with the right hash are not fetched again;
//! mirrors are tried in order. An overall deadline and a stall timeout
//! ([`DownloadOptions`]) keep a dead or trickling server from hanging it.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::fetch::Fetch;

use crate::{Error, Result};

/// Where torchvision fetches MNIST from, in the order tried.
pub const MNIST_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

/// The four MNIST files and their SHA-256 hashes.
pub const MNIST_FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        "b09d8b89df4ad239afc76a323dbe9559169cd8cca365467dfe8aa1f7ca54109b",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "c51906e7929bbf7c824fbd16019b56297269ca82cba449c5b5d59c0a02147fed",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "f72c2dff3457595ec2fe452d25d97b7f974a74ad5b006687704212bedd1486d8",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "4baf84ddd60ae342cfdd282ec3fba3249a201a4459782165496a7cbebbe49a2e",
    ),
];

/// elbo's cache folder: `$ELBO_CACHE`, else `$XDG_CACHE_HOME/elbo`, else
/// `~/.cache/elbo`, else `.elbo-cache` in the working folder.
pub fn cache_root() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("ELBO_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("elbo")))
        .or_else(|| std::env::home_dir().map(|h| h.join(".cache").join("elbo")))
        .unwrap_or_else(|| PathBuf::from(".elbo-cache"))
}

/// The default folder MNIST is downloaded to: [`cache_root`]`/mnist`.
pub fn default_cache_dir() -> PathBuf {
    cache_root().join("mnist")
}

/// Downloads the four [`MNIST_FILES`] into `dir` (created if needed) from the
/// first of `mirrors` that serves each correctly; returns their paths.
///
/// ```no_run
/// use elbo::data::download::{default_cache_dir, download_mnist, MNIST_MIRRORS};
///
/// let files = download_mnist(&default_cache_dir(), &MNIST_MIRRORS)?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn download_mnist(dir: &Path, mirrors: &[&str]) -> Result<Vec<PathBuf>> {
    download_files(dir, mirrors, &MNIST_FILES)
}

/// How long a download may take, and whether it shows a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DownloadOptions {
    /// For all the files of one call together, mirrors included: past it
    /// the download stops with an error.
    pub deadline: Duration,
    /// A mirror that sends fewer than [`STALL_BYTES`] in this long (or
    /// nothing at all) has stalled: the next mirror is tried.
    pub stall: Duration,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// Bytes a mirror must send per stall window not to count as stalled: a
/// server trickling a byte every few seconds is as good as a dead one.
pub const STALL_BYTES: u64 = 1024;
/// Environment variable overriding [`DownloadOptions::deadline`] (seconds).
pub const DEADLINE_ENV: &str = "ELBO_DOWNLOAD_DEADLINE";
/// Environment variable overriding [`DownloadOptions::stall`] (seconds).
pub const STALL_ENV: &str = "ELBO_DOWNLOAD_STALL";

impl Default for DownloadOptions {
    /// One hour in all, 60 s without progress, a bar when stderr is a terminal.
    fn default() -> Self {
        DownloadOptions {
            deadline: Duration::from_secs(3600),
            stall: Duration::from_secs(60),
            progress: std::io::stderr().is_terminal(),
        }
    }
}

impl DownloadOptions {
    /// The defaults, with the deadline and stall time read from
    /// [`DEADLINE_ENV`] and [`STALL_ENV`] (seconds) where they are set.
    pub fn from_env() -> Result<Self> {
        let mut opts = DownloadOptions::default();
        for (name, field) in [
            (DEADLINE_ENV, &mut opts.deadline),
            (STALL_ENV, &mut opts.stall),
        ] {
            if let Some(v) = std::env::var_os(name).filter(|v| !v.is_empty()) {
                *field = parse_seconds(&v.to_string_lossy())
                    .map_err(|e| Error::invalid(format!("environment variable {name}: {e}")))?;
            }
        }
        Ok(opts)
    }
}

/// A positive, finite number of seconds, such as `90` or `0.5`.
pub fn parse_seconds(s: &str) -> std::result::Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v < 1e9 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

/// Downloads each `(name, sha256)` of `files` into `dir` from `MIRROR + name`,
/// trying `mirrors` in order, skipping files already present with the right
/// hash; returns the final paths in the order of `files`. Limits and
/// progress bar as [`DownloadOptions::from_env`] says.
///
/// A download whose hash is wrong, or that fails or stalls, is deleted and
/// the next mirror tried; when every mirror fails the error names each URL
/// in the order tried and what went wrong.
pub fn download_files(
    dir: &Path,
    mirrors: &[&str],
    files: &[(&str, &str)],
) -> Result<Vec<PathBuf>> {
    download_files_with(dir, mirrors, files, &DownloadOptions::from_env()?)
}

/// [`download_files`] with explicit limits: past `opts.deadline` the
/// download stops with an error naming the mirrors tried, and no `.part`
/// file is left behind; so does a stop request (Ctrl-C with
/// [`crate::device::install_interrupt_handler`]) once the next bytes arrive.
pub fn download_files_with(
    dir: &Path,
    mirrors: &[&str],
    files: &[(&str, &str)],
    opts: &DownloadOptions,
) -> Result<Vec<PathBuf>> {
    if mirrors.is_empty() {
        return Err(Error::invalid("no download mirrors given"));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let fetch = Fetch::new(opts);
    files
        .iter()
        .map(|&(name, sha)| fetch.file(dir, mirrors, name, sha))
        .collect()
}

/// The lower-case hex SHA-256 of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cache_dir_ends_in_mnist() {
        assert!(default_cache_dir().ends_with("mnist"));
    }
}
