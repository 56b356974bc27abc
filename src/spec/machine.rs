//! What the machine that will run a spec offers (whether CUDA is compiled in, how many GPU
//! slots the run has, the ceiling on a model's memory), and whether a run fits it.

use super::check::Checker;
use super::validated::RunSpec;
use super::variant::Device;
use crate::model::size::{human_bytes, parse_bytes, ModelShape};

/// Environment variable that raises (or lowers) the model memory ceiling, e.g. `64GiB`.
pub const MAX_MODEL_MEMORY_ENV: &str = "PIPELINE_MAX_MODEL_MEMORY";

/// The ceiling when the variable is not set: far above any MNIST-sized MLP, far below what
/// would take a laptop down.
pub const DEFAULT_MAX_MODEL_MEMORY: u64 = 8 << 30;

#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// Whether this build can train on CUDA (`--features cuda`).
    pub cuda_built: bool,
    /// GPU slots of this run (`pipeline run --gpus N`); `None` when only planning.
    pub gpus: Option<usize>,
    /// Largest estimated training memory of one model, in bytes.
    pub max_model_memory: u64,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            cuda_built: cfg!(feature = "cuda"),
            gpus: None,
            max_model_memory: DEFAULT_MAX_MODEL_MEMORY,
        }
    }
}

impl Machine {
    /// This build, with the ceiling from `PIPELINE_MAX_MODEL_MEMORY` when it is set.
    pub fn from_env(gpus: Option<usize>) -> Result<Machine, String> {
        let max_model_memory = match std::env::var(MAX_MODEL_MEMORY_ENV) {
            Ok(text) => parse_bytes(&text).ok_or_else(|| {
                format!(
                    "{MAX_MODEL_MEMORY_ENV}={text:?} is not a size (use e.g. 16GiB, 512MiB \
                     or a number of bytes)"
                )
            })?,
            Err(_) => DEFAULT_MAX_MODEL_MEMORY,
        };
        Ok(Machine {
            gpus,
            max_model_memory,
            ..Machine::default()
        })
    }
}

/// What a run asks of the machine: CUDA compiled in, a GPU slot, memory for its model.
pub(super) fn check_run(
    c: &mut Checker,
    run: &RunSpec,
    at: &dyn Fn(&str) -> String,
    input_dim: Option<usize>,
    image: Option<(usize, usize)>,
) {
    if run.device == Device::Cuda {
        if !c.machine.cuda_built {
            c.fail_hint(
                &at("device"),
                "device \"cuda\" needs a build with CUDA support, and this one has none",
                Some("rebuild with `cargo build --release --features cuda`, or use device = \"cpu\" (or \"auto\", which falls back to the CPU)".into()),
            );
        } else if c.machine.gpus == Some(0) {
            c.fail_hint(
                &at("device"),
                "device \"cuda\" needs a GPU slot, but this run has --gpus 0",
                Some("pass --gpus 1 (or more) to `pipeline run`".into()),
            );
        }
    }
    // Unknown image width (own files): 1 keeps the estimate a lower bound.
    let shape = ModelShape {
        input_dim: input_dim.unwrap_or(1),
        hidden: run.hidden.clone().unwrap_or_default(),
        latent_dim: run.latent_dim,
        variational: run.variant.is_variational(),
    };
    // A conv model (at the image size, where known): its dense core from the flattened feature
    // map, plus its convolutions' filters, feature maps and patch matrices. A layout that does
    // not fit is reported by the run checks.
    let conv = run
        .conv
        .as_ref()
        .zip(image)
        .map(|(c, (h, w))| c.layout(h, w));
    let (shape, conv_bytes) = match conv
        .as_ref()
        .map(|l| (l.flat_dim(), l.training_bytes(run.batch_size)))
    {
        Some((Ok(flat), Ok(bytes))) => (
            ModelShape {
                input_dim: flat,
                hidden: vec![run.conv.as_ref().map_or(0, |c| c.conv_dense)],
                ..shape
            },
            bytes,
        ),
        _ => (shape, 0.0),
    };
    let bytes = shape.training_bytes(run.batch_size) + conv_bytes;
    let ceiling = c.machine.max_model_memory;
    if bytes > ceiling as f64 {
        let key = if run.conv.is_some() {
            at("conv_channels")
        } else if run.hidden.as_ref().is_some_and(|h| !h.is_empty()) {
            at("hidden")
        } else {
            at("latent_dim")
        };
        c.fail_hint(
            &key,
            format!(
                "training this model needs about {} ({:.3e} parameters, kept 7 times over for \
                 weights, gradients and Adam, plus activations of {} rows), above the {} ceiling",
                human_bytes(bytes),
                shape.param_count(),
                run.batch_size,
                human_bytes(ceiling as f64),
            ),
            Some(format!(
                "shrink `hidden`, `latent_dim` or `batch_size`, or raise the ceiling with \
                 {MAX_MODEL_MEMORY_ENV}=64GiB"
            )),
        );
    }
}
