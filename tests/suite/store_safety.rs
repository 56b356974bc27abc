//! The store never trusts what it cannot check: symlinks in outputs, unreadable run records,
//! corrupt entries, failed publishing, bad arguments and a project folder that is missing.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::*;

/// Asserts the exit code, and that no run of the binary panicked.
fn exits(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked at"), "panic: {err}");
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {err}",
        stdout(out)
    );
    err
}

/// A file and a folder outside the project that a stage must not smuggle into the cache.
fn outside() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), "top secret\n").unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    std::fs::write(dir.path().join("folder/inner"), "inner\n").unwrap();
    let file = dir.path().join("secret").display().to_string();
    let folder = dir.path().join("folder").display().to_string();
    (dir, file, folder)
}

fn command_spec(cmd: &str) -> String {
    format!("[[command]]\nname = \"s\"\ncmd = \"{cmd}\"\noutputs = [\"o\"]\npublish = true\n")
}

fn results_mention(p: &TestProject, text: &str) -> bool {
    walkdir::WalkDir::new(p.path().join("results"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(text)))
}

#[test]
fn symlinked_outputs_are_refused_at_commit() {
    let (_keep, file, folder) = outside();
    for cmd in [
        format!("ln -s {file} {{out}}/o"),
        format!("rmdir {{out}} && ln -s {folder} {{out}} && touch {folder}/o"),
        format!("ln -s {folder} {{out}}/d && touch {{out}}/o"),
    ] {
        let p = TestProject::new();
        p.write("spec.toml", &command_spec(&cmd));
        let err = exits(&p.run(&["run", "spec.toml"]), 1);
        assert!(err.contains("is a symbolic link"), "{cmd}: {err}");
        assert!(p.cache_entries().is_empty(), "{cmd}: nothing cached");
        assert!(!results_mention(&p, "top secret") && !results_mention(&p, "inner\n"));
        let rec = std::fs::read_to_string(p.path().join("results/spec/latest/run.json")).unwrap();
        assert!(rec.contains("\"status\": \"failed\""), "{rec}");
    }
    // Cleaning up the refused temp folder removed the links, not what they point to.
    assert!(Path::new(&folder).join("inner").is_file() && Path::new(&file).is_file());
}

#[test]
fn a_symlink_planted_in_an_entry_is_corrupt_and_never_followed() {
    let p = TestProject::new();
    p.write("spec.toml", &command_spec("echo top secret > {out}/o"));
    exits(&p.run(&["run", "spec.toml"]), 0);
    let out = p.entry_out("spec.toml", "s");
    // Same bytes outside: following the link would find the right size and checksum.
    let (_keep, file, _) = outside();
    std::fs::remove_file(out.join("o")).unwrap();
    std::os::unix::fs::symlink(&file, out.join("o")).unwrap();
    let verify = p.run(&["verify"]);
    exits(&verify, 2);
    assert!(
        stdout(&verify).contains("symbolic link"),
        "{}",
        stdout(&verify)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "top secret\n");
    let run = p.run(&["run", "spec.toml"]);
    exits(&run, 0);
    assert!(stderr(&run).contains("1 ran"), "{}", stderr(&run));
    let o = out.join("o");
    assert!(!o.symlink_metadata().unwrap().file_type().is_symlink());
}

#[test]
fn an_unreadable_run_record_is_named_and_gc_removes_nothing() {
    let p = TestProject::new();
    two_runs_of_one_stage(&p);
    let garbage = p.write(".pipeline/runs/20990101T000000.000Z-1.json", "{ not json");
    let runs = p.run(&["runs"]);
    let err = exits(&runs, 0);
    assert!(err.contains(&garbage.display().to_string()), "{err}");
    assert!(err.contains("remove it, or repair it"), "{err}");
    assert_eq!(
        stdout(&runs).matches("succeeded").count(),
        2,
        "{}",
        stdout(&runs)
    );
    for args in [&["gc", "--dry-run"][..], &["gc", "--keep-runs", "1"]] {
        let err = exits(&p.run(args), 2);
        assert!(err.contains("gc removed nothing"), "{err}");
        assert!(err.contains(&garbage.display().to_string()), "{err}");
    }
    assert_eq!(p.cache_entries().len(), 2);
    std::fs::remove_file(&garbage).unwrap();
    exits(&p.run(&["gc", "--keep-runs", "1"]), 0);
    assert_eq!(p.cache_entries().len(), 1);
}

