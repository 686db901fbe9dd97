//! The 2-D latent map: posterior means of a data set, coloured by label.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Chart, Series, pca::pca2, save_scatter};
use crate::data::ImageSet;
use crate::run::Run;
use crate::{Error, Result};

/// What [`save_latent_map`] drew.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentMap {
    /// Images encoded (one dot each).
    pub points: usize,
    /// The model's latent dimension.
    pub latent: usize,
    /// With a latent dimension above 2: the fraction of the means' variance
    /// along the two principal axes drawn; `None` when the axes are z₀, z₁.
    pub explained: Option<[f64; 2]>,
    /// Distinct labels drawn (0 when the data has none).
    pub classes: usize,
    /// The PNG's (width, height).
    pub size: (u32, u32),
}

/// Encodes every image of `set`, and draws the posterior means E_q[z | x] as
/// dots coloured by label (one colour when `set` has no labels) into the
/// PNG `out`. A latent space of more than two dimensions is projected on the
/// means' first two principal axes, whose share of the variance the axis
/// titles give.
///
/// ```no_run
/// use elbo::run::{test_images, Run};
///
/// let run = Run::load("runs/mnist".as_ref())?;
/// let map = elbo::plot::save_latent_map(&run, &test_images(&run, None)?, "latent_map.png".as_ref())?;
/// println!("{} points, {} classes", map.points, map.classes);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_latent_map(run: &Run, set: &ImageSet, out: &Path) -> Result<LatentMap> {
    if set.n < 2 {
        return Err(Error::invalid("a latent map needs at least 2 images"));
    }
    let (means, _, latent) = crate::export::encode_all(run, set)?; // [n, latent]
    let (coords, explained, x_label, y_label) = match latent {
        0 | 1 => {
            return Err(Error::invalid(format!(
                "a latent map needs at least 2 latent dimensions; {} has {latent}",
                run.dir.root.display()
            )));
        }
        2 => {
            let xy = means
                .chunks_exact(2)
                .map(|z| (z[0] as f64, z[1] as f64))
                .collect();
            (xy, None, "z₀".to_string(), "z₁".to_string())
        }
        _ => {
            let pca = pca2(&means, latent)?;
            let pc = |k: usize| format!("PC{} ({:.1}% var)", k + 1, 100.0 * pca.explained[k]);
            let (x, y) = (pc(0), pc(1));
            (pca.coords, Some(pca.explained), x, y)
        }
    };
    let groups = group_by_label(&coords, set.labels.as_deref());
    let classes = if set.labels.is_some() {
        groups.len()
    } else {
        0
    };
    let title = match latent {
        2 => format!("Latent means of {} images", set.n),
        d => format!("Latent means of {} images (PCA of {d} dimensions)", set.n),
    };
    let chart = Chart::new(title, x_label, y_label)
        .size(820, 680)
        .equal_axes(true);
    let size = save_scatter(&chart, &groups, out)?;
    Ok(LatentMap {
        points: set.n,
        latent,
        explained,
        classes,
        size,
    })
}

/// One series per distinct label, in label order, named `label k`; a
/// single unnamed series without labels.
fn group_by_label(coords: &[(f64, f64)], labels: Option<&[u8]>) -> Vec<Series> {
    let Some(labels) = labels else {
        return vec![Series::new("", coords.to_vec())];
    };
    let mut by: BTreeMap<u8, Vec<(f64, f64)>> = BTreeMap::new();
    for (&p, &l) in coords.iter().zip(labels) {
        by.entry(l).or_default().push(p);
    }
    by.into_iter()
        .map(|(l, points)| Series::new(format!("label {l}"), points))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_grouped_by_label_in_label_order() {
        let coords = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)];
        let g = group_by_label(&coords, Some(&[3, 1, 3]));
        assert_eq!(g.len(), 2);
        assert_eq!(g[0], Series::new("label 1", vec![(1.0, 1.0)]));
        assert_eq!(g[1], Series::new("label 3", vec![(0.0, 0.0), (2.0, 2.0)]));
        let g = group_by_label(&coords, None);
        assert_eq!(g, vec![Series::new("", coords.to_vec())]);
    }
}
