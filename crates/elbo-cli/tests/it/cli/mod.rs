//! The `elbo` binary, one module per subject.

mod arch;
mod bad_input;
mod end_to_end;
mod export;
mod interrupt;
mod mixture;
mod pixel;
mod plot;
mod report;
mod resume;
mod serve;
