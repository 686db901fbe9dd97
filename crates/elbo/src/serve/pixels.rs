//! The pixel models' endpoints: completion of a drawn or picked image, and
//! the next-pixel probabilities at every position of a drawing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;

use crate::families::Generate;
use crate::image::Shape;
use crate::serve::api::{ApiError, AppState, MAX_PIXEL_IMAGES, Reply, bad, body, images, model};

/// Checks that `image` is one image of `shape` with values in [0, 1].
fn check_image(image: &[f32], shape: Shape) -> Result<(), ApiError> {
    if image.len() != shape.dim() || image.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(bad(format!(
            "image must hold {} values in [0, 1]",
            shape.dim()
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteRequest {
    image: Vec<f32>,
    rows: usize,
    seed: u64,
    n: usize,
    label: Option<usize>,
}

/// `POST /api/models/{i}/complete` `{image, rows, seed, n, label?}`: keeps
/// the top `rows` rows of `image` and lets a pixel model draw the rest,
/// `n` times.
pub async fn complete(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Reply {
    let i = model(&state, path)?;
    let req: CompleteRequest = body(raw)?;
    let m = &state.models[i];
    let shape = m.shape;
    check_image(&req.image, shape)?;
    if req.rows >= shape.height {
        return Err(bad(format!("rows must be below {}", shape.height)));
    }
    if req.n == 0 || req.n > MAX_PIXEL_IMAGES {
        return Err(bad(format!("n must be 1 to {MAX_PIXEL_IMAGES}")));
    }
    let labels = match (m.classes(), req.label) {
        (0, None) => None,
        (0, Some(_)) => return Err(bad("this model is not conditional: it takes no label")),
        (c, l) if l.unwrap_or(0) >= c => return Err(bad(format!("label must be below {c}"))),
        (_, l) => Some(vec![l.unwrap_or(0) as u8; req.n]),
    };
    let pixels = state
        .work
        .run(move |models| {
            let run = &models[i].run;
            // The given rows as the model saw pixels in training (binarized
            // for a binary model, with this seed for dynamic binarization).
            let one = crate::data::ImageSet {
                pixels: req.image,
                n: 1,
                height: shape.height,
                width: shape.width,
                channels: shape.channels,
                labels: None,
                levels: 256,
            };
            let given = run.config.data.pixels.prepare(&one, req.seed);
            run.autoregressive()?.generate(&Generate {
                images: given.repeat(req.n),
                shape,
                start: req.rows * shape.width,
                seed: req.seed,
                labels: labels.as_deref(),
                naive: false,
                progress: false,
            })
        })
        .await??;
    Ok(Json(images(&pixels, shape.dim())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionalsRequest {
    image: Vec<f32>,
    seed: u64,
    label: Option<usize>,
    given: Option<usize>,
}

/// `POST /api/models/{i}/conditionals` `{image, seed, label?, given?}`:
/// p(x_i | x_<i) at every position of `image` (prepared as in training,
/// pixels from position `given` on blanked), from one forward pass:
/// `{image, mean, log_prob}`, each `[H·W·C]`. Position `given` holds the
/// next pixel's probability after the given part. Runs on the live lane,
/// beside the decodes, so a completion under way does not delay it.
pub async fn conditionals(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Reply {
    let i = model(&state, path)?;
    let req: ConditionalsRequest = body(raw)?;
    let m = &state.models[i];
    let shape = m.shape;
    check_image(&req.image, shape)?;
    let pixels = shape.height * shape.width;
    let given = req.given.unwrap_or(pixels);
    if given > pixels {
        return Err(bad(format!("given must be at most {pixels} pixels")));
    }
    let (prepared, c) = state
        .decode
        .run(move |models| {
            let run = &models[i].run;
            let mut image = req.image;
            // Blank the pixels that are not given before preparing them.
            image[given * shape.channels..].fill(0.0);
            run.pixel_conditionals(&image, req.seed, req.label)
        })
        .await??;
    Ok(Json(json!({
        "image": prepared,
        "mean": c.mean,
        "log_prob": c.log_prob,
        "given": given,
    })))
}
