//! Renders the HTML report in headless Chromium and checks the screenshot is not blank.
//! Skips (printing `SKIPPED`) when no Chromium is installed, unless `PIPELINE_TEST_REQUIRE`
//! (comma-separated, or `all`) names `chromium`, in which case a missing browser fails.

mod common;

use std::path::Path;
use std::process::Command;

use pipeline::figures::{roc_curves, training_curves, NamedRoc, TrainingRun};
use pipeline::metrics::roc_curve;
use pipeline::report::*;
use pipeline::tables::{aggregate_seeds, with_mean_sd, Row, Value};

fn report(dir: &Path) -> ReportInput {
    let runs: Vec<TrainingRun> = (0..2)
        .map(|r| TrainingRun {
            name: format!("run{r}"),
            train_loss: (0..20)
                .map(|e| 50.0 + 40.0 * (-(e as f64) / (3.0 + r as f64)).exp())
                .collect(),
            val_loss: (0..20)
                .map(|e| 53.0 + 40.0 * (-(e as f64) / (3.0 + r as f64)).exp())
                .collect(),
        })
        .collect();
    let training = training_curves(&dir.join("training.png"), "Training curves", &runs).unwrap();
    let scores: Vec<f64> = (0..100)
        .map(|i| (i as f64 * 0.7).sin() + (i % 2) as f64)
        .collect();
    let labels: Vec<bool> = (0..100).map(|i| i % 2 == 1).collect();
    let roc = roc_curves(
        &dir.join("roc.png"),
        "ROC",
        &[NamedRoc {
            name: "VAE".into(),
            curve: roc_curve(&scores, &labels).unwrap(),
        }],
    )
    .unwrap();
    let rows: Vec<Row> = (0..6)
        .map(|i| {
            let mut r = Row::new();
            r.insert("latent_dim".into(), Value::Int([2, 10][i % 2]));
            r.insert("seed".into(), Value::Int(i as i64 / 2));
            r.insert("elbo".into(), Value::Float(-100.0 - i as f64));
            r
        })
        .collect();
    let table = with_mean_sd(&aggregate_seeds(&rows, "seed", &["elbo"]).unwrap()).unwrap();
    ReportInput {
        title: "Browser check report".into(),
        subtitle: "synthetic data".into(),
        spec_text: "[experiment]\nname = \"browser\"\n".into(),
        sections: vec![ReportSection {
            heading: "Results".into(),
            text: "Figures and a table.".into(),
            figures: vec![
                ReportFigure {
                    caption: "Training curves".into(),
                    png: training.png,
                },
                ReportFigure {
                    caption: "ROC".into(),
                    png: roc.png,
                },
            ],
            tables: vec![ReportTable {
                caption: "ELBO by latent size".into(),
                table,
            }],
        }],
        stage_timings: vec![StageTiming {
            stage: "train".into(),
            key: "abc123".into(),
            seconds: 3.5,
            cache_hit: false,
        }],
        versions: vec![("pipeline".into(), env!("CARGO_PKG_VERSION").into())],
    }
}

#[test]
fn report_renders_in_chromium() {
    if !common::require("chromium") {
        return;
    }
    let chromium = common::chromium().expect("require checked it");
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    write_report(&html, &report(dir.path())).unwrap();
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let output = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,2000")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("running chromium");
    assert!(
        shot.is_file(),
        "no screenshot; chromium said: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    if let Some(keep) = std::env::var_os("PIPELINE_KEEP_FIGURES") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&shot, Path::new(&keep).join("report_screenshot.png")).unwrap();
    }

    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let dark = pixels
        .iter()
        .filter(|p| p[..3].iter().all(|&c| c < 100))
        .count();
    // Saturated blue/orange pixels can only come from the embedded figures (and the h1 rule).
    let coloured = pixels
        .iter()
        .filter(|p| {
            let (max, min) = (p[..3].iter().max().unwrap(), p[..3].iter().min().unwrap());
            max - min > 80
        })
        .count();
    assert!(dark > 2000, "too little text rendered ({dark} dark pixels)");
    assert!(
        coloured > 2000,
        "figures not rendered ({coloured} coloured pixels)"
    );
}
