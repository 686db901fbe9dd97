//! The data sets `elbo data download` knows: where each is served, its
//! files' SHA-256 hashes, and what to unpack, so that the folder it fills
//! is ready for `--data NAME:DIR`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::DataSpec;
use super::cifar::{CIFAR_RECORD, CIFAR10_SUBDIR, CIFAR10_TEST, CIFAR10_TRAIN};
use super::download::{
    DownloadOptions, MNIST_FILES, MNIST_MIRRORS, cache_root, download_files_with,
};
use crate::{Error, Result};

/// A downloadable data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset<'a> {
    /// The name on the command line (`mnist`, `fashion-mnist`, `cifar10`).
    pub name: &'a str,
    /// Base URLs, in the order tried.
    pub mirrors: &'a [&'a str],
    /// Each file's name under a mirror and its SHA-256.
    pub files: &'a [(&'a str, &'a str)],
    /// What to do with the files once verified.
    pub unpack: Unpack,
}

/// The step after the download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpack {
    /// The files are read as they are.
    Nothing,
    /// The one file is CIFAR-10's `cifar-10-binary.tar.gz`: its six batch
    /// files are extracted into `cifar-10-batches-bin/`.
    Cifar10Binary,
}

/// MNIST (LeCun et al. 1998), torchvision's mirrors.
pub const MNIST: Dataset<'static> = Dataset {
    name: "mnist",
    mirrors: &MNIST_MIRRORS,
    files: &MNIST_FILES,
    unpack: Unpack::Nothing,
};

/// Fashion-MNIST (Xiao et al. 2017): MNIST's format and file names.
pub const FASHION_MNIST: Dataset<'static> = Dataset {
    name: "fashion-mnist",
    mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    files: &[
        (
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
    ],
    unpack: Unpack::Nothing,
};

/// CIFAR-10, binary version (Krizhevsky 2009), 170 MB.
pub const CIFAR10: Dataset<'static> = Dataset {
    name: "cifar10",
    mirrors: &["https://www.cs.toronto.edu/~kriz/"],
    files: &[(
        "cifar-10-binary.tar.gz",
        "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    )],
    unpack: Unpack::Cifar10Binary,
};

/// Every data set `elbo data download` knows.
pub const DATASETS: [Dataset<'static>; 3] = [MNIST, FASHION_MNIST, CIFAR10];

/// The data set called `name`, or an error listing the known ones.
pub fn dataset(name: &str) -> Result<Dataset<'static>> {
    DATASETS
        .iter()
        .find(|d| d.name == name)
        .copied()
        .ok_or_else(|| {
            let known: Vec<&str> = DATASETS.iter().map(|d| d.name).collect();
            Error::invalid(format!(
                "unknown data set {name:?}: expected one of {}",
                known.join(", ")
            ))
        })
}

impl Dataset<'_> {
    /// Its default folder: [`cache_root`]`/NAME`.
    pub fn default_dir(&self) -> PathBuf {
        cache_root().join(self.name)
    }

    /// The `--data` source that reads the folder it was downloaded to.
    pub fn spec(&self, dir: &Path) -> Result<DataSpec> {
        format!("{}:{}", self.name, dir.display()).parse()
    }

    /// Downloads (and unpacks) the data set into `dir`, each file verified
    /// and renamed into place only when complete; returns the files.
    ///
    /// ```no_run
    /// use elbo::data::catalog::dataset;
    /// use elbo::data::download::DownloadOptions;
    ///
    /// let cifar = dataset("cifar10")?;
    /// let dir = cifar.default_dir();
    /// cifar.download(&dir, &DownloadOptions::from_env()?)?;
    /// let splits = cifar.spec(&dir)?.load(&Default::default())?;
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn download(&self, dir: &Path, opts: &DownloadOptions) -> Result<Vec<PathBuf>> {
        let files = download_files_with(dir, self.mirrors, self.files, opts)?;
        match (self.unpack, files.as_slice()) {
            (Unpack::Nothing, _) => Ok(files),
            (Unpack::Cifar10Binary, [archive]) => unpack_cifar10(archive, dir),
            (Unpack::Cifar10Binary, _) => {
                Err(Error::internal("the CIFAR-10 download is one archive"))
            }
        }
    }
}

/// Extracts the six batch files of CIFAR-10's binary archive into
/// `dir/cifar-10-batches-bin/` (each through a `.part` file renamed when
/// complete, so a file under its name is whole) unless they are all there;
/// returns them. Only those six names are written, whatever else the
/// archive holds, and each must be whole records, at most 10,000 (the
/// real files hold exactly 10,000).
pub fn unpack_cifar10(archive: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let out = dir.join(CIFAR10_SUBDIR);
    let names: Vec<&str> = CIFAR10_TRAIN
        .iter()
        .copied()
        .chain([CIFAR10_TEST])
        .collect();
    let record = CIFAR_RECORD as u64;
    let whole = |len: u64| len > 0 && len.is_multiple_of(record) && len <= 10_000 * record;
    let paths: Vec<PathBuf> = names.iter().map(|n| out.join(n)).collect();
    let present = |p: &PathBuf| std::fs::metadata(p).is_ok_and(|m| whole(m.len()));
    if paths.iter().all(present) {
        return Ok(paths);
    }
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let bad = |e: io::Error| Error::format(archive, format!("cannot read the archive: {e}"));
    let mut found = 0;
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(i) = names.iter().position(|n| *n == name) else {
            continue;
        };
        if !whole(entry.size()) {
            return Err(Error::format(
                archive,
                format!(
                    "{name} holds {} bytes, not a whole number of CIFAR-10 records \
                     ({record} bytes each, at most 10,000)",
                    entry.size()
                ),
            ));
        }
        write_part(&mut entry, &paths[i])?;
        found += 1;
    }
    if let Some(missing) = paths.iter().find(|p| !present(p)) {
        return Err(Error::format(
            archive,
            format!(
                "holds {found} of the 6 batch files; {} is missing",
                missing.display()
            ),
        ));
    }
    // Persist the renames too; not every platform can sync a folder.
    let _ = File::open(&out).and_then(|d| d.sync_all());
    Ok(paths)
}

/// Copies `from` into `dest.part`, syncs it and renames it to `dest`; the
/// part file is removed on failure.
fn write_part(from: &mut impl Read, dest: &Path) -> Result<()> {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    let part = dest.with_file_name(name);
    let result = (|| {
        let mut file = File::create(&part)?;
        io::copy(from, &mut file)?;
        file.sync_all()?;
        std::fs::rename(&part, dest)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&part);
        Error::io(dest, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_set_has_a_mirror_and_hashes_and_unknown_names_list_them() {
        for d in DATASETS {
            assert!(!d.mirrors.is_empty() && !d.files.is_empty(), "{}", d.name);
            assert!(d.files.iter().all(|(_, sha)| sha.len() == 64), "{}", d.name);
            assert_eq!(dataset(d.name).unwrap(), d);
            let spec = d.spec(Path::new("/x")).unwrap();
            assert_eq!(spec.to_string(), format!("{}:/x", d.name));
        }
        let msg = dataset("svhn").unwrap_err().to_string();
        assert!(
            msg.contains("svhn") && msg.contains("fashion-mnist, cifar10"),
            "{msg}"
        );
    }
}
