//! The next-pixel probabilities through the API: the run's conditionals,
//! a partial drawing's given part, and requests that do not fit refused.

use axum::http::StatusCode;
use elbo::data::ImageSet;
use elbo::eval::EvalOptions;
use serde_json::{Value, json};

use super::{app, assert_close, call, runs};

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn the_next_pixel_probabilities_are_the_runs_conditionals() {
    let r = runs();
    let app = app(&[&r.pixelcnn]);
    let run = elbo::run::Run::load(&r.pixelcnn).unwrap();
    let test = elbo::run::test_images(&run, None).unwrap();
    let image = test.image(3).to_vec();
    block_on(async {
        let body = json!({ "image": image, "seed": 0 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/conditionals", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let (prepared, want) = run.pixel_conditionals(&image, 0, None).unwrap();
        assert_eq!(
            floats(&v["image"]),
            prepared,
            "the image as the model sees it"
        );
        assert_close(&floats(&v["mean"]), &want.mean, "P(x_i = 1 | x_<i)");
        assert_close(&floats(&v["log_prob"]), &want.log_prob, "log p(x_i | x_<i)");

        // Their sum is the run's exact log-likelihood of the image.
        let one = ImageSet {
            pixels: image.clone(),
            n: 1,
            labels: None,
            ..test.clone()
        };
        let opts = EvalOptions {
            seed: 0,
            iwae_samples: None,
        };
        let (nll, _) = run.nll_per_image(&one, &opts).unwrap().unwrap();
        let sum: f64 = want.log_prob.iter().map(|&x| f64::from(x)).sum();
        assert!(
            (sum + nll[0]).abs() < 1e-3,
            "Σ log p = {sum}, NLL {}",
            nll[0]
        );

        // Given the first 20 pixels only: the rest are blank, and the
        // conditionals up to pixel 20 are those of the whole image.
        let body = json!({ "image": image, "seed": 0, "given": 20 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/conditionals", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let partial = floats(&v["image"]);
        assert_eq!(partial[..20], prepared[..20]);
        assert!(partial[20..].iter().all(|&x| x == 0.0));
        assert_close(
            &floats(&v["mean"])[..21],
            &want.mean[..21],
            "the given part",
        );
    });
}

#[test]
fn a_conditionals_request_that_does_not_fit_gets_a_400() {
    let r = runs();
    let app = app(&[&r.pixelcnn, &r.vae]);
    let blank = vec![0.0f32; 64];
    let cases = [
        (
            0,
            json!({ "image": blank, "seed": 0, "given": 65 }),
            "given",
        ),
        (0, json!({ "image": blank[..63], "seed": 0 }), "64 values"),
        (0, json!({ "image": vec![2.0f32; 64], "seed": 0 }), "[0, 1]"),
        (0, json!({ "image": blank, "seed": 0, "label": 1 }), "label"),
        (0, json!({ "image": blank }), "seed"),
        (1, json!({ "image": blank, "seed": 0 }), "autoregressive"),
    ];
    block_on(async {
        for (model, body, says) in cases {
            let uri = format!("/api/models/{model}/conditionals");
            let (status, v) = call(&app, "POST", &uri, &body.to_string()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
            let error = v["error"].as_str().unwrap_or_default();
            assert!(error.contains(says), "{body}: {error}");
        }
    });
}
