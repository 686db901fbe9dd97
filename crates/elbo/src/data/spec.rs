//! The `--data` argument: which data set to load, and how.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::cifar::load_cifar10;
use super::{Color, ImageSet, digits, read_amat, read_folder, read_idx_pair, read_npy, split};
use crate::{Error, Result};

/// The forms `--data` accepts, for error messages and help texts.
pub const DATA_SCHEMES: &str =
    "digits, mnist:DIR, fashion-mnist:DIR, cifar10:DIR, amat:FILE, npy:FILE, images:DIR";

/// The MNIST files `mnist:DIR` reads (each may also end in `.gz`):
/// training images and labels, then test images and labels.
pub const MNIST_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// A data source, as written on the command line: `digits`, `mnist:DIR`,
/// `fashion-mnist:DIR`, `cifar10:DIR`, `amat:FILE`, `npy:FILE` or
/// `images:DIR`. Serialized as that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DataSpec {
    /// The embedded UCI digits (8x8, 1,797 images).
    Digits,
    /// A folder with the four MNIST IDX files, raw or `.gz`.
    Mnist(PathBuf),
    /// A folder with the four Fashion-MNIST IDX files (MNIST's names and
    /// format), raw or `.gz`.
    FashionMnist(PathBuf),
    /// A folder with the binary CIFAR-10 files (or their
    /// `cifar-10-batches-bin` folder): 32x32x3 with labels.
    Cifar10(PathBuf),
    /// A binarized-MNIST `.amat` file (raw or gzip).
    Amat(PathBuf),
    /// An `.npy` array of images.
    Npy(PathBuf),
    /// A folder of PNG/JPEG images, or of one sub-folder of them per class.
    Images(PathBuf),
}

/// How [`DataSpec::load`] shapes the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    /// Resize every image to `(height, width)` (Lanczos3) when set.
    pub image_size: Option<(usize, usize)>,
    /// Colour of the loaded images, whatever the source's: grey sources are
    /// replicated to RGB, RGB sources reduced to their luma.
    pub color: Color,
    /// Share of the images held out for testing when the source has no split
    /// of its own; in `[0, 1)`.
    pub test_fraction: f64,
    /// Seed of the shuffle behind that split.
    pub seed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            image_size: None,
            color: Color::Grey,
            test_fraction: 0.1,
            seed: 0,
        }
    }
}

/// Training and test images.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// Images to train on.
    pub train: ImageSet,
    /// Held-out images to evaluate on.
    pub test: ImageSet,
}

impl DataSpec {
    /// Loads the data set and splits it.
    ///
    /// The data set's own split is used where it has one: `mnist:DIR` and
    /// `fashion-mnist:DIR` read the `train-*` and `t10k-*` files,
    /// `cifar10:DIR` the `data_batch_*` and `test_batch` files; `amat:FILE` whose name contains
    /// `_train` uses the sibling named with `_valid` (else `_test`) as test
    /// set when it exists. Otherwise the images are split by
    /// [`split()`] with `opts.test_fraction` and `opts.seed`.
    /// Both parts are then converted to `opts.color` and `opts.image_size`.
    pub fn load(&self, opts: &LoadOptions) -> Result<Splits> {
        if !(0.0..1.0).contains(&opts.test_fraction) {
            return Err(Error::invalid(format!(
                "test fraction {} is not in [0, 1)",
                opts.test_fraction
            )));
        }
        let seeded = |set: ImageSet| split(set, opts.test_fraction, opts.seed);
        let (train, test) = match self {
            DataSpec::Digits => seeded(digits()?)?,
            DataSpec::Mnist(dir) => load_mnist(dir, "mnist")?,
            DataSpec::FashionMnist(dir) => load_mnist(dir, "fashion-mnist")?,
            DataSpec::Cifar10(dir) => load_cifar10(dir)?,
            // Binarized MNIST: two levels, 0 and 1.
            DataSpec::Amat(file) => match amat_sibling(file) {
                Some(test) => (
                    read_amat(file)?.with_levels(2)?,
                    read_amat(&test)?.with_levels(2)?,
                ),
                None => seeded(read_amat(file)?.with_levels(2)?)?,
            },
            DataSpec::Npy(file) => seeded(read_npy(file)?)?,
            DataSpec::Images(dir) => seeded(read_folder(dir, opts.color, opts.image_size)?)?,
        };
        Ok(Splits {
            train: train.conform(opts.color, opts.image_size)?,
            test: test.conform(opts.color, opts.image_size)?,
        })
    }

    /// The path this spec names, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DataSpec::Digits => None,
            DataSpec::Mnist(p)
            | DataSpec::FashionMnist(p)
            | DataSpec::Cifar10(p)
            | DataSpec::Amat(p)
            | DataSpec::Npy(p)
            | DataSpec::Images(p) => Some(p),
        }
    }
}

