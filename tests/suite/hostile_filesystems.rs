//! Read-only folders, a cache on another file system and a full disk, made with real mounts
//! (tmpfs, read-only binds). Without permission to mount, each test prints why it skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

/// A mount that is undone when dropped (before the temp project it lies in is removed).
struct Mount(PathBuf);

impl Mount {
    /// Runs `mount ARGS TARGET`; `None` (with a printed skip) when mounting is not permitted.
    fn new(args: &[&str], target: &Path) -> Option<Mount> {
        std::fs::create_dir_all(target).unwrap();
        let out = Command::new("mount").args(args).arg(target).output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(target.to_owned())),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                skip(&format!(
                    "cannot mount ({why}); needs root or CAP_SYS_ADMIN"
                ));
                None
            }
        }
    }

    fn tmpfs(target: &Path, size: &str) -> Option<Mount> {
        Mount::new(
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"],
            target,
        )
    }

    /// Makes an existing folder read-only in place.
    fn read_only(target: &Path) -> Option<Mount> {
        let bind = Mount::new(&["--bind", &target.display().to_string()], target)?;
        let ro = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(target)
            .status();
        if !ro.is_ok_and(|s| s.success()) {
            skip("cannot remount a bind mount read-only");
            return None;
        }
        Some(bind)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Prints `SKIPPED <test>: <reason>`, or fails when `PIPELINE_TEST_REQUIRE` names `mount`.
fn skip(reason: &str) {
    let wanted = std::env::var("PIPELINE_TEST_REQUIRE").unwrap_or_default();
    if wanted.split(',').any(|w| w.trim() == "mount") {
        panic!("required feature `mount` is missing: {reason}");
    }
    let test = std::thread::current().name().unwrap_or("<test>").to_owned();
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

fn no_panic(out: &Output) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked at"), "panic: {err}");
    err
}

const TWO_STAGES: &str = "[[command]]\nname = \"a\"\ncmd = \"seq 1 1000 > {out}/a\"\n[[command]]\nname = \"b\"\ncmd = \"wc -l < {in.a}/a > {out}/b\"\ninputs = [\"a\"]\n";

#[test]
fn read_only_state_folders_are_named_with_the_fix() {
    for sub in ["", "logs", "locks"] {
        let p = TestProject::new();
        p.write("spec.toml", TWO_STAGES);
        for d in ["logs", "locks"] {
            std::fs::create_dir_all(p.path().join(".pipeline").join(d)).unwrap();
        }
        let dir = p.path().join(".pipeline").join(sub);
        let Some(_ro) = Mount::read_only(&dir) else {
            return;
        };
        let out = p.run(&["run", "spec.toml"]);
        let err = no_panic(&out);
        assert_ne!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("the file system is read-only"), "{sub}: {err}");
        assert!(err.contains(&dir.display().to_string()), "{sub}: {err}");
        assert!(err.contains("--project DIR"), "{sub}: {err}");
    }
}

#[test]
fn a_cache_on_another_file_system_still_commits_and_quarantines() {
    let p = TestProject::new();
    p.write("spec.toml", TWO_STAGES);
    let Some(_cache) = Mount::tmpfs(&p.path().join(".pipeline/cache"), "4m") else {
        return;
    };
    let out = p.run(&["run", "spec.toml"]);
    assert!(out.status.success(), "{}", no_panic(&out));
    assert!(no_panic(&p.run(&["run", "spec.toml"])).contains("0 ran, 2 cached"));
    let file = p.entry_out("spec.toml", "a").join("a");
    std::fs::write(&file, "corrupt").unwrap();
    // Moving the corrupt entry to trash/ crosses file systems too.
    let out = p.run(&["run", "spec.toml"]);
    let err = no_panic(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("cache entry was corrupt"), "{err}");
    assert!(p.run(&["verify"]).status.success());
}

#[test]
fn a_full_disk_ends_the_run_with_its_summary_and_where() {
    let p = TestProject::new();
    let Some(_disk) = Mount::tmpfs(&p.path().join("proj"), "64k") else {
        return;
    };
    let proj = p.path().join("proj");
    std::fs::write(
        proj.join("spec.toml"),
        "[[command]]\nname = \"big\"\ncmd = \"head -c 2000000 /dev/zero > {out}/big\"\n",
    )
    .unwrap();
    let out = p
        .cmd()
        .current_dir(&proj)
        .args(["run", "spec.toml", "--progress", "plain"])
        .output()
        .unwrap();
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("0 ran, 0 cached, 1 failed"), "summary: {err}");
    assert!(err.contains("the disk is full"), "{err}");
    assert!(err.contains(&proj.display().to_string()), "{err}");
}

#[test]
fn read_only_results_are_named_and_the_run_is_recorded_as_failed() {
    let p = TestProject::new();
    p.write("spec.toml", TWO_STAGES);
    let results = p.path().join("results");
    let Some(_ro) = Mount::read_only(&results) else {
        return;
    };
    let out = p.run(&["run", "spec.toml"]);
    let err = no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("2 ran, 0 cached"),
        "the summary is printed: {err}"
    );
    assert!(
        err.contains(&format!("failed to create {}", results.display())),
        "{err}"
    );
    assert!(err.contains("the file system is read-only"), "{err}");
    let runs = stdout(&p.run(&["runs"]));
    assert!(
        runs.contains(" failed ") && !runs.contains("succeeded"),
        "{runs}"
    );
}
