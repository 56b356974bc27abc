//! The disentanglement figures (issue 13, after the β-VAE papers): MIG against β, and
//! traversals of the best β's VAE with each unit labelled by the factor it captures most.
//! Only datasets with ground-truth factors (shapes) have them.

use std::collections::BTreeMap;

use anyhow::Context;

use super::images::{traversal_rows, traversal_value_labels};
use super::registry::{need, About, Canvas, Figure, Reason};
use super::sweep::{variant_name, Member, Sweep};
use crate::figures::{self, GridPanel, LinePanel, Series};
use crate::metrics::latent::{mutual_information_gap, Mig, MIG_BINS};
use crate::metrics::stats::mean_sd;
use crate::model::Variant;
use crate::stages::evaluate::CODES_FILE;

/// Below this share of a factor's entropy a unit is said to capture no factor.
const CAPTURES_NOTHING: f64 = 0.05;

/// One evaluated member for the MIG curves: its line (variant and latent size), β and MIG.
pub type MigRun = (String, f64, f64);

/// One line per group with two or more β values; each β's point is the mean MIG over its
/// seeds with their sd as the error bar (none for a single seed).
pub fn mig_curves(runs: &[MigRun]) -> Vec<Series> {
    let mut by: BTreeMap<&str, BTreeMap<u64, Vec<f64>>> = BTreeMap::new();
    for (group, beta, mig) in runs {
        let betas = by.entry(group.as_str()).or_default();
        betas.entry(beta.to_bits()).or_default().push(*mig);
    }
    by.into_iter()
        .filter(|(_, betas)| betas.len() >= 2)
        .enumerate()
        .map(|(i, (group, betas))| {
            let mut stats: Vec<(f64, f64, f64)> = betas
                .into_iter()
                .map(|(b, v)| {
                    let s = mean_sd(&v);
                    (
                        f64::from_bits(b),
                        s.mean,
                        if v.len() > 1 { s.sd } else { 0.0 },
                    )
                })
                .collect();
            stats.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name: group.to_owned(),
                points: stats.iter().map(|s| (s.0, s.1)).collect(),
                errors: stats.iter().map(|s| s.2).collect(),
                color: i,
                marker: figures::Marker::nth(i),
                ..Series::default()
            }
        })
        .collect()
}

fn mig_runs(sweep: &Sweep) -> Vec<MigRun> {
    sweep
        .members
        .iter()
        .filter(|m| m.variant().is_variational())
        .filter_map(|m| {
            let group = format!("{} z={}", variant_name(m.variant()), m.latent());
            m.metrics.mig.map(|mig| (group, m.beta(), mig))
        })
        .collect()
}

pub struct MigVsBeta;

impl Figure for MigVsBeta {
    fn about(&self) -> About {
        About {
            name: "mig_vs_beta",
            heading: "Disentanglement (MIG) against β",
            caption: "Mutual information gap of the test codes against β, one line per variant and latent size, mean ± sd over seeds.",
        }
    }
    fn on_by_default(&self) -> bool {
        false
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        let runs = mig_runs(sweep);
        need(
            !runs.is_empty(),
            "needs MIG (evaluate.mig on a dataset with factors, e.g. shapes); the sweep has none",
        )?;
        need(
            !mig_curves(&runs).is_empty(),
            "needs a β grid (two or more β values of one variant and latent size)",
        )
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let series = mig_curves(&mig_runs(sweep));
        let mut ticks: Vec<f64> = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        ticks.sort_by(f64::total_cmp);
        ticks.dedup();
        let title = "MIG against β (mean ± sd over seeds)";
        let panel = LinePanel {
            title: String::new(),
            x_label: "β".into(),
            y_label: "MIG (normalised, 0–1)".into(),
            series,
            x_ticks: ticks,
            y_from_zero: true,
            ..LinePanel::default()
        };
        figures::line_panels(&canvas.file(title), title, &[panel])?;
        Ok(())
    }
}

/// The row label of unit `u`: the factor it shares the most information with, that MI in nats
/// and as a share of the factor's entropy.
pub fn unit_label(u: usize, mig: &Mig, factor_names: &[String]) -> String {
    let best = mig.best_factor_per_unit()[u];
    let mi = mig.mutual_information[u][best];
    let share = mig.normalised_mutual_information()[u][best];
    if share < CAPTURES_NOTHING {
        return format!("z{}: no factor", u + 1);
    }
    let name = factor_names.get(best).map_or("?", String::as_str);
    format!("z{}: {name} (MI {mi:.2} nats, {share:.2} of H)", u + 1)
}

