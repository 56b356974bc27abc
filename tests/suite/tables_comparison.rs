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

#[test]
fn one_seed_has_n_and_no_sd() {
    let rows: Vec<Row> = sweep()
        .into_iter()
        .filter(|r| r["seed"] == Value::Int(0))
        .collect();
    let agg = aggregate_seeds(&rows, "seed", &["elbo", "probe_acc"]).unwrap();
    let first = &dataframe_to_rows(&agg).unwrap()[0];
    assert_eq!(first["n_seeds"], Value::Int(1));
    assert!(first.contains_key("elbo_mean"));
    // One seed says nothing about the spread: sd is left empty, not written as 0.
    assert!(!first.contains_key("elbo_sd"), "{first:?}");
    let md = to_markdown(&with_mean_sd(&agg).unwrap()).unwrap();
    assert!(md.contains("| 0.5 | 2 | vae | 1 | -102.5 | 0.52 |"), "{md}");
    assert!(!md.contains('±'), "{md}");
}

mod sweep_shapes {
    //! Every comparison table for sweep shapes that once broke it or dropped a table silently.

    use std::collections::BTreeMap;

    use pipeline::metrics::EvalMetrics;
    use pipeline::report::{compare, MemberResult, ReportView};

    /// A member of `variant` with the given swept values; metrics depend on them (and on the
    /// seed, so seeds differ).
    fn member(sweep: &[(&str, &str)]) -> MemberResult {
        let get = |k: &str| sweep.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let z: usize = get("latent_dim").unwrap_or("4").parse().unwrap();
        let beta: f64 = get("beta").unwrap_or("1").parse().unwrap();
        let seed: f64 = get("seed").unwrap_or("0").parse().unwrap();
        let vae = get("variant") == Some("vae");
        let recon = 100.0 - z as f64 + seed;
        let kl = if vae { 10.0 / beta + z as f64 } else { 0.0 };
        let mut iwae = BTreeMap::new();
        if vae {
            iwae.insert(50, -(recon + kl) + 2.0);
        }
        MemberResult {
            label: sweep.iter().map(|(_, v)| *v).collect::<Vec<_>>().join("-"),
            sweep: sweep
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            metrics: EvalMetrics {
                n_test: 300,
                latent_dim: z,
                recon_bce: recon - 1.0,
                recon_mse: 10.0,
                recon,
                kl,
                elbo: -(recon + kl),
                iwae,
                active_units: z,
                ..Default::default()
            },
        }
    }

    /// `[sweep] variant = ["ae","vae"], latent_dim = [3, 7], beta = [0.25, 16], seed = [1,2,3]`
    /// (the AE does not read β).
    fn beta_sweep_over_seeds() -> Vec<MemberResult> {
        let mut ms = Vec::new();
        for z in ["3", "7"] {
            for seed in ["1", "2", "3"] {
                ms.push(member(&[
                    ("variant", "ae"),
                    ("latent_dim", z),
                    ("seed", seed),
                ]));
                for beta in ["0.25", "16"] {
                    ms.push(member(&[
                        ("variant", "vae"),
                        ("latent_dim", z),
                        ("beta", beta),
                        ("seed", seed),
                    ]));
                }
            }
        }
        ms
    }

