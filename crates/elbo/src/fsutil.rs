//! Durable file writes: write a temporary sibling, fsync it, rename it into
//! place, fsync the folder. A reader (or a crash, or a power cut) never sees
//! a half-written file, and the previous version stays intact until the new
//! one is complete and its rename is on disk.
//!
//! Every filesystem step that changes a run folder goes through this module
//! and passes a fault point first (see [`fault_point`]), so a test can kill
//! the process, or make the step fail with "no space left on device", at
//! each one in turn.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{Error, Result};

/// The environment variable naming the step at which a fault is injected
/// (1-based, counted over the whole process).
pub const FAULT_AT_VAR: &str = "ELBO_FAULT_AT";
/// The environment variable choosing the fault: `abort` (the default: the
/// process dies there, as under `kill -9`) or `enospc` (the step fails with
/// "no space left on device").
pub const FAULT_KIND_VAR: &str = "ELBO_FAULT";

#[derive(Clone, Copy)]
enum Fault {
    Abort,
    NoSpace,
}

fn configured_fault() -> Option<(usize, Fault)> {
    static FAULT: OnceLock<Option<(usize, Fault)>> = OnceLock::new();
    *FAULT.get_or_init(|| {
        let at = std::env::var(FAULT_AT_VAR).ok()?.parse::<usize>().ok()?;
        let kind = match std::env::var(FAULT_KIND_VAR).as_deref() {
            Ok("enospc") => Fault::NoSpace,
            _ => Fault::Abort,
        };
        Some((at, kind))
    })
}

/// Counts one filesystem step (`what` on `path`). With `ELBO_FAULT_AT=N`
/// set, the N-th step aborts the process or fails with ENOSPC instead of
/// running; otherwise this only counts.
pub fn fault_point(what: &str, path: &Path) -> std::io::Result<()> {
    static STEPS: AtomicUsize = AtomicUsize::new(0);
    let n = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
    match configured_fault() {
        Some((at, Fault::Abort)) if at == n => {
            eprintln!(
                "fault injected: abort at step {n} ({what} {})",
                path.display()
            );
            std::process::abort()
        }
        Some((at, Fault::NoSpace)) if at == n => Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("no space left on device (injected at step {n}, {what})"),
        )),
        _ => Ok(()),
    }
}

/// The temporary sibling used while `path` is being written.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Whether `name` is a temporary sibling this module writes
/// (`NAME.PID.tmp`), left behind by a process that died while writing.
pub fn is_temp_name(name: &str) -> bool {
    name.strip_suffix(".tmp")
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(base, pid)| {
            !base.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The folder holding `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Flushes `dir`'s entries (a rename, a new or removed file) to disk.
pub fn sync_dir(dir: &Path) -> Result<()> {
    sync_dir_io(dir).map_err(|e| Error::io(dir, e))
}

fn sync_dir_io(dir: &Path) -> std::io::Result<()> {
    fault_point("fsync", dir)?;
    // Windows cannot open a folder as a file; its renames are durable once
    // they return (MoveFileEx with write-through is what std uses).
    if cfg!(unix) {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (temp file + fsync + rename + fsync
/// of the folder).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write_with(path, |f| f.write_all(bytes))
}

/// Runs `write` on a temporary sibling of `path`, then renames it into place.
pub fn atomic_write_with(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_sibling(path);
    let result = (|| {
        fault_point("write", &tmp)?;
        let mut file = fs::File::create(&tmp)?;
        write(&mut file)?;
        fault_point("fsync", &tmp)?;
        file.sync_all()?;
        fault_point("rename", path)?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir(parent(path))
}

/// Writes `bytes` to a new file `path` and fsyncs it (no rename: for files
/// in a folder that nothing reads until it is committed).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let result = (|| {
        fault_point("write", path)?;
        let mut file = fs::File::create(path)?;
        file.write_all(bytes)?;
        fault_point("fsync", path)?;
        file.sync_all()
    })();
    result.map_err(|e| Error::io(path, e))
}

/// Makes `path` a hard link to `target` atomically (link a temporary
/// sibling, rename it into place, fsync the folder); where the filesystem
/// has no hard links, an atomic copy of `bytes` (`target`'s contents).
pub fn atomic_link(target: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_sibling(path);
    let _ = fs::remove_file(&tmp);
    let linked = (|| {
        fault_point("link", &tmp)?;
        fs::hard_link(target, &tmp)
    })();
    if let Err(e) = linked {
        if e.kind() == std::io::ErrorKind::StorageFull {
            return Err(Error::io(path, e));
        }
        return atomic_write(path, bytes);
    }
    let renamed = fault_point("rename", path).and_then(|_| fs::rename(&tmp, path));
    if let Err(e) = renamed {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir(parent(path))
}

/// Creates the folder `dir` (its parent must exist), naming it in the error.
pub fn create_dir(dir: &Path) -> Result<()> {
    fault_point("mkdir", dir)
        .and_then(|_| fs::create_dir(dir))
        .map_err(|e| Error::io(dir, e))
}

/// Creates `dir` and its parents, naming it in the error.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Removes the file `path`; a file already gone is not an error.
pub fn remove_file(path: &Path) -> Result<()> {
    let result = fault_point("remove", path).and_then(|_| fs::remove_file(path));
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Removes the folder `dir` and everything in it; a folder already gone is
/// not an error.
pub fn remove_dir_all(dir: &Path) -> Result<()> {
    let result = fault_point("remove", dir).and_then(|_| fs::remove_dir_all(dir));
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(dir, e)),
        _ => Ok(()),
    }
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognized_and_others_are_not() {
        let tmp = temp_sibling(Path::new("run/state.json"));
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name), "{name}");
        for other in ["state.json", "notes.tmp", "a.b.tmp", ".1.tmp", "x.12a.tmp"] {
            assert!(!is_temp_name(other), "{other}");
        }
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
