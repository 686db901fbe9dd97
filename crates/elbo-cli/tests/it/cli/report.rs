//! `elbo report`, checked as a person sees it: the page is opened in headless
//! Chromium, every image must have decoded, and a screenshot is taken. Without
//! Chromium the browser check is skipped with a note, unless
//! `ELBO_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs it).

use std::path::Path;
use std::process::Command;

use crate::common::*;

fn report(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["report", "--data", "digits", "--out"];
    let out = path_str(out);
    args.push(&out);
    args.extend_from_slice(extra);
    elbo(&args)
}

fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var("ELBO_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "ELBO_REQUIRE_BROWSER=1 but no chromium on PATH"
        );
        eprintln!("note: chromium not found; the browser check is skipped");
    }
    found
}

fn headless(browser: &str, extra: &[&str], page: &Path) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium")
}

#[test]
fn report_on_digits_renders_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let run = report(&out, &["--budget", "0.1"]);
    assert_ok(&run);
    assert!(stdout(&run).contains("report.html"), "{}", describe(&run));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<table>") && html.contains("NLL (nats/image)"));
    assert!(html.contains("VAE") && html.contains("Autoencoder"));
    let serve = format!("elbo serve --model {}", out.join("runs").display());
    assert!(
        html.contains(&serve),
        "the page names `elbo serve` for its runs"
    );
    for family in [
        "GMM (10 full components on PCA-16)",
        "Bernoulli mixture",
        "pixelcnn",
    ] {
        assert!(html.contains(family), "{family} is not on the page");
    }
    assert!(html.contains("exact: Σᵢ log P(xᵢ ∣ the pixels before it)"));
    assert!(html.contains("dequantized density"));
    assert!(!html.contains("src=\"samples"), "images must be inlined");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("![") && md.contains("| model |"));
    assert!(md.contains("distances-vae.png") && md.contains("distances-pixelcnn.png"));
    let Some(browser) = chromium() else { return };
    let page = out.join("report.html");
    let dom = headless(
        browser,
        &["--virtual-time-budget=5000", "--dump-dom"],
        &page,
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let images: usize = attr(&dom, "data-images").parse().expect("data-images");
    assert!(images >= 8, "only {images} images on the page");
    assert_eq!(attr(&dom, "data-broken-images"), "0", "broken images");
    let shot = tmp.path().join("shot.png");
    let s = headless(
        browser,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,2000",
        ],
        &page,
    );
    assert!(shot.exists(), "no screenshot\n{}", describe(&s));
    let img = image::open(&shot).unwrap().to_luma8();
    let dark = img.pixels().filter(|p| p.0[0] < 100).count();
    assert!(
        dark > 10_000,
        "the screenshot is nearly blank ({dark} dark pixels)"
    );
}

/// The value of `name="..."` in `dom`, or "" when absent.
fn attr(dom: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    dom.find(&key)
        .map(|i| {
            let rest = &dom[i + key.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

#[test]
fn a_budget_too_small_still_writes_a_page_naming_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let run = report(&out, &["--budget", "0.00001"]);
    assert_ok(&run);
    assert!(
        stderr(&run).contains("warning: ae is not in the report"),
        "{}",
        describe(&run)
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("ae: not in this report: the time budget was used up"));
    assert!(html.contains("</html>"));
}

#[test]
fn an_existing_run_is_used_instead_of_fitting() {
    let tmp = tempfile::tempdir().unwrap();
    let vae = tmp.path().join("vae");
    train_digits(&vae, 2, &["--pixels", "binary"]);
    let before = snapshot(&vae);
    let out = tmp.path().join("report");
    assert_ok(&report(
        &out,
        &["--budget", "0.05", "--run", &path_str(&vae)],
    ));
    assert!(
        !out.join("runs").join("vae").exists(),
        "the VAE was fitted again"
    );
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains(&path_str(&vae))
    );
    assert_unchanged(&vae, &before);
}

#[test]
fn a_run_for_other_data_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("x.npy");
    let data: Vec<u8> = (0..40 * 16).map(|i| (i % 7) as u8 * 30).collect();
    write_npy(&npy, "|u1", &[40, 4, 4], &data);
    let run_dir = tmp.path().join("small");
    let spec = format!("npy:{}", path_str(&npy));
    let out = elbo([
        "train",
        "vae",
        "--data",
        &spec,
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--quiet",
        "--no-pictures",
        "--out",
        &path_str(&run_dir),
    ]);
    assert_ok(&out);
    let out = report(&tmp.path().join("report"), &["--run", &path_str(&run_dir)]);
    assert_app_error(&out, &["small", "4x4x1", "8x8x1"]);
}

#[test]
fn an_unwritable_output_folder_or_a_negative_budget_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = report(&file.join("report"), &["--budget", "0.01"]);
    assert_app_error(&out, &["a-file"]);
    let out = report(&tmp.path().join("r"), &["--budget", "-1"]);
    assert_app_error(&out, &["budget", "positive"]);
}

#[test]
fn a_grey_vae_is_flagged_and_the_verdicts_are_short() {
    let tmp = tempfile::tempdir().unwrap();
    let vae = tmp.path().join("grey-vae");
    train_digits(&vae, 1, &[]);
    let out = tmp.path().join("report");
    let run = report(
        &out,
        &["--budget", "0.02", "--run", &path_str(&vae), "--json"],
    );
    assert_ok(&run);
    assert!(
        stderr(&run).contains("warning:") && stderr(&run).contains("grey pixels"),
        "{}",
        describe(&run)
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&run).trim())
        .unwrap_or_else(|e| panic!("{e}\n{}", describe(&run)));
    assert_eq!(v["result"], "report");
    assert!(v["models"].as_array().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(
        v["html"]
            .as_str()
            .is_some_and(|h| h.ends_with("report.html"))
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("was trained on grey pixels"),
        "the page says it"
    );
    // The novelty table's last column: a few words, not the numbers again.
    let header = md
        .lines()
        .position(|l| l.contains("| verdict |"))
        .expect("verdict table");
    let rows: Vec<&str> = md
        .lines()
        .skip(header + 2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(!rows.is_empty(), "{md}");
    for row in rows {
        let verdict = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert!(
            [
                "copies",
                "partly memorized",
                "new images",
                "new, unlike the data"
            ]
            .contains(&verdict),
            "{row}"
        );
    }
}
