//! Mixture models: the Gaussian mixture against scikit-learn, properties of
//! its EM, and PCA, the Bernoulli mixture and dequantization.

mod em_properties;
mod given_start;
mod golden;
mod images;
mod levels;
