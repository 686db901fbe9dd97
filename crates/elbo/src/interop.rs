//! PyTorch interop for the VAE: a safetensors file holding the state_dict of
//! pytorch/examples' VAE (`fc1`, `fc21`, `fc22`, `fc3`, `fc4`; `.weight` as
//! `[out, in]`, `.bias`) becomes an elbo run folder, and back.
//!
//! The mapping: fc1 → `encoder.0`, fc21 → `mean`, fc22 → `log_var`,
//! fc3 → `decoder.0`, fc4 → `output`; weights are transposed, because burn's
//! `Linear` stores `[in, out]`. Only that architecture (one hidden layer, ReLU,
//! Bernoulli logits out) has a PyTorch counterpart.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use crate::data::DataSpec;
use crate::families::{ModelConfig, RunConfig};
use crate::folder::{RunDir, checkpoint};
use crate::models::{Activation, Likelihood, VaeConfig};
use crate::run::Run;
use crate::train::{DataConfig, TrainConfig};
use crate::{Error, Result};

/// (PyTorch layer, elbo layer) pairs.
const LAYERS: [(&str, &str); 5] = [
    ("fc1", "encoder.0"),
    ("fc21", "mean"),
    ("fc22", "log_var"),
    ("fc3", "decoder.0"),
    ("fc4", "output"),
];

/// A float matrix or vector read from a safetensors file.
struct Array {
    shape: Vec<usize>,
    values: Vec<f32>,
}

fn read_all(file: &Path) -> Result<HashMap<String, Array>> {
    parse(&crate::fsutil::read(file)?, file)
}

/// Every tensor of safetensors `bytes`; `file` names the source in errors.
fn parse(bytes: &[u8], file: &Path) -> Result<HashMap<String, Array>> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::format(file, format!("not a valid safetensors file ({e})")))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::format(
                file,
                format!("tensor '{name}' is {:?}; expected F32", view.dtype()),
            ));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(
            name,
            Array {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

/// `[rows, cols]` row-major → `[cols, rows]`.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = values[r * cols + c];
        }
    }
    t
}

fn take<'a>(
    arrays: &'a HashMap<String, Array>,
    name: &str,
    rank: usize,
    file: &Path,
) -> Result<&'a Array> {
    let a = arrays
        .get(name)
        .ok_or_else(|| Error::format(file, format!("tensor '{name}' is missing")))?;
    if a.shape.len() != rank {
        return Err(Error::format(
            file,
            format!(
                "tensor '{name}' has shape {:?}; expected rank {rank}",
                a.shape
            ),
        ));
    }
    Ok(a)
}

/// Converts a pytorch/examples VAE state_dict (safetensors) into an elbo run
/// folder at `out` for images of `shape` (height, width, channels); sizes are
/// read from the tensors. The run samples, evaluates and exports like any
/// other, but has no optimizer state to resume from.
///
/// ```no_run
/// elbo::interop::import_torch_vae("vae.safetensors".as_ref(), "runs/torch".as_ref(), (28, 28, 1), false)?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn import_torch_vae(
    file: &Path,
    out: &Path,
    shape: (usize, usize, usize),
    force: bool,
) -> Result<RunConfig> {
    import_torch_vae_for(file, out, shape, None, force)
}

