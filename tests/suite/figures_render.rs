//! Every figure kind is written as PNG + SVG; the PNG decodes and is not blank, and the SVG
//! carries the title and legend text. Set `PIPELINE_KEEP_FIGURES=<dir>` to keep the files.

use std::path::{Path, PathBuf};

use pipeline::figures::*;
use pipeline::metrics::roc_curve;

struct Output {
    _temp: Option<tempfile::TempDir>,
    dir: PathBuf,
}

fn output_dir() -> Output {
    match std::env::var_os("PIPELINE_KEEP_FIGURES") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            Output {
                _temp: None,
                dir: PathBuf::from(dir),
            }
        }
        None => {
            let temp = tempfile::tempdir().unwrap();
            let dir = temp.path().to_path_buf();
            Output {
                _temp: Some(temp),
                dir,
            }
        }
    }
}

/// Decodes the PNG; returns (width, height, fraction of non-white pixels, distinct colours).
fn png_stats(path: &Path) -> (u32, u32, f64, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let non_white = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|&c| c < 250))
        .count();
    let mut colours: Vec<[u8; 3]> = pixels.iter().map(|p| [p[0], p[1], p[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    (
        info.width,
        info.height,
        non_white as f64 / pixels.len() as f64,
        colours.len(),
    )
}

/// Checks both files and that the SVG contains every expected text.
fn check(files: &FigureFiles, texts: &[&str]) -> (u32, u32) {
    let (w, h, ink, colours) = png_stats(&files.png);
    assert!(
        ink > 0.01,
        "{}: only {ink} of pixels drawn",
        files.png.display()
    );
    assert!(colours > 5, "{}: {colours} colours", files.png.display());
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.contains("<svg"),
        "not an SVG"
    );
    for text in texts {
        assert!(svg.contains(text), "{} lacks '{text}'", files.svg.display());
    }
    (w, h)
}

/// A 28 × 28 test image: a Gaussian blob at (cx, cy) in [0, 1]² with width s.
fn blob(cx: f64, cy: f64, s: f64) -> Vec<f32> {
    (0..28 * 28)
        .map(|i| {
            let (x, y) = ((i % 28) as f64 / 27.0, (i / 28) as f64 / 27.0);
            (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * s * s)).exp() as f32
        })
        .collect()
}

