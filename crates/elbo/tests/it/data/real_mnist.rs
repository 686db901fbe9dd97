//! Real MNIST (and binarized MNIST) from the project's shared data folder, when
//! it is there. It is not on users' machines: the test then returns early with
//! a note instead of failing.

use std::path::PathBuf;
use std::time::Instant;

use elbo::data::{DataSpec, LoadOptions, read_amat};

/// The shared data folder, looked for beside the workspace and one level up.
fn shared_data() -> Option<PathBuf> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["../../shared/data", "../../../shared/data"]
        .iter()
        .map(|rel| crate_dir.join(rel))
        .find(|p| p.join("mnist").is_dir())
}

#[test]
fn real_mnist_loads_with_the_published_counts() {
    let Some(data) = shared_data() else {
        eprintln!("note: shared/data/mnist not found; skipping the real-MNIST check");
        return;
    };
    let start = Instant::now();
    let spec = DataSpec::Mnist(data.join("mnist"));
    let s = spec.load(&LoadOptions::default()).unwrap();
    eprintln!("mnist loaded in {:.2?}", start.elapsed());
    assert_eq!(s.train.shape(), [60000, 28, 28, 1]);
    assert_eq!(s.test.shape(), [10000, 28, 28, 1]);
    let labels = s.train.labels.as_ref().unwrap();
    assert!(labels.iter().all(|&l| l < 10));
    // The well-known MNIST training-set mean intensity, 0.1307.
    assert!((s.train.mean() - 0.1307).abs() < 1e-3, "{}", s.train.mean());
    assert_eq!(&labels[..5], &[5, 0, 4, 1, 9]);

    let amat = data.join("binarized_mnist/binarized_mnist_train.amat.gz");
    if amat.is_file() {
        let start = Instant::now();
        let set = read_amat(&amat).unwrap();
        eprintln!("binarized mnist train parsed in {:.2?}", start.elapsed());
        assert_eq!(set.shape(), [50000, 28, 28, 1]);
        let s = DataSpec::Amat(amat).load(&LoadOptions::default()).unwrap();
        assert_eq!((s.train.n, s.test.n), (50000, 10000));
    }
}
