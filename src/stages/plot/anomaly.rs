//! One-class anomaly detection: each member's score histograms (normal vs anomalous test
//! images) and the ROC curves of all members, seeds of one setting in one colour.

use super::registry::{listed, About, Canvas, Figure, Reason};
use super::sweep::Sweep;
use crate::figures;
use crate::model::{Likelihood, TrainedModel};

pub struct Anomaly;

impl Figure for Anomaly {
    fn about(&self) -> About {
        About {
            name: "anomaly",
            heading: "Anomaly detection",
            caption: "ROC curves of anomaly detection by reconstruction error / −ELBO.",
        }
    }
    fn member_caption(&self, member: &str) -> (String, String) {
        (
            format!("Anomaly scores: {member}"),
            format!("Anomaly scores of {member} on normal and anomalous test images."),
        )
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        let Some(anomalous) = sweep.anomalous() else {
            return Err(Reason(
                "needs evaluate.anomaly_normal_classes; the spec sets none".into(),
            ));
        };
        if !anomalous.iter().any(|&a| a) || anomalous.iter().all(|&a| a) {
            return Err(Reason(
                "needs normal and anomalous images in the test split; it has only one kind".into(),
            ));
        }
        Ok(())
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let (Some(anomalous), Some(normal)) = (sweep.anomalous(), &sweep.normal_classes) else {
            return Ok(());
        };
        let class_names = |classes: &mut dyn Iterator<Item = u8>| -> Vec<String> {
            classes.map(|c| sweep.class_name(c)).collect()
        };
        let normal_names = class_names(&mut normal.iter().copied());
        let mut rocs = Vec::new();
        for m in &sweep.members {
            let scores: Vec<f64> = serde_json::from_slice(&std::fs::read(
                m.eval_dir.join(crate::stages::evaluate::SCORES_FILE),
            )?)?;
            let (a, n): (Vec<(f64, bool)>, Vec<(f64, bool)>) = scores
                .iter()
                .copied()
                .zip(anomalous.iter().copied())
                .partition(|(_, x)| *x);
            let (score, unit) = score_name(&m.model);
            let groups = [
                figures::HistogramGroup {
                    name: format!("normal: {}", normal_names.join(", ")),
                    values: n.iter().map(|x| x.0).collect(),
                },
                figures::HistogramGroup {
                    name: "anomalous: the other classes".into(),
                    values: a.iter().map(|x| x.0).collect(),
                },
            ];
            let title = format!("Anomaly scores of {} ({score})", m.label);
            figures::score_histogram(
                &canvas.member_part("scores", &m.label, &title),
                &title,
                &format!("anomaly score = {score}{unit}"),
                &groups,
                40,
            )?;
            rocs.push(figures::NamedRoc {
                name: m.setting.clone(),
                curve: crate::metrics::auroc::roc_curve(&scores, &anomalous)?,
            });
        }
        let title = "Anomaly detection: AEs score by reconstruction error, VAEs by −ELBO";
        figures::roc_curves(&canvas.part("roc", title), title, &rocs)?;
        let trained_on = (0..sweep.train_class_counts.len() as u8)
            .filter(|c| sweep.train_class_counts[*c as usize] > 0 && !normal.contains(c));
        let anomalous_seen = class_names(&mut trained_on.into_iter());
        let below: Vec<String> = sweep
            .members
            .iter()
            .zip(&rocs)
            .filter(|(_, r)| r.curve.area() < 0.5)
            .map(|(m, r)| format!("{} {:.3}", m.label, r.curve.area()))
            .collect();
        if let Some(message) = anomaly_warning(&anomalous_seen, normal, &below) {
            canvas.warn(message);
        }
        Ok(())
    }
}

/// What to tell the user about the anomaly scores: training included "anomalous" classes
/// (only `evaluate.anomaly_normal_classes` was set, not `preprocess.classes`), and which
/// members rank normal images as more anomalous than the rest (AUROC below 0.5).
pub fn anomaly_warning(
    anomalous_trained: &[String],
    normal: &[u8],
    below_half: &[String],
) -> Option<String> {
    let mut parts = Vec::new();
    if !anomalous_trained.is_empty() {
        parts.push(format!(
            "the models were trained on the \"anomalous\" classes too ({}), so their scores \
             do not single them out; set preprocess.classes = [{}] to train on the normal \
             classes only",
            anomalous_trained.join(", "),
            listed(normal)
        ));
    }
    if !below_half.is_empty() {
        parts.push(format!(
            "AUROC below 0.5 (worse than chance) for {}",
            below_half.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// What a model's anomaly score (its `test_scores.json`: reconstruction term + KL) is, and
/// its unit suffix.
fn score_name(model: &TrainedModel) -> (&'static str, &'static str) {
    let unit = match model.config.likelihood {
        Likelihood::Bernoulli => " [nats]",
        _ => "",
    };
    let name = if model.config.is_vae() {
        "−ELBO"
    } else {
        "reconstruction error"
    };
    (name, unit)
}

#[cfg(test)]
mod tests {
    use super::anomaly_warning;

    #[test]
    fn warns_about_training_on_every_class() {
        let w = anomaly_warning(&["circle".into(), "square".into()], &[0], &[]).unwrap();
        assert!(
            w.contains("circle, square") && w.contains("preprocess.classes = [0]"),
            "{w}"
        );
        let w = anomaly_warning(&[], &[0], &["vae-z2 0.412".into()]).unwrap();
        assert!(w.contains("below 0.5") && w.contains("vae-z2 0.412"), "{w}");
        assert_eq!(anomaly_warning(&[], &[0], &[]), None);
    }
}