/// [`import_torch_vae`], recording `data` as the data the model belongs to
/// (what `eval`, `sample` and the others load); `None` records MNIST in the
/// cache folder, the data of pytorch/examples' VAE.
pub fn import_torch_vae_for(
    file: &Path,
    out: &Path,
    shape: (usize, usize, usize),
    data: Option<DataSpec>,
    force: bool,
) -> Result<RunConfig> {
    let arrays = read_all(file)?;
    let fc1 = take(&arrays, "fc1.weight", 2, file)?;
    let (hidden, input_dim) = (fc1.shape[0], fc1.shape[1]);
    let latent = take(&arrays, "fc21.weight", 2, file)?.shape[0];
    if input_dim != shape.0 * shape.1 * shape.2 {
        return Err(Error::format(
            file,
            format!(
                "fc1 takes {input_dim} inputs but the image shape {shape:?} has {}",
                shape.0 * shape.1 * shape.2
            ),
        ));
    }
    let vae = VaeConfig {
        hidden: vec![hidden],
        latent,
        ..VaeConfig::new(input_dim)
    };
    let mut named: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    // [out, in] of each layer, as PyTorch's nn.Linear stores it.
    let expected = [
        [hidden, input_dim],
        [latent, hidden],
        [latent, hidden],
        [hidden, latent],
        [input_dim, hidden],
    ];
    for ((torch, ours), [o, i]) in LAYERS.into_iter().zip(expected) {
        let w = take(&arrays, &format!("{torch}.weight"), 2, file)?;
        let b = take(&arrays, &format!("{torch}.bias"), 1, file)?;
        if w.shape != [o, i] || b.shape != [o] {
            return Err(Error::format(
                file,
                format!(
                    "tensors '{torch}.weight' {:?} and '{torch}.bias' {:?} do not fit the VAE that fc1 and fc21 imply (expected [{o}, {i}] and [{o}])",
                    w.shape, b.shape
                ),
            ));
        }
        named.push((
            format!("{ours}.weight"),
            vec![i, o],
            transpose(&w.values, o, i),
        ));
        named.push((format!("{ours}.bias"), b.shape.clone(), b.values.clone()));
    }
    let bytes = serialize(&named)?;
    let device = crate::device::default_device();
    // Shapes are checked against the config here, tensor by tensor.
    let model = checkpoint::from_safetensors(vae.init(&device, 0), &bytes, file, &device)?;
    let spec = data.unwrap_or_else(|| DataSpec::Mnist(crate::data::download::default_cache_dir()));
    let mut data = DataConfig::new(spec);
    data.shape = Some(shape);
    let config = RunConfig {
        model: ModelConfig::Vae(vae),
        data,
        train: TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        },
    };
    let dir = RunDir::new(out);
    let _lock = dir.prepare_new(force)?;
    config.save(&dir.config())?;
    checkpoint::save(&model, &dir.model())?;
    Ok(config)
}

fn serialize(named: &[(String, Vec<usize>, Vec<f32>)]) -> Result<Vec<u8>> {
    let raw: Vec<Vec<u8>> = named
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = named
        .iter()
        .zip(&raw)
        .map(|((name, shape, _), raw)| {
            TensorView::new(Dtype::F32, shape.clone(), raw)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, None).map_err(|e| Error::internal(e.to_string()))
}

/// Writes the VAE of the run folder `run_dir` as a pytorch/examples state_dict
/// in safetensors (`fc1.weight` `[out, in]`, ...), loadable with
/// `model.load_state_dict(safetensors.torch.load_file(out))`.
///
/// ```no_run
/// elbo::interop::export_torch_vae("runs/mnist".as_ref(), "vae.safetensors".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn export_torch_vae(run_dir: &Path, out: &Path) -> Result<()> {
    let run = Run::load(run_dir)?;
    let vae_model = run
        .model
        .as_any()
        .downcast_ref::<crate::families::vae::VaeModel>();
    let (ModelConfig::Vae(cfg), Some(vae_model)) = (&run.config.model, vae_model) else {
        let what = match run.kind() {
            "ae" => "a plain autoencoder".to_string(),
            kind => format!("a {kind} model"),
        };
        return Err(Error::invalid(format!(
            "{}: only a VAE exports to PyTorch; this run is {what}",
            run_dir.display()
        )));
    };
    if cfg.arch != crate::models::Arch::Mlp || cfg.conditional {
        return Err(Error::invalid(format!(
            "{}: only the pytorch/examples architecture (an unconditional MLP) exports to PyTorch; this run is {} {}",
            run_dir.display(),
            if cfg.conditional {
                "a conditional"
            } else {
                "an unconditional"
            },
            cfg.arch
        )));
    }
    if cfg.hidden.len() != 1
        || cfg.activation != Activation::Relu
        || cfg.likelihood != Likelihood::Bernoulli
    {
        return Err(Error::invalid(format!(
            "{}: only the pytorch/examples architecture (one hidden layer, relu, Bernoulli) exports to PyTorch; this run has hidden {:?}, {}",
            run_dir.display(),
            cfg.hidden,
            cfg.activation
        )));
    }
    let bytes = checkpoint::to_safetensors(&vae_model.vae)?;
    let path = RunDir::new(run_dir).model();
    let ours = parse(&bytes, &path)?;
    let mut named = Vec::new();
    for (torch, layer) in LAYERS {
        let w = take(&ours, &format!("{layer}.weight"), 2, &path)?;
        let b = take(&ours, &format!("{layer}.bias"), 1, &path)?;
        let (i, o) = (w.shape[0], w.shape[1]);
        named.push((
            format!("{torch}.weight"),
            vec![o, i],
            transpose(&w.values, i, o),
        ));
        named.push((format!("{torch}.bias"), b.shape.clone(), b.values.clone()));
    }
    crate::fsutil::atomic_write(out, &serialize(&named)?)
}
