//! The API through the router: answers equal to the library's, and every
//! malformed request answered with a 4xx and a JSON error.

use axum::http::StatusCode;
use serde_json::json;

use super::{app, assert_close, call, images, library_decode, runs};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn decoding_points_gives_what_the_library_decodes() {
    let r = runs();
    let app = app(&[&r.vae]);
    block_on(async {
        let body = json!({ "points": [[0.0, 0.0], [1.5, -0.5], [-2.0, 1.0]] }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/decode", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let got = images(&v);
        assert_eq!(got.len(), 3);
        let want = library_decode(&r.vae, &[0.0, 0.0, 1.5, -0.5, -2.0, 1.0], 2);
        assert_close(&got.concat(), &want, "decoded images");
        assert_ne!(got[0], got[1], "different points decode differently");
    });
}

#[test]
fn the_model_list_describes_each_kind() {
    let r = runs();
    let app = app(&[&r.vae, &r.vae3, &r.pixelcnn, &r.mixture]);
    block_on(async {
        let (status, v) = call(&app, "GET", "/api/models", "").await;
        assert_eq!(status, StatusCode::OK);
        let m = v["models"].as_array().unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0]["kind"], "vae");
        assert_eq!(m[0]["latent"]["dim"], 2);
        assert!(
            m[1]["latent"]["projection"]
                .as_str()
                .unwrap()
                .contains("PCA")
        );
        let points = m[0]["latent"]["points"].as_array().unwrap();
        assert_eq!(points.len(), m[0]["test_images"].as_u64().unwrap() as usize);
        assert_eq!(m[2]["autoregressive"], true);
        assert!(m[2]["latent"].is_null());
        let weights: f64 = m[3]["mixture"]["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_f64().unwrap())
            .sum();
        assert!((weights - 1.0).abs() < 1e-6, "weights sum to {weights}");
        assert_eq!(m[3]["mixture"]["means"].as_array().unwrap().len(), 4);
    });
}

