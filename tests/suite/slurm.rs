//! The SLURM executor against a real cluster (issue 12): `scripts/slurm-test-cluster.sh up`
//! starts a single-node one; without it these tests skip with the reason, unless
//! `PIPELINE_TEST_REQUIRE` names `slurm`. Each test names its stages uniquely, so the jobs of
//! tests running at once never mix in the queue.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::require;
use crate::robustness::wait_until;
use crate::stage_processes::wait_or_kill;
use crate::support::*;

fn slurm_run(p: &TestProject, spec: &str) -> std::process::Output {
    p.run(&["run", spec, "--executor", "slurm"])
}

/// Jobs of stages whose names start with `prefix`, in any state the controller remembers.
fn jobs_named(prefix: &str) -> Vec<(String, String)> {
    let out = Command::new("squeue")
        .args(["-h", "-t", "all", "-o", "%j %T"])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| name.starts_with(&format!("pipeline:{prefix}")))
        .map(|(n, s)| (n.to_owned(), s.to_owned()))
        .collect()
}

fn live_jobs(prefix: &str) -> usize {
    jobs_named(prefix)
        .iter()
        .filter(|(_, s)| {
            matches!(
                s.as_str(),
                "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING"
            )
        })
        .count()
}

#[test]
fn issue_12_quickstart_through_slurm_gives_the_local_comparison_table() {
    if !require("slurm") {
        return;
    }
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.toml");
    let table = |p: &TestProject| {
        std::fs::read_to_string(
            p.path()
                .join("results/quickstart/latest/report/comparison.md"),
        )
        .unwrap()
    };
    let local = TestProject::new();
    let out = local.run(&["run", spec]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cluster = TestProject::new();
    let out = slurm_run(&cluster, spec);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("SLURM job"), "{}", stderr(&out));
    assert_eq!(table(&local), table(&cluster));
    // Everything cached: nothing is submitted.
    let again = slurm_run(&cluster, spec);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("0 ran, 11 cached"),
        "{}",
        stderr(&again)
    );
    assert!(!stderr(&again).contains("SLURM job"), "{}", stderr(&again));
}

#[test]
fn issue_12_a_failed_job_reports_its_state_and_log_and_blocks_dependents() {
    if !require("slurm") {
        return;
    }
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"fl-bad\"\ncmd = \"echo the-reason-it-broke >&2; exit 3\"\n\n\
         [[command]]\nname = \"fl-after\"\ncmd = \"touch {out}/o\"\ninputs = [\"fl-bad\"]\n\n\
         [[command]]\nname = \"fl-free\"\ncmd = \"touch {out}/o\"\n",
    );
    let out = slurm_run(&p, "spec.toml");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("FAILED"), "{err}");
    assert!(
        err.contains("the-reason-it-broke"),
        "log tail missing: {err}"
    );
    assert!(
        err.contains("1 ran, 0 cached, 1 failed, 1 blocked"),
        "{err}"
    );
    let names: Vec<String> = jobs_named("fl-").into_iter().map(|(n, _)| n).collect();
    assert!(!names.iter().any(|n| n.ends_with("fl-after")), "{names:?}");
}

/// Writes `spec.toml`: `head`, then one stage `name` that writes part of its output and runs
/// until the returned file is removed.
fn slow_stage(p: &TestProject, head: &str, name: &str) -> std::path::PathBuf {
    let slow = p.write("slow", "");
    p.write(
        "spec.toml",
        &format!(
            "{head}[[command]]\nname = \"{name}\"\n\
             cmd = \"echo part > {{out}}/o; while [ -e {} ]; do sleep 0.2; done\"\noutputs = [\"o\"]\n",
            slow.display()
        ),
    );
    slow
}

/// After the slow stage's job was killed: nothing of it is cached, and once it is let finish
/// (`slow` removed) a rerun computes it.
fn nothing_cached_and_the_rerun_completes(p: &TestProject, slow: &std::path::Path) {
    assert!(p.cache_entries().is_empty(), "{:?}", p.cache_entries());
    std::fs::remove_file(slow).unwrap();
    let again = slurm_run(p, "spec.toml");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("1 ran"), "{}", stderr(&again));
}

