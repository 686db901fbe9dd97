//! `elbo serve`: a live browser explorer of trained runs. One page (plain
//! HTML/CSS/JS embedded in the binary) and a small JSON API over the run
//! folders named at start: the latent map with live decoding, paths
//! between test images, sliders and prior samples (VAE, autoencoder),
//! completion and samples (pixel models), components (mixtures), and for
//! every model its test NLL and the training image nearest to what is shown.
//!
//! ```no_run
//! use elbo::serve::{Explorer, serve};
//!
//! let explorer = Explorer::load(&["runs/vae".into(), "runs/ae".into()])?;
//! let addr = "127.0.0.1:8080".parse().unwrap();
//! let limits = elbo::serve::Limits::default();
//! serve(explorer, addr, limits, |a| println!("http://{a}/"), elbo::serve::interrupted())?;
//! # Ok::<(), elbo::Error>(())
//! ```

pub mod api;
pub mod components;
pub mod explore;
pub mod listen;
pub mod pixels;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::routing::{get, post};

pub use explore::Served;
pub use listen::{IDLE_TIMEOUT, Limits};

use crate::{Error, Result};
use worker::Lane;

/// The largest request body accepted (an RGB 32×32 image as JSON fits).
pub const BODY_LIMIT: usize = 256 * 1024;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

/// The runs a server shows, loaded.
pub struct Explorer {
    models: Vec<Served>,
}

impl Explorer {
    /// Loads each run folder of `dirs` (in order: the API addresses them by
    /// index) and computes what the page shows of it.
    pub fn load(dirs: &[PathBuf]) -> Result<Explorer> {
        if dirs.is_empty() {
            return Err(Error::invalid("serve needs at least one run (--model RUN)"));
        }
        let models = dirs
            .iter()
            .map(|d| Served::load(d))
            .collect::<Result<_>>()?;
        Ok(Explorer { models })
    }

    /// The loaded runs.
    pub fn models(&self) -> &[Served] {
        &self.models
    }

    /// The app: the page, its script and the API, with the worker threads
    /// that run the models (they end when the router is dropped). Each
    /// model's test NLL is computed in the background.
    pub fn router(self) -> Result<Router> {
        let models = Arc::new(self.models);
        let background = Lane::start("nll", models.clone())?;
        for i in 0..models.len() {
            background.spawn(move |all| {
                let m = &all[i];
                let nll = match m.compute_nll() {
                    Ok(Some(n)) => Ok(n),
                    Ok(None) => Err("this model has no likelihood (a plain autoencoder)".into()),
                    Err(e) => Err(e.to_string()),
                };
                let _ = m.nll.set(nll);
            })?;
        }
        let state = api::AppState {
            decode: Lane::start("decode", models.clone())?,
            work: Lane::start("work", models.clone())?,
            models,
        };
        Ok(Router::new()
            .route(
                "/",
                get(|| async { page(PAGE, "text/html; charset=utf-8") }),
            )
            .route(
                "/page.js",
                get(|| async { page(SCRIPT, "text/javascript") }),
            )
            .route("/page.css", get(|| async { page(STYLE, "text/css") }))
            .route("/api/models", get(api::list))
            .route("/api/models/{i}/nll", get(api::nll))
            .route("/api/models/{i}/test/{j}", get(api::test_image))
            .route("/api/models/{i}/decode", post(api::decode))
            .route("/api/models/{i}/path", post(api::path))
            .route("/api/models/{i}/sample", post(api::sample))
            .route("/api/models/{i}/complete", post(pixels::complete))
            .route("/api/models/{i}/conditionals", post(pixels::conditionals))
            .route("/api/models/{i}/nearest", post(api::nearest))
            .fallback(api::not_found)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(state))
    }
}

fn page(text: &'static str, kind: &'static str) -> impl axum::response::IntoResponse {
    ([(header::CONTENT_TYPE, kind)], text)
}

/// Serves `explorer` on `addr` until `stop` completes, then finishes the
/// requests under way and returns. `ready` gets the bound address (with
/// the port the system picked for port 0) before the first request;
/// `limits` bounds how long a client may stay silent.
pub fn serve(
    explorer: Explorer,
    addr: SocketAddr,
    limits: Limits,
    ready: impl FnOnce(SocketAddr),
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let router = explorer.router()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::invalid(format!("cannot listen on {addr}: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::internal(format!("the bound address: {e}")))?;
        ready(bound);
        listen::run(listener, router, limits, stop).await;
        Ok(())
    })
}

/// Completes on Ctrl-C (installs elbo's interrupt handler).
pub async fn interrupted() {
    crate::device::install_interrupt_handler();
    while !crate::device::take_stop_request() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `addr` is reachable only from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
