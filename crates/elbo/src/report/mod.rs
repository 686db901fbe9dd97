//! `elbo report`: the lecture's models side by side on one page (issue 7).
//! This module holds the parts that do not depend on a model family: the page
//! itself and the novelty test.

pub mod novelty;
pub mod page;

pub use novelty::Novelty;
pub use page::{Block, Page};
