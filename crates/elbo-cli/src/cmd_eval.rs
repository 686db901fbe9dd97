//! `elbo eval`: one call into [`elbo::run::Run::evaluate`] for every
//! family, printed as text or as the one `Evaluation` JSON schema.

use anyhow::Result;
use elbo::eval::{EvalOptions, Evaluation, NllMethod};
use elbo::run::{self, Run};

use crate::args::EvalArgs;
use crate::commands::Status;

/// `elbo eval`.
pub fn eval(a: EvalArgs) -> Result<Status> {
    let run = Run::load(&a.run.model)?;
    if let Some(spec) = a.data.as_ref()
        && let Some(w) = run::pixel::colour_warning(&run, spec)?
    {
        eprintln!("{w}");
    }
    let test = run::test_images(&run, a.data.as_ref())?;
    if a.iwae.is_some() && run.kind() == "ae" {
        run.vae()?; // the error that says why
    }
    let opts = EvalOptions {
        seed: a.seed,
        iwae_samples: a.iwae,
    };
    let e = run.evaluate(&test, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string(&e)?);
    } else {
        print_text(&run, &e);
    }
    Ok(Status::Done)
}

fn print_text(run: &Run, e: &Evaluation) {
    if let Some(m) = &e.mixture {
        println!(
            "test: mean log-likelihood {:.4} per image over {} images, BIC {:.1}, AIC {:.1} ({} parameters)",
            m.log_likelihood, e.images, m.bic, m.aic, e.parameters
        );
    }
    match (run.kind(), &e.loss) {
        ("vae", Some(l)) => println!(
            "test loss {:.3} nats/image (recon {:.3} + KL {:.3}) over {} images",
            l.loss, l.recon, l.kl, l.images
        ),
        ("ae", Some(l)) => println!(
            "test reconstruction loss {:.3} nats/image over {} images (a plain autoencoder has no likelihood bound: no ELBO, no IWAE)",
            l.loss, l.images
        ),
        _ => {}
    }
    match &e.nll {
        Some(n) => match n.method {
            NllMethod::IwaeBound { k } => println!(
                "IWAE (K = {k}) NLL {:.3} ± {:.3} nats/image, {:.4} bits/dim (upper bound on -log p(x))",
                n.nats, n.std_error, n.bits_per_dim
            ),
            method => println!(
                "test NLL {:.3} ± {:.3} nats/image, {:.4} bits/dim over {} images ({})",
                n.nats,
                n.std_error,
                n.bits_per_dim,
                n.images,
                method.describe()
            ),
        },
        None if e.mixture.is_some() => println!(
            "test: (fitted with dequantize = false: a density, not a probability of 8-bit images, so no NLL in nats/image)"
        ),
        None => {}
    }
}
