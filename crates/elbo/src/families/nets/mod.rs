//! What the two encoder-decoder families (VAE, autoencoder) share: what
//! their networks take from the data (a conv model's image shape, a
//! conditional model's number of classes), their objectives as the training
//! loop sees them, and data-parallel steps.

mod data_parallel;
mod objective;

use super::RunConfig;
use crate::data::{DataSpec, Splits};
use crate::folder::RunDir;
use crate::models::{Arch, VaeConfig};
use crate::{Error, Result};

/// Resolves the networks against the data ([`resolve_nets`]) and takes the
/// input size from it where it is 0.
pub(crate) fn resolve_input(nets: &mut VaeConfig, splits: &Splits, spec: &DataSpec) -> Result<()> {
    resolve_nets(nets, splits, spec)?;
    let t = &splits.train;
    if nets.input_dim == 0 {
        nets.input_dim = t.dim();
    }
    if nets.input_dim != t.dim() {
        return Err(Error::invalid(format!(
            "data '{spec}' has {}x{}x{} = {} values per image but the model expects {}",
            t.height,
            t.width,
            t.channels,
            t.dim(),
            nets.input_dim
        )));
    }
    Ok(())
}

/// The networks' sizes for a table: `MLP [400], latent 20`.
pub(crate) fn describe(nets: &VaeConfig) -> String {
    let body = match nets.arch {
        Arch::Mlp => format!("MLP {:?}", nets.hidden),
        Arch::Conv => format!("conv {:?}", nets.channels),
    };
    format!("{body}, latent {}", nets.latent)
}

/// Refuses a config whose input size differs from its recorded image shape.
pub(crate) fn check_input(nets: &VaeConfig, config: &RunConfig, dir: &RunDir) -> Result<()> {
    let shape = config.image_shape()?;
    if nets.input_dim != shape.dim() {
        return Err(Error::checkpoint(
            dir.config(),
            format!(
                "model input_dim {} does not match the recorded image shape {:?}",
                nets.input_dim, config.data.shape
            ),
        ));
    }
    Ok(())
}

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
