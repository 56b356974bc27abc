//! Benchmarks as commands, never as timed tests: `bench plan` (planning and no-op rerun of a
//! cached spec), `bench data` (decoding + preprocessing a dataset), `bench train` (training speed).

use std::fmt::Write;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::exec::Limits;
use crate::project::Project;
use crate::workflow::timings::Timings;
use crate::workflow::{self, RunOptions};

/// A spec of `n` command stages shaped as a binary tree (stage i reads stage (i-1)/2).
pub fn tree_spec(n: usize) -> String {
    let mut s = String::from("[experiment]\nname = \"bench-plan\"\n");
    for i in 0..n {
        let _ = write!(s, "\n[[command]]\nname = \"s{i}\"\ncmd = \"echo {{param.i}} > {{out}}/o\"\nparams = {{ i = {i} }}\noutputs = [\"o\"]\n");
        if i > 0 {
            let _ = writeln!(s, "inputs = [\"s{}\"]", (i - 1) / 2);
        }
    }
    s
}

pub fn plan(stages: usize, repeat: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let project = Project::at(dir.path());
    let spec = dir.path().join("bench.toml");
    std::fs::write(&spec, tree_spec(stages))?;
    let cores = super::run::default_parallelism();
    let opts = RunOptions {
        spec: spec.clone(),
        set: vec![],
        selectors: vec![],
        limits: Limits {
            jobs: cores * 2,
            cores: cores * 2,
            gpus: 0,
        },
        data_mirror: None,
        display: None,
        executor: None,
    };
    let cancel = AtomicBool::new(false);
    eprintln!("populating the cache: running {stages} command stages once (not timed)…");
    let t = Instant::now();
    let first = workflow::run(&project, &opts, &cancel)?;
    anyhow::ensure!(
        first.failures.is_empty(),
        "populating run failed: {:?}",
        first.failures.first()
    );
    eprintln!("  done in {:.1}s", t.elapsed().as_secs_f64());
    let mut plan_times = Vec::new();
    let mut rerun_times = Vec::new();
    let mut phases = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let s = crate::spec::load(&spec, &[]).map_err(|e| anyhow::anyhow!("{e}"))?;
        phases[0].push(t.elapsed());
        let t = Instant::now();
        let g = crate::plan::build_graph(&s).map_err(|e| anyhow::anyhow!("{e}"))?;
        phases[1].push(t.elapsed());
        let t = Instant::now();
        let roots: Vec<usize> = (0..g.len()).collect();
        crate::workflow::assess::assess(&g, &roots, &project.store(), None);
        phases[2].push(t.elapsed());
        let t = Instant::now();
        let p = workflow::plan(&project, &spec, &[], &[], false, None, &mut Timings::off())?;
        plan_times.push(t.elapsed());
        anyhow::ensure!(
            p.assessment.need.iter().all(|n| !n),
            "spec is not fully cached"
        );
        let t = Instant::now();
        let r = workflow::run(&project, &opts, &cancel)?;
        rerun_times.push(t.elapsed());
        anyhow::ensure!(
            r.record.stages.iter().all(|s| s.state == "cached"),
            "no-op rerun ran a stage"
        );
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    println!(
        "bench plan: {stages} stages: plan {:.1} ms, no-op run {:.1} ms (median of {}; plan = parse + validate + graph + keys + cache check; run adds the run record and results folder)",
        median(&mut plan_times),
        median(&mut rerun_times),
        repeat.max(1)
    );
    let [a, b, c] = &mut phases;
    println!(
        "  phases: spec load + validate {:.1} ms, graph + keys {:.1} ms, cache check {:.1} ms",
        median(a),
        median(b),
        median(c)
    );
    Ok(())
}

pub fn data(dir: &std::path::Path, dataset: &str, repeat: usize) -> anyhow::Result<()> {
    let opts = crate::data::PreprocessOptions::default();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "bench data: {dataset} from {} with {} threads",
        dir.display(),
        rayon::current_num_threads()
    );
    for run in 1..=repeat.max(1) {
        let r = crate::data::bench::bench_dataset(dataset, dir, &opts)?;
        println!(
            "  run {run}: {} images: decode {:.3} s + preprocess {:.3} s = {:.3} s wall, {} CPU; peak RSS {} = {} of the decoded f32 data ({:.1} MiB){}",
            r.images,
            r.decode_seconds,
            r.preprocess_seconds,
            r.total_seconds,
            r.cpu_seconds.map_or("?".into(), |c| format!("{c:.3} s")),
            r.peak_rss_bytes.map_or("?".into(), |b| format!("{:.1} MiB", mib(b))),
            r.peak_ratio().map_or("?".into(), |x| format!("{x:.2}×")),
            mib(r.decoded_f32_bytes),
            if r.peak_rss_reset { "" } else { " (peak not reset between runs)" },
        );
    }
    Ok(())
}

pub fn train(
    architecture: &str,
    hidden: Option<usize>,
    (latent, batch, steps): (usize, usize, usize),
    threads: Option<usize>,
    device: &str,
) -> anyhow::Result<()> {
    use crate::model::config::defaults;
    use crate::model::Backbone;
    use crate::spec::variant::{parse_name, BACKBONE_NAMES, DEVICE_NAMES};
    let Some(architecture) = parse_name::<Backbone>(architecture) else {
        anyhow::bail!(
            "unknown architecture \"{architecture}\", expected one of: {}",
            BACKBONE_NAMES.join(", ")
        );
    };
    let hidden = hidden.unwrap_or(match architecture {
        Backbone::Mlp => 400,
        Backbone::Conv => defaults::CONV_DENSE,
    });
    let shape = crate::model::BenchShape {
        architecture,
        hidden,
        latent,
        batch,
        steps,
    };
    let Some(device) = parse_name(device) else {
        anyhow::bail!(
            "unknown device \"{device}\", expected one of: {}",
            DEVICE_NAMES.join(", ")
        );
    };
    let threads = threads.unwrap_or_else(super::run::default_parallelism);
    // The pool training uses (denormal flushing on its workers included).
    let (pool, _) = crate::model::threads::training_pool(Some(threads))?;
    let report = crate::model::bench_train(&pool, device, shape)?;
    println!("{report}");
    Ok(())
}
