//! Property-style: random valid sweeps on tiny shapes data run plan → run → report → every
//! figure without a failure; random invalid specs (wrong types, unknown keys, out-of-range
//! values, empty sweeps…) all exit 2 with nothing cached and no panic. Seeded, a fixed number
//! of cases; a failure prints the case's spec.

use crate::support::*;

const VALID_CASES: usize = 6;
const INVALID_CASES: usize = 16;

/// SplitMix64: small, seeded, good enough to pick test cases.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// 1..=max distinct items of `xs`, in their order there.
    fn some<T: Clone>(&mut self, xs: &[T], max: usize) -> Vec<T> {
        let n = 1 + self.below(max.min(xs.len()));
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        for i in 0..n {
            let j = i + self.below(xs.len() - i);
            idx.swap(i, j);
        }
        let mut chosen = idx[..n].to_vec();
        chosen.sort_unstable();
        chosen.into_iter().map(|i| xs[i].clone()).collect()
    }
}

const VARIANTS: [&str; 5] = ["ae", "vae", "denoising-ae", "sparse-ae", "linear-ae"];
/// Latent sizes other than the shipped experiments' 2, 5, 10, 20.
const LATENTS: [i64; 5] = [1, 3, 4, 6, 7];
/// β grids without 1.
const BETAS: [f64; 3] = [0.25, 0.5, 3.0];
const SHAPE_CLASSES: usize = 3;

