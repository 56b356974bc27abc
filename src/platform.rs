//! What differs between operating systems, in one place: the host name, this process's peak
//! memory, the kernel's kill-with-parent and waiting for a child without polling. Linux-only calls (`prctl`, `/proc`) sit behind
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

/// Waits until `child` exits or `cancelled()` turns true (then `None`, the child left running).
/// The exit wakes us at once: on Linux through a pidfd (`poll` returns the moment the child
/// exits; the timeout only bounds how late a cancellation is seen), elsewhere, or on kernels
/// before 5.3, by checking every `cancel_check`.
pub fn wait_child(
    child: &mut std::process::Child,
    cancel_check: std::time::Duration,
    cancelled: impl Fn() -> bool,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let timeout_ms = cancel_check.as_millis().clamp(1, i32::MAX as u128) as i32;
    #[cfg(target_os = "linux")]
    if let Some(pidfd) = pidfd_open(child.id()) {
        use std::os::fd::AsRawFd;
        loop {
            let mut fds = libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, and its count.
            let ready = unsafe { libc::poll(&mut fds, 1, timeout_ms) };
            if ready > 0 {
                return child.wait().map(Some);
            }
            if ready < 0
                && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                break;
            }
            if cancelled() {
                return Ok(None);
            }
        }
    }
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if cancelled() {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(timeout_ms as u64));
    }
}

/// A pidfd for our child `pid` (Linux ≥ 5.3), readable once it exited; `None` where the
/// kernel has none.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    // SAFETY: a non-negative result is a descriptor that nothing else owns.
    (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// `s` as one word for `sh` (quoted only when it has to be).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
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

    /// Issue 12: the wait ends when the child exits, not at the next check for cancellation
    /// (a 30 s check interval would make a polling wait take 30 s here).
    #[test]
    #[cfg(target_os = "linux")]
    fn issue_12_a_childs_exit_ends_the_wait_at_once() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 0.1; exit 3"])
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        let status = wait_child(&mut child, std::time::Duration::from_secs(30), || false)
            .unwrap()
            .expect("not cancelled");
        assert_eq!(status.code(), Some(3));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn a_cancelled_wait_returns_with_the_child_still_running() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 30"])
            .spawn()
            .unwrap();
        let waited = wait_child(&mut child, std::time::Duration::from_millis(20), || true).unwrap();
        assert!(waited.is_none());
        assert!(
            child.try_wait().unwrap().is_none(),
            "the wait must not reap it"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
