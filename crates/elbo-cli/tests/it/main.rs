//! The integration tests of the `elbo` command-line program, linked into one
//! test binary (one link of burn instead of one per file). They run the
//! `elbo` binary built for the tests; `common` holds the shared helpers.

mod cli;
mod common;
