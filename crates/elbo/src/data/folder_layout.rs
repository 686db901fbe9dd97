//! Which files `images:DIR` reads, and their labels: the images directly
//! inside DIR (no labels), or torchvision's ImageFolder layout, one
//! sub-folder per class whose sorted names give the labels 0, 1, ...

use std::fs;
use std::path::{Path, PathBuf};

use super::folder::has_image_extension;
use crate::{Error, Result};

/// The image files of a folder, in reading order, with their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderImages {
    /// Image files, sorted by class then file name.
    pub files: Vec<PathBuf>,
    /// Per file, the index of its class in `classes`; `None` for a flat folder.
    pub labels: Option<Vec<u8>>,
    /// Class names (the sub-folders' names, sorted); empty for a flat folder.
    pub classes: Vec<String>,
}

/// Lists the images `images:DIR` reads from `dir`.
///
/// A folder holding images directly is read flat (sub-folders without
/// images are ignored). A folder holding only sub-folders is read as
/// classes, as torchvision's `ImageFolder`: each visible sub-folder with
/// images is a class, labelled by its rank among the sorted names. Hidden
/// files and folders are skipped. A folder with both images and class
/// sub-folders, an empty class folder or more than 256 classes is an error.
pub fn folder_images(dir: &Path) -> Result<FolderImages> {
    let meta = fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() {
        return Err(Error::format(dir, "is not a folder"));
    }
    let (files, subdirs) = entries(dir)?;
    let mut classes: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for sub in subdirs {
        let (images, _) = entries(&sub)?;
        let name = sub.file_name().unwrap_or_default().to_string_lossy();
        classes.push((name.into_owned(), images));
    }
    if !files.is_empty() {
        if let Some((name, _)) = classes.iter().find(|(_, imgs)| !imgs.is_empty()) {
            return Err(Error::format(
                dir,
                format!(
                    "holds images and also a class sub-folder with images ({name}): \
                     keep either the images directly in the folder or one sub-folder per class"
                ),
            ));
        }
        return Ok(FolderImages {
            files,
            labels: None,
            classes: vec![],
        });
    }
    class_layout(dir, classes)
}

/// The ImageFolder layout from `(name, images)` per sub-folder.
fn class_layout(dir: &Path, mut classes: Vec<(String, Vec<PathBuf>)>) -> Result<FolderImages> {
    if classes.iter().all(|(_, imgs)| imgs.is_empty()) {
        return Err(Error::format(
            dir,
            "folder holds no images (files ending in .png, .jpg or .jpeg), \
             directly or in one sub-folder per class",
        ));
    }
    // torchvision refuses an empty class folder: a class the model could
    // never see would shift every later label.
    if let Some((name, _)) = classes.iter().find(|(_, imgs)| imgs.is_empty()) {
        return Err(Error::format(
            dir.join(name),
            "class folder holds no images (files ending in .png, .jpg or .jpeg)",
        ));
    }
    if classes.len() > 256 {
        return Err(Error::format(
            dir,
            format!(
                "has {} class sub-folders; labels are bytes, so at most 256",
                classes.len()
            ),
        ));
    }
    classes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut files = Vec::new();
    let mut labels = Vec::new();
    for (label, (_, images)) in classes.iter_mut().enumerate() {
        // At most 256 classes, so the label fits a byte.
        labels.extend(std::iter::repeat_n(label as u8, images.len()));
        files.append(images);
    }
    Ok(FolderImages {
        files,
        labels: Some(labels),
        classes: classes.into_iter().map(|(name, _)| name).collect(),
    })
}

/// The visible image files (sorted by name) and visible sub-folders of `dir`.
fn entries(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let (mut files, mut subdirs) = (Vec::new(), Vec::new());
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            subdirs.push(path);
        } else if has_image_extension(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok((files, subdirs))
}
