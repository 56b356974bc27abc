//! One run's published comparison table read back as sweep members, and the join of several
//! runs' members on their sweep key (the swept parameters minus `seed`, numbers normalised so
//! that β written as `1` in one run and `1.0` in another is one member).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::metrics::metric;
use crate::registry::{runs, RunRecord};
use crate::tables::{self, Value};

/// Where the report stage publishes the table of every member.
pub const COMPARISON_TABLE: &str = "report/comparison.parquet";

/// A member's sweep key: swept parameter → normalised value, `seed` and `run` left out.
pub type MemberKey = BTreeMap<String, String>;

/// One member of one run: its seeds' values of each metric.
#[derive(Debug, Clone)]
pub struct Member {
    /// The member's label without its seed part (`vae-z2-b1` for `vae-z2-b1-s3`).
    pub label: String,
    /// The labels of its rows (one per seed), which also name its stages (`train/<label>`).
    pub row_labels: Vec<String>,
    /// Metric column → one value per seed that reports it.
    pub values: BTreeMap<String, Vec<f64>>,
}

/// One run's members, read from its results folder.
#[derive(Debug, Clone)]
pub struct RunTable {
    pub record: RunRecord,
    /// `results/<experiment>/<run-id>/`.
    pub dir: PathBuf,
    pub members: BTreeMap<MemberKey, Member>,
    /// The member keys in table order.
    pub order: Vec<MemberKey>,
}

/// A number as one text whatever its type: `1`, `1.0` and `1e0` all read `1`.
fn normalised(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => other.as_f64().map(|f| f.to_string()).unwrap_or_default(),
    }
}

/// `vae-z2-b1-s3` without its `-s3` part (the seed is not part of a member's identity).
fn without_seed(label: &str, seed: Option<&Value>) -> String {
    let Some(seed) = seed.map(normalised) else {
        return label.to_owned();
    };
    let part = format!("s{seed}");
    let kept: Vec<&str> = label.split('-').filter(|p| *p != part).collect();
    kept.join("-")
}

impl RunTable {
    /// Reads `report/comparison.parquet` of the run `record` under `results`.
    pub fn read(results: &Path, record: RunRecord) -> anyhow::Result<RunTable> {
        let dir = runs::results_dir(results, &record);
        let path = dir.join(COMPARISON_TABLE);
        if !path.is_file() {
            anyhow::bail!(
                "run {} has no comparison table {} (its report stage did not publish one)",
                record.run_id,
                path.display()
            );
        }
        let df = tables::read_parquet(&path)?;
        let rows = tables::dataframe_to_rows(&df)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let mut members: BTreeMap<MemberKey, Member> = BTreeMap::new();
        let mut order = Vec::new();
        for row in rows {
            let key: MemberKey = row
                .iter()
                .filter(|(k, _)| metric(k).is_none() && *k != "run" && *k != "seed")
                .map(|(k, v)| (k.clone(), normalised(v)))
                .collect();
            let row_label = row.get("run").map(normalised).unwrap_or_default();
            if !members.contains_key(&key) {
                order.push(key.clone());
            }
            let member = members.entry(key).or_insert_with(|| Member {
                label: without_seed(&row_label, row.get("seed")),
                row_labels: Vec::new(),
                values: BTreeMap::new(),
            });
            member.row_labels.push(row_label);
            for (column, v) in &row {
                if let (Some(_), Some(x)) = (metric(column), v.as_f64()) {
                    member.values.entry(column.clone()).or_default().push(x);
                }
            }
        }
        Ok(RunTable {
            record,
            dir,
            members,
            order,
        })
    }
}

impl RunTable {
    /// The values of `column` of the rows of member `label` (with or without its seed part)
    /// in the comparison table at `path`: what trend mode reads of each of many runs.
    pub fn member_values(path: &Path, label: &str, column: &str) -> anyhow::Result<Vec<f64>> {
        use polars::prelude::{ParquetReader, SerReader};
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = ParquetReader::new(file);
        let schema = reader.schema()?;
        if schema.get(column).is_none() {
            return Ok(Vec::new());
        }
        // Only the three columns read: a thousand runs' tables are read in trend mode.
        let wanted: Vec<String> = ["run", "seed", column]
            .iter()
            .filter(|c| schema.get(c).is_some())
            .map(|c| c.to_string())
            .collect();
        let df = reader
            .with_columns(Some(wanted))
            .finish()
            .with_context(|| format!("reading {}", path.display()))?;
        let has_seed = df.column("seed").is_ok();
        let mut out = Vec::new();
        for i in 0..df.height() {
            let row_label = tables::cell(&df, "run", i)?
                .map(|v| normalised(&v))
                .unwrap_or_default();
            let seed = if has_seed {
                tables::cell(&df, "seed", i)?
            } else {
                None
            };
            if row_label == label || without_seed(&row_label, seed.as_ref()) == label {
                if let Some(x) = tables::cell(&df, column, i)?.and_then(|v| v.as_f64()) {
                    out.push(x);
                }
            }
        }
        Ok(out)
    }
}

/// The union of the runs' member keys, in table order (the first run's, then members only
/// later runs have), each with its label (from the first run that has it) and which runs
/// have it.
pub fn joined_keys(runs: &[RunTable]) -> Vec<(MemberKey, String, Vec<bool>)> {
    let mut keys: Vec<(&MemberKey, &str)> = Vec::new();
    for run in runs {
        for k in &run.order {
            if keys.iter().all(|(x, _)| *x != k) {
                keys.push((k, &run.members[k].label));
            }
        }
    }
    keys.into_iter()
        .map(|(k, label)| {
            let present = runs.iter().map(|r| r.members.contains_key(k)).collect();
            (k.clone(), label.to_owned(), present)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_any_type_normalise_alike() {
        assert_eq!(normalised(&Value::Int(1)), normalised(&Value::Float(1.0)));
        assert_eq!(normalised(&Value::Float(0.5)), "0.5");
        assert_eq!(normalised(&Value::Str("vae".into())), "vae");
    }

    #[test]
    fn the_seed_part_leaves_the_label() {
        assert_eq!(
            without_seed("vae-z2-b1-s3", Some(&Value::Int(3))),
            "vae-z2-b1"
        );
        assert_eq!(without_seed("vae-z2-s1", Some(&Value::Int(3))), "vae-z2-s1");
        assert_eq!(without_seed("ae-z2", None), "ae-z2");
    }
}