/// The VAE with the highest MIG among the seeds of the setting (latent size, β) whose mean
/// MIG over seeds is highest.
fn best_member(sweep: &Sweep) -> Option<&Member> {
    let mut by_setting: BTreeMap<(usize, u64), Vec<f64>> = BTreeMap::new();
    for m in sweep.of(Variant::Vae) {
        if let Some(mig) = m.metrics.mig {
            let key = (m.latent(), m.beta().to_bits());
            by_setting.entry(key).or_default().push(mig);
        }
    }
    let (&(latent, beta), _) = by_setting
        .iter()
        .max_by(|a, b| mean_sd(a.1).mean.total_cmp(&mean_sd(b.1).mean))?;
    let mig = |m: &Member| m.metrics.mig.unwrap_or(0.0);
    sweep
        .of(Variant::Vae)
        .filter(|m| m.latent() == latent && m.beta().to_bits() == beta)
        .max_by(|a, b| mig(a).total_cmp(&mig(b)))
}

/// MIG recomputed from the member's test codes (as evaluate wrote them, scoring the same units)
/// for its MI matrix.
fn member_mig(sweep: &Sweep, m: &Member) -> anyhow::Result<Mig> {
    let path = m.eval_dir.join(CODES_FILE);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let codes: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes);
    let factors: Vec<u32> = sweep
        .test
        .factors
        .iter()
        .flatten()
        .map(|&v| v as u32)
        .collect();
    let nf = sweep.test.header.factor_names.len();
    Ok(mutual_information_gap(
        &codes,
        &factors,
        sweep.test.n,
        m.latent(),
        nf,
        MIG_BINS,
        m.metrics.mig_units.unwrap_or_default(),
    )?)
}

pub struct FactorTraversals;

impl Figure for FactorTraversals {
    fn about(&self) -> About {
        About {
            name: "factor_traversals",
            heading: "Latent traversals labelled by factor",
            caption: "Traversals of the VAE at the latent size and β with the highest mean MIG over seeds (its best seed): each row varies one unit and is labelled with the ground-truth factor it shares the most mutual information with (in nats, and as a share of the factor's entropy H).",
        }
    }
    fn on_by_default(&self) -> bool {
        false
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        let factors = sweep.test.factors.is_some() && !sweep.test.header.factor_names.is_empty();
        need(
            factors,
            "needs a dataset with ground-truth factors (shapes)",
        )?;
        need(
            best_member(sweep).is_some(),
            "needs a VAE with MIG (evaluate.mig)",
        )
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let Some(m) = best_member(sweep) else {
            return Ok(());
        };
        let mig = member_mig(sweep, m)?;
        // The same codes, factors and bins as evaluate's MIG: a difference is a bug to show.
        if let Some(evaluated) = m.metrics.mig.filter(|e| (e - mig.mig).abs() > 1e-9) {
            canvas.warn(format!(
                "MIG recomputed from {}'s test codes is {:.4}, evaluate's is {evaluated:.4}",
                m.label, mig.mig
            ));
        }
        let rows = traversal_rows(m, sweep, |u| {
            unit_label(u, &mig, &sweep.test.header.factor_names)
        });
        let panel = GridPanel {
            title: format!("{} (β = {}, MIG {:.2})", m.label, m.beta(), mig.mig),
            corner_label: "value".into(),
            column_labels: traversal_value_labels(),
            rows,
        };
        let title = format!("Latent traversals of the best-MIG VAE ({}-D)", m.latent());
        canvas.images(&title, &[panel], sweep.image_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::latent::MigUnits;

    #[test]
    fn seeds_of_one_beta_are_one_point_and_a_single_beta_no_line() {
        let runs: Vec<MigRun> = [
            ("VAE z=4", 2.0, 0.2),
            ("VAE z=4", 2.0, 0.4),
            ("VAE z=4", 8.0, 0.5),
            ("VAE z=8", 4.0, 0.3),
        ]
        .iter()
        .map(|&(g, b, m)| (g.to_owned(), b, m))
        .collect();
        let curves = mig_curves(&runs);
        assert_eq!(curves.len(), 1, "z=8 has one β: no line");
        assert_eq!(
            curves[0].points,
            vec![(2.0, 0.30000000000000004), (8.0, 0.5)]
        );
        assert!((curves[0].errors[0] - 0.02f64.sqrt()).abs() < 1e-12);
        assert_eq!(curves[0].errors[1], 0.0, "one seed: no error bar");
    }

    #[test]
    fn units_are_labelled_with_the_factor_they_copy() {
        // Unit 0 copies factor 1, unit 1 is constant.
        let factors: Vec<u32> = (0..16).flat_map(|i| [i % 2, i / 4]).collect();
        let codes: Vec<f32> = (0..16).flat_map(|i| [(i / 4) as f32, 0.0]).collect();
        let mig =
            mutual_information_gap(&codes, &factors, 16, 2, 2, MIG_BINS, MigUnits::All).unwrap();
        let names = ["colour".to_owned(), "scale".to_owned()];
        assert_eq!(
            unit_label(0, &mig, &names),
            "z1: scale (MI 1.39 nats, 1.00 of H)"
        );
        assert_eq!(unit_label(1, &mig, &names), "z2: no factor");
    }
}
