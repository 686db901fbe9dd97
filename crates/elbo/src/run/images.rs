//! Which images a scoring command reads: the `--split` of `elbo eval` and
//! `elbo score`.

use super::Run;
use crate::data::{ImageSet, Splits};
use crate::train::DataConfig;
use crate::{Error, Result};

/// Which images of a data set a command scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The held-out images: the data set's own test files, or the run's
    /// `test_fraction` of a single file.
    Test,
    /// The rest.
    Train,
    /// Every image.
    All,
}

impl std::str::FromStr for Split {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "test" => Ok(Split::Test),
            "train" => Ok(Split::Train),
            "all" => Ok(Split::All),
            _ => Err(Error::invalid(format!(
                "unknown split '{s}': expected test, train or all"
            ))),
        }
    }
}

/// The images `elbo eval` (and `score`) scores, loaded as the run was.
/// Without `split`: the test split of the run's own data; for `spec`, all
/// of a single file or folder, or the test files of a data set that has
/// them (`mnist:DIR`), since evaluating on a data set means all of it. A
/// one-image file can be evaluated.
pub fn eval_images(
    run: &Run,
    spec: Option<&crate::data::DataSpec>,
    split: Option<Split>,
) -> Result<ImageSet> {
    let mut data = run.config.data.clone();
    if let Some(spec) = spec {
        data.spec = spec.clone();
    }
    let split = match (split, spec) {
        (Some(s), _) => s,
        (None, None) => Split::Test,
        (None, Some(_)) => {
            // No fraction held out: a source with a test split of its own
            // still has one, any other source is all training images.
            data.test_fraction = 0.0;
            let whole = data.load()?;
            let set = if whole.test.n > 0 {
                whole.test
            } else {
                whole.train
            };
            run.check_shape(&set)?;
            return Ok(set);
        }
    };
    if split == Split::All {
        data.test_fraction = 0.0;
    }
    let splits = if spec.is_some() {
        data.load()?
    } else {
        load_run_data(&data)?
    };
    let set = match split {
        Split::Test => splits.test,
        Split::Train => splits.train,
        Split::All => concat(splits.train, splits.test),
    };
    if set.n == 0 {
        let name = format!("{split:?}").to_lowercase();
        return Err(Error::invalid(format!(
            "no images to evaluate: {}: the {name} split holds no images (test fraction {}); pass --data to evaluate other images",
            data.spec, data.test_fraction
        )));
    }
    run.check_shape(&set)?;
    Ok(set)
}

/// `a` followed by `b` (same image shape).
fn concat(mut a: ImageSet, b: ImageSet) -> ImageSet {
    if b.n == 0 {
        return a;
    }
    a.labels = match (a.labels.take(), b.labels) {
        (Some(mut la), Some(lb)) => {
            la.extend(lb);
            Some(la)
        }
        _ => None,
    };
    a.pixels.extend(b.pixels);
    a.n += b.n;
    a
}

/// The data named in a run's `config.toml`, loaded again. A run folder
/// copied to another machine names files that are not there: the error
/// then says where the path came from and what to pass instead.
pub(crate) fn load_run_data(data: &DataConfig) -> Result<Splits> {
    data.load().map_err(|e| match e {
        Error::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound => Error::Io {
            path,
            source: std::io::Error::new(
                source.kind(),
                format!(
                    "{source} (the training data named in the run's config.toml; pass --data to use other images)"
                ),
            ),
        },
        e => e,
    })
}
