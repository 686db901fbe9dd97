//! The `elbo` binary, one module per subject.

mod arch;
mod bad_input;
mod checkpoint_state;
mod end_to_end;
mod export;
mod fault_injection;
mod interrupt;
mod mixture;
mod pixel;
mod plot;
mod report;
mod resume;
mod run_folder_lock;
