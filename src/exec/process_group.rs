//! The process group every command stage of this process runs in, led by one watcher per run
//! that kills the whole group if `pipeline` dies (a crash or `kill -9`, which no handler sees).
//!
//! Why one group per run and not one per stage: a stage's own group needs its own watcher (a
//! second process per stage) or a `pre_exec` hook (which forces `fork` instead of
//! `posix_spawn`, copying this process's page tables). With one watcher started once, a stage
//! costs a single `posix_spawn` of `sh`, joining the group as it is created (so there is no
//! window in which a stage runs outside it). Cancellation is run-wide (Ctrl-C), so one group
//! is what it needs: `kill_all` ends every running stage and everything they started.

use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard};

/// The group's leader: `sh` reading a pipe only this process writes to. A line means the run
/// is over and it leaves; end of file means `pipeline` died, and it kills its whole group.
struct Watcher {
    child: Child,
    pgid: libc::pid_t,
    release: Option<ChildStdin>,
}

static GROUP: Mutex<Option<Watcher>> = Mutex::new(None);

fn group() -> MutexGuard<'static, Option<Watcher>> {
    GROUP.lock().unwrap_or_else(|e| e.into_inner())
}

impl Watcher {
    fn start() -> io::Result<Watcher> {
        let mut child = Command::new("/bin/sh")
            .args(["-c", "read -r line || kill -s KILL 0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let release = child.stdin.take();
        Ok(Watcher {
            pgid: child.id() as libc::pid_t,
            child,
            release,
        })
    }
}

/// Starts `command` in the run's group (its watcher starts on first use, or again after
/// `kill_all`). The lock is held across the spawn so a concurrent `kill_all` cannot leave a
/// stage in a group whose watcher is gone.
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    let mut guard = group();
    let alive = match guard.as_mut() {
        Some(w) => matches!(w.child.try_wait(), Ok(None)),
        None => false,
    };
    if !alive {
        *guard = Some(Watcher::start()?);
    }
    let pgid = guard.as_ref().expect("started above").pgid;
    command.process_group(pgid).spawn()
}

/// Kills every process of the group, the watcher included (a cancelled run).
pub fn kill_all() {
    if let Some(mut w) = group().take() {
        // SAFETY: kill takes plain integers.
        unsafe { libc::kill(-w.pgid, libc::SIGKILL) };
        w.release = None;
        let _ = w.child.wait();
    }
}

/// The run is over and no stage is running: the watcher leaves without killing anything (a
/// process a finished stage left behind is the user's, as it would be without `pipeline`).
pub fn release() {
    if let Some(mut w) = group().take() {
        if let Some(mut pipe) = w.release.take() {
            let _ = pipe.write_all(b"done\n");
        }
        let _ = w.child.wait();
    }
}
