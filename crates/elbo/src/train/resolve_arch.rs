//! What the networks take from the data: a conv model's image shape, a
//! conditional model's number of classes; and the training settings an
//! autoencoder rejects.

use crate::data::{DataSpec, Splits};
use crate::models::{Arch, VaeConfig};
use crate::{Error, Result};

use super::TrainConfig;

/// Fills in the image shape (conv) and the classes (conditional) from the
/// training split, and checks that the data fits them.
pub(crate) fn resolve_nets(nets: &mut VaeConfig, splits: &Splits, spec: &DataSpec) -> Result<()> {
    let t = &splits.train;
    let shape = (t.height, t.width, t.channels);
    if nets.arch == Arch::Conv {
        match nets.shape {
            Some(recorded) if recorded != shape => {
                return Err(Error::invalid(format!(
                    "data '{spec}' holds {}x{}x{} images but the conv model is built for {}x{}x{}",
                    shape.0, shape.1, shape.2, recorded.0, recorded.1, recorded.2
                )));
            }
            _ => nets.shape = Some(shape),
        }
        nets.channels = nets.conv_channels();
        crate::models::conv::feature_map(shape, &nets.channels)
            .map_err(|e| Error::invalid(format!("data '{spec}': {e}")))?;
    }
    if !nets.conditional {
        return Ok(());
    }
    let (Some(train), Some(test)) = (&t.labels, &splits.test.labels) else {
        return Err(Error::invalid(format!(
            "conditional training needs class labels, but data '{spec}' has none (labels come with digits and mnist:DIR)"
        )));
    };
    let seen = train
        .iter()
        .chain(test)
        .map(|&l| usize::from(l) + 1)
        .max()
        .unwrap_or(0);
    if nets.classes == 0 {
        nets.classes = seen.max(2);
    }
    if seen > nets.classes {
        return Err(Error::invalid(format!(
            "data '{spec}' has label {} but the conditional model has {} classes",
            seen - 1,
            nets.classes
        )));
    }
    Ok(())
}

/// An autoencoder has no KL term and no likelihood bound to train on.
pub(crate) fn validate_ae_training(t: &TrainConfig) -> Result<()> {
    if t.beta != 1.0 || t.warmup_epochs > 0 || t.free_bits > 0.0 || t.iwae_samples > 1 {
        return Err(Error::invalid(
            "the autoencoder has no KL term: beta, warm-up, free bits and IWAE samples apply to the VAE only",
        ));
    }
    Ok(())
}
