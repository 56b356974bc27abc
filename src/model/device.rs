//! Device selection and the per-device step engines: the hand-written CPU fast path, or
//! dfdx autodiff on a CUDA device when built with the `cuda` feature.
use super::config::DeviceChoice;
use super::network::Architecture;
use super::objective::{loss_and_grad, Batch, LossSums, TermWeights, Workspace};
use super::ModelError;

/// Computes the objective (and gradients) of one batch on some device.
pub enum Engine {
    /// Hand-written forward/backward over reusable f32 buffers.
    Cpu { ws: Workspace<f32>, threads: usize },
    /// dfdx autodiff on the GPU; parameters stay on the host and Adam runs there, so each step
    /// uploads weights and downloads gradients.
    #[cfg(feature = "cuda")]
    Cuda(dfdx::tensor::Cuda),
}

impl Engine {
    pub fn cpu(arch: &Architecture, rows: usize, threads: usize) -> Self {
        Engine::Cpu {
            ws: Workspace::new(arch, rows),
            threads,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Engine::Cpu { threads, .. } => format!("cpu ({threads} threads)"),
            #[cfg(feature = "cuda")]
            Engine::Cuda(_) => "cuda:0".to_string(),
        }
    }

    /// Loss sums of `batch`; writes gradients of the batch-mean objective when `grads` is given.
    /// CPU work runs on `pool`; the CUDA device handle is not `Send`, so it stays on this thread.
    pub fn loss_and_grad(
        &mut self,
        pool: &rayon::ThreadPool,
        arch: &Architecture,
        params: &[f32],
        grads: Option<&mut [f32]>,
        batch: &Batch<'_, f32>,
        weights: TermWeights,
    ) -> Result<LossSums, ModelError> {
        match self {
            Engine::Cpu { ws, threads } => {
                let threads = *threads;
                Ok(
                    pool.install(|| {
                        loss_and_grad(arch, params, grads, ws, batch, weights, threads)
                    }),
                )
            }
            #[cfg(feature = "cuda")]
            Engine::Cuda(dev) => {
                let (sums, g) = super::autodiff::loss_and_grad(dev, arch, params, batch, weights);
                if let Some(grads) = grads {
                    grads.copy_from_slice(&g);
                }
                Ok(sums)
            }
        }
    }
}

/// Resolves the configured device; `auto` falls back to the CPU when CUDA is not compiled in
/// or no device opens.
pub fn engine(
    choice: DeviceChoice,
    arch: &Architecture,
    threads: usize,
) -> Result<Engine, ModelError> {
    let rows = 128;
    match choice {
        DeviceChoice::Cpu => Ok(Engine::cpu(arch, rows, threads)),
        DeviceChoice::Cuda => open_cuda().map_err(|reason| ModelError::Device {
            device: "cuda".into(),
            reason,
        }),
        DeviceChoice::Auto => Ok(open_cuda().unwrap_or_else(|_| Engine::cpu(arch, rows, threads))),
    }
}

#[cfg(feature = "cuda")]
fn open_cuda() -> Result<Engine, String> {
    dfdx::tensor::Cuda::try_build(0, 0)
        .map(Engine::Cuda)
        .map_err(|e| format!("{e:?}"))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda() -> Result<Engine, String> {
    Err("this build has no CUDA support (rebuild with `--features cuda`)".into())
}
