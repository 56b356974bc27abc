//! Renders the HTML report in headless Chromium and checks the screenshot is not blank.
//! Skips (printing `SKIPPED`) when no Chromium is installed, unless `PIPELINE_TEST_REQUIRE`
//! (comma-separated, or `all`) names `chromium`, in which case a missing browser fails.

use crate::common;

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

/// Screenshots `html` in headless Chromium at `width × height`; returns the RGB(A) pixels
/// as rows of `channels`-sized chunks, with the image width.
fn screenshot(
    chromium: &Path,
    html: &Path,
    (width, height): (u32, u32),
) -> (usize, usize, Vec<u8>) {
    let dir = html.parent().unwrap();
    let shot = html.with_extension("png");
    let profile = dir.join(format!("profile-{width}"));
    let output = Command::new(chromium)
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
        .arg(format!("--window-size={width},{height}"))
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
        let name = format!("screenshot_{}", shot.file_name().unwrap().to_string_lossy());
        std::fs::copy(&shot, Path::new(&keep).join(name)).unwrap();
    }
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width as usize, info.color_type.samples(), buf)
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
    let (_, channels, buf) = screenshot(&chromium, &html, (1200, 2000));
    let pixels: Vec<&[u8]> = buf.chunks(channels).collect();
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

/// A report whose only table is wider than a 700 px window: a run column of `names`, then
/// sixteen metric columns.
fn wide_table_report(names: &[&str]) -> ReportInput {
    let rows: Vec<Row> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut r = Row::new();
            r.insert("run".into(), Value::Str(name.to_string()));
            for m in 0..16 {
                r.insert(
                    format!("metric_{m:02}"),
                    Value::Float(-100.0 - (i * m) as f64),
                );
            }
            r
        })
        .collect();
    ReportInput {
        title: "Wide table".into(),
        sections: vec![ReportSection {
            heading: "Comparison".into(),
            tables: vec![ReportTable {
                caption: "Every sweep member.".into(),
                table: pipeline::tables::rows_to_dataframe(&rows, &["run"]).unwrap(),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The lowest pixel row holding dark (text) pixels.
fn content_bottom((width, channels, buf): &(usize, usize, Vec<u8>)) -> usize {
    let rows = buf.chunks(width * channels);
    rows.enumerate()
        .filter(|(_, row)| {
            row.chunks(*channels)
                .any(|p| p[..3].iter().all(|&c| c < 100))
        })
        .map(|(y, _)| y)
        .max()
        .unwrap_or(0)
}

/// Hyphenated run names must not break inside the table: the page is exactly as tall with
/// `vae-z20-b0.5`-style names as with two-letter ones, however wide the table gets.
#[test]
fn run_names_do_not_wrap_in_a_narrow_window() {
    if !common::require("chromium") {
        return;
    }
    let chromium = common::chromium().expect("require checked it");
    let dir = tempfile::tempdir().unwrap();
    let long = ["vae-z20-b0.5", "denoising-ae-z20", "vae-z10-b4-seed2"];
    let short = ["r1", "r2", "r3"];
    let mut bottoms = Vec::new();
    for (name, names) in [("long.html", &long), ("short.html", &short)] {
        let html = dir.path().join(name);
        write_report(&html, &wide_table_report(names)).unwrap();
        bottoms.push(content_bottom(&screenshot(&chromium, &html, (700, 1200))));
    }
    assert!(bottoms[1] > 100, "nothing rendered: {bottoms:?}");
    assert_eq!(
        bottoms[0], bottoms[1],
        "long run names changed the page height (wrapped): {bottoms:?}"
    );
}
