//! PyTorch interop: a pytorch/examples VAE state_dict, made by
//! `tests/golden/make_torch_vae.py`, imports into a run whose per-image BCE +
//! KL at z = mean match PyTorch's to 1e-4 nats, and exports back to the same
//! tensors.

use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData};
use elbo::families::vae::VaeModel;
use elbo::models::vae::{bce_with_logits, kl_standard_normal};
use elbo::run::Run;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The four images of the golden script: ((i · (k + 3)) mod 97) / 96.
fn images() -> Vec<f32> {
    (0..4)
        .flat_map(|k| (0..784).map(move |i| ((i * (k + 3)) % 97) as f32 / 96.0))
        .collect()
}

fn golden(key: &str) -> Vec<f64> {
    let text =
        std::fs::read_to_string(golden_dir().join("torch_vae_golden.json")).expect("golden json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v[key]
        .as_array()
        .expect(key)
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn loss_at_mean(run: &Run) -> (Vec<f64>, Vec<f64>) {
    let Some(VaeModel { vae }) = run.model.as_any().downcast_ref::<VaeModel>() else {
        panic!("an imported run is a VAE")
    };
    let x = Tensor::<2>::from_data(TensorData::new(images(), [4, 784]), &run.device);
    let (mean, log_var) = vae.encode(x.clone());
    let bce = bce_with_logits(vae.decode(mean.clone()), x);
    let kl = kl_standard_normal(mean, log_var);
    let v = |t: Tensor<1>| {
        t.into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .expect("f64")
    };
    (v(bce), v(kl))
}

#[test]
fn imported_torch_vae_matches_pytorch_to_1e4_nats_and_exports_back_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run_dir = dir.path().join("run");
    let file = golden_dir().join("torch_vae.safetensors");
    elbo::interop::import_torch_vae(&file, &run_dir, (28, 28, 1), false).expect("import");
    let run = Run::load(&run_dir).expect("the imported folder is a run");
    let (bce, kl) = loss_at_mean(&run);
    for (i, ((b, k), (gb, gk))) in bce
        .iter()
        .zip(&kl)
        .zip(golden("bce_at_mean").iter().zip(golden("kl")))
        .enumerate()
    {
        assert!((b - gb).abs() < 1e-4, "image {i}: BCE {b} vs PyTorch {gb}");
        assert!((k - gk).abs() < 1e-4, "image {i}: KL {k} vs PyTorch {gk}");
    }

    // Export writes back exactly the tensors PyTorch saved.
    let out = dir.path().join("back.safetensors");
    elbo::interop::export_torch_vae(&run_dir, &out).expect("export");
    let (a, b) = (
        std::fs::read(&file).expect("torch file"),
        std::fs::read(&out).expect("export"),
    );
    let (a, b) = (
        safetensors::SafeTensors::deserialize(&a).expect("torch"),
        safetensors::SafeTensors::deserialize(&b).expect("ours"),
    );
    let mut names = a.names();
    names.sort();
    let mut ours = b.names();
    ours.sort();
    assert_eq!(names, ours);
    for name in names {
        let (x, y) = (a.tensor(name).expect("t"), b.tensor(name).expect("t"));
        assert_eq!(x.shape(), y.shape(), "{name}");
        assert_eq!(
            x.data(),
            y.data(),
            "{name}: values must survive the round trip exactly"
        );
    }
}

#[test]
fn import_refuses_files_that_are_not_a_torch_vae() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.safetensors");
    std::fs::write(&bad, b"not safetensors").expect("write");
    let err = elbo::interop::import_torch_vae(&bad, &dir.path().join("r"), (28, 28, 1), false)
        .expect_err("bad file");
    assert!(err.to_string().contains("bad.safetensors"), "{err}");
    let err = elbo::interop::import_torch_vae(
        &golden_dir().join("torch_vae.safetensors"),
        &dir.path().join("r"),
        (8, 8, 1),
        false,
    )
    .expect_err("wrong image shape");
    assert!(err.to_string().contains("784"), "{err}");
}
