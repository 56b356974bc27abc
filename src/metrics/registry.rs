//! The metric registry: every column of the comparison table that an evaluation produces, in
//! table order, with which way is better, how it is printed and what it means. The comparison
//! tables, their headings and legends, the latent × β pivots and comparisons of runs all read
//! this one list; adding a metric is one item here (plus computing it in evaluate).

use super::evaluation::EvalMetrics;

/// Which way is better when comparing runs on a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is better (ELBO, accuracies, AUROC, MIG).
    Up,
    /// Lower is better (reconstruction errors, NLL).
    Down,
    /// Neither: a description of the model, not a score (KL, active units).
    Info,
}

/// How a metric's value is printed for people (CSV and Parquet keep every digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Four significant digits (`-101.3`, `0.1235`).
    Number,
    /// A whole number (a count).
    Count,
    /// A value in [0, 1] with three decimals (`0.875`).
    Fraction,
}

impl Format {
    pub fn render(self, v: f64) -> String {
        match self {
            Format::Number => crate::tables::format_number(v),
            Format::Count => format!("{}", v.round()),
            Format::Fraction if v.is_finite() => format!("{v:.3}"),
            Format::Fraction => format!("{v}"),
        }
    }
}

/// One metric column.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Column name in the comparison CSV / Parquet.
    pub column: &'static str,
    /// Column heading in the Markdown and HTML tables.
    pub heading: &'static str,
    pub direction: Direction,
    pub format: Format,
    /// One sentence for the legend under the table.
    pub description: &'static str,
    /// Whether the report draws a latent size × β pivot of it.
    pub pivot: bool,
    /// Its value in one evaluation (`None`: not measured for this run).
    pub read: fn(&EvalMetrics) -> Option<f64>,
}

/// Every metric, in comparison-table order.
pub const METRICS: &[Metric] = &[
    Metric {
        column: "recon_bce_at_mu",
        heading: "BCE at z=μ",
        direction: Direction::Down,
        format: Format::Number,
        description: "binary cross-entropy of the reconstruction decoded from the mean code z = μ (no sampling), per image",
        pivot: false,
        read: |m| Some(m.recon_bce),
    },
    Metric {
        column: "recon_mse_at_mu",
        heading: "MSE at z=μ",
        direction: Direction::Down,
        format: Format::Number,
        description: "squared error of the reconstruction decoded from z = μ, summed over pixels, per image",
        pivot: false,
        read: |m| Some(m.recon_mse),
    },
    Metric {
        column: "recon_psnr_at_mu",
        heading: "PSNR at z=μ (dB)",
        direction: Direction::Up,
        format: Format::Number,
        description: "peak signal-to-noise ratio of the reconstructions from z = μ, 10·log10(1 / per-pixel MSE): comparable across image sizes",
        pivot: false,
        read: |m| m.recon_psnr,
    },
    Metric {
        column: "elbo_recon",
        heading: "ELBO recon (sampled z)",
        direction: Direction::Down,
        format: Format::Number,
        description: "the ELBO's own reconstruction term (the model's likelihood loss) at one sampled z: elbo = −(elbo_recon + kl)",
        pivot: true,
        read: |m| Some(m.recon),
    },
    Metric {
        column: "kl",
        heading: "KL(q‖p)",
        direction: Direction::Info,
        format: Format::Number,
        description: "KL divergence of the encoder's posterior from the prior (the rate), per image",
        pivot: true,
        read: |m| Some(m.kl),
    },
    Metric {
        column: "elbo",
        heading: "ELBO",
        direction: Direction::Up,
        format: Format::Number,
        description: "evidence lower bound on log p(x) with one sampled z, per image",
        pivot: true,
        read: |m| Some(m.elbo),
    },
    Metric {
        column: "nll_iwae",
        heading: "NLL (IWAE)",
        direction: Direction::Down,
        format: Format::Number,
        description: "−IWAE bound with the largest k of [evaluate] iwae_k, on the first [evaluate] iwae_images test images (VAEs)",
        pivot: false,
        read: |m| m.tightest_iwae().map(|(_, bound)| -bound),
    },
    Metric {
        column: "active_units",
        heading: "active units",
        direction: Direction::Info,
        format: Format::Count,
        description: "latent units whose mean code varies across the test set (variance > 0.01)",
        pivot: false,
        read: |m| Some(m.active_units as f64),
    },
    Metric {
        column: "knn_accuracy",
        heading: "kNN accuracy",
        direction: Direction::Up,
        format: Format::Fraction,
        description: "test accuracy of a k-nearest-neighbour classifier on the codes",
        pivot: false,
        read: |m| m.knn_accuracy,
    },
    Metric {
        column: "probe_accuracy",
        heading: "probe accuracy",
        direction: Direction::Up,
        format: Format::Fraction,
        description: "test accuracy of a linear probe (softmax regression) on the codes",
        pivot: false,
        read: |m| m.probe_accuracy,
    },
    Metric {
        column: "anomaly_auroc",
        heading: "anomaly AUROC",
        direction: Direction::Up,
        format: Format::Fraction,
        description: "area under the ROC curve of −ELBO as an anomaly score",
        pivot: false,
        read: |m| m.anomaly_auroc,
    },
    Metric {
        column: "mig",
        heading: "MIG",
        direction: Direction::Up,
        format: Format::Fraction,
        description: "mutual information gap between the codes and the true factors (shapes)",
        pivot: false,
        read: |m| m.mig,
    },
    Metric {
        column: "pca_mse",
        heading: "PCA MSE",
        direction: Direction::Down,
        format: Format::Number,
        description: "per-pixel test MSE of PCA with as many components as latent units (linear AE)",
        pivot: false,
        read: |m| m.pca_mse,
    },
    Metric {
        column: "linear_ae_mse",
        heading: "linear AE MSE",
        direction: Direction::Down,
        format: Format::Number,
        description: "per-pixel test MSE of the linear autoencoder, to compare with PCA's",
        pivot: false,
        read: |m| m.linear_ae_mse,
    },
];

/// The registered metric of a column name.
pub fn metric(column: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.column == column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_unique_and_directions_as_documented() {
        for (i, m) in METRICS.iter().enumerate() {
            assert!(
                METRICS[..i].iter().all(|o| o.column != m.column),
                "{} twice",
                m.column
            );
        }
        let dir = |c| metric(c).unwrap().direction;
        for up in [
            "elbo",
            "knn_accuracy",
            "probe_accuracy",
            "anomaly_auroc",
            "mig",
            "recon_psnr_at_mu",
        ] {
            assert_eq!(dir(up), Direction::Up, "{up}");
        }
        for down in [
            "recon_bce_at_mu",
            "recon_mse_at_mu",
            "elbo_recon",
            "nll_iwae",
        ] {
            assert_eq!(dir(down), Direction::Down, "{down}");
        }
        assert_eq!(dir("kl"), Direction::Info);
    }

    #[test]
    fn elbo_is_minus_its_recon_and_kl_columns() {
        let m = EvalMetrics {
            recon: 80.0,
            kl: 20.0,
            elbo: -100.0,
            recon_bce: 75.0,
            ..Default::default()
        };
        let read = |c| (metric(c).unwrap().read)(&m).unwrap();
        assert_eq!(read("elbo"), -(read("elbo_recon") + read("kl")));
        assert_eq!(read("recon_bce_at_mu"), 75.0);
    }

    #[test]
    fn formats() {
        assert_eq!(Format::Count.render(3.0), "3");
        assert_eq!(Format::Fraction.render(0.87549), "0.875");
        assert_eq!(Format::Number.render(-101.2549), "-101.3");
    }
}
