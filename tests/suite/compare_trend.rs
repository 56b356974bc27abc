//! Trend mode of `pipeline compare` (`--last N --member M --metric E`) over recorded runs
//! written in the test: oldest first, regressions against the run before marked.

use pipeline::tables::Value;
use serde_json::Value as Json;

use crate::compare_stats::{record, row};
use crate::support::*;

#[test]
fn trend_mode_lists_runs_oldest_first_and_marks_regressions() {
    let p = TestProject::new();
    let elbos = [-100.0, -99.0, -101.0, -100.5];
    let ids: Vec<String> = (0..elbos.len())
        .map(|i| format!("20260101T00000{i}.000Z-{i}"))
        .collect();
    for (id, elbo) in ids.iter().zip(elbos) {
        record(
            &p,
            id,
            "succeeded",
            &[row("vae-z2-b1", Value::Int(1), None, &[("elbo", elbo)])],
        );
    }
    let out = p.run(&[
        "compare",
        "--last",
        "3",
        "--member",
        "vae-z2-b1",
        "--metric",
        "elbo",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Json = serde_json::from_slice(&out.stdout).unwrap();
    let points = doc["points"].as_array().unwrap();
    let got: Vec<(&str, f64, bool)> = points
        .iter()
        .map(|x| {
            (
                x["run_id"].as_str().unwrap(),
                x["mean"].as_f64().unwrap(),
                x["regression"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ids[1].as_str(), -99.0, false),
            (ids[2].as_str(), -101.0, true),
            (ids[3].as_str(), -100.5, false)
        ]
    );
    let text = stdout(&p.run(&[
        "compare",
        "--last",
        "3",
        "--member",
        "vae-z2-b1",
        "--metric",
        "elbo",
    ]));
    let marked: Vec<&str> = text.lines().filter(|l| l.contains("REGRESSION")).collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(marked[0].starts_with(&ids[2]), "{text}");
    let html = p.path().join("trend.html");
    let out = p.run(&[
        "compare",
        "--last",
        "3",
        "--member",
        "vae-z2-b1",
        "--metric",
        "elbo",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("data:image/png;base64,"));
    let out = p.run(&[
        "compare", "--last", "3", "--member", "nobody", "--metric", "elbo",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
