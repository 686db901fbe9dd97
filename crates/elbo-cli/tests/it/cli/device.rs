//! `--device cpu|gpu`: an unknown device or a build without the GPU backend
//! is a clear error before anything is written; with the `gpu` feature (on
//! by default) a run trained on the GPU continues on the CPU.

use crate::common::*;

#[test]
fn an_unknown_device_is_refused_naming_the_choices() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    let out = train_digits_raw(&run, &["--epochs", "1", "--device", "tpu"]);
    assert_clean_error(&out, &["--device", "tpu", "cpu", "gpu"]);
    assert!(!run.exists(), "nothing is written");
}

#[cfg(not(any(feature = "gpu", feature = "cuda")))]
#[test]
fn the_gpu_device_without_the_gpu_feature_names_the_feature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    let out = train_digits_raw(&run, &["--epochs", "1", "--device", "gpu"]);
    assert_app_error(&out, &["--device gpu", "`gpu` feature", "--device cpu"]);
    assert!(!run.exists(), "nothing is written");
}

/// Whether this machine has a GPU adapter (or lavapipe); without one the
/// test is skipped with a note, unless `ELBO_REQUIRE_GPU=1` (set by
/// `.ci/run`, which installs lavapipe) makes it fail.
#[cfg(feature = "gpu")]
fn gpu_adapter_present() -> bool {
    match elbo::device::gpu_device() {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("ELBO_REQUIRE_GPU").as_deref() != Ok("1"),
                "ELBO_REQUIRE_GPU=1 but there is no GPU adapter: {e}"
            );
            eprintln!("note: no GPU adapter ({e}); the GPU test is skipped");
            false
        }
    }
}

#[cfg(feature = "gpu")]
#[test]
fn a_run_trained_with_device_gpu_continues_on_the_cpu() {
    if !gpu_adapter_present() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    train_digits(
        &run,
        1,
        &["--device", "gpu", "--hidden", "32", "--latent", "4"],
    );
    let out = elbo([
        "train",
        "--resume",
        &path_str(&run),
        "--epochs",
        "2",
        "--quiet",
        "--no-pictures",
        "--device",
        "cpu",
    ]);
    assert_ok(&out);
    let lines = read_metrics(&run.join("metrics.jsonl"));
    assert_eq!(lines.len(), 2, "one line per epoch");
    let out = elbo(["eval", "--model", &path_str(&run), "--device", "gpu"]);
    assert_ok(&out);
}

#[cfg(feature = "gpu")]
#[test]
fn the_gpu_device_without_any_graphics_driver_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    // No Vulkan driver manifests and no EGL vendor (wgpu falls back to
    // OpenGL through Mesa's EGL when Vulkan has no device): no adapter.
    let none = tmp.path().join("none.json");
    let out = elbo_cmd([
        "train", "vae", "--data", "digits", "--quiet", "--epochs", "1",
    ])
    .args(["--no-pictures", "--device", "gpu", "--out", &path_str(&run)])
    .env("VK_ICD_FILENAMES", &none)
    .env("VK_DRIVER_FILES", &none)
    .env("__EGL_VENDOR_LIBRARY_FILENAMES", &none)
    .output()
    .expect("the elbo binary runs");
    assert_app_error(
        &out,
        &["--device gpu", "no GPU adapter", "mesa-vulkan-drivers"],
    );
    assert!(!run.exists(), "nothing is written");
}