#[test]
fn image_grids_and_panels() {
    let out = output_dir();
    let rows: Vec<GridRow> = ["ground truth", "2-D", "5-D", "10-D", "20-D"]
        .iter()
        .enumerate()
        .map(|(r, label)| GridRow {
            label: label.to_string(),
            images: (0..10)
                .map(|c| blob(0.1 + c as f64 * 0.08, 0.5, 0.08 + r as f64 * 0.02))
                .collect(),
        })
        .collect();
    let files = image_grid(
        &out.dir.join("reconstructions.png"),
        "Reconstructions",
        &rows,
        28,
        28,
    )
    .unwrap();
    let (w1, h1) = check(&files, &["Reconstructions", "ground truth", "20-D"]);
    assert!(h1 > 5 * 28 && w1 > 10 * 28, "{w1} × {h1}");

    let panels: Vec<GridPanel> = [2, 5, 10, 20]
        .iter()
        .map(|&d| GridPanel {
            title: format!("latent {d}"),
            corner_label: String::new(),
            column_labels: vec![],
            rows: (0..4)
                .map(|r| GridRow {
                    label: String::new(),
                    images: (0..4)
                        .map(|c| {
                            blob(
                                0.25 + 0.15 * c as f64,
                                0.25 + 0.15 * r as f64,
                                0.05 * (1.0 + d as f64 / 10.0),
                            )
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let files = image_panels(
        &out.dir.join("prior_samples.png"),
        "Samples from the prior",
        &panels,
        28,
        28,
    )
    .unwrap();
    check(&files, &["Samples from the prior", "latent 2", "latent 20"]);

    let traversal = GridPanel {
        title: "beta = 4".into(),
        corner_label: "zᵢ =".into(),
        column_labels: (-3..=3).map(|v| format!("{v}")).collect(),
        rows: (0..3)
            .map(|u| GridRow {
                label: format!("z{u}"),
                images: (0..7)
                    .map(|c| blob(0.2 + 0.1 * c as f64, 0.3 + 0.2 * u as f64, 0.1))
                    .collect(),
            })
            .collect(),
    };
    let files = image_panels(
        &out.dir.join("traversal.png"),
        "Latent traversals",
        &[traversal],
        28,
        28,
    )
    .unwrap();
    check(&files, &["Latent traversals", "beta = 4", "z2"]);

    // Wrong image size is rejected, not drawn.
    let bad = [GridRow {
        label: "x".into(),
        images: vec![vec![0.0; 10]],
    }];
    assert!(image_grid(&out.dir.join("bad.png"), "bad", &bad, 28, 28).is_err());
}

#[test]
fn manifold_from_inverse_cdf_grid() {
    let out = output_dir();
    let n = 12;
    // A stand-in decoder: the blob moves with z, so the figure shows a smooth manifold.
    let images: Vec<Vec<f32>> = manifold_grid(n)
        .iter()
        .map(|z| blob(0.5 + 0.15 * z[0], 0.5 - 0.15 * z[1], 0.12))
        .collect();
    let panel = manifold_panel(images, n).unwrap();
    assert_eq!(panel.rows.len(), n);
    let files = image_panels(
        &out.dir.join("manifold.png"),
        "Learned 2-D manifold",
        &[panel],
        28,
        28,
    )
    .unwrap();
    check(&files, &["Learned 2-D manifold"]);
}

#[test]
fn latent_scatter_two_panels() {
    let out = output_dir();
    let names: Vec<String> = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let panel = |title: &str, spread: f32| {
        let mut points = Vec::new();
        let mut labels = Vec::new();
        for i in 0..1500u32 {
            let class = (i % 5) as u8;
            let angle = class as f32 * 1.2566;
            let jitter = ((i * 7919) % 1000) as f32 / 1000.0 - 0.5;
            let jitter2 = ((i * 104729) % 997) as f32 / 997.0 - 0.5;
            points.push([
                3.0 * angle.cos() + spread * jitter,
                3.0 * angle.sin() + spread * jitter2,
            ]);
            labels.push(class);
        }
        ScatterPanel {
            title: title.into(),
            points,
            labels,
        }
    };
    let files = latent_scatter(
        &out.dir.join("scatter.png"),
        "2-D latent space (test set)",
        &[panel("AE", 4.0), panel("VAE", 2.0)],
        &names,
    )
    .unwrap();
    check(&files, &["2-D latent space", "AE", "VAE", "Pullover"]);
    let bad = ScatterPanel {
        title: "x".into(),
        points: vec![[0.0, 0.0]],
        labels: vec![9],
    };
    assert!(latent_scatter(&out.dir.join("bad.png"), "x", &[bad], &names).is_err());
}

#[test]
fn line_charts() {
    let out = output_dir();
    let curves: Vec<RateDistortionCurve> = [2usize, 5, 10, 20]
        .iter()
        .map(|&d| RateDistortionCurve {
            latent_dim: d,
            points: [0.25, 0.5, 1.0, 2.0, 4.0]
                .iter()
                .map(|&b| RatePoint {
                    beta: b,
                    rate: (d as f64).sqrt() * 8.0 / b,
                    distortion: 20.0 + 40.0 / (1.0 + (d as f64) / b),
                    ..RatePoint::default()
                })
                .collect(),
        })
        .collect();
    let files = rate_distortion(
        &out.dir.join("rate_distortion.png"),
        "Rate-distortion across beta",
        "distortion [nats]",
        &curves,
    )
    .unwrap();
    // The marker key names every β even where a point label found no room.
    check(
        &files,
        &[
            "Rate-distortion across beta",
            "20-D latent",
            "β=0.25",
            "β = 4",
            "distortion [nats]",
        ],
    );

    let metric = |name: &str, f: &dyn Fn(f64) -> f64, g: &dyn Fn(f64) -> f64| MetricVsLatent {
        metric: name.into(),
        ae: [2usize, 5, 10, 20]
            .iter()
            .map(|&d| (d, f(d as f64), 0.02 * f(d as f64).abs()))
            .collect(),
        vae: [2usize, 5, 10, 20]
            .iter()
            .map(|&d| (d, g(d as f64), 0.03 * g(d as f64).abs()))
            .collect(),
    };
    let metrics = [
        metric("reconstruction MSE", &|d| 0.06 / d.sqrt(), &|d| {
            0.07 / d.sqrt() + 0.005
        }),
        metric("ELBO", &|d| -140.0 + 20.0 / d, &|d| -110.0 + 10.0 / d),
        metric("probe accuracy", &|d| 0.7 + d / 100.0, &|d| {
            0.75 + d / 120.0
        }),
    ];
    let files = metric_vs_latent(
        &out.dir.join("metrics_vs_latent.png"),
        "AE vs VAE by latent size",
        &metrics,
    )
    .unwrap();
    check(
        &files,
        &["AE vs VAE by latent size", "probe accuracy", "VAE"],
    );

    let runs: Vec<TrainingRun> = (0..3)
        .map(|r| TrainingRun {
            name: format!("vae-d{}", [2, 10, 20][r]),
            train_loss: (0..30)
                .map(|e| 100.0 + 80.0 * (-(e as f64) / (5.0 + r as f64)).exp())
                .collect(),
            val_loss: (0..30)
                .map(|e| 104.0 + 78.0 * (-(e as f64) / (5.0 + r as f64)).exp() + 0.1 * e as f64)
                .collect(),
        })
        .collect();
    let files = training_curves(&out.dir.join("training.png"), "Training curves", &runs).unwrap();
    check(
        &files,
        &["Training curves", "vae-d10", "validation", "epoch"],
    );

    let scores: Vec<f64> = (0..200)
        .map(|i| (i as f64 * 0.37).sin() + if i % 2 == 0 { 0.8 } else { 0.0 })
        .collect();
    let labels: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect();
    let roc = roc_curve(&scores, &labels).unwrap();
    let auc = pipeline::metrics::auroc(&scores, &labels).unwrap();
    let files = roc_curves(
        &out.dir.join("roc.png"),
        "ROC: anomaly detection",
        &[NamedRoc {
            name: "VAE ELBO".into(),
            curve: roc,
        }],
    )
    .unwrap();
    // The legend shows the AUROC computed by the metrics module.
    check(
        &files,
        &[
            "ROC: anomaly detection",
            &format!("VAE ELBO (AUROC {auc:.3})"),
        ],
    );

    let pca: Vec<(usize, f64)> = (1..=20)
        .map(|k| (k, 0.07 * (-(k as f64) / 8.0).exp()))
        .collect();
    let lae: Vec<(usize, f64)> = pca.iter().map(|&(k, m)| (k, m * 1.01)).collect();
    let angles: Vec<f64> = (0..10).map(|i| 0.5 + i as f64 * 1.5).collect();
    let files = linear_ae_vs_pca(
        &out.dir.join("linear_ae_vs_pca.png"),
        "Linear AE vs PCA",
        &pca,
        &lae,
        &angles,
    )
    .unwrap();
    check(
        &files,
        &["Linear AE vs PCA", "linear AE", "principal angles"],
    );
}

#[test]
fn anomaly_histograms() {
    let out = output_dir();
    let normal: Vec<f64> = (0..2000)
        .map(|i| {
            40.0 + 10.0 * ((i as f64 * 0.618).fract() - 0.5)
                + 6.0 * ((i as f64 * 0.414).fract() - 0.5)
        })
        .collect();
    let anomalous: Vec<f64> = (0..300)
        .map(|i| 55.0 + 14.0 * ((i as f64 * 0.618).fract() - 0.5))
        .collect();
    let files = anomaly_histogram(
        &out.dir.join("anomaly_hist.png"),
        "Anomaly scores",
        &normal,
        &anomalous,
        40,
    )
    .unwrap();
    check(
        &files,
        &["Anomaly scores", "normal (n = 2000)", "anomalous (n = 300)"],
    );
    assert!(anomaly_histogram(&out.dir.join("empty.png"), "x", &[], &[f64::NAN], 10).is_err());
}

/// Five β panels of 10 × 9 traversal images wrap into rows instead of one strip several
/// thousand pixels wide, so the figure keeps readable text when fitted to a page.
#[test]
fn many_panels_wrap_into_a_readable_grid() {
    let out = output_dir();
    let panels: Vec<GridPanel> = [0.5, 1.0, 2.0, 4.0, 8.0]
        .iter()
        .map(|&beta| GridPanel {
            title: format!("β = {beta}"),
            corner_label: "value".into(),
            column_labels: (0..9)
                .map(|c| format!("{}", -3.0 + 0.75 * c as f64))
                .collect(),
            rows: (0..10)
                .map(|u| GridRow {
                    label: format!("z{}", u + 1),
                    images: (0..9)
                        .map(|c| blob(0.1 + 0.1 * c as f64, 0.1 + 0.08 * u as f64, 0.1))
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let files = image_panels(
        &out.dir.join("traversals_by_beta.png"),
        "Latent traversals",
        &panels,
        28,
        28,
    )
    .unwrap();
    let (w, h) = check(&files, &["β = 0.5", "β = 8", "z10", "value"]);
    assert!(w <= 2000, "{w} px wide");
    let aspect = w as f64 / h as f64;
    assert!((1.0..2.2).contains(&aspect), "{w} × {h}");
}
