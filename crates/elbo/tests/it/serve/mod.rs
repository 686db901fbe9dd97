//! `elbo serve`: the API through the router (status codes, JSON errors,
//! limits, answers equal to the library's), a real server on 127.0.0.1
//! (slow clients, shutdown), and the page in headless Chromium.

mod api;
mod browser;
mod browser_views;
mod pixel_api;
mod server;
mod webdriver;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use elbo::data::{DataSpec, PixelMode};
use elbo::families::{ModelConfig, RunConfig};
use elbo::mixture::BernoulliMixtureConfig;
use elbo::models::VaeConfig;
use elbo::models::pixel::PixelConfig;
use elbo::serve::Explorer;
use elbo::train::{DataConfig, TrainConfig, TrainOptions};
use serde_json::Value;
use tower::ServiceExt;

/// Small runs on the embedded digits, trained once per process: a VAE and
/// an autoencoder with 2-D codes, a VAE with 3-D codes (a PCA map), a
/// PixelCNN and a Bernoulli mixture.
pub struct Runs {
    _dir: tempfile::TempDir,
    pub vae: PathBuf,
    pub ae: PathBuf,
    pub vae3: PathBuf,
    pub cvae: PathBuf,
    pub pixelcnn: PathBuf,
    pub mixture: PathBuf,
}

fn train(dir: &Path, model: ModelConfig, pixels: PixelMode, epochs: usize) -> PathBuf {
    let mut data = DataConfig::new(DataSpec::Digits);
    data.pixels = pixels;
    let config = RunConfig {
        model,
        data,
        train: TrainConfig {
            epochs,
            ..TrainConfig::default()
        },
    };
    let opts = TrainOptions {
        quiet: true,
        ..TrainOptions::default()
    };
    elbo::run::train(&config, dir, &opts).expect("a small run trains");
    dir.to_path_buf()
}

fn vae(latent: usize) -> VaeConfig {
    let mut v = VaeConfig::new(0);
    (v.hidden, v.latent) = (vec![32], latent);
    v
}

pub fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let _guard = crate::common::training();
        let dir = tempfile::tempdir().unwrap();
        let mut pixel = PixelConfig::new();
        (pixel.hidden, pixel.layers, pixel.output_hidden) = (4, 1, 8);
        let grey = PixelMode::Grey;
        Runs {
            vae: train(&dir.path().join("vae"), ModelConfig::Vae(vae(2)), grey, 5),
            ae: train(&dir.path().join("ae"), ModelConfig::Ae(vae(2)), grey, 5),
            vae3: train(&dir.path().join("vae3"), ModelConfig::Vae(vae(3)), grey, 2),
            cvae: train(
                &dir.path().join("cvae"),
                ModelConfig::Vae(VaeConfig {
                    conditional: true,
                    ..vae(2)
                }),
                grey,
                2,
            ),
            pixelcnn: train(
                &dir.path().join("pixelcnn"),
                ModelConfig::PixelCnn(pixel),
                PixelMode::Binary,
                1,
            ),
            mixture: train(
                &dir.path().join("mixture"),
                ModelConfig::BernoulliMixture(BernoulliMixtureConfig::new(4)),
                PixelMode::Binary,
                1,
            ),
            _dir: dir,
        }
    })
}

/// The app over `dirs`.
pub fn app(dirs: &[&Path]) -> Router {
    let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    Explorer::load(&dirs)
        .expect("runs load")
        .router()
        .expect("router")
}

/// Sends one request; the status and the body as JSON (`Value::Null` if
/// the body is not JSON).
pub async fn call(app: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The rows of `v["images"]` as f32.
pub fn images(v: &Value) -> Vec<Vec<f32>> {
    v["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|img| {
            img.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

/// The library's decode of codes `[n, dim]` of the run in `dir`.
pub fn library_decode(dir: &Path, codes: &[f32], dim: usize) -> Vec<f32> {
    use burn::tensor::{Tensor, TensorData};
    let run = elbo::run::Run::load(dir).unwrap();
    let z = TensorData::new(codes.to_vec(), [codes.len() / dim, dim]);
    let z = Tensor::<2>::from_data(z, &run.device);
    elbo::eval::to_vec(run.latent().unwrap().decode_probs(z).unwrap()).unwrap()
}

pub fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "{what}: differs by up to {worst}");
}
