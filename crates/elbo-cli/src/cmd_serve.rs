//! `elbo serve`: a live browser explorer of trained runs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use elbo::serve::{Explorer, Limits, interrupted, is_loopback, serve};

use crate::commands::Status;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A run folder to explore (repeatable: a VAE and an autoencoder side by side).
    #[arg(long = "model", value_name = "RUN", required = true)]
    pub models: Vec<PathBuf>,
    /// Port to listen on (0: any free port, printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on; anything but a loopback address exposes the models to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Seconds a client may take to send a request (header or body) before it is cut off.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = parse_idle_timeout)]
    pub idle_timeout: f64,
}

/// A positive, finite number of seconds, at most a day.
fn parse_idle_timeout(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !(v > 0.0 && v <= 86_400.0) {
        return Err(format!(
            "must be more than 0 and at most 86400 seconds, got {s}"
        ));
    }
    Ok(v)
}

pub fn serve_cmd(a: ServeArgs) -> Result<Status> {
    // Before the address is printed: a Ctrl-C right after it must reach the
    // handler, not the default action (the stop future installs it only
    // when first polled).
    elbo::device::install_interrupt_handler();
    let addr = SocketAddr::new(a.host, a.port);
    if !is_loopback(&addr) {
        eprintln!(
            "warning: --host {} is not a loopback address: anyone who can reach this machine can use the server",
            a.host
        );
    }
    let explorer = Explorer::load(&a.models)?;
    let limits = Limits {
        idle: Duration::from_secs_f64(a.idle_timeout),
    };
    serve(
        explorer,
        addr,
        limits,
        |bound| {
            println!("serving on http://{bound}/ (Ctrl-C stops)");
        },
        interrupted(),
    )?;
    eprintln!("stopped");
    Ok(Status::Done)
}
