//! Fitting an autoregressive model to data: colours and output distribution
//! from the data at training, and the checks on data given to a trained model.

use super::{PixelConfig, PixelOutput};
use crate::data::{ImageSet, PixelMode};
use crate::{Error, Result};

/// Whether the values the model will see are all 0 or 1.
pub fn is_binary(mode: PixelMode, set: &ImageSet) -> bool {
    mode.is_binary() || set.pixels.iter().all(|&v| v == 0.0 || v == 1.0)
}

/// Fills in the colours and, where unset, the output distribution
/// (Bernoulli for binary values, else the 256-way softmax), then checks the
/// data fits the model.
pub fn resolve(config: &mut PixelConfig, mode: PixelMode, set: &ImageSet) -> Result<()> {
    if config.colors == 0 {
        config.colors = set.channels;
    }
    if config.output.is_none() {
        config.output = Some(if is_binary(mode, set) {
            PixelOutput::Bernoulli
        } else {
            PixelOutput::Categorical
        });
    }
    check(config, mode, set).map(|_| ())
}

/// Checks that `set` (presented with `mode`) fits a model of `config`.
/// Errors: another number of colours, non-binary values for a Bernoulli
/// model. Returns a warning for binary data given to a 256-way model (it
/// works, but wastes the model on two of 256 levels).
pub fn check(config: &PixelConfig, mode: PixelMode, set: &ImageSet) -> Result<Option<String>> {
    let name = |c: usize| if c == 3 { "RGB" } else { "grey" };
    if set.channels != config.colors {
        return Err(Error::invalid(format!(
            "the data holds {} images but the model is {} ({} colour(s)); use --rgb to match",
            name(set.channels),
            name(config.colors),
            config.colors
        )));
    }
    let binary = is_binary(mode, set);
    match config.output {
        Some(PixelOutput::Bernoulli) if !binary => {
            let v = set.pixels.iter().find(|&&v| v != 0.0 && v != 1.0).copied().unwrap_or(0.5);
            Err(Error::invalid(format!(
                "the data holds non-binary values (e.g. {v:.3}) but the model's pixels are Bernoulli: \
                 use --pixels binary or dynamic, or --output categorical"
            )))
        }
        Some(PixelOutput::Categorical) if binary => Ok(Some(
            "warning: binary data given to a 256-way softmax model: it works, but only levels 0 and 255 occur (a Bernoulli model fits binary data better)".into(),
        )),
        _ => Ok(None),
    }
}