#[test]
fn a_map_point_of_a_3d_code_decodes_through_the_principal_axes() {
    let r = runs();
    let app = app(&[&r.vae3]);
    block_on(async {
        let (_, v) = call(&app, "GET", "/api/models", "").await;
        let l = &v["models"][0]["latent"];
        let f = |x: &serde_json::Value| x.as_f64().unwrap() as f32;
        let origin: Vec<f32> = l["origin"].as_array().unwrap().iter().map(f).collect();
        let a: Vec<Vec<f32>> = (0..2)
            .map(|k| l["axes"][k].as_array().unwrap().iter().map(f).collect())
            .collect();
        let dot: f32 = a[0].iter().zip(&a[1]).map(|(x, y)| x * y).sum();
        assert!(dot.abs() < 1e-4, "the axes are orthogonal: {dot}");
        let z: Vec<f32> = (0..3)
            .map(|j| origin[j] + 0.5 * a[0][j] - 0.25 * a[1][j])
            .collect();
        let (status, v) = call(
            &app,
            "POST",
            "/api/models/0/decode",
            &json!({ "points": [z] }).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_close(&images(&v)[0], &library_decode(&r.vae3, &z, 3), "decode");
    });
}

#[test]
fn the_path_between_two_test_images_is_the_runs_interpolation() {
    let r = runs();
    let app = app(&[&r.vae]);
    block_on(async {
        let body = json!({ "from": 0, "to": 5, "steps": 6 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/path", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let run = elbo::run::Run::load(&r.vae).unwrap();
        let test = elbo::run::test_images(&run, None).unwrap();
        let want = run
            .interpolate(&run.row(&test, 0).unwrap(), &run.row(&test, 5).unwrap(), 6)
            .unwrap();
        assert_close(&images(&v).concat(), &want, "path");
    });
}

#[test]
fn completion_keeps_the_given_rows_and_draws_the_rest() {
    let r = runs();
    let app = app(&[&r.pixelcnn]);
    block_on(async {
        let (_, t) = call(&app, "GET", "/api/models/0/test/3", "").await;
        let image: Vec<f32> = t["image"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let body = json!({ "image": image, "rows": 3, "seed": 7, "n": 4 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/complete", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let done = images(&v);
        assert_eq!(done.len(), 4);
        let given: Vec<f32> = image[..24]
            .iter()
            .map(|&x| if x > 0.5 { 1.0 } else { 0.0 })
            .collect();
        for img in &done {
            assert_eq!(img[..24], given[..], "the top 3 rows are kept (binarized)");
            assert!(img.iter().all(|&x| x == 0.0 || x == 1.0), "binary pixels");
        }
        let (_, again) = call(&app, "POST", "/api/models/0/complete", &body).await;
        assert_eq!(images(&again), done, "the same seed completes the same way");
    });
}

#[test]
fn a_mixture_samples_from_one_chosen_component() {
    let r = runs();
    let app = app(&[&r.mixture]);
    block_on(async {
        let body = json!({ "n": 3, "seed": 1, "component": 2 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/sample", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(images(&v).len(), 3);
        assert!(images(&v).concat().iter().all(|&x| x == 0.0 || x == 1.0));
        let body = json!({ "n": 3, "seed": 1, "component": 4 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/sample", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("component 4"), "{v}");
    });
}

#[test]
fn the_nearest_training_image_of_a_training_image_is_itself() {
    let r = runs();
    let app = app(&[&r.vae]);
    let run = elbo::run::Run::load(&r.vae).unwrap();
    let train = elbo::run::split_images(&run, None, true).unwrap();
    block_on(async {
        let body = json!({ "image": train.image(11) }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/nearest", &body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(v["distance"].as_f64().unwrap() < 1e-2, "{v}");
        let i = v["index"].as_u64().unwrap() as usize;
        assert_close(train.image(i), train.image(11), "the nearest image");
    });
}

#[test]
fn the_test_nll_says_how_it_was_obtained() {
    let r = runs();
    let app = app(&[&r.vae, &r.ae]);
    block_on(async {
        for _ in 0..600 {
            let (_, a) = call(&app, "GET", "/api/models/0/nll", "").await;
            let (_, b) = call(&app, "GET", "/api/models/1/nll", "").await;
            if a["status"] != "computing" && b["status"] != "computing" {
                assert_eq!(a["status"], "done", "{a}");
                assert!(a["nll"]["method"].as_str().unwrap().contains("IWAE"), "{a}");
                assert!(a["nll"]["nats"].as_f64().unwrap() > 0.0);
                assert_eq!(
                    b["status"], "none",
                    "the autoencoder has no likelihood: {b}"
                );
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the NLL was not computed within a minute");
    });
}

#[test]
fn malformed_requests_get_a_4xx_with_a_json_error() {
    let r = runs();
    let app = app(&[&r.vae, &r.pixelcnn]);
    let too_many = json!({ "points": vec![[0.0, 0.0]; 65] }).to_string();
    let huge = json!({ "points": vec![[0.0, 0.0]; 30_000] }).to_string();
    let cases: Vec<(&str, &str, String, StatusCode)> = vec![
        (
            "POST",
            "/api/models/0/decode",
            "{not json".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/decode",
            r#"{"points": [[0, 0]], "x": 1}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/decode",
            r#"{"points": [[0, 0, 0]]}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/decode",
            r#"{"points": []}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/decode",
            r#"{"points": [[0, 0]], "label": 1}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/decode",
            too_many,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/decode",
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/api/models/1/decode",
            r#"{"points": [[0, 0]]}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/7/decode",
            r#"{"points": [[0, 0]]}"#.into(),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/models/..%2F..%2Fetc/decode",
            "{}".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/models/0/test/99999",
            "".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/models/0/test/-1",
            "".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("GET", "/../../etc/passwd", "".into(), StatusCode::NOT_FOUND),
        (
            "POST",
            "/api/models/0/path",
            r#"{"from": 0, "to": 1, "steps": 1000}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/sample",
            r#"{"n": 0, "seed": 0}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/1/sample",
            r#"{"n": 17, "seed": 0}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/1/complete",
            r#"{"image": [0.5], "rows": 2, "seed": 0, "n": 1}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/complete",
            format!(
                r#"{{"image": {:?}, "rows": 2, "seed": 0, "n": 1}}"#,
                vec![0.0; 64]
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/models/0/nearest",
            r#"{"image": [1, 2]}"#.into(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    block_on(async {
        for (method, uri, body, want) in cases {
            let (status, v) = call(&app, method, uri, &body).await;
            assert_eq!(
                status,
                want,
                "{method} {uri} {}: {v}",
                &body[..body.len().min(60)]
            );
            let msg = v["error"].as_str();
            assert!(
                msg.is_some_and(|m| !m.is_empty()),
                "{method} {uri}: no JSON error: {v}"
            );
        }
    });
}

#[test]
fn a_conditional_vae_decodes_the_chosen_label() {
    let r = runs();
    let app = app(&[&r.cvae]);
    block_on(async {
        let (_, v) = call(&app, "GET", "/api/models", "").await;
        assert_eq!(v["models"][0]["classes"], 10);
        let mut decoded = Vec::new();
        for label in [3usize, 7] {
            let body = json!({ "points": [[0.5, -0.5]], "label": label }).to_string();
            let (status, v) = call(&app, "POST", "/api/models/0/decode", &body).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            let mut row = vec![0.5, -0.5];
            row.extend((0..10).map(|c| if c == label { 1.0 } else { 0.0 }));
            assert_close(&images(&v)[0], &library_decode(&r.cvae, &row, 12), "decode");
            decoded.push(images(&v)[0].clone());
        }
        assert_ne!(decoded[0], decoded[1], "the label changes the image");
        let body = json!({ "points": [[0.5, -0.5]], "label": 10 }).to_string();
        let (status, v) = call(&app, "POST", "/api/models/0/decode", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    });
}
