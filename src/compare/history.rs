//! Training histories (per-epoch losses of every trained member) published with a run's
//! results as `history.parquet`, so that curves of old runs can be overlaid after `gc` has
//! removed their train stages from the cache; older runs without it fall back to the cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::DataType;

use crate::cache::CacheStore;
use crate::plan::StageKind;
use crate::registry::RunRecord;
use crate::stages::train::METRICS_FILE;
use crate::tables::{self, Row, Value};

/// The file in `results/<experiment>/<run-id>/`.
pub const HISTORY_FILE: &str = "history.parquet";

/// Columns after `member`, as the trainer writes them to `metrics.csv`.
const COLUMNS: &[&str] = &["epoch", "train_loss", "val_loss", "recon", "kl", "seconds"];

/// One member's curves: per epoch, train loss and validation loss (where there is one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Curves {
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<Option<f64>>,
}

/// Member label → curves.
pub type History = BTreeMap<String, Curves>;

/// The member a train stage trains: `train/vae-z2-b1` → `vae-z2-b1`.
fn trained_member(stage: &str) -> &str {
    stage.split_once('/').map_or(stage, |(_, m)| m)
}

/// Writes `history.parquet` into `dir` from the train stages' cache folders (stage name,
/// `out/`). A train output without `metrics.csv` (a command stage's, say) is left out; no
/// file is written when no member has one.
pub fn write_history(dir: &Path, trains: &[(String, PathBuf)]) -> anyhow::Result<()> {
    let mut rows: Vec<Row> = Vec::new();
    for (stage, out) in trains {
        let csv = out.join(METRICS_FILE);
        if !csv.is_file() {
            continue;
        }
        for mut row in tables::dataframe_to_rows(&tables::read_csv(&csv)?)? {
            row.insert(
                "member".into(),
                Value::Str(trained_member(stage).to_owned()),
            );
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let mut leading = vec!["member"];
    leading.extend(COLUMNS);
    tables::write_parquet(
        &tables::rows_to_dataframe(&rows, &leading)?,
        &dir.join(HISTORY_FILE),
    )
}

/// Reads a `history.parquet` written by [`write_history`].
pub fn read_history(path: &Path) -> anyhow::Result<History> {
    let df = tables::read_parquet(path)?;
    let members = df.column("member")?.cast(&DataType::String)?;
    let column = |name: &str| -> anyhow::Result<Vec<Option<f64>>> {
        match df.column(name) {
            Ok(c) => Ok(c.cast(&DataType::Float64)?.f64()?.iter().collect()),
            Err(_) => Ok(vec![None; df.height()]),
        }
    };
    let (train, val) = (column("train_loss")?, column("val_loss")?);
    let mut out = History::new();
    for (i, member) in members.str()?.iter().enumerate() {
        let (Some(member), Some(t)) = (member, train[i]) else {
            continue;
        };
        let curves = out.entry(member.to_owned()).or_default();
        curves.train_loss.push(t);
        curves.val_loss.push(val[i]);
    }
    Ok(out)
}

/// Where a run's curves came from.
#[derive(Debug, Clone, PartialEq)]
pub enum HistorySource {
    Published,
    /// An older run without `history.parquet`, read from its train stages still in the cache.
    Cache,
}

/// The run's curves: its published history, else its train stages' `metrics.csv` in the cache;
/// `None` when neither is there (then the comparison says "no curves for run X").
pub fn run_history(
    results_dir: &Path,
    record: &RunRecord,
    store: &CacheStore,
) -> anyhow::Result<Option<(History, HistorySource)>> {
    let published = results_dir.join(HISTORY_FILE);
    if published.is_file() {
        return Ok(Some((read_history(&published)?, HistorySource::Published)));
    }
    let mut out = History::new();
    for s in record.stages.iter().filter(|s| s.kind == StageKind::Train) {
        let csv = store.out_dir(&s.key).join(METRICS_FILE);
        if !csv.is_file() {
            continue;
        }
        let losses = crate::model::metrics_csv::read_losses(&csv)?;
        out.insert(
            trained_member(&s.name).to_owned(),
            Curves {
                train_loss: losses.iter().map(|l| l.0).collect(),
                val_loss: losses.iter().map(|l| l.1).collect(),
            },
        );
    }
    Ok((!out.is_empty()).then_some((out, HistorySource::Cache)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics_csv::{write, EpochMetrics};

    #[test]
    fn histories_read_back_per_member() {
        let dir = tempfile::tempdir().unwrap();
        let mut trains = Vec::new();
        for (name, val) in [("train/vae-z2", Some(9.0)), ("train/ae-z2", None)] {
            let out = dir.path().join(name.replace('/', "_"));
            std::fs::create_dir_all(&out).unwrap();
            let m = |epoch, loss: f64| EpochMetrics {
                epoch,
                train_loss: loss,
                val_loss: val.map(|v: f64| v + loss),
                recon: loss,
                kl: 0.5,
                seconds: 0.1,
            };
            write(&out.join(METRICS_FILE), &[m(1, 10.0), m(2, 8.0)]).unwrap();
            trains.push((name.to_owned(), out));
        }
        write_history(dir.path(), &trains).unwrap();
        let h = read_history(&dir.path().join(HISTORY_FILE)).unwrap();
        assert_eq!(h["vae-z2"].train_loss, vec![10.0, 8.0]);
        assert_eq!(h["vae-z2"].val_loss, vec![Some(19.0), Some(17.0)]);
        assert_eq!(h["ae-z2"].val_loss, vec![None, None]);
    }
}
