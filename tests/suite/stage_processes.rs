//! What a command stage leaves behind when `pipeline` is killed or interrupted twice, and a
//! spec path that would block on open (issue 9, bugs 3 and 11).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::robustness::{spawn_run, wait_until};
use crate::support::*;

/// Waits for `child` up to `timeout`; kills it and fails if it is still running.
pub(crate) fn wait_or_kill(
    child: &mut Child,
    timeout: Duration,
    what: &str,
) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if t.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut text);
    }
    text
}

#[test]
fn issue_9_bug_11_kill_9_takes_a_stages_subshells_with_it() {
    let p = TestProject::new();
    let late = p.path().join("late.txt");
    let started = p.path().join("started");
    p.write(
        "spec.toml",
        &format!(
            "[[command]]\nname = \"a\"\ncmd = \"touch {}; (sleep 2; echo x >> {}); echo x > {{out}}/o\"\n",
            started.display(),
            late.display()
        ),
    );
    let mut child = spawn_run(&p, "spec.toml");
    wait_until("the stage to start", Duration::from_secs(30), || {
        started.exists()
    });
    // Let the subshell get going before the kill.
    std::thread::sleep(Duration::from_millis(200));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !late.exists(),
        "the stage's subshell outlived `pipeline` and wrote {}",
        late.display()
    );
}

#[test]
fn issue_9_bug_3_a_second_ctrl_c_leaves_no_temp_folder() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"long\"\ncmd = \"touch {out}/started; sleep 30\"\n",
    );
    let mut child = spawn_run(&p, "spec.toml");
    let tmp = p.path().join(".pipeline/tmp");
    wait_until("the stage to start", Duration::from_secs(30), || {
        std::fs::read_dir(&tmp)
            .map(|rd| rd.flatten().any(|e| e.path().join("out/started").exists()))
            .unwrap_or(false)
    });
    // Two presses in a row: the second exits at once, before the stage is wound down.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_or_kill(&mut child, Duration::from_secs(10), "pipeline after Ctrl-C");
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "temp folders left behind: {left:?}");
}

#[test]
fn issue_9_bug_3_a_fifo_given_as_the_spec_is_refused_not_waited_on() {
    let p = TestProject::new();
    let fifo = p.path().join("spec.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
        .args(["plan", "spec.toml"])
        .current_dir(p.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_or_kill(&mut child, Duration::from_secs(10), "pipeline plan FIFO");
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("spec.toml") && err.contains("not a regular file"),
        "{err}"
    );
    assert!(!err.contains("panicked at"), "{err}");
}
