//! Naming and finding runs: every run reference form (and its errors), and `pipeline runs`
//! with --where / --sort / --limit / --json / --csv.

use std::process::Output;

use pipeline::registry::query::Query;

use crate::registry::{runs_json, spec};
use crate::support::*;

/// Exit code 2, no panic; the stderr.
fn refused(out: &Output) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked at"), "panic: {err}");
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {err}",
        stdout(out)
    );
    err
}

/// The run id `reference` names, read from what `pipeline tag` says it tagged.
fn resolves_to(p: &TestProject, reference: &str) -> String {
    let out = p.run(&["tag", reference, "probe"]);
    assert!(out.status.success(), "`{reference}`: {}", stderr(&out));
    let text = stdout(&out);
    text.split_whitespace().nth(1).unwrap().to_owned()
}

/// Three runs of experiment `reg`: seed 1 succeeded, seed 2 failed, seed 3 succeeded; ids oldest
/// first.
fn three_runs(p: &TestProject) -> Vec<String> {
    p.write("ok.toml", &spec("echo a > {out}/o"));
    p.write("bad.toml", &spec("exit 3"));
    for (spec, seed, code) in [("ok.toml", 1, 0), ("bad.toml", 2, 1), ("ok.toml", 3, 0)] {
        let out = p.run(&["run", spec, "--set", &format!("experiment.seed={seed}")]);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    }
    let listed = runs_json(p, &["--sort", "id"]);
    listed
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_run_reference_form_resolves() {
    let p = TestProject::new();
    let ids = three_runs(&p);
    assert_eq!(resolves_to(&p, "latest"), ids[2]);
    assert_eq!(
        resolves_to(&p, "latest~1"),
        ids[0],
        "latest~N counts succeeded runs only"
    );
    assert_eq!(resolves_to(&p, &ids[1]), ids[1], "a full id names any run");
    // The shortest prefix that tells the failed run from the others.
    let prefix = (1..=ids[1].len())
        .map(|n| &ids[1][..n])
        .find(|pre| ids.iter().filter(|id| id.starts_with(pre)).count() == 1)
        .unwrap();
    assert_eq!(resolves_to(&p, prefix), ids[1]);
    assert!(p.run(&["tag", &ids[0], "baseline"]).status.success());
    assert_eq!(resolves_to(&p, "@baseline"), ids[0]);
    let noted = p.run(&["note", "@baseline", "first"]);
    assert!(stdout(&noted).contains(&ids[0]));
}

#[test]
fn ambiguous_unknown_and_malformed_references_exit_2_with_candidates() {
    let p = TestProject::new();
    let ids = three_runs(&p);
    let common: String = ids[0].chars().take(4).collect();
    let err = refused(&p.run(&["tag", &common, "x"]));
    assert!(
        err.contains("ambiguous") && ids.iter().all(|id| err.contains(id.as_str())),
        "{err}"
    );
    // An id that is not there: its nearest ids are offered.
    let typo = format!("{}X", &ids[2][..ids[2].len() - 1]);
    let err = refused(&p.run(&["tag", &typo, "x"]));
    assert!(
        err.contains("no recorded run matches") && err.contains("close matches"),
        "{err}"
    );
    assert!(err.contains(&ids[2]), "the nearest id is listed: {err}");
    let err = refused(&p.run(&["tag", "latest~2", "x"]));
    assert!(err.contains("not 3 succeeded runs"), "{err}");
    refused(&p.run(&["tag", "latest~one", "x"]));
    assert!(p.run(&["tag", "latest", "good"]).status.success());
    let err = refused(&p.run(&["note", "@nope", "x"]));
    assert!(
        err.contains("no run is tagged `nope`") && err.contains("@good"),
        "{err}"
    );
    let empty = TestProject::new();
    let err = refused(&empty.run(&["tag", "2026", "x"]));
    assert!(err.contains("no run is recorded yet"), "{err}");
}

#[test]
fn runs_where_filters_on_fields_spec_values_overrides_and_tags() {
    let p = TestProject::new();
    let ids = three_runs(&p);
    assert!(p.run(&["tag", &ids[0], "baseline"]).status.success());
    let q = |expr: &str| -> Vec<String> {
        runs_json(&p, &["--where", expr, "--sort", "id"])
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(q("status = succeeded"), [ids[0].clone(), ids[2].clone()]);
    assert_eq!(
        q("experiment.seed >= 2"),
        [ids[1].clone(), ids[2].clone()],
        "numbers as numbers"
    );
    assert_eq!(
        q("experiment.seed < 1e1 and not status != failed"),
        [ids[1].clone()]
    );
    assert_eq!(
        q("experiment.seed = 3 OR @baseline"),
        [ids[0].clone(), ids[2].clone()]
    );
    assert_eq!(
        q("(experiment.seed = 3 OR @baseline) AND failed > 0"),
        Vec::<String>::new()
    );
    assert_eq!(q("set.experiment.seed = 2"), [ids[1].clone()]);
    assert_eq!(q("experiment.description ~ 'registry*'").len(), 3, "glob");
    assert_eq!(
        q("error ~ '*'"),
        Vec::<String>::new(),
        "a missing field matches nothing"
    );
    assert_eq!(q("tags = baseline"), [ids[0].clone()]);
    // Sort and limit.
    let top: Vec<String> = runs_json(&p, &["--sort", "-experiment.seed", "--limit", "2"])
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(top, [ids[2].clone(), ids[1].clone()]);
    let csv = stdout(&p.run(&["runs", "--csv", "--where", "status = failed"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,experiment,status,"), "{csv}");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with(&format!("{},reg,failed,", ids[1])),
        "{csv}"
    );
    let table = stdout(&p.run(&["runs", "--experiment", "reg", "--where", "@baseline"]));
    assert_eq!(table.lines().count(), 2, "{table}");
}

#[test]
fn bad_where_expressions_exit_2_with_the_column_and_what_was_expected() {
    let p = TestProject::new();
    three_runs(&p);
    let err = refused(&p.run(&["runs", "--where", "status = ok AND ("]));
    assert!(
        err.contains("column 18") && err.contains("expected a field name"),
        "{err}"
    );
    let err = refused(&p.run(&["runs", "--where", "status ok"]));
    assert!(
        err.contains("column 8") && err.contains("a comparison after `status`"),
        "{err}"
    );
    let err = refused(&p.run(&["runs", "--where", "tran.lr < 1"]));
    assert!(
        err.contains("unknown field `tran.lr`") && err.contains("experiment.seed"),
        "{err}"
    );
    assert!(err.contains("fields: id, experiment, status"), "{err}");
    refused(&p.run(&["runs", "--sort", "nope"]));
    refused(&p.run(&["runs", "--where", "status = 'open"]));
}

#[test]
fn where_grammar_binds_and_tighter_than_or_and_reports_columns() {
    let or_of_and = Query::parse("a = 1 OR b = 2 AND c = 3").unwrap();
    assert!(matches!(or_of_and, Query::Or(_, ref rhs) if matches!(**rhs, Query::And(..))));
    let grouped = Query::parse("(a = 1 OR b = 2) and c = 3").unwrap();
    assert!(matches!(grouped, Query::And(..)));
    assert!(matches!(Query::parse("NOT NOT @x").unwrap(), Query::Not(_)));
    assert!(matches!(
        Query::parse("train.lr<1e-3").unwrap(),
        Query::Compare { .. }
    ));
    for (text, column) in [
        ("a =", 4),
        ("a = 1 b", 7),
        ("(a = 1", 7),
        ("a ! 1", 3),
        ("@", 2),
        ("OR", 1),
    ] {
        let e = Query::parse(text).unwrap_err();
        assert_eq!(e.column, column, "`{text}`: {e}");
    }
}
