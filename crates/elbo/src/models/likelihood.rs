//! The decoder's likelihood p(x | z): Bernoulli for binary (or grey, as in
//! pytorch/examples) pixels, Gaussian for continuous data. Both are full
//! log-densities, the Gaussian's normalizer included, so negative ELBOs and
//! IWAE estimates of different likelihoods are in the same units (nats).

use serde::{Deserialize, Serialize};

/// Which p(x | z) the decoder parameterizes; named in config files and on the
/// command line as `bernoulli`, `gaussian` or `gaussian-learned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// One Bernoulli logit per pixel.
    #[default]
    Bernoulli,
    /// N(x; μ(z), σ²) per pixel with σ² fixed (the config's `variance`).
    Gaussian,
    /// N(x; μ(z), σ_i²) with one learned log-variance per pixel, started at
    /// the config's `variance`.
    GaussianLearned,
}

impl Likelihood {
    /// Every likelihood, in the order `--help` lists them.
    pub const ALL: [Likelihood; 3] = [
        Likelihood::Bernoulli,
        Likelihood::Gaussian,
        Likelihood::GaussianLearned,
    ];

    /// The config-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Likelihood::Bernoulli => "bernoulli",
            Likelihood::Gaussian => "gaussian",
            Likelihood::GaussianLearned => "gaussian-learned",
        }
    }
}

impl std::fmt::Display for Likelihood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Likelihood {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        Likelihood::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                crate::Error::invalid(format!(
                    "unknown likelihood '{s}' (expected bernoulli, gaussian or gaussian-learned)"
                ))
            })
    }
}
