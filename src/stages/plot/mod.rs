//! The `plot` stage: the classic AE/VAE lecture figures from the trained models and their
//! evaluations, each as PNG and SVG; a figure is drawn when the sweep has the runs it needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

mod lecture;
mod params;

pub use params::{PlotContext, PlotParams};

use super::evaluate::{EvalMetrics, CODES_FILE, METRICS_FILE};
use super::preprocess::TEST_SPLIT;
use super::train::{METRICS_FILE as TRAIN_METRICS_FILE, MODEL_FILE};
use super::{StageContext, StageImpl};
use crate::data::{read_prepared, PreparedSplit};
use crate::figures::{self, GridPanel, GridRow};
use crate::model::{load_checkpoint, TrainedModel, Variant};
use crate::plan::Input;

pub struct PlotStage;

/// One sweep member with everything the figures read.
pub struct Member {
    pub label: String,
    pub sweep: BTreeMap<String, String>,
    pub model: TrainedModel,
    pub metrics: EvalMetrics,
    pub train_dir: PathBuf,
    pub eval_dir: PathBuf,
}

impl Member {
    pub fn variant(&self) -> Variant {
        self.model.config.variant
    }
    pub fn latent(&self) -> usize {
        self.model.config.latent_dim
    }
    pub fn beta(&self) -> f64 {
        self.model.config.beta as f64
    }
    pub fn seed(&self) -> &str {
        self.sweep.get("seed").map_or("", String::as_str)
    }
}

pub fn load_members(ctx: &StageContext, labels: &[String]) -> anyhow::Result<Vec<Member>> {
    labels
        .iter()
        .map(|label| {
            let train_dir = ctx.input(Input::Train(label))?.to_path_buf();
            let eval_dir = ctx.input(Input::Evaluate(label))?.to_path_buf();
            let metrics: EvalMetrics =
                serde_json::from_slice(&std::fs::read(eval_dir.join(METRICS_FILE))?)
                    .with_context(|| format!("failed to read the evaluation of {label}"))?;
            Ok(Member {
                label: label.clone(),
                sweep: BTreeMap::new(),
                model: load_checkpoint(&train_dir.join(MODEL_FILE))?,
                metrics,
                train_dir,
                eval_dir,
            })
        })
        .collect()
}

/// The VAE shown for a latent size: β closest to 1, first seed.
fn representative<'a>(ms: &'a [Member], variant: Variant, latent: usize) -> Option<&'a Member> {
    ms.iter()
        .filter(|m| m.variant() == variant && m.latent() == latent)
        .min_by(|a, b| {
            (a.beta() - 1.0)
                .abs()
                .total_cmp(&(b.beta() - 1.0).abs())
                .then(a.seed().cmp(b.seed()))
        })
}

fn latents(ms: &[Member], variant: Variant) -> Vec<usize> {
    let mut v: Vec<usize> = ms
        .iter()
        .filter(|m| m.variant() == variant)
        .map(|m| m.latent())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn sigmoid_if(model: &TrainedModel, mut v: Vec<f32>) -> Vec<f32> {
    if model.config.likelihood == crate::model::Likelihood::Bernoulli {
        v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
    }
    v
}

fn split_images(flat: &[f32], dim: usize) -> Vec<Vec<f32>> {
    flat.chunks(dim).map(<[f32]>::to_vec).collect()
}

struct Figures<'a> {
    out: &'a Path,
    members: &'a [Member],
    test: &'a PreparedSplit,
    w: usize,
    h: usize,
}

