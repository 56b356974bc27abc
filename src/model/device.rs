//! Device selection and the training engines behind one interface: the hand-written CPU fast
//! path with parameters and Adam on the host, or parameters resident on a dfdx device (CUDA
//! with the `cuda` feature; dfdx's CPU device as its testable stand-in).
use super::adam::{Adam, AdamConfig};
use super::alloc;
use super::config::DeviceChoice;
use super::network::Architecture;
use super::objective::{loss_and_grad, Batch, LossSums, TermWeights, Workspace};
use super::resident::{DeviceTrainer, HostState};
use super::ModelError;

/// The CPU fast path: flat host buffers, in-place Adam.
pub struct HostTrainer {
    ws: Workspace<f32>,
    threads: usize,
    params: Vec<f32>,
    grads: Vec<f32>,
    adam: Adam<f32>,
}

/// Owns a model's parameters and optimizer state on some device and takes training steps.
pub enum Engine {
    Host(Box<HostTrainer>),
    /// dfdx's generic kernels on the CPU: slower than `Host`, the same code as `Cuda`.
    DfdxCpu(Box<DeviceTrainer<dfdx::tensor::Cpu>>),
    #[cfg(feature = "cuda")]
    Cuda(Box<DeviceTrainer<dfdx::tensor::Cuda>>),
}

impl Engine {
    pub fn name(&self) -> String {
        match self {
            Engine::Host(h) => format!("cpu ({} threads)", h.threads),
            Engine::DfdxCpu(_) => "cpu (dfdx autodiff)".to_string(),
            #[cfg(feature = "cuda")]
            Engine::Cuda(_) => "cuda:0".to_string(),
        }
    }

    /// Loss sums of a training batch; keeps its gradients for [`Engine::apply_update`].
    pub fn forward_backward(
        &mut self,
        pool: &rayon::ThreadPool,
        arch: &Architecture,
        batch: &Batch<'_, f32>,
        weights: TermWeights,
    ) -> LossSums {
        self.objective(pool, arch, batch, weights, true)
    }

    /// Loss sums of an evaluation batch (no gradients, no update).
    pub fn loss(
        &mut self,
        pool: &rayon::ThreadPool,
        arch: &Architecture,
        batch: &Batch<'_, f32>,
        weights: TermWeights,
    ) -> LossSums {
        self.objective(pool, arch, batch, weights, false)
    }

    /// CPU work runs on `pool`; the CUDA device handle is not `Send`, so it stays on this thread.
    fn objective(
        &mut self,
        pool: &rayon::ThreadPool,
        arch: &Architecture,
        batch: &Batch<'_, f32>,
        weights: TermWeights,
        want_grads: bool,
    ) -> LossSums {
        match self {
            Engine::Host(h) => {
                let h = &mut **h;
                let threads = h.threads;
                pool.install(|| {
                    let grads = want_grads.then_some(h.grads.as_mut_slice());
                    loss_and_grad(arch, &h.params, grads, &mut h.ws, batch, weights, threads)
                })
            }
            Engine::DfdxCpu(t) => pool.install(|| t.objective(batch, weights, want_grads)),
            #[cfg(feature = "cuda")]
            Engine::Cuda(t) => t.objective(batch, weights, want_grads),
        }
    }

    /// One optimizer step from the gradients of the last [`Engine::forward_backward`].
    pub fn apply_update(&mut self, pool: &rayon::ThreadPool) {
        match self {
            Engine::Host(h) => {
                let h = &mut **h;
                pool.install(|| h.adam.update(&mut h.params, &h.grads));
            }
            Engine::DfdxCpu(t) => pool.install(|| t.apply_update()),
            #[cfg(feature = "cuda")]
            Engine::Cuda(t) => t.apply_update(),
        }
    }

    /// Copies parameters and Adam moments into host buffers; returns the steps taken.
    pub fn download(&self, params: &mut [f32], m: &mut [f32], v: &mut [f32]) -> u64 {
        match self {
            Engine::Host(h) => {
                params.copy_from_slice(&h.params);
                m.copy_from_slice(&h.adam.m);
                v.copy_from_slice(&h.adam.v);
                h.adam.step
            }
            Engine::DfdxCpu(t) => t.download(params, m, v),
            #[cfg(feature = "cuda")]
            Engine::Cuda(t) => t.download(params, m, v),
        }
    }
}

/// Opens the configured device with the model in `start`; `auto` falls back to the CPU when
/// CUDA is not compiled in or no device opens.
pub fn engine(
    choice: DeviceChoice,
    arch: &Architecture,
    threads: usize,
    rows: usize,
    adam: AdamConfig,
    start: HostState<'_>,
) -> Result<Engine, ModelError> {
    let host = |start: HostState<'_>| -> Result<Engine, ModelError> {
        Ok(Engine::Host(Box::new(HostTrainer {
            ws: Workspace::new(arch, rows),
            threads,
            params: alloc::copy_of(start.params, "the model parameters")?,
            grads: alloc::filled(start.params.len(), 0.0, "the gradients")?,
            adam: Adam {
                config: adam,
                m: alloc::copy_of(start.m, "Adam's first moments")?,
                v: alloc::copy_of(start.v, "Adam's second moments")?,
                step: start.step,
            },
        })))
    };
    let dfdx_cpu = |start| {
        Engine::DfdxCpu(Box::new(DeviceTrainer::new(
            dfdx::tensor::Cpu::default(),
            arch,
            adam,
            start,
        )))
    };
    match choice {
        DeviceChoice::Cpu => host(start),
        DeviceChoice::CpuAutodiff => Ok(dfdx_cpu(start)),
        DeviceChoice::Cuda => open_cuda(arch, adam, &start).map_err(|reason| ModelError::Device {
            device: "cuda".into(),
            reason,
        }),
        DeviceChoice::Auto => match open_cuda(arch, adam, &start) {
            Ok(engine) => Ok(engine),
            Err(_) => host(start),
        },
    }
}

/// Why CUDA training cannot run here, or `None` when a device opens.
pub fn cuda_unavailable() -> Option<String> {
    #[cfg(feature = "cuda")]
    return probe_cuda()
        .and_then(|()| dfdx::tensor::Cuda::try_build(0, 0).map_err(|e| format!("{e:?}")))
        .err()
        .map(|e| format!("no CUDA device opens: {e}"));
    #[cfg(not(feature = "cuda"))]
    Some("this build has no CUDA support (rebuild with `--features cuda`)".into())
}

/// dfdx's (and cudarc's) device constructor unwraps driver errors, so a machine without a GPU
/// would panic there; ask the driver for a device first.
#[cfg(feature = "cuda")]
fn probe_cuda() -> Result<(), String> {
    use cudarc::driver::result;
    result::init().map_err(|e| format!("the CUDA driver did not start: {e:?}"))?;
    match result::device::get_count() {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => Err("the CUDA driver sees no device".into()),
        Err(e) => Err(format!("the CUDA driver cannot count devices: {e:?}")),
    }
}

#[cfg(feature = "cuda")]
fn open_cuda(arch: &Architecture, adam: AdamConfig, s: &HostState<'_>) -> Result<Engine, String> {
    probe_cuda()?;
    let dev = dfdx::tensor::Cuda::try_build(0, 0).map_err(|e| format!("{e:?}"))?;
    Ok(Engine::Cuda(Box::new(DeviceTrainer::new(
        dev, arch, adam, *s,
    ))))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(_: &Architecture, _: AdamConfig, _: &HostState<'_>) -> Result<Engine, String> {
    Err("this build has no CUDA support (rebuild with `--features cuda`)".into())
}
