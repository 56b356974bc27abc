//! `metrics.csv`: one row per epoch (epoch, train_loss, val_loss, recon, kl, seconds), written
//! by the trainer and read back by the plot stage.
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ModelError;

/// Per-epoch averages over examples (one row of `metrics.csv`), here rather than in `train` so
/// that the checkpoint, the trainer and readers of the file share it without a cycle.
/// `train_loss`/`val_loss` are the optimised objective (recon + KL weight of that epoch · KL +
/// L1 penalty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: Option<f64>,
    pub recon: f64,
    pub kl: f64,
    pub seconds: f64,
}

pub const FILE: &str = "metrics.csv";
const HEADER: &str = "epoch,train_loss,val_loss,recon,kl,seconds";

/// Renders the metrics as CSV; a missing validation loss is an empty field.
pub fn render(metrics: &[EpochMetrics]) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for m in metrics {
        let val = m.val_loss.map(|v| v.to_string()).unwrap_or_default();
        // `{}` on f64 prints the shortest string that parses back to the same value.
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            m.epoch, m.train_loss, val, m.recon, m.kl, m.seconds
        );
    }
    out
}

pub fn write(path: &Path, metrics: &[EpochMetrics]) -> Result<(), ModelError> {
    let tmp = path.with_extension("csv.tmp");
    let io = |action, source| ModelError::Io {
        action,
        path: path.to_path_buf(),
        error: source,
    };
    std::fs::write(&tmp, render(metrics)).map_err(|e| io("write metrics", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("rename metrics to", e))
}

/// The per-epoch losses of a `metrics.csv` written by [`write`]: train loss, and validation
/// loss where there was a validation split (empty cells are `None`).
pub fn read_losses(path: &Path) -> anyhow::Result<Vec<(f64, Option<f64>)>> {
    use polars::prelude::DataType;
    let df = crate::tables::read_csv(path)?;
    // A column of empty cells reads as text: cast, so it becomes nulls.
    let column = |name: &str| -> anyhow::Result<Vec<Option<f64>>> {
        let c = df.column(name)?.cast(&DataType::Float64)?;
        Ok(c.f64()?.iter().collect())
    };
    let (train, val) = (column("train_loss")?, column("val_loss")?);
    Ok(train
        .into_iter()
        .zip(val)
        .filter_map(|(t, v)| Some((t?, v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_read_back_with_and_without_validation() {
        let dir = tempfile::tempdir().unwrap();
        let m = |epoch, val_loss| EpochMetrics {
            epoch,
            train_loss: 2.0 - epoch as f64,
            val_loss,
            recon: 1.0,
            kl: 0.5,
            seconds: 0.1,
        };
        let path = dir.path().join(FILE);
        write(&path, &[m(0, None), m(1, None)]).unwrap();
        assert_eq!(read_losses(&path).unwrap(), [(2.0, None), (1.0, None)]);
        write(&path, &[m(0, Some(2.5)), m(1, Some(1.5))]).unwrap();
        assert_eq!(
            read_losses(&path).unwrap(),
            [(2.0, Some(2.5)), (1.0, Some(1.5))]
        );
    }

    #[test]
    fn renders_header_and_rows() {
        let m = EpochMetrics {
            epoch: 0,
            train_loss: 1.5,
            val_loss: None,
            recon: 1.25,
            kl: 0.25,
            seconds: 2.0,
        };
        let csv = render(&[
            m.clone(),
            EpochMetrics {
                epoch: 1,
                val_loss: Some(3.0),
                ..m
            },
        ]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines, [HEADER, "0,1.5,,1.25,0.25,2", "1,1.5,3,1.25,0.25,2"]);
    }
}