impl Figures<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    fn prior_samples(&self) -> anyhow::Result<bool> {
        let panels: Vec<GridPanel> = latents(self.members, Variant::Vae)
            .into_iter()
            .filter_map(|z| representative(self.members, Variant::Vae, z))
            .map(|m| {
                let samples = split_images(&m.model.sample(64, 1), self.w * self.h);
                let rows = samples
                    .chunks(8)
                    .map(|r| GridRow {
                        label: String::new(),
                        images: r.to_vec(),
                    })
                    .collect();
                GridPanel {
                    title: format!("{}-D latent", m.latent()),
                    rows,
                    ..GridPanel::default()
                }
            })
            .collect();
        if panels.is_empty() {
            return Ok(false);
        }
        figures::image_panels(
            &self.path("prior_samples"),
            "Samples from the prior p(z) = N(0, I), decoded",
            &panels,
            self.w,
            self.h,
        )?;
        Ok(true)
    }

    fn reconstructions(&self) -> anyhow::Result<bool> {
        let n = 10.min(self.test.n);
        let dim = self.w * self.h;
        let x = &self.test.images[..n * dim];
        let mut rows = vec![GridRow {
            label: "original".into(),
            images: split_images(x, dim),
        }];
        for variant in [Variant::Vae, Variant::Ae] {
            for z in latents(self.members, variant) {
                if let Some(m) = representative(self.members, variant, z) {
                    rows.push(GridRow {
                        label: format!("{} {z}-D", variant_name(variant)),
                        images: split_images(&m.model.reconstruct(x), dim),
                    });
                }
            }
        }
        if rows.len() < 2 {
            return Ok(false);
        }
        let mut sizes = latents(self.members, Variant::Vae);
        sizes.extend(latents(self.members, Variant::Ae));
        sizes.sort_unstable();
        sizes.dedup();
        // The latent-size message only where several sizes are shown.
        let title = if sizes.len() > 1 {
            "Reconstructions: the latent size sets the quality"
        } else {
            "Test images and their reconstructions"
        };
        figures::image_grid(&self.path("reconstructions"), title, &rows, self.w, self.h)?;
        Ok(true)
    }

    fn latent_scatter(&self) -> anyhow::Result<bool> {
        let n = self.test.n.min(5000);
        let panels: Vec<figures::ScatterPanel> = [Variant::Ae, Variant::Vae]
            .into_iter()
            .filter_map(|v| representative(self.members, v, 2))
            .map(|m| -> anyhow::Result<figures::ScatterPanel> {
                let codes: Vec<f32> =
                    bytemuck::pod_collect_to_vec(&std::fs::read(m.eval_dir.join(CODES_FILE))?);
                Ok(figures::ScatterPanel {
                    title: format!("{} ({})", variant_name(m.variant()), m.label),
                    points: codes.chunks(2).take(n).map(|c| [c[0], c[1]]).collect(),
                    labels: self.test.labels[..n].to_vec(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        if panels.is_empty() {
            return Ok(false);
        }
        figures::latent_scatter(
            &self.path("latent_scatter"),
            "2-D latent codes of the test set, coloured by class",
            &panels,
            &self.test.class_names,
        )?;
        Ok(true)
    }

    fn manifold(&self) -> anyhow::Result<bool> {
        let Some(m) = representative(self.members, Variant::Vae, 2) else {
            return Ok(false);
        };
        let n = 20;
        let z: Vec<f32> = figures::manifold_grid(n)
            .iter()
            .flat_map(|p| [p[0] as f32, p[1] as f32])
            .collect();
        let images = split_images(&sigmoid_if(&m.model, m.model.decode(&z)), self.w * self.h);
        let panel = figures::manifold_panel(images, n)?;
        figures::image_panels(
            &self.path("manifold"),
            "Learned 2-D manifold: decoder means over Φ⁻¹ of a uniform grid",
            &[panel],
            self.w,
            self.h,
        )?;
        Ok(true)
    }

    fn traversals(&self) -> anyhow::Result<bool> {
        // The latent size with the most β values; one panel per β.
        let vaes: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| m.variant() == Variant::Vae)
            .collect();
        let Some(z) = latents(self.members, Variant::Vae)
            .into_iter()
            .max_by_key(|&z| vaes.iter().filter(|m| m.latent() == z).count())
        else {
            return Ok(false);
        };
        let mut group: Vec<&Member> = vaes.into_iter().filter(|m| m.latent() == z).collect();
        group.sort_by(|a, b| a.beta().total_cmp(&b.beta()));
        group.dedup_by(|a, b| a.beta() == b.beta());
        let dim = self.w * self.h;
        let values: Vec<f32> = (0..9).map(|i| -3.0 + 0.75 * i as f32).collect();
        let value_labels: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
        let panels: Vec<GridPanel> = group
            .iter()
            .map(|m| {
                let base = m.model.encode(&self.test.images[..dim]).0;
                let rows = traversed_units(&m.model, &self.test.images, dim)
                    .into_iter()
                    .map(|u| {
                        let codes: Vec<f32> = values
                            .iter()
                            .flat_map(|&v| {
                                let mut c = base.clone();
                                c[u] = v;
                                c
                            })
                            .collect();
                        GridRow {
                            label: format!("z{}", u + 1),
                            images: split_images(
                                &sigmoid_if(&m.model, m.model.decode(&codes)),
                                dim,
                            ),
                        }
                    })
                    .collect();
                GridPanel {
                    title: format!("β = {}", m.beta()),
                    corner_label: "value".into(),
                    column_labels: value_labels.clone(),
                    rows,
                }
            })
            .collect();
        figures::image_panels(
            &self.path("traversals"),
            &if z > MAX_TRAVERSED {
                format!("Latent traversals ({z}-D VAE): the {MAX_TRAVERSED} most active units, one per row")
            } else {
                format!("Latent traversals ({z}-D VAE): each row varies one unit")
            },
            &panels,
            self.w,
            self.h,
        )?;
        Ok(true)
    }

    fn rate_distortion(&self) -> anyhow::Result<bool> {
        let curves: Vec<figures::RateDistortionCurve> = latents(self.members, Variant::Vae)
            .into_iter()
            .map(|z| {
                let mut points: Vec<figures::RatePoint> = self
                    .members
                    .iter()
                    .filter(|m| m.variant() == Variant::Vae && m.latent() == z)
                    .map(|m| figures::RatePoint {
                        beta: m.beta(),
                        rate: m.metrics.kl,
                        distortion: m.metrics.recon,
                    })
                    .collect();
                points.sort_by(|a, b| a.beta.total_cmp(&b.beta));
                figures::RateDistortionCurve {
                    latent_dim: z,
                    points,
                }
            })
            .filter(|c| c.points.len() > 1)
            .collect();
        if curves.is_empty() {
            return Ok(false);
        }
        figures::rate_distortion(
            &self.path("rate_distortion"),
            "Rate–distortion across β (one curve per latent size)",
            distortion_label(&self.members[0].model),
            &curves,
        )?;
        Ok(true)
    }

    fn metric_vs_latent(&self) -> anyhow::Result<bool> {
        let by =
            |variant: Variant, f: &dyn Fn(&EvalMetrics) -> Option<f64>| -> Vec<(usize, f64, f64)> {
                latents(self.members, variant)
                    .into_iter()
                    .filter_map(|z| {
                        let vals: Vec<f64> = self
                            .members
                            .iter()
                            .filter(|m| {
                                m.variant() == variant
                                    && m.latent() == z
                                    && (variant != Variant::Vae || (m.beta() - 1.0).abs() < 1e-9)
                            })
                            .filter_map(|m| f(&m.metrics))
                            .collect();
                        (!vals.is_empty()).then(|| {
                            let s = crate::metrics::stats::mean_sd(&vals);
                            (z, s.mean, s.sd)
                        })
                    })
                    .collect()
            };
        let metrics = vec![
            figures::MetricVsLatent {
                metric: "reconstruction BCE [nats per image]".into(),
                ae: by(Variant::Ae, &|m| Some(m.recon_bce)),
                vae: by(Variant::Vae, &|m| Some(m.recon_bce)),
            },
            figures::MetricVsLatent {
                metric: "ELBO [nats per image] (AE: −reconstruction)".into(),
                ae: by(Variant::Ae, &|m| Some(m.elbo)),
                vae: by(Variant::Vae, &|m| Some(m.elbo)),
            },
            figures::MetricVsLatent {
                metric: "linear-probe accuracy on the codes".into(),
                ae: by(Variant::Ae, &|m| m.probe_accuracy),
                vae: by(Variant::Vae, &|m| m.probe_accuracy),
            },
        ];
        if metrics.iter().all(|m| m.ae.len() + m.vae.len() < 2) {
            return Ok(false);
        }
        figures::metric_vs_latent(
            &self.path("metric_vs_latent"),
            "AE vs VAE (β = 1) by latent size",
            &metrics,
        )?;
        Ok(true)
    }

    fn training_curves(&self) -> anyhow::Result<bool> {
        let runs: Vec<figures::TrainingRun> = self
            .members
            .iter()
            .map(|m| {
                let text = std::fs::read_to_string(m.train_dir.join(TRAIN_METRICS_FILE))
                    .unwrap_or_default();
                let (train_loss, val_loss) = read_curves(&text);
                figures::TrainingRun {
                    name: m.label.clone(),
                    train_loss,
                    val_loss,
                }
            })
            .collect();
        let title = "Training curves (solid: train, dashed: validation)";
        let path = self.path("training_curves");
        // A squared-error loss and a BCE in nats share no scale: never one axis for both.
        let squared = |m: &Member| m.model.config.likelihood != crate::model::Likelihood::Bernoulli;
        let mixed = self.members.iter().any(squared) && !self.members.iter().all(squared);
        if runs.len() <= 8 && !mixed {
            figures::training_curves(&path, title, &runs)?;
        } else {
            // One panel per latent size (and loss): each holds a handful of runs.
            let mut groups: BTreeMap<(bool, usize), Vec<figures::TrainingRun>> = BTreeMap::new();
            for (m, run) in self.members.iter().zip(runs) {
                groups
                    .entry((squared(m), m.latent()))
                    .or_default()
                    .push(run);
            }
            let groups: Vec<(String, Vec<figures::TrainingRun>)> = groups
                .into_iter()
                .map(|((sq, z), runs)| {
                    let loss = if sq { ", squared-error loss" } else { "" };
                    (format!("{z}-D latent{loss}"), runs)
                })
                .collect();
            figures::training_curve_panels(&path, title, &groups)?;
        }
        Ok(true)
    }
}

/// Rows of the traversal figure: more would shrink every image.
const MAX_TRAVERSED: usize = 10;

/// The latent units to traverse: all of them up to [`MAX_TRAVERSED`], otherwise the most
/// active ones (largest variance of the encoder mean over test images), most active first;
/// the first ten by index would often be collapsed units that change nothing.
fn traversed_units(model: &TrainedModel, images: &[f32], dim: usize) -> Vec<usize> {
    let k = model.config.latent_dim;
    if k <= MAX_TRAVERSED {
        return (0..k).collect();
    }
    let n = (images.len() / dim).min(1000);
    let mu = model.encode(&images[..n * dim]).0;
    let spread: Vec<f64> = (0..k)
        .map(|u| {
            let vals: Vec<f64> = mu.iter().skip(u).step_by(k).map(|&v| v as f64).collect();
            crate::metrics::stats::mean_sd(&vals).sd
        })
        .collect();
    let mut units: Vec<usize> = (0..k).collect();
    units.sort_by(|&a, &b| spread[b].total_cmp(&spread[a]));
    units.truncate(MAX_TRAVERSED);
    units
}

/// The y axis of the rate–distortion plane: the models' own reconstruction term.
fn distortion_label(model: &TrainedModel) -> &'static str {
    match model.config.likelihood {
        crate::model::Likelihood::Bernoulli => "distortion: reconstruction BCE [nats per image]",
        _ => "distortion: reconstruction squared error per image",
    }
}

fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::Ae => "AE",
        Variant::Vae => "VAE",
        Variant::DenoisingAe => "denoising AE",
        Variant::SparseAe => "sparse AE",
        Variant::LinearAe => "linear AE",
    }
}

