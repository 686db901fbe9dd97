//! `elbo report`: the models side by side on one page.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::DataSpec;
use elbo::report::{ReportOptions, report};

use crate::commands::Status;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Data: digits (embedded), mnist:DIR, amat:FILE, npy:FILE or images:DIR.
    #[arg(long, default_value = "digits")]
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
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub picture: crate::args::PictureArgs,
}

pub fn report_cmd(a: ReportArgs) -> Result<Status> {
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
    for (kind, why) in &outcome.missing {
        eprintln!("warning: {kind} is not in the report: {why}");
    }
    println!("models: {}", outcome.fitted.join(", "));
    println!(
        "wrote {} (and {})",
        outcome.html.display(),
        outcome.markdown.display()
    );
    Ok(Status::Done)
}
