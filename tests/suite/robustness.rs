//! Killed, interrupted, concurrent and corrupted runs: the cache never holds partial results.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

pub(crate) fn spawn_run(p: &TestProject, spec: &str) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
        .args(["run", spec, "--progress", "plain"])
        .current_dir(p.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pipeline")
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn temp_dirs(p: &TestProject) -> usize {
    std::fs::read_dir(p.path().join(".pipeline/tmp"))
        .map(|rd| rd.count())
        .unwrap_or(0)
}

const SLOW: &str = r#"[[command]]
name = "first"
cmd = "head -c 100000 /dev/zero > {out}/a.bin"
[[command]]
name = "slow"
cmd = "head -c 5000 /dev/zero > {out}/partial.bin; sleep 1.5; echo done > {out}/b.txt"
inputs = ["first"]
outputs = ["b.txt"]
[[command]]
name = "last"
cmd = "cat {in.slow}/b.txt > {out}/c.txt"
inputs = ["slow"]
"#;

#[test]
fn kill_9_mid_run_leaves_nothing_partial_and_rerun_completes() {
    let p = TestProject::new();
    p.write("spec.toml", SLOW);
    let mut child = spawn_run(&p, "spec.toml");
    wait_until(
        "the slow stage to start writing",
        Duration::from_secs(20),
        || {
            std::fs::read_dir(p.path().join(".pipeline/tmp"))
                .map(|rd| {
                    rd.flatten()
                        .any(|e| e.path().join("out/partial.bin").exists())
                })
                .unwrap_or(false)
        },
    );
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    let _ = child.wait();
    assert_eq!(
        p.cache_entries().len(),
        1,
        "only the finished stage is cached"
    );
    let plan = statuses(&p.plan_json("spec.toml", &[]));
    assert_eq!(
        (plan["first"].as_str(), plan["slow"].as_str()),
        ("cached", "will-run")
    );
    let out = p.run(&["run", "spec.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("took over a stale lock"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.cache_entries().len(), 3);
    let verify = p.run(&["verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(stdout(&verify).contains("3 entries checked, 0 corrupt"));
    let gc = p.run(&["gc"]);
    assert!(
        stdout(&gc).contains("1 temp folders"),
        "the dead run's temp folder is collected: {}",
        stdout(&gc)
    );
    assert_eq!(temp_dirs(&p), 0);
}

#[test]
fn ctrl_c_stops_running_stages_and_caches_nothing_partial() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"long\"\ncmd = \"touch {out}/started; sleep 30\"\n",
    );
    let mut child = spawn_run(&p, "spec.toml");
    wait_until("the stage to start", Duration::from_secs(20), || {
        std::fs::read_dir(p.path().join(".pipeline/tmp"))
            .map(|rd| rd.flatten().any(|e| e.path().join("out/started").exists()))
            .unwrap_or(false)
    });
    let t = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "stopped promptly");
    assert_eq!(status.code(), Some(130));
    assert!(p.cache_entries().is_empty());
    assert_eq!(
        temp_dirs(&p),
        0,
        "the cancelled stage's temp folder is removed"
    );
    let rec = std::fs::read_to_string(p.path().join("results/spec/latest/run.json")).unwrap();
    assert!(rec.contains("\"status\": \"interrupted\""), "{rec}");
}

#[test]
fn two_concurrent_runs_compute_each_stage_once() {
    let p = TestProject::new();
    let counts = p.path().join("counts");
    std::fs::create_dir_all(&counts).unwrap();
    let mut spec = String::new();
    for i in 0..6 {
        let input = if i > 0 {
            format!("inputs = [\"s{}\"]\n", i / 2)
        } else {
            String::new()
        };
        spec.push_str(&format!(
            "[[command]]\nname = \"s{i}\"\ncmd = \"echo x >> {}/s{i}; sleep 0.2; echo {i} > {{out}}/o\"\n{input}",
            counts.display()
        ));
    }
    p.write("spec.toml", &spec);
    let a = spawn_run(&p, "spec.toml");
    let b = spawn_run(&p, "spec.toml");
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(b.status.success(), "{}", stderr(&b));
    for i in 0..6 {
        let n = std::fs::read_to_string(counts.join(format!("s{i}")))
            .unwrap()
            .lines()
            .count();
        assert_eq!(n, 1, "stage s{i} computed {n} times");
    }
    assert_eq!(p.cache_entries().len(), 6);
    assert!(p.run(&["verify"]).status.success());
}

#[test]
fn corrupted_entry_is_reported_and_recomputed() {
    let p = TestProject::new();
    p.write("spec.toml", "[[command]]\nname = \"gen\"\ncmd = \"seq 1 100 > {out}/n.txt\"\n[[command]]\nname = \"use\"\ncmd = \"wc -l < {in.gen}/n.txt > {out}/c\"\ninputs = [\"gen\"]\n");
    assert!(p.run(&["run", "spec.toml"]).status.success());
    let file = p.entry_out("spec.toml", "gen").join("n.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&file, text.replace("42", "24")).unwrap(); // same size, other bytes
    let plan = p.plan_json("spec.toml", &[]);
    assert_eq!(statuses(&plan)["gen"], "will-run");
    assert!(
        plan["stages"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("corrupt"),
        "{plan}"
    );
    // (`verify` would move the entry aside first: store_safety.rs tests that path.)
    let out = p.run(&["run", "spec.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cache entry was corrupt"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert!(p.run(&["verify"]).status.success());
}

#[test]
fn gc_keeps_what_recent_runs_use() {
    let p = TestProject::new();
    two_runs_of_one_stage(&p);
    let dry = p.run(&["gc", "--keep-runs", "1", "--dry-run"]);
    assert!(
        stdout(&dry).contains("1 cache entries removed"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(p.cache_entries().len(), 2);
    assert!(p.run(&["gc", "--keep-runs", "1"]).status.success());
    assert_eq!(p.cache_entries().len(), 1);
    assert_eq!(statuses(&p.plan_json("spec.toml", &[]))["a"], "cached");
}
