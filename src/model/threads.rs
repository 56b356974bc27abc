//! The worker pool training runs on: a fixed number of rayon threads, each with subnormal
//! floats flushed to zero.
//!
//! Real images make subnormals common (σ(l)/batch for confidently-black pixels is ~1e-40), and
//! every multiply that touches one takes a ~100-cycle microcode assist: on Fashion-MNIST that
//! made the matrix products ~2× slower than on random data. Flushing them changes results
//! only below f32's normal range and keeps runs deterministic.
use super::ModelError;

/// Sets the FTZ (flush-to-zero) and DAZ (denormals-are-zero) bits of this thread's MXCSR.
#[cfg(target_arch = "x86_64")]
pub fn flush_subnormals_on_this_thread() {
    const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);
    let mut csr: u32 = 0;
    // SAFETY: reads and writes only this thread's SSE control register; FTZ/DAZ do not make
    // any operation trap or change memory safety.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
        csr |= FTZ_DAZ;
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub fn flush_subnormals_on_this_thread() {}

/// Whether this thread currently flushes subnormals (always false off x86-64).
pub fn flushes_subnormals() -> bool {
    let tiny = std::hint::black_box(f32::MIN_POSITIVE);
    std::hint::black_box(tiny * 0.5) == 0.0
}

/// A pool of `threads` workers (all cores when `None`) that flush subnormals.
pub fn training_pool(threads: Option<usize>) -> Result<(rayon::ThreadPool, usize), ModelError> {
    let n = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .start_handler(|_| flush_subnormals_on_this_thread())
        .build()
        .map_err(|e| ModelError::Config(format!("failed to start {n} worker threads: {e}")))?;
    Ok((pool, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_workers_flush_subnormals() {
        let (pool, n) = training_pool(Some(2)).unwrap();
        assert_eq!(n, 2);
        let flags: Vec<bool> = pool.broadcast(|_| flushes_subnormals());
        assert_eq!(flags.len(), 2);
        assert!(
            flags.iter().all(|&f| f == cfg!(target_arch = "x86_64")),
            "{flags:?}"
        );
    }
}
