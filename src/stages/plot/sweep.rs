//! What the plot stage's figures read: the sweep's members (model, evaluation, training folder),
//! the test split, and the questions most figures ask of them (which latent sizes, which run
//! stands for a latent size, which runs are seeds of one setting).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use super::{PlotContext, PlotParams};
use crate::data::{read_prepared, PreparedSplit, PreprocessSummary};
use crate::exec::StageContext;
use crate::model::{load_checkpoint, TrainedModel, Variant};
use crate::plan::Input;
use crate::stages::evaluate::{EvalMetrics, METRICS_FILE};
use crate::stages::preprocess::TEST_SPLIT;
use crate::stages::train::MODEL_FILE;

/// One sweep member with everything the figures read.
pub struct Member {
    pub label: String,
    /// The label without its seed: members sharing it are replicates of one setting.
    pub setting: String,
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

/// The whole sweep as the figures see it.
pub struct Sweep {
    pub members: Vec<Member>,
    pub test: PreparedSplit,
    /// `evaluate.anomaly_normal_classes`, when set.
    pub normal_classes: Option<Vec<u8>>,
    /// Training images per class index (from the preprocess summary).
    pub train_class_counts: Vec<usize>,
}

impl Sweep {
    pub fn load(ctx: &StageContext, p: &PlotParams, context: PlotContext) -> anyhow::Result<Sweep> {
        let members = p
            .members
            .iter()
            .map(|row| {
                let label = &row.label;
                let train_dir = ctx.input(Input::Train(label))?.to_path_buf();
                let eval_dir = ctx.input(Input::Evaluate(label))?.to_path_buf();
                let metrics: EvalMetrics =
                    serde_json::from_slice(&std::fs::read(eval_dir.join(METRICS_FILE))?)
                        .with_context(|| format!("failed to read the evaluation of {label}"))?;
                Ok(Member {
                    label: label.clone(),
                    setting: without_seed(label, row.sweep_values.get("seed")),
                    sweep: row.sweep_values.clone(),
                    model: load_checkpoint(&train_dir.join(MODEL_FILE))?,
                    metrics,
                    train_dir,
                    eval_dir,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let data = ctx.input(Input::Data)?;
        let summary: PreprocessSummary =
            serde_json::from_slice(&std::fs::read(data.join("summary.json"))?)
                .context("failed to read the preprocess summary")?;
        let normal_classes = context.anomaly_normal_classes;
        Ok(Sweep {
            members,
            test: read_prepared(&data.join(TEST_SPLIT))?,
            normal_classes,
            train_class_counts: summary.train.label_histogram,
        })
    }

    /// `(width, height)` of an image.
    pub fn image_size(&self) -> (usize, usize) {
        (self.test.cols, self.test.rows)
    }

    /// The name of class `c`, or its number when the dataset names none.
    pub fn class_name(&self, c: u8) -> String {
        let name = self.test.class_names.get(c as usize);
        name.cloned().unwrap_or_else(|| c.to_string())
    }

    /// Pixels per image.
    pub fn dim(&self) -> usize {
        self.test.cols * self.test.rows
    }

    pub fn of(&self, variant: Variant) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(move |m| m.variant() == variant)
    }

    /// The latent sizes trained for `variant`, ascending.
    pub fn latents(&self, variant: Variant) -> Vec<usize> {
        let mut v: Vec<usize> = self.of(variant).map(Member::latent).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The run shown for a variant and latent size: β closest to 1, first seed.
    pub fn representative(&self, variant: Variant, latent: usize) -> Option<&Member> {
        self.of(variant)
            .filter(|m| m.latent() == latent)
            .min_by(|a, b| by_closeness_to_one(a.beta(), b.beta()).then(a.seed().cmp(b.seed())))
    }

    /// The representative AE and VAE of every latent size either was trained with, ascending.
    pub fn ae_vae_pairs(&self) -> Vec<(usize, Vec<&Member>)> {
        let mut sizes = self.latents(Variant::Ae);
        sizes.extend(self.latents(Variant::Vae));
        sizes.sort_unstable();
        sizes.dedup();
        sizes
            .into_iter()
            .map(|z| {
                let pair = [Variant::Ae, Variant::Vae]
                    .into_iter()
                    .filter_map(|v| self.representative(v, z))
                    .collect();
                (z, pair)
            })
            .collect()
    }

    /// The first `n` test images (fewer when the split is smaller).
    pub fn test_images(&self, n: usize) -> &[f32] {
        &self.test.images[..n.min(self.test.n) * self.dim()]
    }

    /// Anomalous (not normal) flag per test image, when the spec names normal classes.
    pub fn anomalous(&self) -> Option<Vec<bool>> {
        let normal = self.normal_classes.as_ref()?;
        Some(
            self.test
                .labels
                .iter()
                .map(|l| !normal.contains(l))
                .collect(),
        )
    }
}

/// Orders β values by how far they are from 1 on a log scale (2 and 0.5 are equally far),
/// the smaller first among equals: the β that stands for a plain VAE when 1 was not trained.
pub fn by_closeness_to_one(a: f64, b: f64) -> std::cmp::Ordering {
    let far = |beta: f64| beta.ln().abs();
    far(a).total_cmp(&far(b)).then(a.total_cmp(&b))
}

/// `label` without its `-s<seed>` part: `vae-z4-b0.1-s5` → `vae-z4-b0.1`.
pub fn without_seed(label: &str, seed: Option<&String>) -> String {
    let Some(seed) = seed else {
        return label.to_owned();
    };
    let part = format!("-s{seed}");
    let mut at = 0;
    while let Some(i) = label[at..].find(&part).map(|i| i + at) {
        let end = i + part.len();
        if end == label.len() || label[end..].starts_with('-') {
            return format!("{}{}", &label[..i], &label[end..]);
        }
        at = end;
    }
    label.to_owned()
}

pub fn split_images(flat: &[f32], dim: usize) -> Vec<Vec<f32>> {
    flat.chunks(dim).map(<[f32]>::to_vec).collect()
}

pub fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::Ae => "AE",
        Variant::Vae => "VAE",
        Variant::DenoisingAe => "denoising AE",
        Variant::SparseAe => "sparse AE",
        Variant::LinearAe => "linear AE",
    }
}

#[cfg(test)]
mod tests {
    use super::without_seed;

    #[test]
    fn seed_is_cut_out_of_the_label_wherever_it_sits() {
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            without_seed("vae-z4-b0.1-s5", s("5").as_ref()),
            "vae-z4-b0.1"
        );
        assert_eq!(without_seed("vae-s5-z4", s("5").as_ref()), "vae-z4");
        // `-s5` inside `-s55` is not the seed.
        assert_eq!(without_seed("ae-s55-z2-s5", s("5").as_ref()), "ae-s55-z2");
        assert_eq!(without_seed("ae-z2", None), "ae-z2");
    }
}
