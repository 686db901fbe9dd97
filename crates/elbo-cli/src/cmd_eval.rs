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
    let test = run::eval_images(&run, a.data.as_ref(), a.split)?;
    if a.iwae.is_some() && run.kind() == "ae" {
        run.vae()?; // the error that says why
    }
    let opts = EvalOptions {
        seed: a.seed,
        iwae_samples: a.iwae,
    };
    let e = run.evaluate(&test, &opts)?;
    let mean_z = if a.mean_z {
        Some(run.mean_z_loss(&test, a.seed)?)
    } else {
        None
    };
    if a.json {
        let mut value = serde_json::to_value(&e)?;
        if let (Some(m), Some(obj)) = (mean_z, value.as_object_mut()) {
            obj.insert("mean_z_loss".into(), serde_json::to_value(m)?);
        }
        println!("{value}");
    } else {
        print_text(&run, &e, a.seed);
        if let Some(m) = mean_z {
            println!(
                "at z = the posterior mean: {:.3} nats/image (recon {:.3} + KL {:.3}) over {} images: the same for every --seed, a reproducible figure but not a bound on -log p(x)",
                m.loss, m.recon, m.kl, m.images
            );
        }
    }
    Ok(Status::Done)
}

fn print_text(run: &Run, e: &Evaluation, seed: u64) {
    if let Some(m) = &e.mixture {
        println!(
            "mean log-likelihood {:.4} per image over {} images, BIC {:.1}, AIC {:.1} ({} parameters)",
            m.log_likelihood, e.images, m.bic, m.aic, e.parameters
        );
    }
    // The IWAE bound first: of a VAE's figures, the one that hardly moves
    // with the seed.
    if let Some(n) = &e.nll
        && let NllMethod::IwaeBound { k } = n.method
    {
        println!(
            "IWAE (K = {k}) NLL {:.3} ± {:.3} nats/image, {:.4} bits/dim over {} images (upper bound on -log p(x))",
            n.nats, n.std_error, n.bits_per_dim, n.images
        );
    }
    match (run.kind(), &e.loss) {
        ("vae", Some(l)) => println!(
            "negative ELBO {:.3} nats/image (recon {:.3} + KL {:.3}) over {} images, with one sampled z per image (seed {seed}): it moves with --seed and differs from training's last test figure, which drew other z; {}",
            l.loss,
            l.recon,
            l.kl,
            l.images,
            if e.nll.is_some() {
                "the IWAE figure above averages K draws"
            } else {
                "`--iwae K` gives a likelihood bound that hardly moves"
            }
        ),
        ("ae", Some(l)) => println!(
            "reconstruction loss {:.3} nats/image over {} images (a plain autoencoder has no likelihood bound: no ELBO, no IWAE)",
            l.loss, l.images
        ),
        _ => {}
    }
    match &e.nll {
        Some(n) if matches!(n.method, NllMethod::IwaeBound { .. }) => {}
        Some(n) => println!(
            "NLL {:.3} ± {:.3} nats/image, {:.4} bits/dim over {} images ({})",
            n.nats,
            n.std_error,
            n.bits_per_dim,
            n.images,
            n.method.describe()
        ),
        None if e.mixture.is_some() => println!(
            "(fitted with dequantize = false: a density, not a probability of 8-bit images, so no NLL in nats/image)"
        ),
        None => {}
    }
}
