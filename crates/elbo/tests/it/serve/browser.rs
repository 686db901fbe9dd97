//! The page in headless Chromium, driven over WebDriver: the pointer moves
//! over the VAE's latent map, the decoded image changes and equals the
//! library's decode of the code the page shows; the same pointer drives
//! the autoencoder beside it; a pixel model completes a picked test image.
//! `ELBO_SERVE_SCREENSHOT=FILE` saves what the page looks like at the end.

use serde_json::Value;

use super::server::Running;
use super::webdriver::{Browser, browser};
use super::{assert_close, library_decode, runs};

/// The decoded canvas of model `i`: (seq, code, pixels) once it has one.
fn decoded(s: &Browser, i: usize, after: u64) -> (u64, Vec<f32>, Vec<f32>) {
    let script = format!(
        "const c = document.querySelector(\"section[data-index='{i}'] canvas.decoded\");
         const seq = Number(c.dataset.seq || 0);
         return seq > {after} ? [seq, c.dataset.code, c.dataset.pixels] : null;"
    );
    let v = s.wait_for(&script, &format!("a new decode of model {i}"));
    let floats = |x: &Value| -> Vec<f32> {
        let parsed: Vec<f64> = serde_json::from_str(x.as_str().unwrap()).unwrap();
        parsed.into_iter().map(|f| f as f32).collect()
    };
    (v[0].as_u64().unwrap(), floats(&v[1]), floats(&v[2]))
}

#[test]
fn the_pointer_over_the_latent_map_decodes_live_in_a_browser() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let r = runs();
    let server = Running::start(&[&r.vae, &r.ae, &r.pixelcnn]);
    let s = Browser::start(&driver, &chromium);
    s.goto(&format!("http://{}/", server.addr));
    s.wait_for(
        "return document.body.dataset.ready === '1'",
        "the page to load",
    );

    let map = s.find("section[data-index='0'] canvas.map");
    s.move_to(&map, -60, 40);
    let (seq, code_a, pixels_a) = decoded(&s, 0, 0);
    assert_close(
        &pixels_a,
        &library_decode(&r.vae, &code_a, 2),
        "VAE decode at a",
    );
    s.move_to(&map, 70, -50);
    let (_, code_b, pixels_b) = loop {
        let d = decoded(&s, 0, seq);
        if d.1 != code_a {
            break d;
        }
    };
    assert_ne!(pixels_a, pixels_b, "another point decodes to another image");
    assert_close(
        &pixels_b,
        &library_decode(&r.vae, &code_b, 2),
        "VAE decode at b",
    );

    // The same pointer drove the autoencoder's map (its own frame).
    let (_, ae_code, ae_pixels) = decoded(&s, 1, 0);
    assert_close(
        &ae_pixels,
        &library_decode(&r.ae, &ae_code, 2),
        "autoencoder decode",
    );

    // The pixel model completes test image 0 from its top rows.
    s.click(&s.find("section[data-index='2'] button.load"));
    s.wait_for(
        "return document.querySelector(\"section[data-index='2'] canvas.draw\").width === 8",
        "the picked image",
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.click(&s.find("section[data-index='2'] button.complete"));
    let done = s.wait_for(
        "const b = document.querySelector(\"section[data-index='2'] .completions\");
         return b.dataset.done === '1' ? [...b.querySelectorAll('canvas')].map(c => c.dataset.pixels) : null;",
        "completions",
    );
    let completions: Vec<Vec<f32>> = done
        .as_array()
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(p.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(completions.len(), 4);
    let run = elbo::run::Run::load(&r.pixelcnn).unwrap();
    let test = elbo::run::test_images(&run, None).unwrap();
    let given: Vec<f32> = test.image(0)[..32]
        .iter()
        .map(|&x| if x > 0.5 { 1.0 } else { 0.0 })
        .collect();
    for c in &completions {
        assert_eq!(
            c[..32],
            given[..],
            "the top 4 rows of test image 0 are kept"
        );
    }
    if let Ok(path) = std::env::var("ELBO_SERVE_SCREENSHOT") {
        std::fs::write(path, s.screenshot()).unwrap();
    }
    drop(s);
    server.stop().expect("serve returns cleanly");
}

/// The screenshot in the README (`docs/serve/serve.png`): the runs of
/// `ELBO_SERVE_RUNS` (comma-separated folders), the pointer over the first
/// latent map, a path picked, a completion with its next-pixel heat map and
/// a mixture component drawn:
/// `ELBO_SERVE_RUNS=report/runs/vae,report/runs/ae,... ELBO_SERVE_SCREENSHOT=docs/serve/serve.png
/// cargo test -p elbo --test it serve::browser::screenshot -- --ignored`.
#[test]
#[ignore = "writes the README's screenshot from given runs"]
fn screenshot_of_given_runs() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let runs = std::env::var("ELBO_SERVE_RUNS").expect("ELBO_SERVE_RUNS");
    let out = std::env::var("ELBO_SERVE_SCREENSHOT").expect("ELBO_SERVE_SCREENSHOT");
    let dirs: Vec<std::path::PathBuf> = runs.split(',').map(Into::into).collect();
    let refs: Vec<&std::path::Path> = dirs.iter().map(|d| d.as_path()).collect();
    let server = Running::start(&refs);
    // Tall enough for the whole page of four models.
    let s = Browser::sized(&driver, &chromium, (1280, 2600));
    s.goto(&format!("http://{}/", server.addr));
    s.wait_for(
        "return document.body.dataset.ready === '1'",
        "the page to load",
    );
    let kinds =
        s.script("return [...document.querySelectorAll('section.model')].map(e => e.dataset.kind)");
    for (i, kind) in kinds.as_array().unwrap().iter().enumerate() {
        let at = |css: &str| s.find(&format!("section[data-index='{i}'] {css}"));
        match kind.as_str().unwrap() {
            "vae" | "ae" if i == 0 => {
                let map = at("canvas.map");
                s.click_at(&map, -70, -20);
                s.click_at(&map, 60, 50);
                s.move_to(&map, -40, 30);
            }
            "pixelcnn" | "gated-pixelcnn" | "pixelrnn" | "nade" => {
                s.click(&at("button.load"));
                std::thread::sleep(std::time::Duration::from_millis(300));
                s.click(&at("button.complete"));
            }
            "gmm" | "bernoulli-mixture" => s.click(&at(".components figure")),
            _ => {}
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(5));
    s.script("window.scrollTo(0, 0); return null;");
    std::fs::write(out, s.screenshot()).unwrap();
    drop(s);
    server.stop().expect("serve returns cleanly");
}
