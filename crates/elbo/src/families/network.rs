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
        lock,
        splits,
        resume,
        opts,
    } = job;
    let device = crate::device::default_device().autodiff();
    let seed = seeds::stream_seed(config.train.seed, 0, 0, Purpose::Init);
    let (model, optim, state) = match resume {
        None => (fresh(&device, seed)?, adam(), TrainState::default()),
        Some(ckpt) => {
            let (weights, moments) = (dir.weights()?, dir.optimizer_state()?);
            let model =
                checkpoint::from_safetensors(fresh(&device, 0)?, &ckpt.model, &weights, &device)?;
            checkpoint::check_optimizer(&model, &ckpt.optimizer, &moments)?;
            let optim = optimizer(&ckpt.optimizer, &moments)?;
            (model, optim, ckpt.state)
        }
    };
    let train_loop = Loop {
        train: &config.train,
        data: &config.data,
        dir,
        lock,
        splits,
        device,
        opts,
        optim,
    };
    train_loop.run(model, state)
}

fn optimizer(bytes: &[u8], file: &std::path::Path) -> Result<ModuleOptimizer> {
    adam()
        .from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| Error::checkpoint(file, format!("corrupt optimizer state ({e:?})")))
}
