//! Fitting a gradient-trained family: build the network (or load it from
//! the checkpoint being resumed) and hand it to the one training loop.

use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, Device};

use super::FitJob;
use crate::folder::{TrainState, checkpoint};
use crate::seeds::{self, Purpose};
use crate::train::{Loop, TrainOutcome, Trainable, adam};
use crate::{Error, Result};

/// Trains the network that `fresh(device, seed)` builds: from its seeded
/// initialization for a new run, or with the checkpoint's weights and Adam
/// moments when resuming.
pub(crate) fn fit_network<M: Trainable>(
    job: FitJob<'_>,
    fresh: impl FnOnce(&Device, u64) -> Result<M>,
) -> Result<TrainOutcome> {
    let FitJob {
        config,
        dir,
        splits,
        resume,
        opts,
    } = job;
    let device = crate::device::default_device().autodiff();
    let seed = seeds::stream_seed(config.train.seed, 0, 0, Purpose::Init);
    let (model, optim, state) = match resume {
        None => (fresh(&device, seed)?, adam(), TrainState::default()),
        Some(ckpt) => {
            let model = checkpoint::from_safetensors(
                fresh(&device, 0)?,
                &ckpt.model,
                &dir.model(),
                &device,
            )?;
            let optim = optimizer(&ckpt.optimizer, dir)?;
            (model, optim, ckpt.state)
        }
    };
    let train_loop = Loop {
        train: &config.train,
        data: &config.data,
        dir,
        splits,
        device,
        opts,
        optim,
    };
    train_loop.run(model, state)
}

fn optimizer(bytes: &[u8], dir: &crate::folder::RunDir) -> Result<ModuleOptimizer> {
    adam()
        .from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| Error::checkpoint(dir.optimizer(), format!("corrupt optimizer state ({e:?})")))
}