    fn table<'a>(view: &'a ReportView, name: &str) -> &'a pipeline::report::TableView {
        view.tables
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no table {name}: {:?}", names(view)))
    }

    fn names(view: &ReportView) -> Vec<&str> {
        view.tables.iter().map(|t| t.name.as_str()).collect()
    }

    fn column(t: &pipeline::report::TableView, heading: &str) -> Vec<String> {
        let j = t
            .columns
            .iter()
            .position(|c| c == heading)
            .unwrap_or_else(|| panic!("no column {heading} in {:?}", t.columns));
        t.rows.iter().map(|r| r[j].clone()).collect()
    }

    #[test]
    fn issue_9_pivots_of_a_beta_sweep_over_seeds_average_the_seeds() {
        let (tables, view) = compare(&beta_sweep_over_seeds()).unwrap();
        assert!(view.notices.is_empty(), "{:?}", view.notices);
        let pivot = table(&view, "pivot_elbo_latent_x_beta");
        assert_eq!(pivot.columns, ["latent_dim", "β = 0.25", "β = 16"]);
        assert!(
            pivot.caption.contains("mean over 3 seeds"),
            "{}",
            pivot.caption
        );
        // ELBO = −(100 − z + seed + 10/β + z): the mean over seeds 1..3 at β = 16, z = 3.
        let expected = -(100.0 + 2.0 + 10.0 / 16.0);
        let raw = &tables
            .iter()
            .find(|t| t.view.name == pivot.name)
            .unwrap()
            .data;
        let cell = pipeline::tables::cell(raw, "beta=16", 0).unwrap().unwrap();
        assert!((cell.as_f64().unwrap() - expected).abs() < 1e-9, "{cell:?}");
        let seeds = table(&view, "comparison_by_seed");
        assert_eq!(seeds.rows.len(), 6, "2 AEs + 2 × 2 VAEs");
        assert!(column(seeds, "n_seeds").iter().all(|n| n == "3"));
        assert!(column(seeds, "ELBO").iter().all(|c| c.contains(" ± ")));
        assert_eq!(table(&view, "comparison").rows.len(), 18);
    }

    #[test]
    fn one_beta_one_member_one_variant_and_one_class_say_what_is_missing() {
        // One β: no pivot, and a notice saying why.
        let one_beta: Vec<MemberResult> = beta_sweep_over_seeds()
            .into_iter()
            .filter(|m| m.sweep.get("beta").is_none_or(|b| b == "16"))
            .collect();
        let (_, view) = compare(&one_beta).unwrap();
        assert!(!names(&view).iter().any(|n| n.starts_with("pivot_")));
        assert_eq!(view.notices.len(), 1, "{:?}", view.notices);
        assert!(
            view.notices[0].contains("one value (16)"),
            "{:?}",
            view.notices
        );

        // One member, no seeds axis: the member table only, no kNN column (one class).
        let (_, view) = compare(&[member(&[("variant", "vae")])]).unwrap();
        assert_eq!(names(&view), ["comparison"]);
        assert!(!view.tables[0].columns.iter().any(|c| c.contains("kNN")));

        // A β sweep of a single variant with a fixed latent size still gets its pivot,
        // its row labelled with the evaluated latent size.
        let betas: Vec<MemberResult> = ["2", "4", "8"]
            .iter()
            .map(|b| member(&[("variant", "vae"), ("beta", b)]))
            .collect();
        let (_, view) = compare(&betas).unwrap();
        let pivot = table(&view, "pivot_kl_latent_x_beta");
        assert_eq!(pivot.rows, [["4", "9", "6.5", "5.25"].map(String::from)]);
    }

    #[test]
    fn issue_9_columns_say_where_reconstructions_come_from_and_the_iwae_image_count() {
        let mut m = member(&[("variant", "vae"), ("beta", "2")]);
        m.metrics.iwae_images = Some(250);
        let (_, view) = compare(&[m]).unwrap();
        let t = table(&view, "comparison");
        for heading in ["BCE at z=μ", "ELBO recon (sampled z)", "KL(q‖p)", "ELBO"] {
            assert!(t.columns.iter().any(|c| c == heading), "{:?}", t.columns);
        }
        // The bound used the first 250 of the 300 test images, with k = 50.
        assert!(
            t.columns.iter().any(|c| c == "NLL (IWAE) k=50, 250 images"),
            "{:?}",
            t.columns
        );
        let get = |h: &str| column(t, h)[0].parse::<f64>().unwrap();
        assert!((get("ELBO") + get("ELBO recon (sampled z)") + get("KL(q‖p)")).abs() < 1e-2);
        let md = t.to_markdown().unwrap();
        assert!(
            md.contains("- ELBO recon (sampled z): the ELBO's own"),
            "{md}"
        );
    }
}
