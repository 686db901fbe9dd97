//! One writer per run folder: an advisory lock on `RUN/.lock`, held for
//! the whole of a training run, a resume or a `--force` overwrite. Readers
//! (`sample`, `eval`, `plot`, the report) take no lock: a checkpoint is
//! committed by one rename, so they always see a complete one.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on
//! Windows, through `std::fs::File::try_lock`), so it dies with its
//! process: a crashed writer never leaves a folder locked. The file stays
//! (removing it would let two processes lock two different files); it
//! holds the PID of the last process that locked it, for the error message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};

use super::RunDir;
use crate::{Error, Result};

/// Proof that this process holds the write lock of a run folder; the lock
/// is released when it is dropped.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

impl RunDir {
    /// Creates the folder if needed and takes its write lock, or fails at
    /// once naming the process that holds it.
    pub fn lock(&self) -> Result<WriteLock> {
        crate::fsutil::create_dir_all(&self.root)?;
        let path = self.lock_file();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_string(),
                    pid => format!("process {pid}"),
                };
                return Err(Error::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!(
                            "{} is being written by {holder} (an elbo train, resume or --force); wait for it to finish or stop it first",
                            self.root.display()
                        ),
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let pid = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(pid.as_bytes()))
            .map_err(|e| Error::io(&path, e))?;
        Ok(WriteLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_folder_fails_naming_the_holder_and_works_after_release() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("run"));
        let first = dir.lock().expect("the first writer locks");
        let err = dir
            .lock()
            .expect_err("a second writer is refused")
            .to_string();
        assert!(err.contains(".lock"), "{err}");
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(first);
        dir.lock().expect("the lock is free again once released");
    }
}
