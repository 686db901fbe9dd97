//! The JSON API the page calls. Models are addressed by their index in the
//! list given at start; nothing in a request names a file. Bodies are
//! parsed here (not by an extractor) so that every malformed request gets a
//! 4xx with a JSON `{"error": ...}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::serve::components::sample_component;
use crate::serve::explore::Served;
use crate::serve::worker::{Lane, Refused};

/// Points one decode request may carry.
pub const MAX_POINTS: usize = 64;
/// Images one sample or path request may ask for (pixel models: [`MAX_PIXEL_IMAGES`]).
pub const MAX_IMAGES: usize = 64;
/// Images one request may ask of a pixel model, which draws them pixel by pixel.
pub const MAX_PIXEL_IMAGES: usize = 16;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The loaded runs, in command-line order.
    pub models: Arc<Vec<Served>>,
    /// Live decodes (batched).
    pub decode: Lane,
    /// Everything slower: samples, completions, paths, nearest images.
    pub work: Lane,
}

/// An error as the API returns it.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        let status = match e {
            crate::Error::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        let msg = match r {
            Refused::Busy => "the server is busy: too many requests are waiting; try again",
            Refused::Gone => "the server is shutting down",
        };
        ApiError(StatusCode::SERVICE_UNAVAILABLE, msg.into())
    }
}

pub(crate) fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

pub(crate) type Reply = Result<Json<Value>, ApiError>;

/// The model a path names, by index.
pub(crate) fn model(
    state: &AppState,
    path: Result<Path<String>, PathRejection>,
) -> Result<usize, ApiError> {
    let Path(raw) = path.map_err(|e| bad(e.body_text()))?;
    let i: usize = raw
        .parse()
        .map_err(|_| bad(format!("'{raw}' is not a model index")))?;
    if i >= state.models.len() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no model {i}: {} are served", state.models.len()),
        ));
    }
    Ok(i)
}

/// The JSON body as `T`, or a 4xx saying what is wrong with it.
pub(crate) fn body<T: DeserializeOwned>(raw: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = raw.map_err(|e| ApiError(e.status(), e.body_text()))?;
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("malformed request body: {e}")))
}

pub(crate) fn images(pixels: &[f32], dim: usize) -> Value {
    json!({ "images": pixels.chunks(dim.max(1)).collect::<Vec<_>>() })
}

/// `GET /api/models`: every model with what the page draws of it.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let models: Vec<Value> = state
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| describe(i, m))
        .collect();
    Json(json!({ "models": models }))
}

fn describe(index: usize, m: &Served) -> Value {
    json!({
        "index": index,
        "name": m.name,
        "kind": m.run.kind(),
        "title": m.run.display_name(),
        "shape": [m.shape.height, m.shape.width, m.shape.channels],
        "classes": m.classes(),
        "parameters": m.run.model.num_params(),
        "latent": m.latent,
        "autoregressive": m.run.model.autoregressive().is_some(),
        "mixture": m.mixture,
        "test_images": m.test.n,
        "test_labels": m.test.labels,
        "train_images": m.train.len() / m.shape.dim().max(1),
    })
}

