//! Fetching one file from a list of mirrors into `NAME.part`, within an
//! overall deadline and a stall timeout, with a progress bar; the part file
//! is renamed into place only once its SHA-256 matches.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::download::{DEADLINE_ENV, DownloadOptions, STALL_BYTES, hex, sha256_file};
use crate::{Error, Result};

/// One call's agent and limits.
pub(super) struct Fetch {
    agent: ureq::Agent,
    opts: DownloadOptions,
    deadline: Instant,
}

/// Why one mirror did not deliver a file.
enum Failure {
    /// This mirror failed: try the next one.
    Mirror(String),
    /// The overall deadline passed: stop.
    Deadline(String),
}

impl Fetch {
    /// An agent whose deadline starts now.
    pub(super) fn new(opts: &DownloadOptions) -> Fetch {
        Fetch {
            agent: ureq::Agent::config_builder().build().into(),
            opts: *opts,
            deadline: Instant::now() + opts.deadline,
        }
    }

    /// Makes `dir/name` hold the file with hash `sha`, downloading it if needed.
    pub(super) fn file(
        &self,
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
        let mut over = false;
        for mirror in mirrors {
            let url = join_url(mirror, name);
            match self.to(&url, &dest, sha)? {
                Ok(()) => return Ok(dest),
                Err(Failure::Mirror(msg)) => failures.push((url, msg)),
                Err(Failure::Deadline(msg)) => {
                    failures.push((url, msg));
                    over = true;
                    break;
                }
            }
        }
        Err(failure_error(&failures, over, self.opts.deadline))
    }

    /// Streams `url` into `dest.part`, checks its hash and renames it to
    /// `dest`. The outer error is a local failure (stop).
    fn to(&self, url: &str, dest: &Path, sha: &str) -> Result<std::result::Result<(), Failure>> {
        let Some(left) = self.deadline.checked_duration_since(Instant::now()) else {
            return Ok(Err(self.deadline_passed(0)));
        };
        let request = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(left))
            .timeout_connect(Some(left.min(Duration::from_secs(30))))
            .timeout_per_read(Some(self.opts.stall))
            .build();
        let response = match request.call() {
            Ok(r) => r,
            Err(e) => return Ok(Err(self.classify(e.to_string(), 0))),
        };
        let bar = progress_bar(self.opts.progress, response.body().content_length(), url);
        let mut body = response.into_body().into_reader();
        let part = PartFile::create(dest)?;
        let copied = match self.copy(&mut body, &part, &bar)? {
            Ok(hash) => hash,
            Err(failure) => return Ok(Err(failure)),
        };
        bar.finish_and_clear();
        if !copied.eq_ignore_ascii_case(sha) {
            return Ok(Err(Failure::Mirror(format!(
                "sha256 mismatch: expected {sha}, got {copied}; the partial file was deleted"
            ))));
        }
        part.commit(dest)?;
        Ok(Ok(()))
    }

    /// Copies `body` into `part`, returning its SHA-256, or why this mirror
    /// failed (an error, a stall, the deadline).
    fn copy(
        &self,
        body: &mut impl Read,
        part: &PartFile,
        bar: &ProgressBar,
    ) -> Result<std::result::Result<String, Failure>> {
        let mut file = &part.file;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let (mut total, mut window_start, mut window_bytes) = (0u64, Instant::now(), 0u64);
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Ok(Err(self.classify(format!("transfer failed: {e}"), total))),
            };
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])
                .map_err(|e| Error::io(&part.path, e))?;
            (total, window_bytes) = (total + n as u64, window_bytes + n as u64);
            bar.inc(n as u64);
            if crate::device::take_stop_request() {
                return Err(Error::invalid(
                    "download interrupted (Ctrl-C); the partial file was deleted",
                ));
            }
            if Instant::now() >= self.deadline {
                return Ok(Err(self.deadline_passed(total)));
            }
            if window_start.elapsed() >= self.opts.stall {
                if window_bytes < STALL_BYTES {
                    return Ok(Err(Failure::Mirror(format!(
                        "stalled: {window_bytes} bytes in {:.1} s (after {total} bytes)",
                        window_start.elapsed().as_secs_f64()
                    ))));
                }
                (window_start, window_bytes) = (Instant::now(), 0);
            }
        }
        Ok(Ok(hex(&hasher.finalize())))
    }

    /// A network error after `bytes` bytes: the deadline's if it has passed,
    /// else a failure of this mirror (a timeout then means it stalled).
    fn classify(&self, msg: String, bytes: u64) -> Failure {
        if Instant::now() >= self.deadline {
            return self.deadline_passed(bytes);
        }
        if msg.contains("timeout") || msg.contains("timed out") {
            let stall = self.opts.stall.as_secs_f64();
            return Failure::Mirror(format!(
                "stalled: nothing received for {stall:.1} s ({msg})"
            ));
        }
        Failure::Mirror(msg)
    }

    fn deadline_passed(&self, bytes: u64) -> Failure {
        Failure::Deadline(format!("the deadline passed after {bytes} bytes"))
    }
}

/// The error once a file could not be fetched: every URL in the order
/// tried with what went wrong.
fn failure_error(failures: &[(String, String)], over: bool, deadline: Duration) -> Error {
    let url = failures.last().map(|(u, _)| u.clone()).unwrap_or_default();
    let each: Vec<String> = failures.iter().map(|(u, m)| format!("{u}: {m}")).collect();
    let msg = match (over, failures) {
        (true, _) => format!(
            "stopped at the download deadline of {:.1} s ({DEADLINE_ENV} or --deadline changes it); mirrors tried in order: {}",
            deadline.as_secs_f64(),
            each.join("; ")
        ),
        (false, [(_, one)]) => one.clone(),
        (false, _) => format!(
            "every mirror failed; mirrors tried in order: {}",
            each.join("; ")
        ),
    };
    Error::Download { url, msg }
}

/// A bar of `len` bytes (a spinner when unknown) on stderr, or a hidden one.
fn progress_bar(show: bool, len: Option<u64>, url: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let name = url.rsplit('/').next().unwrap_or(url).to_string();
    let bar = match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner(),
    };
    bar.with_message(name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join_url("http://h/a/", "f.gz"), "http://h/a/f.gz");
        assert_eq!(join_url("http://h/a", "f.gz"), "http://h/a/f.gz");
    }
}
