//! Downloading MNIST (the backend of `elbo data download mnist`).
//!
//! Each file is streamed into `NAME.part` next to its destination, its SHA-256
//! checked, synced to disk and only then renamed to `NAME`, so a file under its
//! final name is always complete and correct. Files already present with the
//! right hash are not fetched again; mirrors are tried in order.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

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

/// Downloads each `(name, sha256)` of `files` into `dir` from `MIRROR + name`,
/// trying `mirrors` in order, skipping files already present with the right
/// hash; returns the final paths in the order of `files`.
///
/// A download whose hash is wrong is deleted and the next mirror tried; when
/// every mirror fails the error names each URL and what went wrong.
pub fn download_files(
    dir: &Path,
    mirrors: &[&str],
    files: &[(&str, &str)],
) -> Result<Vec<PathBuf>> {
    if mirrors.is_empty() {
        return Err(Error::invalid("no download mirrors given"));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    files
        .iter()
        .map(|&(name, sha)| fetch_file(&agent, dir, mirrors, name, sha))
        .collect()
}

/// Makes `dir/name` hold the file with hash `sha`, downloading it if needed.
fn fetch_file(
    agent: &ureq::Agent,
    dir: &Path,
    mirrors: &[&str],
    name: &str,
    sha: &str,
) -> Result<PathBuf> {
    let dest = dir.join(name);
    if dest.is_file() && sha256_file(&dest)?.eq_ignore_ascii_case(sha) {
        return Ok(dest);
    }
    let mut failures: Vec<(String, String)> = Vec::new();
    for mirror in mirrors {
        let url = join_url(mirror, name);
        match fetch_to(agent, &url, &dest, sha)? {
            Ok(()) => return Ok(dest),
            Err(msg) => failures.push((url, msg)),
        }
    }
    let url = failures.last().map(|(u, _)| u.clone()).unwrap_or_default();
    let msg = match failures.as_slice() {
        [(_, one)] => one.clone(),
        all => {
            let each: Vec<String> = all.iter().map(|(u, m)| format!("{u}: {m}")).collect();
            format!("every mirror failed: {}", each.join("; "))
        }
    };
    Err(Error::Download { url, msg })
}

/// Streams `url` into `dest.part`, checks its hash and renames it to `dest`.
/// The outer error is a local failure (stop); the inner one a failure of this
/// mirror (try the next).
fn fetch_to(agent: &ureq::Agent, url: &str, dest: &Path, sha: &str) -> Result<Result<(), String>> {
    let response = match agent.get(url).call() {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut body = response.into_body().into_reader();
    let part = PartFile::create(dest)?;
    let mut file = &part.file;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Ok(Err(format!("transfer failed: {e}"))),
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| Error::io(&part.path, e))?;
    }
    let actual = hex(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(sha) {
        return Ok(Err(format!(
            "sha256 mismatch: expected {sha}, got {actual}; the partial file was deleted"
        )));
    }
    part.commit(dest)?;
    Ok(Ok(()))
}

/// `NAME.part` being written; deleted on drop unless committed.
struct PartFile {
    path: PathBuf,
    file: File,
    keep: bool,
}

impl PartFile {
    /// Creates (truncating) the `.part` file beside `dest`.
    fn create(dest: &Path) -> Result<PartFile> {
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        let path = dest.with_file_name(name);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(PartFile {
            path,
            file,
            keep: false,
        })
    }

    /// Syncs the data to disk and renames the file to `dest`.
    fn commit(mut self, dest: &Path) -> Result<()> {
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        std::fs::rename(&self.path, dest).map_err(|e| Error::io(dest, e))?;
        self.keep = true;
        if let Some(dir) = dest.parent() {
            // Persist the rename too; not every platform can sync a folder.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `mirror` and `name` joined with exactly one `/`.
fn join_url(mirror: &str, name: &str) -> String {
    format!("{}/{name}", mirror.trim_end_matches('/'))
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
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join_url("http://h/a/", "f.gz"), "http://h/a/f.gz");
        assert_eq!(join_url("http://h/a", "f.gz"), "http://h/a/f.gz");
    }

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