/// `GET /api/models/{i}/nll`: the test NLL once computed.
pub async fn nll(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Reply {
    let m = &state.models[model(&state, path)?];
    Ok(Json(match m.nll.get() {
        None => json!({ "status": "computing" }),
        Some(Ok(nll)) => json!({ "status": "done", "nll": nll }),
        Some(Err(e)) => json!({ "status": "none", "why": e }),
    }))
}

/// `GET /api/models/{i}/test/{j}`: test image j and its label.
pub async fn test_image(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Reply {
    let Path((i, j)) = path.map_err(|e| bad(e.body_text()))?;
    let m = &state.models[model(&state, Ok(Path(i)))?];
    let j: usize = j
        .parse()
        .map_err(|_| bad(format!("'{j}' is not an image index")))?;
    let image = m.test_image(j)?;
    let label = m.test.labels.as_ref().map(|l| l[j]);
    Ok(Json(json!({ "image": image, "label": label })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecodeRequest {
    points: Vec<Vec<f32>>,
    label: Option<usize>,
}

/// `POST /api/models/{i}/decode` `{points: [[z...]], label?}`: the decoder's
/// mean image for each code.
pub async fn decode(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Reply {
    let i = model(&state, path)?;
    let req: DecodeRequest = body(raw)?;
    if req.points.is_empty() || req.points.len() > MAX_POINTS {
        return Err(bad(format!(
            "a decode request carries 1 to {MAX_POINTS} points, got {}",
            req.points.len()
        )));
    }
    let m = &state.models[i];
    let Some(latent) = &m.latent else {
        return Err(bad(format!(
            "model {i} ({}) is a {} model: it has no latent space to decode from",
            m.name,
            m.run.kind()
        )));
    };
    let dim = latent.dim;
    if req.points.iter().any(|p| p.len() != dim) {
        return Err(bad(format!("each point needs {dim} code values")));
    }
    let codes: Vec<f32> = req.points.concat();
    let rows = m.code_rows(&codes, req.label)?;
    let pixels = state.decode.decode(i, rows).await??;
    Ok(Json(images(&pixels, m.shape.dim())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathRequest {
    from: usize,
    to: usize,
    steps: usize,
}

/// `POST /api/models/{i}/path` `{from, to, steps}`: the decoded line
/// between the codes of two test images.
pub async fn path(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Reply {
    let i = model(&state, path)?;
    let req: PathRequest = body(raw)?;
    if !(2..=MAX_IMAGES).contains(&req.steps) {
        return Err(bad(format!("steps must be 2 to {MAX_IMAGES}")));
    }
    let dim = state.models[i].shape.dim();
    let pixels = state
        .work
        .run(move |models| {
            let m = &models[i];
            m.test_image(req.from)?;
            m.test_image(req.to)?;
            let a = m.run.row(&m.test, req.from)?;
            let b = m.run.row(&m.test, req.to)?;
            m.run.interpolate(&a, &b, req.steps)
        })
        .await??;
    Ok(Json(images(&pixels, dim)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleRequest {
    n: usize,
    seed: u64,
    label: Option<usize>,
    component: Option<usize>,
}

/// `POST /api/models/{i}/sample` `{n, seed, label?, component?}`: draws
/// from the model (from one component of a mixture).
pub async fn sample(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Reply {
    let i = model(&state, path)?;
    let req: SampleRequest = body(raw)?;
    let m = &state.models[i];
    let pixel = m.run.model.autoregressive().is_some();
    let cap = if pixel { MAX_PIXEL_IMAGES } else { MAX_IMAGES };
    if req.n == 0 || req.n > cap {
        return Err(bad(format!("n must be 1 to {cap} for this model")));
    }
    let dim = m.shape.dim();
    let pixels = state
        .work
        .run(move |models| {
            let run = &models[i].run;
            match req.component {
                Some(c) => sample_component(run, c, req.n, req.seed),
                None if pixel => run.pixel_sample(req.n, req.seed, req.label, false, false),
                None => run.sample_label(req.n, req.seed, req.label),
            }
        })
        .await??;
    Ok(Json(images(&pixels, dim)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NearestRequest {
    image: Vec<f32>,
}

/// `POST /api/models/{i}/nearest` `{image}`: the nearest training image.
pub async fn nearest(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Reply {
    let i = model(&state, path)?;
    let req: NearestRequest = body(raw)?;
    let found = state
        .work
        .run(move |models| {
            let m = &models[i];
            let (index, distance) = m.nearest(&req.image)?;
            Ok(json!({ "index": index, "distance": distance, "image": m.train_image(index) }))
        })
        .await??;
    Ok(Json(found))
}

/// Any other path.
pub async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such page or API route".into())
}
