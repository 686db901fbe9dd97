//! Reading data: downloads, the file-format readers, `DataSpec` and the real
//! MNIST files when they are present.

mod datasets;
mod download;
mod download_limits;
mod readers;
mod real_mnist;
mod spec;
