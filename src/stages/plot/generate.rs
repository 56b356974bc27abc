//! New images from the codes, AE vs VAE per latent size: decoding the straight line between
//! two test images' codes (interpolation), and adding a class-difference vector to a code
//! (latent arithmetic, the lectures' "smiling vector" done with the dataset's labels).

use super::registry::{need, About, Canvas, Figure, Reason};
use super::sweep::{split_images, variant_name, Member, Sweep};
use crate::figures::{GridPanel, GridRow};

/// Codes of test images used for the class means: enough for a stable mean, few enough to
/// encode in a blink.
const MEAN_IMAGES: usize = 2000;
/// Interpolation steps, both ends included.
const STEPS: usize = 9;
const ALPHAS: [f32; 7] = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5];

pub fn needs_ae_or_vae(sweep: &Sweep) -> Result<(), Reason> {
    let some = !sweep.ae_vae_pairs().is_empty();
    need(some, "needs an AE or a VAE; the sweep has neither")
}

/// Rows "AE z-D", "VAE z-D" for each latent size, each made by `row` from its model.
fn model_rows(sweep: &Sweep, row: impl Fn(&Member) -> Vec<f32>) -> Vec<GridRow> {
    sweep
        .ae_vae_pairs()
        .into_iter()
        .flat_map(|(z, pair)| pair.into_iter().map(move |m| (z, m)).collect::<Vec<_>>())
        .map(|(z, m)| GridRow {
            label: format!("{} {z}-D", variant_name(m.variant())),
            images: split_images(&row(m), sweep.dim()),
        })
        .collect()
}

/// The first test image, and the first of another class (the second image when all share one
/// class): the two ends of the interpolation.
pub fn endpoints(labels: &[u8]) -> Option<(usize, usize)> {
    let first = labels.first()?;
    let other = labels
        .iter()
        .position(|l| l != first)
        .or((labels.len() > 1).then_some(1))?;
    Some((0, other))
}

/// `a heart`, `an ellipse`; a class named by a number is `class 3`.
fn with_article(class: &str) -> String {
    match class.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("class {class}"),
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U') => format!("an {class}"),
        _ => format!("a {class}"),
    }
}

pub struct Interpolation;

