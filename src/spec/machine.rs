//! What the machine that will run a spec offers, for the checks that depend on it: whether
//! CUDA is compiled in, how many GPU slots the run has, and the ceiling on a model's memory.

use crate::model::size::parse_bytes;

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
