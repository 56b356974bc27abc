//! Comparison tables: DataFrame construction, CSV/Parquet round trips, seed aggregation and
//! pivot views, Markdown/HTML rendering.

use pipeline::tables::*;

fn row(model: &str, latent: i64, beta: f64, seed: i64, elbo: f64, acc: f64) -> Row {
    let mut r = Row::new();
    r.insert("model".into(), model.into());
    r.insert("latent_dim".into(), latent.into());
    r.insert("beta".into(), beta.into());
    r.insert("seed".into(), seed.into());
    r.insert("elbo".into(), elbo.into());
    r.insert("probe_acc".into(), acc.into());
    r
}

/// 2 latent sizes × 2 betas × 3 seeds of a VAE sweep.
fn sweep() -> Vec<Row> {
    let mut rows = Vec::new();
    for latent in [2, 10] {
        for beta in [0.5, 4.0] {
            for seed in 0..3 {
                let elbo = -100.0 - latent as f64 - beta + seed as f64; // seeds add 0, 1, 2
                let acc = 0.5 + 0.01 * latent as f64 + 0.1 * seed as f64;
                rows.push(row("vae", latent, beta, seed, elbo, acc));
            }
        }
    }
    rows
}

#[test]
fn dataframe_types_and_order() {
    let df = rows_to_dataframe(&sweep(), &["model", "latent_dim", "beta", "seed"]).unwrap();
    assert_eq!(df.height(), 12);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        ["model", "latent_dim", "beta", "seed", "elbo", "probe_acc"]
    );
    assert_eq!(
        df.column("latent_dim").unwrap().dtype(),
        &polars::prelude::DataType::Int64
    );
    assert_eq!(
        df.column("beta").unwrap().dtype(),
        &polars::prelude::DataType::Float64
    );
    assert_eq!(
        df.column("model").unwrap().dtype(),
        &polars::prelude::DataType::String
    );
    assert_eq!(dataframe_to_rows(&df).unwrap(), sweep());
}

#[test]
fn missing_values_and_mixed_types() {
    let mut a = row("ae", 2, 0.0, 0, -90.0, 0.8);
    a.remove("beta");
    let mut b = row("vae", 2, 1.0, 0, -95.0, 0.7);
    b.insert("note".into(), Value::Int(3));
    let mut c = b.clone();
    c.insert("note".into(), "diverged".into());
    let df = rows_to_dataframe(&[a.clone(), b, c], &[]).unwrap();
    assert_eq!(cell(&df, "beta", 0).unwrap(), None);
    // A column mixing numbers and strings becomes a string column.
    assert_eq!(cell(&df, "note", 1).unwrap(), Some(Value::Str("3".into())));
    assert_eq!(dataframe_to_rows(&df).unwrap()[0], a);
}

#[test]
fn csv_and_parquet_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let rows = sweep();
    let df = rows_to_dataframe(&rows, &["model", "latent_dim", "beta", "seed"]).unwrap();
    write_csv(&df, &dir.path().join("t/compare.csv")).unwrap();
    write_parquet(&df, &dir.path().join("t/compare.parquet")).unwrap();
    write_markdown(&df, &dir.path().join("t/compare.md")).unwrap();
    let md = std::fs::read_to_string(dir.path().join("t/compare.md")).unwrap();
    assert_eq!(md.lines().count(), 2 + rows.len());
    assert!(md.starts_with("| model | latent_dim | beta | seed | elbo | probe_acc |\n|---|---:|---:|---:|---:|---:|\n"), "{md}");
    let from_parquet = read_parquet(&dir.path().join("t/compare.parquet")).unwrap();
    assert!(from_parquet.equals_missing(&df));
    let from_csv = read_csv(&dir.path().join("t/compare.csv")).unwrap();
    assert_eq!(from_csv.get_column_names(), df.get_column_names());
    // CSV goes through decimal text: compare values, not bits.
    let back = dataframe_to_rows(&from_csv).unwrap();
    for (a, b) in back.iter().zip(&rows) {
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, v) in a {
            let (x, y) = (v.as_f64(), b[k].as_f64());
            match (x, y) {
                (Some(x), Some(y)) => assert!((x - y).abs() < 1e-12, "{k}: {x} vs {y}"),
                _ => assert_eq!(v, &b[k]),
            }
        }
    }
}

#[test]
fn seeds_aggregate_to_mean_and_sd() {
    let agg = aggregate_seeds(&sweep(), "seed", &["elbo", "probe_acc"]).unwrap();
    assert_eq!(agg.height(), 4);
    let names: Vec<String> = agg
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "beta",
            "latent_dim",
            "model",
            "n_seeds",
            "elbo_mean",
            "elbo_sd",
            "probe_acc_mean",
            "probe_acc_sd"
        ]
    );
    let rows = dataframe_to_rows(&agg).unwrap();
    // Sorted by (beta, latent_dim, model): first group is beta 0.5, latent 2.
    assert_eq!(rows[0]["beta"], Value::Float(0.5));
    assert_eq!(rows[0]["latent_dim"], Value::Int(2));
    assert_eq!(rows[0]["n_seeds"], Value::Int(3));
    // elbo = -102.5 + {0, 1, 2}: mean -101.5, sample sd 1.
    assert!((rows[0]["elbo_mean"].as_f64().unwrap() + 101.5).abs() < 1e-12);
    assert!((rows[0]["elbo_sd"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    // probe_acc = 0.52 + {0, 0.1, 0.2}: mean 0.62, sd 0.1.
    assert!((rows[0]["probe_acc_mean"].as_f64().unwrap() - 0.62).abs() < 1e-12);
    assert!((rows[0]["probe_acc_sd"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    // Last group: beta 4, latent 10 -> elbo mean -114 + 1.
    assert!((rows[3]["elbo_mean"].as_f64().unwrap() + 113.0).abs() < 1e-12);

    let shown = with_mean_sd(&agg).unwrap();
    let md = to_markdown(&shown).unwrap();
    assert!(
        md.starts_with("| beta | latent_dim | model | n_seeds | elbo | probe_acc |\n"),
        "{md}"
    );
    assert!(
        md.contains("| 0.5 | 2 | vae | 3 | -101.5 ± 1 | 0.62 ± 0.1 |"),
        "{md}"
    );
    assert!(aggregate_seeds(&sweep(), "seed", &["model"]).is_err());
}

#[test]
fn pivot_latent_by_beta() {
    let agg = aggregate_seeds(&sweep(), "seed", &["elbo", "probe_acc"]).unwrap();
    let grid = pivot(&agg, "latent_dim", "beta", "elbo_mean").unwrap();
    let names: Vec<String> = grid
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ["latent_dim", "beta=0.5", "beta=4"]);
    let rows = dataframe_to_rows(&grid).unwrap();
    assert_eq!(rows[1]["latent_dim"], Value::Int(10));
    assert!((rows[1]["beta=4"].as_f64().unwrap() + 113.0).abs() < 1e-12);
    assert!((rows[0]["beta=0.5"].as_f64().unwrap() + 101.5).abs() < 1e-12);
    // Unaggregated seeds collide in a cell.
    let raw = rows_to_dataframe(&sweep(), &[]).unwrap();
    assert!(pivot(&raw, "latent_dim", "beta", "elbo").is_err());
    let html = to_html(&grid).unwrap();
    assert!(
        html.contains("<th>beta=0.5</th>") && html.contains("<td class=\"num\">-113</td>"),
        "{html}"
    );
}
