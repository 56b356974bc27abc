//! What differs between operating systems, in one place: the host name, this process's peak
//! memory and the kernel's kill-with-parent. Linux-only calls (`prctl`, `/proc`) sit behind
//! `cfg(target_os = "linux")`, each with a POSIX fallback, so the crate builds on any Unix
//! (macOS included); nothing else in the crate names a Linux-only API.

/// This machine's name, for lock files (POSIX `gethostname`, the same on every Unix).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_owned();
    if rc != 0 || name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

/// Peak resident set size of this process in bytes (`VmHWM`, which [`reset_peak_rss`] resets).
#[cfg(target_os = "linux")]
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line["VmHWM:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Peak resident set size of this process in bytes (`getrusage`; never reset).
#[cfg(not(target_os = "linux"))]
pub fn peak_rss_bytes() -> Option<u64> {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let max = u64::try_from(usage.ru_maxrss).ok()?;
    // macOS reports bytes; the BSDs report kilobytes, as Linux does.
    Some(if cfg!(target_os = "macos") {
        max
    } else {
        max * 1024
    })
}

/// Resets the peak so a measurement covers only what follows (writing "5" to `clear_refs`
/// resets VmHWM, Linux ≥ 4.0). False where the system cannot: the peak then covers the
/// whole process.
pub fn reset_peak_rss() -> bool {
    #[cfg(target_os = "linux")]
    return std::fs::write("/proc/self/clear_refs", "5").is_ok();
    #[cfg(not(target_os = "linux"))]
    false
}

/// Called in a forked child before `exec`: on Linux the kernel SIGKILLs it the moment its
/// parent dies. Elsewhere this does nothing; the command stage's watcher process (see
/// `stages::command_watch`) kills the stage's process group on every system anyway, this is
/// only the faster path. Async-signal-safe.
pub fn kill_when_parent_dies() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_and_memory_figures_are_available() {
        assert!(!hostname().is_empty());
        let _ = reset_peak_rss();
        // A process that runs this test has touched some memory.
        assert!(peak_rss_bytes().is_some_and(|b| b > 0));
    }
}
