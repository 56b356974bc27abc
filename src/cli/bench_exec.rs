//! `pipeline bench exec`: the local executor's per-stage overhead on a sweep-shaped DAG of
//! trivial command stages (1 download → 1 preprocess → N train → N evaluate → 1 report).
//!
//! Each phase runs a `pipeline run` process (this binary, or `--with` another one, so main's
//! binary can be measured by the same harness): first run, no-op rerun, one-parameter rerun.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The bench spec for `stages` stages in all (N = (stages - 3) / 2 trainings); `seed` is the
/// first training's parameter, so changing it reruns exactly that training, its evaluation and
/// the report.
pub fn sweep_spec(stages: usize, seed: u64) -> String {
    let n = stages.saturating_sub(3).max(2) / 2;
    let mut s = String::from("[experiment]\nname = \"bench-exec\"\n");
    let stage = |s: &mut String, name: &str, params: String, inputs: &[String]| {
        let _ = write!(
            s,
            "\n[[command]]\nname = \"{name}\"\ncmd = \"echo {name} > {{out}}/o\"\nparams = {{ {params} }}\noutputs = [\"o\"]\n"
        );
        if !inputs.is_empty() {
            let quoted: Vec<String> = inputs.iter().map(|i| format!("\"{i}\"")).collect();
            let _ = writeln!(s, "inputs = [{}]", quoted.join(", "));
        }
    };
    stage(&mut s, "download", String::new(), &[]);
    stage(&mut s, "preprocess", String::new(), &["download".into()]);
    for i in 0..n {
        let p = if i == 0 { seed } else { i as u64 };
        stage(
            &mut s,
            &format!("train{i}"),
            format!("i = {p}"),
            &["preprocess".into()],
        );
    }
    for i in 0..n {
        stage(
            &mut s,
            &format!("evaluate{i}"),
            String::new(),
            &[format!("train{i}")],
        );
    }
    let evals: Vec<String> = (0..n).map(|i| format!("evaluate{i}")).collect();
    stage(&mut s, "report", String::new(), &evals);
    s
}

pub fn exec(stages: usize, jobs: usize, with: Option<PathBuf>, slurm: bool) -> anyhow::Result<()> {
    let bin = match with {
        Some(b) => b,
        None => std::env::current_exe()?,
    };
    // A cluster's nodes must see the project: under the current folder, not a node-local /tmp.
    let dir = if slurm {
        tempfile::tempdir_in(".")?
    } else {
        tempfile::tempdir()?
    };
    let spec = dir.path().join("bench.toml");
    let total = 3 + 2 * (stages.saturating_sub(3).max(2) / 2);
    let executor = if slurm { "slurm" } else { "local" };
    let mut line = format!(
        "bench exec: {total} stages, --executor {executor} --jobs {jobs}, {}:",
        bin.display()
    );
    let phases = [
        ("first run", 0),
        ("no-op rerun", 0),
        ("one-parameter rerun", 1_000_000),
    ];
    for (phase, seed) in phases {
        std::fs::write(&spec, sweep_spec(stages, seed))?;
        let (secs, stderr) = timed_run(&bin, dir.path(), &spec, jobs, executor)?;
        let _ = write!(line, " {phase} {secs:.3} s,");
        if phase == "first run" {
            let per = 1e3 * secs / total as f64;
            let _ = write!(line, " ({per:.2} ms per stage),");
        }
        // The SLURM executor's own cost per job, apart from the cluster's scheduling.
        if let Some(s) = stderr.lines().find_map(|l| l.strip_prefix("SLURM: ")) {
            let _ = write!(line, " [{s}],");
        }
    }
    line.pop();
    println!("{line}");
    if let Some(device) = unjournaled_ext4(dir.path()) {
        println!(
            "note: {} is on ext4 without a journal ({device}): allocating an inode there skips, \
             one by one, every inode freed in the last 1-6 minutes, so a first run soon after \
             many files were deleted (a previous bench's project) is slower; see the README",
            dir.path().parent().unwrap_or(dir.path()).display()
        );
    }
    Ok(())
}

/// The device `dir` is on, when that is ext4 without a journal (Linux: `/proc/fs/ext4/DEV`
/// without `/proc/fs/jbd2/DEV-8`), where `find_inode_bit` checks `recently_deleted` for each
/// free inode it passes.
fn unjournaled_ext4(dir: &Path) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let dev = std::fs::metadata(dir).ok()?.dev();
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        let link = std::fs::read_link(format!("/sys/dev/block/{major}:{minor}")).ok()?;
        let name = link.file_name()?.to_string_lossy().into_owned();
        let ext4 = Path::new("/proc/fs/ext4").join(&name).exists();
        let journal = Path::new("/proc/fs/jbd2")
            .join(format!("{name}-8"))
            .exists();
        (ext4 && !journal).then_some(name)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        None
    }
}

/// Seconds one `pipeline run` takes, failing if it fails.
fn timed_run(
    bin: &Path,
    project: &Path,
    spec: &Path,
    jobs: usize,
    executor: &str,
) -> anyhow::Result<(f64, String)> {
    let t = Instant::now();
    let out = Command::new(bin)
        .arg("--project")
        .arg(project)
        .arg("run")
        .arg(spec)
        .args(["--jobs", &jobs.to_string(), "--progress", "none"])
        // Named only when not local, so builds from before the SLURM executor can be timed.
        .args(if executor == "local" {
            vec![]
        } else {
            vec!["--executor", executor]
        })
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "`{} run` failed: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((secs, String::from_utf8_lossy(&out.stderr).into_owned()))
}