#[test]
fn issue_12_a_job_killed_by_scancel_leaves_nothing_and_the_rerun_completes() {
    if !require("slurm") {
        return;
    }
    let p = TestProject::new();
    let slow = slow_stage(&p, "", "sc-long");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
        .args([
            "run",
            "spec.toml",
            "--executor",
            "slurm",
            "--progress",
            "plain",
        ])
        .current_dir(p.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the job to run", Duration::from_secs(60), || {
        jobs_named("sc-long").iter().any(|(_, s)| s == "RUNNING")
    });
    std::thread::sleep(Duration::from_millis(500));
    let ok = Command::new("scancel")
        .args(["--name", "pipeline:sc-long"])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = wait_or_kill(&mut child, Duration::from_secs(60), "the run");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("CANCELLED"), "{err}");
    nothing_cached_and_the_rerun_completes(&p, &slow);
}

/// SLURM's time limits are whole minutes (and it checks them about every 30 s), so this waits
/// for about a minute: a job killed at its limit must leave nothing in the cache, be reported
/// as TIMEOUT, and run again (without the limit) on the rerun.
#[test]
fn issue_12_a_job_killed_at_its_time_limit_leaves_nothing_and_the_rerun_completes() {
    if !require("slurm") {
        return;
    }
    let p = TestProject::new();
    let slow = slow_stage(&p, "[executor.command]\ntime = \"1\"\n\n", "tl-long");
    let started = std::time::Instant::now();
    let out = slurm_run(&p, "spec.toml");
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("TIMEOUT"), "{err}");
    assert!(
        started.elapsed() >= Duration::from_secs(55),
        "killed after {:?}, before its one-minute limit: {err}",
        started.elapsed()
    );
    nothing_cached_and_the_rerun_completes(&p, &slow);
}

#[test]
fn issue_12_ctrl_c_empties_the_queue_of_the_runs_jobs() {
    if !require("slurm") {
        return;
    }
    let p = TestProject::new();
    let mut spec = String::new();
    for i in 0..3 {
        spec.push_str(&format!(
            "[[command]]\nname = \"cc-{i}\"\ncmd = \"sleep 300\"\n\n"
        ));
    }
    p.write("spec.toml", &spec);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
        .args([
            "run",
            "spec.toml",
            "--executor",
            "slurm",
            "--progress",
            "plain",
        ])
        .current_dir(p.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the jobs to be queued", Duration::from_secs(60), || {
        live_jobs("cc-") == 3
    });
    // SAFETY: kill with our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_or_kill(&mut child, Duration::from_secs(60), "the interrupted run");
    assert!(!status.success());
    wait_until("the queue to empty", Duration::from_secs(30), || {
        live_jobs("cc-") == 0
    });
    assert!(p.cache_entries().is_empty());
}

#[test]
fn issue_12_two_runs_against_one_cluster_compute_each_stage_once() {
    if !require("slurm") {
        return;
    }
    let p = TestProject::new();
    let count = p.path().join("count");
    p.write(
        "spec.toml",
        &format!(
            "[[command]]\nname = \"tw-a\"\ncmd = \"echo a >> {c}; sleep 2; echo a > {{out}}/o\"\n\n\
             [[command]]\nname = \"tw-b\"\ncmd = \"echo b >> {c}; echo b > {{out}}/o\"\ninputs = [\"tw-a\"]\n",
            c = count.display()
        ),
    );
    let spawn = || {
        Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
            .args([
                "run",
                "spec.toml",
                "--executor",
                "slurm",
                "--progress",
                "none",
            ])
            .current_dir(p.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (mut one, mut two) = (spawn(), spawn());
    for child in [&mut one, &mut two] {
        let status = wait_or_kill(child, Duration::from_secs(120), "a concurrent run");
        assert!(status.success());
    }
    let lines = std::fs::read_to_string(&count).unwrap();
    assert_eq!(lines, "a\nb\n", "each stage must be computed once");
}
