//! Weights as safetensors. Tensor names are the module paths, so they read
//! like the code (`encoder.0.weight`, `mean.bias`, ...). An enum module's
//! variant (`Encoder::Mlp` or `Encoder::Conv`) is a choice the config
//! records, not a place, so its name is left out: an MLP's layers keep the
//! names they had before the conv architecture existed. Loading keeps the
//! parameter ids of the module it loads into (models number them
//! deterministically), so a resumed optimizer finds its Adam moments, and the
//! same weights always serialize to the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};

use crate::{Error, Result};

/// One named float tensor pulled out of a module.
struct Named {
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// Collects every float parameter with its dotted path.
#[derive(Default)]
struct Collector {
    path: Vec<String>,
    tensors: BTreeMap<String, Named>,
}

/// The name a module level adds to tensor paths: none for an enum variant.
fn segment(name: &str, container: &str) -> Option<String> {
    (!container.starts_with("Enum:")).then(|| name.to_string())
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, container: &str) {
        self.path.extend(segment(name, container));
    }

    fn exit_module(&mut self, name: &str, container: &str) {
        if segment(name, container).is_some() {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        self.tensors
            .insert(self.path.join("."), Named { shape, values });
    }
}

/// Serializes every float parameter of `module` into safetensors bytes.
pub fn to_safetensors<M: Module>(module: &M) -> Result<Vec<u8>> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = collector
        .tensors
        .iter()
        .map(|(k, t)| {
            let raw = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), raw, t.shape.clone())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(k, raw, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), raw)
                .map(|v| (k.clone(), v))
                .map_err(|e| Error::internal(format!("tensor {k}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, None).map_err(|e| Error::internal(e.to_string()))
}

/// Saves `module`'s weights to `path` atomically.
pub fn save<M: Module>(module: &M, path: &Path) -> Result<()> {
    let bytes = to_safetensors(module)?;
    crate::fsutil::atomic_write(path, &bytes)
}

/// Replaces every float parameter with the tensor of the same path.
struct Loader<'a> {
    path: Vec<String>,
    file: &'a Path,
    tensors: &'a safetensors::SafeTensors<'a>,
    device: &'a Device,
    seen: usize,
    error: Option<Error>,
}

impl Loader<'_> {
    fn fetch(&self, name: &str, want: &[usize]) -> Result<TensorData> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| Error::checkpoint(self.file, format!("tensor '{name}' is missing")))?;
        if view.dtype() != Dtype::F32 {
            return Err(Error::checkpoint(
                self.file,
                format!("tensor '{name}' has dtype {:?}, expected F32", view.dtype()),
            ));
        }
        if view.shape() != want {
            return Err(Error::checkpoint(
                self.file,
                format!(
                    "tensor '{name}' has shape {:?} but the config builds {:?}",
                    view.shape(),
                    want
                ),
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::checkpoint(
                self.file,
                format!("tensor '{name}' holds a non-finite value at index {i}"),
            ));
        }
        Ok(TensorData::new(values, want.to_vec()))
    }
}

impl ModuleMapper for Loader<'_> {
    fn enter_module(&mut self, name: &str, container: &str) {
        self.path.extend(segment(name, container));
    }

    fn exit_module(&mut self, name: &str, container: &str) {
        if segment(name, container).is_some() {
            self.path.pop();
        }
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let (id, tensor, mapper) = param.consume();
        let want = tensor.dims().to_vec();
        match self.fetch(&name, &want) {
            Ok(data) => {
                self.seen += 1;
                let loaded = Tensor::<D>::from_data(data, self.device);
                // Loaded weights train like the ones they replace.
                let loaded = if tensor.is_require_grad() {
                    loaded.require_grad()
                } else {
                    loaded
                };
                Param::from_mapped_value(id, loaded, mapper)
            }
            Err(e) => {
                self.error.get_or_insert(e);
                Param::from_mapped_value(id, tensor, mapper)
            }
        }
    }
}

/// Loads weights from safetensors bytes into `module` (built from the same
/// config). Every tensor must be present with the configured shape, and the
/// file may hold no extra tensors; `file` names the source in errors.
pub fn from_safetensors<M: Module>(
    module: M,
    bytes: &[u8],
    file: &Path,
    device: &Device,
) -> Result<M> {
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::checkpoint(file, format!("not a valid safetensors file ({e})")))?;
    let mut loader = Loader {
        path: vec![],
        file,
        tensors: &tensors,
        device,
        seen: 0,
        error: None,
    };
    let module = module.map(&mut loader);
    if let Some(e) = loader.error {
        return Err(e);
    }
    if loader.seen != tensors.len() {
        let mut names = tensors.names();
        names.sort();
        return Err(Error::checkpoint(
            file,
            format!(
                "holds {} tensors but the config builds {} ({names:?})",
                tensors.len(),
                loader.seen
            ),
        ));
    }
    Ok(module)
}

/// Loads weights from the safetensors file at `path` into `module`.
pub fn load<M: Module>(module: M, path: &Path, device: &Device) -> Result<M> {
    let bytes = crate::fsutil::read(path)?;
    if bytes.is_empty() {
        return Err(Error::checkpoint(path, "file is empty"));
    }
    from_safetensors(module, &bytes, path, device)
}

/// Collects every float parameter's id and shape.
#[derive(Default)]
struct Shapes(BTreeMap<u64, Vec<usize>>);

impl ModuleVisitor for Shapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id.val(), param.val().dims().to_vec());
    }
}

/// Checks that the optimizer state in `bytes` (burn's burnpack record of
/// Adam's moments, one tensor per moment keyed by parameter id) belongs to
/// `module`: every state tensor names one of its parameters and has that
/// parameter's shape. Burn would otherwise load state of another model and
/// the fused Adam would zip buffers of different lengths. `file` names the
/// source in errors.
pub fn check_optimizer<M: Module>(module: &M, bytes: &[u8], file: &Path) -> Result<()> {
    let corrupt = |e: burn_pack::Error| Error::checkpoint(file, format!("corrupt ({e})"));
    let reader = burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(corrupt)?;
    let tensors = reader.into_tensors().map_err(corrupt)?;
    let mut shapes = Shapes::default();
    module.visit(&mut shapes);
    if tensors.is_empty() {
        return Err(Error::checkpoint(file, "holds no optimizer state"));
    }
    for t in &tensors {
        let want = t.param_id.and_then(|id| shapes.0.get(&id));
        let got = t.shape.as_slice();
        match want {
            Some(want) if want.as_slice() == got => {}
            Some(want) => {
                return Err(Error::checkpoint(
                    file,
                    format!(
                        "optimizer state '{}' has shape {got:?} but its parameter has {want:?}: it belongs to another model",
                        t.name
                    ),
                ));
            }
            None => {
                return Err(Error::checkpoint(
                    file,
                    format!(
                        "optimizer state '{}' belongs to no parameter of this model: it belongs to another model",
                        t.name
                    ),
                ));
            }
        }
    }
    Ok(())
}
