//! Training: the learning-rate schedule, how often the test set is scored,
//! and what happens when the loss stops being finite.

mod families;
mod lr_decay;
mod nonfinite_loss;
mod test_every;
