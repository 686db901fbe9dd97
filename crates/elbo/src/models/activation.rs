//! Hidden-layer nonlinearities, named in config files as lower-case strings.

use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

/// The nonlinearity applied after every hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x): the canonical VAE recipe's choice.
    #[default]
    Relu,
    /// Hyperbolic tangent.
    Tanh,
    /// Exponential linear unit (alpha = 1).
    Elu,
    /// Gaussian error linear unit.
    Gelu,
    /// x * sigmoid(x).
    Silu,
    /// ln(1 + e^x): the smooth ReLU.
    Softplus,
}

impl Activation {
    /// Every activation, in the order `--help` lists them.
    pub const ALL: [Activation; 6] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Elu,
        Activation::Gelu,
        Activation::Silu,
        Activation::Softplus,
    ];

    /// The config-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Elu => "elu",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
            Activation::Softplus => "softplus",
        }
    }

    /// Applies the nonlinearity elementwise.
    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::Tanh => crate::kernels::tanh::tanh(x),
            Activation::Elu => activation::elu(x, 1.0),
            Activation::Gelu => activation::gelu(x),
            Activation::Silu => activation::silu(x),
            Activation::Softplus => activation::softplus(x, 1.0),
        }
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Activation {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Activation::ALL.iter().map(|a| a.name()).collect();
                crate::Error::invalid(format!(
                    "unknown activation '{s}' (expected one of: {})",
                    names.join(", ")
                ))
            })
    }
}