/// A tiny shapes spec; every run takes well under a second to train. `extra` lines go into
/// the named sections (created when the base lacks them).
fn spec(name: &str, extra: &[(&str, String)]) -> String {
    let mut sections: Vec<(String, Vec<String>)> = vec![
        (
            "experiment".into(),
            vec![format!("name = \"{name}\""), "seed = 3".into()],
        ),
        (
            "dataset".into(),
            [
                "name = \"shapes\"",
                "n_train = 90",
                "n_test = 30",
                "size = 16",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ("model".into(), vec!["hidden = [8]".into()]),
        (
            "train".into(),
            vec!["epochs = 1".into(), "batch_size = 8".into()],
        ),
        ("evaluate".into(), vec!["iwae_k = [1, 4]".into()]),
    ];
    for (section, line) in extra {
        let key = line.split(" =").next().unwrap_or_default();
        let at = match sections.iter().position(|(s, _)| s == section) {
            Some(at) => at,
            None => {
                sections.push((section.to_string(), Vec::new()));
                sections.len() - 1
            }
        };
        // A line replaces the base's value of the same key (a duplicate is another error).
        let lines = &mut sections[at].1;
        lines.retain(|l| !l.starts_with(&format!("{key} =")));
        lines.push(line.clone());
    }
    sections
        .iter()
        .map(|(s, lines)| format!("[{s}]\n{}\n", lines.join("\n")))
        .collect()
}

fn list<T: std::fmt::Display>(xs: &[T]) -> String {
    let items: Vec<String> = xs.iter().map(|x| format!("{x}")).collect();
    format!("[{}]", items.join(", "))
}

/// A random valid spec: axes of random lengths (at most 4 members before include), replicated
/// seeds, a single variant or several, unusual latent sizes and β, include/exclude, one class.
fn valid_spec(g: &mut Gen, name: &str) -> String {
    let variants: Vec<String> = g
        .some(&VARIANTS, 2)
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect();
    let latents = g.some(&LATENTS, 2);
    let betas = g.some(&BETAS, 2);
    let seeds: Vec<i64> = if g.chance(40) { vec![1, 2] } else { vec![1] };
    let mut extra: Vec<(&str, String)> = Vec::new();
    extra.push(("model", format!("hidden = {}", g.pick(&["[8]", "[12, 6]"]))));
    let one_class = g.chance(30).then(|| g.below(SHAPE_CLASSES));
    if let Some(k) = one_class {
        extra.push(("preprocess", format!("classes = [{k}]")));
    } else if g.chance(30) {
        extra.push((
            "evaluate",
            format!("anomaly_normal_classes = [{}]", g.below(SHAPE_CLASSES)),
        ));
    }
    if g.chance(15) {
        // One member: no sweep at all.
        extra.push(("model", format!("variant = {}", variants[0])));
        extra.push(("model", format!("latent_dim = {}", latents[0])));
        return spec(name, &extra);
    }
    // Axes in a random order, dropped from the end until the grid has at most 4 members.
    let mut axes: Vec<(&str, Vec<String>)> = vec![
        ("variant", variants),
        (
            "latent_dim",
            latents.iter().map(|x| x.to_string()).collect(),
        ),
        ("beta", betas.iter().map(|x| x.to_string()).collect()),
        ("seed", seeds.iter().map(|x| x.to_string()).collect()),
    ];
    for i in (1..axes.len()).rev() {
        let j = g.below(i + 1);
        axes.swap(i, j);
    }
    while axes.iter().map(|a| a.1.len()).product::<usize>() > 4 {
        axes.pop();
    }
    for (axis, values) in &axes {
        extra.push(("sweep", format!("{axis} = {}", list(values))));
    }
    let grid: usize = axes.iter().map(|a| a.1.len()).product();
    if grid > 1 && g.chance(40) {
        // Exclude one grid member by its full assignment.
        let pattern: Vec<String> = axes
            .iter()
            .map(|(axis, v)| format!("{axis} = {}", v[0]))
            .collect();
        extra.push(("sweep", format!("exclude = [{{ {} }}]", pattern.join(", "))));
    }
    if g.chance(40) {
        // An extra member no grid above contains (latent 9 is never on an axis).
        let v = g.pick(&VARIANTS);
        extra.push((
            "sweep",
            format!("include = [{{ variant = \"{v}\", latent_dim = 9 }}]"),
        ));
    }
    spec(name, &extra)
}

/// A spec with exactly one thing wrong, which must be refused before anything runs.
fn invalid_spec(g: &mut Gen) -> (&'static str, String) {
    let (what, section, lines): (&str, &str, Vec<String>) = match g.below(14) {
        0 => (
            "wrong type",
            "model",
            vec![format!("latent_dim = \"{}\"", g.pick(&["two", "2", ""]))],
        ),
        1 => (
            "wrong type",
            "train",
            vec![format!("epochs = {}", g.pick(&["1.5", "[1]", "true"]))],
        ),
        2 => (
            "wrong type",
            "model",
            vec![format!("hidden = {}", g.pick(&["8", "\"8\"", "[8.5]"]))],
        ),
        3 => {
            let section = *g.pick(&["model", "train", "preprocess", "evaluate"]);
            let key = g.pick(&["latnt_dim", "epoch", "speed", "classes_"]);
            ("unknown key", section, vec![format!("{key} = 1")])
        }
        4 => (
            "out of range",
            "model",
            vec![format!("latent_dim = {}", g.pick(&["0", "-3", "100000"]))],
        ),
        5 => {
            let key = g.pick(&["epochs", "batch_size"]);
            (
                "out of range",
                "train",
                vec![format!("{key} = {}", g.pick(&["0", "-1"]))],
            )
        }
        6 => (
            "out of range",
            "train",
            vec![format!("lr = {}", g.pick(&["0.0", "-0.1", "nan"]))],
        ),
        7 => {
            let key = g.pick(&["val_fraction", "test_fraction"]);
            (
                "out of range",
                "preprocess",
                vec![format!("{key} = {}", g.pick(&["1.0", "1.5", "-0.1"]))],
            )
        }
        8 => (
            "class out of range",
            "preprocess",
            vec![format!("classes = [{}]", 3 + g.below(250))],
        ),
        9 => (
            "anomaly class out of range",
            "evaluate",
            vec![format!("anomaly_normal_classes = [{}]", 3 + g.below(250))],
        ),
        10 => (
            "empty sweep axis",
            "sweep",
            vec![format!(
                "{} = []",
                g.pick(&["latent_dim", "beta", "variant"])
            )],
        ),
        11 => (
            "exclude removes everything",
            "sweep",
            vec![
                "latent_dim = [3]".into(),
                "exclude = [{ latent_dim = 3 }]".into(),
            ],
        ),
        12 => (
            "batch larger than the data",
            "train",
            vec![format!("batch_size = {}", 100 + g.below(1000))],
        ),
        _ => (
            "model too large",
            "model",
            vec!["hidden = [1048576]".into(), "latent_dim = 65536".into()],
        ),
    };
    let extra: Vec<(&str, String)> = lines.into_iter().map(|l| (section, l)).collect();
    (what, spec("bad", &extra))
}

/// One generated case that went wrong, with everything needed to reproduce it.
fn failure(case: &str, problem: &str, spec: &str, stderr: &str) -> String {
    format!("{case}: {problem}\n--- spec ---\n{spec}--- stderr ---\n{stderr}")
}

fn assert_none_failed(failures: &[String], cases: usize, kind: &str) {
    assert!(
        failures.is_empty(),
        "{} of {cases} {kind} case(s) wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn random_valid_sweeps_run_report_and_draw_every_figure() {
    let mut g = Gen(0x5EED_0001);
    // One project: cases with the same data share its preprocess stage.
    let p = TestProject::new();
    let mut failures = Vec::new();
    for case in 0..VALID_CASES {
        let name = format!("case{case}");
        let text = valid_spec(&mut g, &name);
        let file = format!("{name}.toml");
        p.write(&file, &text);
        let plan = p.run(&["plan", &file]);
        if !plan.status.success() {
            failures.push(failure(&name, "plan failed", &text, &stderr(&plan)));
            continue;
        }
        let out = p.run(&["run", &file]);
        let err = stderr(&out);
        let latest = p.path().join(format!("results/{name}/latest"));
        let problem = if !out.status.success() || err.contains("panicked at") {
            Some("run failed")
        } else if !latest.join("report.html").exists() {
            Some("no report.html")
        } else if !latest.join("report/comparison.csv").exists() {
            Some("no comparison table")
        } else if !latest.join("plot").is_dir() {
            Some("no figures")
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(failure(&name, problem, &text, &err));
        }
    }
    assert_none_failed(&failures, VALID_CASES, "valid");
}

#[test]
fn random_invalid_specs_exit_2_with_nothing_cached() {
    let mut g = Gen(0xBAD5_EED5);
    let mut failures = Vec::new();
    for case in 0..INVALID_CASES {
        let (what, text) = invalid_spec(&mut g);
        let p = TestProject::new();
        p.write("spec.toml", &text);
        let out = p.run(&["run", "spec.toml"]);
        let err = stderr(&out);
        let written = !p.cache_entries().is_empty() || p.path().join("results").exists();
        let problem = if out.status.code() != Some(2) {
            Some(format!("exit {:?}", out.status.code()))
        } else if err.contains("panicked at") {
            Some("panicked".into())
        } else if !err.contains("spec.toml:") {
            Some("no location".into())
        } else if written {
            Some("something was written".into())
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(failure(
                &format!("case {case} ({what})"),
                &problem,
                &text,
                &err,
            ));
        }
    }
    assert_none_failed(&failures, INVALID_CASES, "invalid");
}