#[test]
fn what_verify_finds_corrupt_is_recomputed_even_with_its_mtime_restored() {
    let p = TestProject::new();
    let count = p.path().join("count");
    p.write(
        "spec.toml",
        &format!(
            "[[command]]\nname = \"gen\"\ncmd = \"echo x >> {}; seq 1 100 > {{out}}/n.txt\"\n",
            count.display()
        ),
    );
    exits(&p.run(&["run", "spec.toml"]), 0);
    let file = p.entry_out("spec.toml", "gen").join("n.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&file, text.replace("42", "24")).unwrap();
    let f = std::fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    let verify = p.run(&["verify"]);
    exits(&verify, 2);
    assert!(stdout(&verify).contains("1 corrupt"), "{}", stdout(&verify));
    exits(&p.run(&["run", "spec.toml"]), 0);
    assert_eq!(
        std::fs::read_to_string(&count).unwrap().lines().count(),
        2,
        "recomputed"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    exits(&p.run(&["verify"]), 0);
}

#[test]
fn a_run_whose_results_cannot_be_published_is_recorded_as_failed() {
    let p = TestProject::new();
    p.write("spec.toml", &command_spec("echo 1 > {out}/o"));
    p.write("results", "a file where the results folder goes");
    let out = p.run(&["run", "spec.toml"]);
    let err = exits(&out, 1);
    assert!(
        err.contains("1 ran, 0 cached"),
        "the summary is printed: {err}"
    );
    assert!(err.contains("failed to publish"), "{err}");
    assert!(
        err.contains(&p.path().join("results").display().to_string()),
        "{err}"
    );
    let runs = p.run(&["runs"]);
    exits(&runs, 0);
    assert!(stdout(&runs).contains("failed"), "{}", stdout(&runs));
    assert!(!stdout(&runs).contains("succeeded"), "{}", stdout(&runs));
    assert!(
        stdout(&runs).contains("failed to publish"),
        "{}",
        stdout(&runs)
    );
}

#[test]
fn a_missing_project_folder_is_an_error_for_every_command() {
    let p = TestProject::new();
    p.write("spec.toml", &command_spec("echo 1 > {out}/o"));
    let missing = p.path().join("no/such/project");
    let m = missing.display().to_string();
    for args in [
        vec!["--project", &m, "run", "spec.toml"],
        vec!["--project", &m, "plan", "spec.toml"],
        vec!["--project", &m, "verify"],
        vec!["--project", &m, "gc"],
        vec!["--project", &m, "runs"],
    ] {
        let err = exits(&p.run(&args), 2);
        assert!(
            err.contains(&format!("{m} (from --project) does not exist")),
            "{err}"
        );
        assert!(err.contains("mkdir -p"), "{err}");
        assert!(!missing.exists(), "{args:?} created the folder");
    }
    let err = exits(&p.run(&["verify"]), 2);
    assert!(err.contains(".pipeline does not exist"), "{err}");
}

#[test]
fn zero_jobs_cores_or_threads_are_refused() {
    let p = TestProject::new();
    p.write("spec.toml", &command_spec("echo 1 > {out}/o"));
    for args in [
        &["run", "spec.toml", "-j", "0"][..],
        &["run", "spec.toml", "--cores", "0"],
        &["exec-stage", &"0".repeat(64), "--threads", "0"],
    ] {
        let err = exits(&p.run(args), 2);
        assert!(err.contains("0"), "{err}");
    }
    assert!(p.cache_entries().is_empty());
}

#[test]
fn exec_stage_counts_its_one_stage() {
    let p = TestProject::new();
    p.write("spec.toml", &command_spec("echo 1 > {out}/o"));
    let key = keys(&p.plan_json("spec.toml", &[]))["s"].clone();
    let err = exits(&p.run(&["exec-stage", &key]), 0);
    assert!(err.contains("[  1/1] ✓ s"), "{err}");
}

#[test]
fn duplicate_or_nul_output_names_are_spec_errors() {
    let p = TestProject::new();
    for (outputs, wanted) in [
        (r#"["o", "o"]"#, "listed twice"),
        (r#"["o", "./o/"]"#, "listed twice"),
        (r#"["a\u0000b"]"#, "no NUL"),
    ] {
        let spec =
            format!("[[command]]\nname = \"s\"\ncmd = \"touch {{out}}/o\"\noutputs = {outputs}\n");
        p.write("spec.toml", &spec);
        let err = exits(&p.run(&["plan", "spec.toml"]), 2);
        assert!(err.contains(wanted), "{outputs}: {err}");
    }
}
