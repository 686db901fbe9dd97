//! CIFAR-10, binary version (`cifar-10-binary.tar.gz`, Krizhevsky 2009):
//! each record is one label byte then 3,072 pixel bytes, the 1,024 red
//! values of the 32x32 image row by row, then the green, then the blue.
//! Five training files `data_batch_1.bin` .. `data_batch_5.bin` and
//! `test_batch.bin` of 10,000 records each.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use super::ImageSet;
use crate::{Error, Result};

/// Side of a CIFAR-10 image.
pub const CIFAR_SIDE: usize = 32;
/// Bytes per record: the label and 3 planes of 32x32.
pub const CIFAR_RECORD: usize = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE;
/// The class names, in label order (`batches.meta.txt`).
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
/// The training files, then the test file.
pub const CIFAR10_TRAIN: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test file.
pub const CIFAR10_TEST: &str = "test_batch.bin";
/// The folder the archive unpacks to.
pub const CIFAR10_SUBDIR: &str = "cifar-10-batches-bin";

/// Reads one binary CIFAR-10 file into a 32x32x3 [`ImageSet`] with labels,
/// pixels `v / 255`.
pub fn read_cifar_batch(path: &Path) -> Result<ImageSet> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let n = usize::try_from(len / CIFAR_RECORD as u64)
        .map_err(|_| Error::format(path, "file too large"))?;
    if len == 0 || !len.is_multiple_of(CIFAR_RECORD as u64) {
        return Err(Error::format(
            path,
            format!(
                "{len} bytes is not a whole number of CIFAR-10 records ({CIFAR_RECORD} bytes each: \
                 a label byte and 3x32x32 pixels); is this the binary version?"
            ),
        ));
    }
    let plane = CIFAR_SIDE * CIFAR_SIDE;
    let mut reader = BufReader::new(file);
    let mut record = vec![0u8; CIFAR_RECORD];
    let mut pixels = Vec::with_capacity(n * 3 * plane);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        reader
            .read_exact(&mut record)
            .map_err(|e| Error::io(path, e))?;
        let label = record[0];
        if usize::from(label) >= CIFAR10_CLASSES.len() {
            return Err(Error::format(
                path,
                format!("record {i} has label {label}; CIFAR-10 labels are 0..=9"),
            ));
        }
        labels.push(label);
        // Planes [3, 32·32] → pixels [32·32, 3] (channels last).
        let (r, rest) = record[1..].split_at(plane);
        let (g, b) = rest.split_at(plane);
        for p in 0..plane {
            pixels.extend([r[p], g[p], b[p]].map(|v| f32::from(v) / 255.0));
        }
    }
    ImageSet::new(pixels, n, CIFAR_SIDE, CIFAR_SIDE, 3, Some(labels))
}

/// Reads the CIFAR-10 training and test sets from `dir` or from its
/// `cifar-10-batches-bin` sub-folder (the archive's layout).
pub fn load_cifar10(dir: &Path) -> Result<(ImageSet, ImageSet)> {
    let root = cifar_root(dir)?;
    let mut train: Option<ImageSet> = None;
    for name in CIFAR10_TRAIN {
        let part = read_cifar_batch(&root.join(name))?;
        train = Some(match train {
            None => part,
            Some(mut all) => {
                all.pixels.extend_from_slice(&part.pixels);
                all.n += part.n;
                if let (Some(l), Some(p)) = (&mut all.labels, part.labels) {
                    l.extend(p);
                }
                all
            }
        });
    }
    let train = train.ok_or_else(|| Error::internal("CIFAR-10 has training files"))?;
    Ok((train, read_cifar_batch(&root.join(CIFAR10_TEST))?))
}

/// `dir` or `dir/cifar-10-batches-bin`, whichever holds `test_batch.bin`;
/// an error naming what is missing (and the python version) otherwise.
fn cifar_root(dir: &Path) -> Result<PathBuf> {
    if !dir.is_dir() {
        let e = io::Error::new(io::ErrorKind::NotFound, "CIFAR-10 folder not found");
        return Err(Error::io(dir, e));
    }
    for root in [dir.to_path_buf(), dir.join(CIFAR10_SUBDIR)] {
        if root.join(CIFAR10_TEST).is_file() {
            return Ok(root);
        }
    }
    let python = dir.join("test_batch").is_file() || dir.join("cifar-10-batches-py").is_dir();
    let hint = if python {
        "this is the python (pickle) version; elbo reads the binary version"
    } else {
        "the binary version's files are missing"
    };
    let msg = format!(
        "{CIFAR10_TEST} not found here nor in {CIFAR10_SUBDIR}/ ({hint}); \
         `elbo data download cifar10 --dir {}` fetches it",
        dir.display()
    );
    Err(Error::io(
        dir.join(CIFAR10_TEST),
        io::Error::new(io::ErrorKind::NotFound, msg),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_become_channels_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = vec![7u8];
        rec.extend(std::iter::repeat_n(255u8, 1024)); // red
        rec.extend(std::iter::repeat_n(0u8, 1024)); // green
        rec.extend(std::iter::repeat_n(51u8, 1024)); // blue
        let p = dir.path().join("b.bin");
        std::fs::write(&p, &rec).unwrap();
        let set = read_cifar_batch(&p).unwrap();
        assert_eq!(set.shape(), [1, 32, 32, 3]);
        assert_eq!(set.labels, Some(vec![7]));
        assert_eq!(&set.pixels[..6], &[1.0, 0.0, 0.2, 1.0, 0.0, 0.2]);
    }

    #[test]
    fn partial_records_and_bad_labels_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.bin");
        std::fs::write(&p, vec![0u8; CIFAR_RECORD + 5]).unwrap();
        let msg = read_cifar_batch(&p).unwrap_err().to_string();
        assert!(msg.contains("whole number of CIFAR-10 records"), "{msg}");
        let mut rec = vec![0u8; CIFAR_RECORD];
        rec[0] = 10;
        std::fs::write(&p, &rec).unwrap();
        let msg = read_cifar_batch(&p).unwrap_err().to_string();
        assert!(msg.contains("label 10"), "{msg}");
    }
}
