//! `pipeline bench compare --runs N`: N synthetic recorded runs of beta_sweep's shape (an AE
//! per latent size and a VAE per latent size × β; records, comparison tables and histories,
//! written through the registry's own save and publish functions), then the real commands
//! timed as subprocesses of this binary, each with its wall time and peak RSS.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::plan::{KeyInputs, StageKey, StageKind};
use crate::registry::{runs, RunRecord, RunStatus, StageRecord, StageState};
use crate::tables::{self, Row, Value};

const LATENTS: &[i64] = &[2, 5, 10, 20];
const BETAS: &[f64] = &[0.5, 1.0, 2.0, 4.0, 8.0];
const EPOCHS: usize = 10;

/// beta_sweep's members: (label, variant, latent, beta).
fn members() -> Vec<(String, &'static str, i64, Option<f64>)> {
    let mut out = Vec::new();
    for &z in LATENTS {
        out.push((format!("ae-z{z}"), "ae", z, None));
        for &b in BETAS {
            out.push((format!("vae-z{z}-b{b}"), "vae", z, Some(b)));
        }
    }
    out
}

fn key(text: &str) -> StageKey {
    StageKey(crate::data::sha256_hex(text.as_bytes()))
}

fn stage(name: &str, kind: StageKind, params: serde_json::Value) -> StageRecord {
    let key_inputs = KeyInputs {
        kind,
        implementation_version: 1,
        params,
        inputs: Default::default(),
        file_deps: Default::default(),
    };
    StageRecord {
        name: name.to_owned(),
        kind,
        key: key(&serde_json::to_string(&key_inputs).unwrap_or_default()),
        state: StageState::Cached,
        cache_hit: true,
        duration_s: None,
        error: None,
        log: None,
        key_inputs,
    }
}

/// Writes run `i` (record, `report/comparison.parquet`, `history.parquet`).
fn write_run(state: &Path, results: &Path, i: usize) -> anyhow::Result<()> {
    let at = chrono::DateTime::from_timestamp(1_780_000_000 + 60 * i as i64, 0).unwrap_or_default();
    let run_id = format!("{}-{i:06}", at.format("%Y%m%dT%H%M%S%.3fZ"));
    let lr = if i.is_multiple_of(2) { 1e-3 } else { 2e-3 };
    let mut stages = vec![
        stage(
            "download",
            StageKind::Download,
            serde_json::json!({"dataset": "mnist"}),
        ),
        stage(
            "preprocess",
            StageKind::Preprocess,
            serde_json::json!({"val_fraction": 0.1}),
        ),
    ];
    let (mut table, mut history) = (Vec::new(), Vec::new());
    for (n, (label, variant, z, beta)) in members().into_iter().enumerate() {
        let run = serde_json::json!({"variant": variant, "latent_dim": z, "beta": beta, "epochs": EPOCHS, "lr": lr});
        stages.push(stage(
            &format!("train/{label}"),
            StageKind::Train,
            serde_json::json!({ "run": run }),
        ));
        stages.push(stage(
            &format!("evaluate/{label}"),
            StageKind::Evaluate,
            serde_json::json!({ "run": run }),
        ));
        let noise = ((i * 31 + n * 7) % 17) as f64 / 17.0;
        let mut row = Row::new();
        row.insert("run".into(), Value::Str(label.clone()));
        row.insert("variant".into(), Value::Str(variant.into()));
        row.insert("latent_dim".into(), Value::Int(z));
        if let Some(b) = beta {
            row.insert("beta".into(), Value::Float(b));
        }
        for (column, base) in [
            ("elbo", -100.0),
            ("elbo_recon", 80.0),
            ("kl", 20.0),
            ("knn_accuracy", 0.9),
        ] {
            row.insert(column.into(), Value::Float(base + noise - z as f64 * 0.1));
        }
        table.push(row);
        for e in 1..=EPOCHS {
            let mut h = Row::new();
            h.insert("member".into(), Value::Str(label.clone()));
            h.insert("epoch".into(), Value::Int(e as i64));
            h.insert("train_loss".into(), Value::Float(100.0 / e as f64 + noise));
            h.insert("val_loss".into(), Value::Float(102.0 / e as f64 + noise));
            history.push(h);
        }
    }
    stages.push(stage("plot", StageKind::Plot, serde_json::json!({})));
    stages.push(stage("report", StageKind::Report, serde_json::json!({})));
    let spec_text = format!("[experiment]\nname = \"beta_sweep\"\n[train]\nlr = {lr}\n");
    let mut record = RunRecord {
        format: runs::RUN_RECORD_FORMAT,
        run_id,
        experiment: "beta_sweep".into(),
        spec_path: "experiments/beta_sweep.toml".into(),
        spec_sha256: crate::data::sha256_hex(spec_text.as_bytes()),
        spec_text,
        overrides: vec![],
        selectors: vec![],
        started_at: at.to_rfc3339(),
        finished_at: at.to_rfc3339(),
        status: RunStatus::Succeeded,
        error: None,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        host: "bench".into(),
        devices: vec!["cpu".into()],
        git: None,
        results: String::new(),
        stages,
    };
    let dir = runs::results_dir(results, &record);
    record.results = dir.display().to_string();
    tables::write_parquet(
        &tables::rows_to_dataframe(&table, &["run", "variant", "latent_dim", "beta"])?,
        &dir.join(super::table::COMPARISON_TABLE),
    )?;
    tables::write_parquet(
        &tables::rows_to_dataframe(&history, &["member", "epoch"])?,
        &dir.join(super::history::HISTORY_FILE),
    )?;
    let bytes = runs::save(state, &record)?;
    runs::publish_record(&dir, &record, &bytes)
}

