//! The library's one error type. Every variant that concerns a file names it,
//! so the CLI can print one clear line and exit non-zero.

use std::path::PathBuf;

/// Result alias used throughout elbo.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in elbo, with enough context to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a read or write.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A data file exists but its contents are not what its format requires.
    #[error("{}: {msg}", path.display())]
    Format {
        /// The malformed file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A checkpoint (config or weights) cannot be used.
    #[error("checkpoint {}: {msg}", path.display())]
    Checkpoint {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A user-supplied option or argument is out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Something failed inside elbo or a library it calls (a tensor
    /// read-back, serializing optimizer state): not the user's input.
    #[error("internal error: {0}")]
    Internal(String),
    /// A download failed or delivered the wrong bytes.
    #[error("download of {url}: {msg}")]
    Download {
        /// The address that was fetched.
        url: String,
        /// What went wrong.
        msg: String,
    },
    /// Ctrl-C stopped a long operation other than training (which saves a
    /// checkpoint and reports its own outcome); nothing was written.
    #[error("interrupted (Ctrl-C) {0}")]
    Interrupted(String),
    /// Training produced a NaN or infinite loss.
    #[error(
        "loss became {value} at epoch {epoch}, step {step}; training stopped ({})",
        kept(run_dir, *checkpoint)
    )]
    NonFinite {
        /// The bad value, printed as NaN or inf.
        value: f64,
        /// Epoch (1-based) in which it happened.
        epoch: usize,
        /// Step within the epoch.
        step: usize,
        /// Run folder whose checkpoint is untouched.
        run_dir: PathBuf,
        /// Whether the run folder holds a checkpoint (none before the
        /// first epoch of a new run has finished).
        checkpoint: bool,
    },
}

/// What a run folder keeps after training stopped on a non-finite loss.
fn kept(run_dir: &std::path::Path, checkpoint: bool) -> String {
    if checkpoint {
        format!("last good checkpoint kept in {}", run_dir.display())
    } else {
        format!(
            "no checkpoint was saved yet in {}: start again with --force, e.g. with a lower learning rate",
            run_dir.display()
        )
    }
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A format error for `path`.
    pub fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// A checkpoint error for `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// An internal error (see [`Error::Internal`]).
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }

    /// An invalid-argument error.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }
}
