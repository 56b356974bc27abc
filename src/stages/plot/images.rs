//! The image-grid figures of the AE/VAE lectures: prior samples, reconstructions, the 2-D latent
//! scatter and manifold, and latent traversals.

use super::registry::{listed, need, About, Canvas, Figure, Reason};
use super::sweep::{split_images, variant_name, Member, Sweep};
use crate::figures::{self, GridPanel, GridRow};
use crate::model::{TrainedModel, Variant};

fn needs_vae(sweep: &Sweep) -> Result<(), Reason> {
    let some = sweep.of(Variant::Vae).next().is_some();
    need(some, "needs a VAE; the sweep has none")
}

/// A representative AE or VAE with a 2-D latent, or why there is none.
fn needs_2d(sweep: &Sweep, variants: &[Variant]) -> Result<(), Reason> {
    if variants
        .iter()
        .any(|&v| sweep.representative(v, 2).is_some())
    {
        return Ok(());
    }
    let names: Vec<String> = variants
        .iter()
        .map(|&v| match v {
            Variant::Ae => "an AE".to_owned(),
            other => format!("a {}", variant_name(other)),
        })
        .collect();
    let mut sizes: Vec<usize> = variants.iter().flat_map(|&v| sweep.latents(v)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    Err(Reason(format!(
        "needs {} with a 2-D latent; the sweep's latent sizes are {}",
        names.join(" or "),
        if sizes.is_empty() {
            "none".into()
        } else {
            listed(&sizes)
        }
    )))
}

pub struct PriorSamples;

impl Figure for PriorSamples {
    fn about(&self) -> About {
        About {
            name: "prior_samples",
            heading: "Samples from the prior",
            caption: "Samples from the prior for each latent size (Kingma & Welling, Fig. 5).",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        needs_vae(sweep)
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let panels: Vec<GridPanel> = sweep
            .latents(Variant::Vae)
            .into_iter()
            .filter_map(|z| sweep.representative(Variant::Vae, z))
            .map(|m| GridPanel {
                title: format!("{}-D latent", m.latent()),
                rows: split_images(&m.model.sample(64, 1), sweep.dim())
                    .chunks(8)
                    .map(|r| GridRow {
                        label: String::new(),
                        images: r.to_vec(),
                    })
                    .collect(),
                ..GridPanel::default()
            })
            .collect();
        let title = "Samples from the prior p(z) = N(0, I), decoded";
        canvas.images(title, &panels, sweep.image_size())
    }
}

pub struct Reconstructions;

impl Figure for Reconstructions {
    fn about(&self) -> About {
        About {
            name: "reconstructions",
            heading: "Reconstructions",
            caption: "Test images and their reconstructions: the latent size sets the quality.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        super::generate::needs_ae_or_vae(sweep)
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let dim = sweep.dim();
        let x = sweep.test_images(10);
        let mut rows = vec![GridRow {
            label: "original".into(),
            images: split_images(x, dim),
        }];
        for variant in [Variant::Vae, Variant::Ae] {
            for z in sweep.latents(variant) {
                if let Some(m) = sweep.representative(variant, z) {
                    rows.push(GridRow {
                        label: format!("{} {z}-D", variant_name(variant)),
                        images: split_images(&m.model.reconstruct(x), dim),
                    });
                }
            }
        }
        // The latent-size message only where several sizes are shown.
        let title = if sweep.ae_vae_pairs().len() > 1 {
            "Reconstructions: the latent size sets the quality"
        } else {
            "Test images and their reconstructions"
        };
        let panel = GridPanel {
            rows,
            ..GridPanel::default()
        };
        canvas.images(title, &[panel], sweep.image_size())
    }
}

pub struct LatentScatter;

impl Figure for LatentScatter {
    fn about(&self) -> About {
        About {
            name: "latent_scatter",
            heading: "2-D latent space",
            caption: "2-D latent codes of the test set, coloured by class: AE vs VAE.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        needs_2d(sweep, &[Variant::Ae, Variant::Vae])
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let n = sweep.test.n.min(5000);
        let panels: Vec<figures::ScatterPanel> = [Variant::Ae, Variant::Vae]
            .into_iter()
            .filter_map(|v| sweep.representative(v, 2))
            .map(|m| -> anyhow::Result<figures::ScatterPanel> {
                let codes: Vec<f32> = bytemuck::pod_collect_to_vec(&std::fs::read(
                    m.eval_dir.join(crate::stages::evaluate::CODES_FILE),
                )?);
                Ok(figures::ScatterPanel {
                    title: format!("{} ({})", variant_name(m.variant()), m.label),
                    points: codes.chunks(2).take(n).map(|c| [c[0], c[1]]).collect(),
                    labels: sweep.test.labels[..n].to_vec(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let title = "2-D latent codes of the test set, coloured by class";
        figures::latent_scatter(&canvas.file(title), title, &panels, &sweep.test.class_names)?;
        Ok(())
    }
}

pub struct Manifold;

impl Figure for Manifold {
    fn about(&self) -> About {
        About {
            name: "manifold",
            heading: "Learned manifold",
            caption: "The learned 2-D manifold: decoder means over an inverse-Gaussian-CDF grid (K&W, Fig. 4).",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        needs_2d(sweep, &[Variant::Vae])
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let Some(m) = sweep.representative(Variant::Vae, 2) else {
            return Ok(());
        };
        let n = 20;
        let z: Vec<f32> = figures::manifold_grid(n)
            .iter()
            .flat_map(|p| [p[0] as f32, p[1] as f32])
            .collect();
        let images = split_images(&m.model.decode_pixels(&z), sweep.dim());
        let panel = figures::manifold_panel(images, n)?;
        let title = "Learned 2-D manifold: decoder means over Φ⁻¹ of a uniform grid";
        canvas.images(title, &[panel], sweep.image_size())
    }
}

pub struct Traversals;

/// Rows of the traversal figure: more would shrink every image.
const MAX_TRAVERSED: usize = 10;

impl Figure for Traversals {
    fn about(&self) -> About {
        About {
            name: "traversals",
            heading: "Latent traversals",
            caption: "Latent traversals: one unit varied at a time, the others kept at one test image's code; one panel per β.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        needs_vae(sweep)
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let group = traversal_group(sweep);
        let Some(z) = group.first().map(|m| m.latent()) else {
            return Ok(());
        };
        let value_labels = traversal_value_labels();
        let panels: Vec<GridPanel> = group
            .iter()
            .map(|m| {
                let rows = traversal_rows(m, sweep, |u| format!("z{}", u + 1));
                GridPanel {
                    title: format!("β = {}", m.beta()),
                    corner_label: "value".into(),
                    column_labels: value_labels.clone(),
                    rows,
                }
            })
            .collect();
        let title = if z > MAX_TRAVERSED {
            format!(
                "Latent traversals ({z}-D VAE): the {MAX_TRAVERSED} most active units, one per row"
            )
        } else {
            format!("Latent traversals ({z}-D VAE): each row varies one unit")
        };
        canvas.images(&title, &panels, sweep.image_size())
    }
}

/// The VAEs traversed: of the latent size with the most β values, one per β (its first seed),
/// by β.
fn traversal_group(sweep: &Sweep) -> Vec<&Member> {
    let betas_at = |z: usize| {
        let mut b: Vec<f64> = sweep
            .of(Variant::Vae)
            .filter(|m| m.latent() == z)
            .map(Member::beta)
            .collect();
        b.sort_by(f64::total_cmp);
        b.dedup();
        b.len()
    };
    // Seeds do not count: five seeds of one β are not five panels' worth.
    let Some(z) = sweep
        .latents(Variant::Vae)
        .into_iter()
        .max_by_key(|&z| betas_at(z))
    else {
        return Vec::new();
    };
    let mut group: Vec<&Member> = sweep.of(Variant::Vae).filter(|m| m.latent() == z).collect();
    group.sort_by(|a, b| a.beta().total_cmp(&b.beta()).then(a.seed().cmp(b.seed())));
    group.dedup_by(|a, b| a.beta() == b.beta());
    group
}

/// The latent units to traverse: all of them up to [`MAX_TRAVERSED`], otherwise the most
/// active ones (largest variance of the encoder mean over test images), most active first;
/// the first ten by index would often be collapsed units that change nothing.
/// The values each traversed unit takes, from −3 to 3 (the prior's ±3 sd).
const TRAVERSAL_VALUES: [f32; 9] = [-3.0, -2.25, -1.5, -0.75, 0.0, 0.75, 1.5, 2.25, 3.0];

pub(super) fn traversal_value_labels() -> Vec<String> {
    TRAVERSAL_VALUES.iter().map(|v| format!("{v}")).collect()
}

/// One row per traversed unit of `m`: the first test image's code with that unit set to each of
/// [`TRAVERSAL_VALUES`], decoded; `label` names the row by unit index.
pub(super) fn traversal_rows(
    m: &Member,
    sweep: &Sweep,
    label: impl Fn(usize) -> String,
) -> Vec<GridRow> {
    let dim = sweep.dim();
    let base = m.model.encode(sweep.test_images(1)).0;
    traversed_units(&m.model, &sweep.test.images, dim)
        .into_iter()
        .map(|u| {
            let codes: Vec<f32> = TRAVERSAL_VALUES
                .iter()
                .flat_map(|&v| {
                    let mut c = base.clone();
                    c[u] = v;
                    c
                })
                .collect();
            GridRow {
                label: label(u),
                images: split_images(&m.model.decode_pixels(&codes), dim),
            }
        })
        .collect()
}

pub(super) fn traversed_units(model: &TrainedModel, images: &[f32], dim: usize) -> Vec<usize> {
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