/// Runs `pipeline ARGS` in `project`; wall seconds, peak RSS in MB, exit code.
fn timed(project: &Path, args: &[&str]) -> anyhow::Result<(f64, f64, i32)> {
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let child = Command::new(exe)
        .arg("--project")
        .arg(project)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // wait4 rather than Child::wait: it reports this child's own peak RSS.
    let pid = child.id() as libc::pid_t;
    if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } < 0 {
        anyhow::bail!("waiting for the benchmarked command failed");
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((
        t.elapsed().as_secs_f64(),
        usage.ru_maxrss as f64 / 1024.0,
        code,
    ))
}

/// Writes `n` synthetic runs into the project at `dir` (the benchmark's untimed setup).
pub fn generate(dir: &Path, n: usize) -> anyhow::Result<()> {
    let project = crate::project::Project::at(dir);
    let (state, results) = (project.state_dir(), project.results_dir());
    for i in 0..n {
        write_run(&state, &results, i)?;
    }
    // One tagged run, so `--where … OR @baseline` reads the tags too.
    if let Some(oldest) = runs::list(&state).last().and_then(|p| p.file_stem()) {
        crate::registry::annotations::tag(&state, &oldest.to_string_lossy(), "baseline")?;
    }
    Ok(())
}

pub fn run(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let state = crate::project::Project::at(dir.path()).state_dir();
    eprintln!(
        "writing {n} synthetic runs of beta_sweep's shape (24 members, 52 stages; not timed)…"
    );
    let t = Instant::now();
    // In a child process: a child's peak RSS (wait4) counts the memory of the process it was
    // started from, so the parent stays as small as it starts.
    let status = Command::new(std::env::current_exe()?)
        .args([
            "bench",
            "compare",
            "--runs",
            &n.to_string(),
            "--generate-into",
        ])
        .arg(dir.path())
        .status()?;
    anyhow::ensure!(status.success(), "writing the synthetic runs failed");
    eprintln!("  done in {:.1}s", t.elapsed().as_secs_f64());
    let last = n.to_string();
    let ids: Vec<String> = runs::list(&state)
        .iter()
        .take(2)
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    anyhow::ensure!(ids.len() == 2, "bench compare needs --runs 2 or more");
    let cases: [(&str, Vec<&str>, f64, Option<f64>); 4] = [
        (
            "runs --where 'train.lr < 1.5e-3 OR @baseline'",
            vec!["runs", "--where", "train.lr < 1.5e-3 OR @baseline"],
            0.100,
            None,
        ),
        (
            "compare latest latest~1",
            vec!["compare", "latest", "latest~1"],
            0.150,
            None,
        ),
        // The same two runs named by full id: compare's own cost, without finding `latest`.
        (
            "compare ID ID (full ids)",
            vec!["compare", &ids[0], &ids[1]],
            0.150,
            None,
        ),
        (
            "compare --last N --member vae-z20-b1 --metric elbo",
            vec![
                "compare",
                "--last",
                &last,
                "--member",
                "vae-z20-b1",
                "--metric",
                "elbo",
            ],
            1.0,
            Some(200.0),
        ),
    ];
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "{n} recorded runs; each command run as a subprocess of this {build} binary (median of 3)"
    );
    if let Some(floor) = crate::platform::peak_rss_bytes() {
        println!(
            "(peak MB includes this parent's {:.1} MB, which a child's peak counts)",
            floor as f64 / 1e6
        );
    }
    println!(
        "{:<52} {:>9} {:>9} {:>9}  goal",
        "command", "wall ms", "peak MB", "exit"
    );
    for (name, args, goal_s, goal_mb) in cases {
        let mut times = Vec::new();
        let (mut rss, mut code) = (0.0f64, 0);
        for _ in 0..3 {
            let (s, mb, c) = timed(dir.path(), &args)?;
            times.push(s);
            rss = rss.max(mb);
            code = c;
        }
        times.sort_by(f64::total_cmp);
        let median = times[1];
        let met = median <= goal_s && goal_mb.is_none_or(|g| rss <= g) && code == 0;
        let goal = format!(
            "< {} ms{} {}",
            goal_s * 1000.0,
            goal_mb.map(|g| format!(", < {g} MB")).unwrap_or_default(),
            if code != 0 {
                "(command failed: not on this build?)"
            } else if met {
                "met"
            } else {
                "NOT met"
            }
        );
        println!(
            "{name:<52} {:>9.1} {rss:>9.1} {code:>9}  {goal}",
            median * 1000.0
        );
    }
    Ok(())
}