impl Figure for Interpolation {
    fn about(&self) -> About {
        About {
            name: "interpolation",
            heading: "Interpolation in latent space",
            caption: "Decoded points on the straight line between two test images' codes, AE vs VAE per latent size; the top row blends the pixels instead.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        needs_ae_or_vae(sweep)?;
        let two = endpoints(&sweep.test.labels).is_some();
        need(two, "needs two test images; the test split has one")
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let Some((a, b)) = endpoints(&sweep.test.labels) else {
            return Ok(());
        };
        let dim = sweep.dim();
        let image = |i: usize| &sweep.test.images[i * dim..(i + 1) * dim];
        let ts: Vec<f32> = (0..STEPS).map(|i| i as f32 / (STEPS - 1) as f32).collect();
        let mix = |x: &[f32], y: &[f32]| -> Vec<f32> {
            ts.iter()
                .flat_map(|&t| x.iter().zip(y).map(move |(p, q)| (1.0 - t) * p + t * q))
                .collect()
        };
        let mut rows = vec![GridRow {
            label: "pixels".into(),
            images: split_images(&mix(image(a), image(b)), dim),
        }];
        rows.extend(model_rows(sweep, |m| {
            let (za, zb) = (m.model.encode(image(a)).0, m.model.encode(image(b)).0);
            m.model.decode_pixels(&mix(&za, &zb))
        }));
        let panel = GridPanel {
            corner_label: "t".into(),
            column_labels: ts.iter().map(|t| format!("{t:.2}")).collect(),
            rows,
            ..GridPanel::default()
        };
        let class = |i: usize| sweep.class_name(sweep.test.labels[i]);
        let title = format!(
            "Interpolation from {} (t = 0) to {} (t = 1): decode((1−t)·z₀ + t·z₁)",
            with_article(&class(a)),
            with_article(&class(b))
        );
        canvas.images(&title, &[panel], sweep.image_size())
    }
}

/// The classes of the arithmetic: the first test image's (`from`), and the next class present
/// (`to`); none when the test split has one class.
pub fn class_pair(labels: &[u8]) -> Option<(u8, u8)> {
    let from = *labels.first()?;
    let mut others: Vec<u8> = labels.iter().copied().filter(|&l| l != from).collect();
    others.sort_unstable();
    let to = others
        .iter()
        .copied()
        .find(|&l| l > from)
        .or(others.first().copied())?;
    Some((from, to))
}

/// Mean code of the rows whose label is `class` (`codes` is rows × `k`).
pub fn class_mean(codes: &[f32], labels: &[u8], k: usize, class: u8) -> Vec<f32> {
    let mut sum = vec![0.0f64; k];
    let mut n = 0usize;
    for (code, _) in codes.chunks(k).zip(labels).filter(|(_, &l)| l == class) {
        n += 1;
        sum.iter_mut().zip(code).for_each(|(s, &c)| *s += c as f64);
    }
    sum.into_iter()
        .map(|s| (s / n.max(1) as f64) as f32)
        .collect()
}

pub struct Arithmetic;

impl Figure for Arithmetic {
    fn about(&self) -> About {
        About {
            name: "arithmetic",
            heading: "Latent arithmetic",
            caption: "A test image's code moved along the difference of two class means, z + α·(mean of one class − mean of another), AE vs VAE per latent size (the lectures' \"smiling vector\" with the dataset's labels).",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        needs_ae_or_vae(sweep)?;
        let two = class_pair(&sweep.test.labels).is_some();
        need(
            two,
            "needs test images of two classes; the test split has one",
        )
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let Some((from, to)) = class_pair(&sweep.test.labels) else {
            return Ok(());
        };
        let dim = sweep.dim();
        let images = sweep.test_images(MEAN_IMAGES);
        let labels = &sweep.test.labels[..images.len() / dim];
        let source = &images[..dim];
        // Each row starts with the input image itself, then its code moved by each α.
        let rows = model_rows(sweep, |m| {
            let k = m.latent();
            let codes = m.model.encode(images).0;
            let (a, b) = (
                class_mean(&codes, labels, k, from),
                class_mean(&codes, labels, k, to),
            );
            let (z, a, b) = (&codes[..k], &a, &b);
            let moved: Vec<f32> = ALPHAS
                .iter()
                .flat_map(|&alpha| (0..k).map(move |i| z[i] + alpha * (b[i] - a[i])))
                .collect();
            let mut row = source.to_vec();
            row.extend(m.model.decode_pixels(&moved));
            row
        });
        let mut column_labels = vec!["input".to_owned()];
        column_labels.extend(ALPHAS.iter().map(|a| format!("{a}")));
        let panel = GridPanel {
            corner_label: "α".into(),
            column_labels,
            rows,
            ..GridPanel::default()
        };
        let name = |c: u8| sweep.class_name(c);
        let title = format!(
            "Latent arithmetic: {} plus α·(mean {} − mean {})",
            with_article(&name(from)),
            name(to),
            name(from)
        );
        canvas.images(&title, &[panel], sweep.image_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_prefer_another_class() {
        assert_eq!(endpoints(&[3, 3, 1, 2]), Some((0, 2)));
        // One class: still two images to interpolate between.
        assert_eq!(endpoints(&[4, 4]), Some((0, 1)));
        assert_eq!(endpoints(&[4]), None);
    }

    #[test]
    fn class_pair_needs_two_classes() {
        assert_eq!(class_pair(&[2, 0, 5, 2]), Some((2, 5)));
        assert_eq!(class_pair(&[5, 0, 2]), Some((5, 0)));
        assert_eq!(class_pair(&[1, 1, 1]), None);
    }

    #[test]
    fn class_means_work_for_a_one_dimensional_latent() {
        let codes = [1.0, 3.0, 10.0, 5.0];
        let labels = [0, 0, 1, 0];
        assert_eq!(class_mean(&codes, &labels, 1, 0), [3.0]);
        assert_eq!(class_mean(&codes, &labels, 1, 1), [10.0]);
        let codes2 = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(class_mean(&codes2, &[7, 7], 2, 7), [2.0, 3.0]);
    }
}