/// Reads the training and test sets of MNIST (or Fashion-MNIST, `name` as
/// `elbo data download` knows it) from `dir`.
fn load_mnist(dir: &Path, name: &str) -> Result<(ImageSet, ImageSet)> {
    if !dir.is_dir() {
        let title = if name == "mnist" {
            "MNIST"
        } else {
            "Fashion-MNIST"
        };
        let e = io::Error::new(io::ErrorKind::NotFound, format!("{title} folder not found"));
        return Err(Error::io(dir, e));
    }
    let [ti, tl, si, sl] = MNIST_NAMES.map(|file| find_mnist_file(dir, file, name));
    let (ti, tl, si, sl) = (ti?, tl?, si?, sl?);
    Ok((read_idx_pair(&ti, &tl)?, read_idx_pair(&si, &sl)?))
}

/// `dir/name` or `dir/name.gz`, whichever exists; an error naming the file
/// otherwise.
fn find_mnist_file(dir: &Path, name: &str, set: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if raw.is_file() {
        return Ok(raw);
    }
    if gz.is_file() {
        return Ok(gz);
    }
    let msg = format!(
        "{set} file not found (nor {name} without .gz); `elbo data download {set} --dir {}` fetches it",
        dir.display()
    );
    Err(Error::io(gz, io::Error::new(io::ErrorKind::NotFound, msg)))
}

/// For `..._train...` amat files, the `_valid` (else `_test`) sibling if it exists.
fn amat_sibling(file: &Path) -> Option<PathBuf> {
    let name = file.file_name()?.to_str()?;
    let at = name.rfind("_train")?;
    ["_valid", "_test"].iter().find_map(|alt| {
        let sibling = format!("{}{alt}{}", &name[..at], &name[at + "_train".len()..]);
        let path = file.with_file_name(sibling);
        path.is_file().then_some(path)
    })
}

impl fmt::Display for DataSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSpec::Digits => f.write_str("digits"),
            DataSpec::Mnist(p) => write!(f, "mnist:{}", p.display()),
            DataSpec::FashionMnist(p) => write!(f, "fashion-mnist:{}", p.display()),
            DataSpec::Cifar10(p) => write!(f, "cifar10:{}", p.display()),
            DataSpec::Amat(p) => write!(f, "amat:{}", p.display()),
            DataSpec::Npy(p) => write!(f, "npy:{}", p.display()),
            DataSpec::Images(p) => write!(f, "images:{}", p.display()),
        }
    }
}

impl FromStr for DataSpec {
    type Err = Error;

    /// Parses `digits` or `SCHEME:PATH` for the schemes of [`DATA_SCHEMES`].
    fn from_str(s: &str) -> Result<Self> {
        if s == "digits" {
            return Ok(DataSpec::Digits);
        }
        let unknown = || {
            Error::invalid(format!(
                "unknown data source {s:?}: expected one of {DATA_SCHEMES}"
            ))
        };
        let (scheme, path) = s.split_once(':').ok_or_else(unknown)?;
        let make: fn(PathBuf) -> DataSpec = match scheme {
            "mnist" => DataSpec::Mnist,
            "fashion-mnist" => DataSpec::FashionMnist,
            "cifar10" => DataSpec::Cifar10,
            "amat" => DataSpec::Amat,
            "npy" => DataSpec::Npy,
            "images" => DataSpec::Images,
            "digits" => {
                return Err(Error::invalid(format!(
                    "data source {s:?}: digits is built in and takes no path"
                )));
            }
            _ => return Err(unknown()),
        };
        if path.is_empty() {
            return Err(Error::invalid(format!(
                "data source {s:?} needs a path after '{scheme}:'"
            )));
        }
        Ok(make(PathBuf::from(path)))
    }
}

impl TryFrom<String> for DataSpec {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<DataSpec> for String {
    fn from(spec: DataSpec) -> String {
        spec.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_round_trip() {
        for s in [
            "digits",
            "mnist:/data/mnist",
            "fashion-mnist:/data/fashion",
            "cifar10:~/.cache/elbo/cifar10",
            "amat:b_train.amat.gz",
            "npy:x.npy",
            "images:./dir with space",
        ] {
            let spec: DataSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<DataSpec>(&json).unwrap(), spec);
        }
        assert_eq!(
            "mnist:a:b".parse::<DataSpec>().unwrap(),
            DataSpec::Mnist("a:b".into())
        );
    }

    #[test]
    fn bad_specs_are_explained() {
        for (s, needle) in [
            ("cifar:x", "cifar10:DIR"),
            ("mnist", "mnist:DIR"),
            ("npy:", "needs a path"),
            ("digits:foo", "takes no path"),
        ] {
            let msg = s.parse::<DataSpec>().unwrap_err().to_string();
            assert!(msg.contains(needle), "{s}: {msg}");
        }
        assert!(serde_json::from_str::<DataSpec>("\"zip:x\"").is_err());
    }

    #[test]
    fn amat_sibling_prefers_valid() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("bm_train.amat");
        assert_eq!(amat_sibling(&train), None);
        std::fs::write(dir.path().join("bm_test.amat"), "").unwrap();
        assert_eq!(amat_sibling(&train), Some(dir.path().join("bm_test.amat")));
        std::fs::write(dir.path().join("bm_valid.amat"), "").unwrap();
        assert_eq!(amat_sibling(&train), Some(dir.path().join("bm_valid.amat")));
        assert_eq!(amat_sibling(&dir.path().join("other.amat")), None);
    }
}
