//! The HTML report is one self-contained file: figures inlined as data URIs, no external
//! `src`/`href`, all inputs present and escaped.

use pipeline::figures::{training_curves, TrainingRun};
use pipeline::report::*;
use pipeline::tables::{rows_to_dataframe, Row, Value};

/// Every `src="…"` / `href="…"` value in the document.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').expect("closing quote")]
        })
        .collect()
}

pub fn sample_report(dir: &std::path::Path) -> ReportInput {
    let run = TrainingRun {
        name: "vae".into(),
        train_loss: vec![3.0, 2.0, 1.5],
        val_loss: vec![3.2, 2.3, 1.9],
    };
    let figure = training_curves(&dir.join("training.png"), "Training curves", &[run]).unwrap();
    let mut row = Row::new();
    row.insert("latent_dim".into(), Value::Int(2));
    row.insert("elbo".into(), Value::Float(-101.25));
    let table = rows_to_dataframe(&[row], &["latent_dim"]).unwrap();
    ReportInput {
        title: "MNIST VAE <sweep>".into(),
        subtitle: "generated 2026-11-21".into(),
        spec_text: "[experiment]\nname = \"mnist & friends\"\n".into(),
        sections: vec![ReportSection {
            heading: "Training".into(),
            text: "Loss per epoch.\n\nSecond paragraph.".into(),
            figures: vec![ReportFigure {
                caption: "Training curves".into(),
                png: figure.png,
            }],
            tables: vec![ReportTable {
                caption: "Comparison".into(),
                table,
            }],
        }],
        stage_timings: vec![
            StageTiming {
                stage: "train vae d=2".into(),
                key: "3fa9c2".into(),
                seconds: 12.5,
                cache_hit: false,
            },
            StageTiming {
                stage: "evaluate".into(),
                key: "77b1e0".into(),
                seconds: 0.01,
                cache_hit: true,
            },
        ],
        versions: vec![("pipeline".into(), "0.1.0".into())],
    }
}

#[test]
fn report_is_self_contained_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample_report(dir.path());
    let path = dir.path().join("out/report.html");
    write_report(&path, &input).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();

    let sources = attribute_values(&html, "src");
    assert_eq!(sources.len(), 1);
    assert!(sources
        .iter()
        .all(|s| s.starts_with("data:image/png;base64,")));
    // The inlined image is the figure's PNG, byte for byte.
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&sources[0]["data:image/png;base64,".len()..])
        .unwrap();
    assert_eq!(
        decoded,
        std::fs::read(&input.sections[0].figures[0].png).unwrap()
    );
    assert!(attribute_values(&html, "href")
        .iter()
        .all(|h| h.starts_with('#')));
    for forbidden in ["http://", "https://", "<link", "<script", "@import", "url("] {
        assert!(!html.contains(forbidden), "report contains {forbidden}");
    }

    assert!(html.contains("<title>MNIST VAE &lt;sweep&gt;</title>"));
    assert!(html.contains("name = &quot;mnist &amp; friends&quot;"));
    assert!(html.contains("<p>Second paragraph.</p>"));
    assert!(
        html.contains("<td class=\"num\">-101.2</td>")
            || html.contains("<td class=\"num\">-101.3</td>"),
        "table cell"
    );
    assert!(html.contains("2 stages, 1 cache hits"));
    assert!(
        html.contains("<td class=\"hit\">hit</td>") && html.contains("<td class=\"miss\">run</td>")
    );
    assert!(html.contains("<td>pipeline</td><td>0.1.0</td>"));
    // Tables sit in a box that scrolls sideways, and their cells (run names) do not wrap.
    assert!(html.contains(".table-scroll { overflow-x: auto;"));
    assert!(html.contains(".table-scroll th, .table-scroll td { white-space: nowrap; }"));
    let tables = html.matches("<table>").count();
    let wrapped = html
        .matches("<div class=\"table-scroll\">\n<table>")
        .count();
    assert_eq!((tables, wrapped), (3, 3), "every table is wrapped");
}

#[test]
fn missing_figure_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = sample_report(dir.path());
    input.sections[0].figures[0].png = dir.path().join("nope.png");
    assert!(write_report(&dir.path().join("r.html"), &input).is_err());
}
