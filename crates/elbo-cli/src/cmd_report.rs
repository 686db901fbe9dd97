//! `elbo report`: the models side by side on one page.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use elbo::data::DataSpec;
use elbo::families::RunConfig;
use elbo::folder::RunDir;
use elbo::report::{ReportOptions, report};

use crate::commands::Status;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Data: digits (embedded 8x8), mnist:DIR, amat:FILE, npy:FILE or images:DIR.
    #[arg(long, value_name = "SPEC", default_value = "digits")]
    pub data: DataSpec,
    /// Folder for report.html, report.md, their pictures and the fitted runs.
    #[arg(long, default_value = "report")]
    pub out: PathBuf,
    /// Minutes of fitting in all, split between the models.
    #[arg(long, default_value_t = 3.0, allow_negative_numbers = true)]
    pub budget: f64,
    /// An existing run folder to use instead of fitting its family (repeatable).
    #[arg(long = "run", value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Seed of fitting and of every sample grid.
    #[arg(long, default_value_t = crate::flags::DEFAULT_SEED)]
    pub seed: u64,
    /// Print the result on stdout as one JSON object (schema in docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub picture: crate::flags::PictureArgs,
}

pub fn report_cmd(a: ReportArgs) -> Result<Status> {
    let grey: Vec<String> = a.runs.iter().filter_map(|d| grey_warning(d)).collect();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let outcome = report(&ReportOptions {
        data: a.data,
        out: a.out,
        budget_minutes: a.budget,
        runs: a.runs,
        seed: a.seed,
        command,
        scale: a.picture.scale,
    })?;
    for w in &grey {
        eprintln!("warning: {w}");
    }
    for (kind, why) in &outcome.missing {
        eprintln!("warning: {kind} is not in the report: {why}");
    }
    if a.json {
        let missing: Vec<_> = outcome
            .missing
            .iter()
            .map(|(kind, why)| serde_json::json!({ "kind": kind, "why": why }))
            .collect();
        let value = serde_json::json!({
            "result": "report",
            "models": outcome.fitted,
            "missing": missing,
            "html": outcome.html,
            "markdown": outcome.markdown,
        });
        println!("{value}");
        return Ok(Status::Done);
    }
    println!("models: {}", outcome.fitted.join(", "));
    println!(
        "wrote {} (and {})",
        outcome.html.display(),
        outcome.markdown.display()
    );
    Ok(Status::Done)
}

/// What to say about a run given with --run that saw grey pixels where the
/// report's other models (but the GMM) see binarized ones; the page says it
/// too. `None` for anything else, including a folder that does not load
/// (the report's own error names it).
fn grey_warning(dir: &Path) -> Option<String> {
    let config = RunConfig::load_from(&RunDir::new(dir)).ok()?;
    let kind = config.model.kind();
    (kind != "gmm" && !config.data.pixels.is_binary()).then(|| {
        format!(
            "{} is a {kind} trained on grey pixels: the report's binary models see binarized ones, so its figures do not compare with theirs (the page says so too)",
            dir.display()
        )
    })
}