/// `train_loss` and `val_loss` columns of the trainer's metrics.csv.
fn read_curves(csv: &str) -> (Vec<f64>, Vec<f64>) {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (t, v) = (col("train_loss"), col("val_loss"));
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if let Some(x) = t.and_then(|i| cells.get(i)).and_then(|c| c.parse().ok()) {
            train.push(x);
        }
        if let Some(x) = v.and_then(|i| cells.get(i)).and_then(|c| c.parse().ok()) {
            val.push(x);
        }
    }
    (train, val)
}

impl StageImpl for PlotStage {
    const IMPLEMENTATION_VERSION: u32 = 3;
    type Params = PlotParams;
    type Context = PlotContext;

    fn run(ctx: &StageContext, p: PlotParams, context: PlotContext) -> anyhow::Result<()> {
        let labels: Vec<String> = p.members.iter().map(|m| m.label.clone()).collect();
        let mut members = load_members(ctx, &labels)?;
        for (m, row) in members.iter_mut().zip(&p.members) {
            m.sweep = row.sweep_values.clone();
        }
        let test = read_prepared(&ctx.input(Input::Data)?.join(TEST_SPLIT))?;
        let f = Figures {
            out: ctx.out,
            members: &members,
            test: &test,
            w: test.cols,
            h: test.rows,
        };
        let normal = context.anomaly_normal_classes;
        for name in &p.plots.figures {
            let drawn = match name.as_str() {
                "prior_samples" => f.prior_samples(),
                "reconstructions" => f.reconstructions(),
                "latent_scatter" => f.latent_scatter(),
                "manifold" => f.manifold(),
                "traversals" => f.traversals(),
                "rate_distortion" => f.rate_distortion(),
                "metric_vs_latent" => f.metric_vs_latent(),
                "training_curves" => f.training_curves(),
                "denoising" => f.denoising(),
                "linear_vs_pca" => f.linear_vs_pca(),
                "anomaly" => f.anomaly(normal.as_deref()),
                other => anyhow::bail!("unknown figure `{other}`"),
            };
            match drawn.with_context(|| format!("failed to draw {name}"))? {
                true => ctx.log.line(format!("drew {name}")),
                false => ctx
                    .log
                    .line(format!("skipped {name}: the sweep has no runs it needs")),
            }
        }
        // Both formats are drawn; keep the ones the spec asked for.
        for entry in std::fs::read_dir(ctx.out)?.flatten() {
            let ext = entry
                .path()
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !p.plots.formats.contains(&ext) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}
