//! The `elbo` binary, one module per subject.

mod arch;
mod bad_input;
mod checkpoint_state;
mod command_line;
mod device;
mod end_to_end;
mod export;
mod fault_injection;
mod interrupt;
mod interrupt_loading;
mod mixture;
mod pictures;
mod pixel;
mod plot;
mod report;
mod results;
mod resume;
mod run_folder_lock;
mod serve;
mod time_limit;
