//! The page's other views in headless Chromium: a mixture's component
//! samples, the latent sliders, a conditional VAE's label selector and a
//! pixel model's next-pixel heat map, each compared with the library.

use serde_json::Value;

use super::server::Running;
use super::webdriver::{Browser, browser};
use super::{assert_close, library_decode, runs};

/// A browser on the page of a server over `dirs`, once it has loaded.
fn open(dirs: &[&std::path::Path]) -> Option<(Running, Browser)> {
    let (driver, chromium) = browser()?;
    let server = Running::start(dirs);
    let s = Browser::start(&driver, &chromium);
    s.goto(&format!("http://{}/", server.addr));
    s.wait_for(
        "return document.body.dataset.ready === '1'",
        "the page to load",
    );
    Some((server, s))
}

fn floats(v: &Value) -> Vec<f32> {
    let parsed: Vec<f64> = serde_json::from_str(v.as_str().expect("a JSON string")).unwrap();
    parsed.into_iter().map(|f| f as f32).collect()
}

/// Model 0's decoded canvas once its decode count passes `after`: (seq,
/// code, label, pixels).
fn decoded(s: &Browser, after: u64) -> (u64, Vec<f32>, String, Vec<f32>) {
    let script = format!(
        "const c = document.querySelector(\"section[data-index='0'] canvas.decoded\");
         const seq = Number(c.dataset.seq || 0);
         return seq > {after} ? [seq, c.dataset.code, c.dataset.label, c.dataset.pixels] : null;"
    );
    let v = s.wait_for(&script, "a new decode");
    let label = v[2].as_str().unwrap().to_string();
    (v[0].as_u64().unwrap(), floats(&v[1]), label, floats(&v[3]))
}

#[test]
fn clicking_a_component_mean_shows_samples_of_that_component() {
    let r = runs();
    let Some((server, s)) = open(&[&r.mixture]) else {
        return;
    };
    s.click(&s.find("section[data-index='0'] .components figure:nth-child(3)"));
    let v = s.wait_for(
        "const c = [...document.querySelectorAll(\"section[data-index='0'] .samples canvas\")];
         return c.length === 8 ? c.map(x => x.dataset.pixels) : null;",
        "the component's samples",
    );
    let shown: Vec<f32> = v.as_array().unwrap().iter().flat_map(floats).collect();
    let run = elbo::run::Run::load(&r.mixture).unwrap();
    let want = elbo::serve::components::sample_component(&run, 2, 8, 0).unwrap();
    assert_close(&shown, &want, "8 draws from component 2 with seed 0");
    drop(s);
    server.stop().expect("serve returns cleanly");
}

#[test]
fn moving_a_latent_slider_decodes_the_code_it_sets() {
    let r = runs();
    let Some((server, s)) = open(&[&r.vae]) else {
        return;
    };
    s.click(&s.find("section[data-index='0'] .slider-box summary"));
    let slider = s.find("section[data-index='0'] .sliders label:nth-child(1) input");
    s.click_at(&slider, 30, 0);
    let (seq, code, _, pixels) = decoded(&s, 0);
    assert_ne!(code[0], 0.0, "the slider set z0");
    assert_eq!(code[1], 0.0, "z1 stays at the map's origin");
    assert_close(&pixels, &library_decode(&r.vae, &code, 2), "decode of z");
    s.click_at(&slider, -40, 0);
    let (_, moved, _, other) = decoded(&s, seq);
    assert!(moved[0] < code[0], "the slider moved left: {moved:?}");
    assert_ne!(pixels, other, "another code decodes to another image");
    assert_close(&other, &library_decode(&r.vae, &moved, 2), "decode of z'");
    drop(s);
    server.stop().expect("serve returns cleanly");
}

#[test]
fn a_conditional_vaes_label_selector_decodes_the_chosen_digit() {
    let r = runs();
    let Some((server, s)) = open(&[&r.cvae]) else {
        return;
    };
    s.click(&s.find("section[data-index='0'] select.label option[value='3']"));
    s.move_to(&s.find("section[data-index='0'] canvas.map"), 20, -30);
    let (seq, code, label, pixels) = loop {
        let d = decoded(&s, 0);
        if d.2 == "3" {
            break d;
        }
    };
    assert_eq!(label, "3");
    let row = |code: &[f32], l: usize| -> Vec<f32> {
        let one_hot = (0..10).map(|c| if c == l { 1.0 } else { 0.0 });
        code.iter().copied().chain(one_hot).collect()
    };
    assert_close(
        &pixels,
        &library_decode(&r.cvae, &row(&code, 3), 12),
        "decode with label 3",
    );
    // Another label decodes the same code again, as that digit.
    s.click(&s.find("section[data-index='0'] select.label option[value='7']"));
    let (_, same, label, seven) = decoded(&s, seq);
    assert_eq!((label.as_str(), &same), ("7", &code));
    assert_ne!(pixels, seven, "another label, another image");
    assert_close(
        &seven,
        &library_decode(&r.cvae, &row(&code, 7), 12),
        "decode with label 7",
    );
    drop(s);
    server.stop().expect("serve returns cleanly");
}

/// The heat map's last answer once it is for the drawing as it is now:
/// (seq, image, mean).
fn heat(s: &Browser, after: u64) -> (u64, Vec<f32>, Vec<f32>) {
    let script = format!(
        "const h = document.querySelector(\"section[data-index='0'] canvas.heat\");
         const d = document.querySelector(\"section[data-index='0'] canvas.draw\");
         const seq = Number(h.dataset.seq || 0);
         return seq > {after} && h.dataset.image === d.dataset.image
           ? [seq, h.dataset.image, h.dataset.mean] : null;"
    );
    let v = s.wait_for(&script, "the heat map of the drawing");
    (v[0].as_u64().unwrap(), floats(&v[1]), floats(&v[2]))
}

#[test]
fn drawing_updates_the_next_pixel_heat_map() {
    let r = runs();
    let Some((server, s)) = open(&[&r.pixelcnn]) else {
        return;
    };
    let run = elbo::run::Run::load(&r.pixelcnn).unwrap();
    let (seq, blank, blank_mean) = heat(&s, 0);
    assert!(blank.iter().all(|&x| x == 0.0), "the page starts blank");
    let (_, want) = run.pixel_conditionals(&blank, 0, None).unwrap();
    assert_close(&blank_mean, &want.mean, "the blank image's conditionals");

    // A stroke across the second row of the 8×8 canvas (140 px on the page).
    s.drag(
        &s.find("section[data-index='0'] canvas.draw"),
        (-50, -45),
        (50, -45),
    );
    let (_, drawn, mean) = heat(&s, seq);
    assert!(
        drawn[8..16].iter().filter(|&&x| x == 1.0).count() >= 4,
        "the stroke is on row 1: {drawn:?}"
    );
    assert!(drawn[..8].iter().chain(&drawn[16..]).all(|&x| x == 0.0));
    let (_, want) = run.pixel_conditionals(&drawn, 0, None).unwrap();
    assert_close(&mean, &want.mean, "the drawing's conditionals");
    assert_ne!(mean, blank_mean, "the heat map follows the drawing");
    if let Ok(path) = std::env::var("ELBO_SERVE_HEAT_SCREENSHOT") {
        std::fs::write(path, s.screenshot()).unwrap();
    }
    drop(s);
    server.stop().expect("serve returns cleanly");
}
