//! This process's resource use (CPU time, peak memory), for the benchmark commands.

pub use crate::platform::{peak_rss_bytes, reset_peak_rss};

/// User + system CPU seconds of this process so far (POSIX `getrusage`).
pub fn cpu_seconds() -> Option<f64> {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Some(secs(usage.ru_utime) + secs(usage.ru_stime))
}
