//! Sweep members' labels (`vae-z2-b0.5-s3`): each swept parameter the variant reads, by its
//! abbreviation and displayed value, made unique where two runs would share one.

use std::collections::BTreeMap;

use super::validated::{RunList, RunSpec};

pub(super) fn param_display(run: &RunSpec, name: &str) -> String {
    let v = serde_json::to_value(run).unwrap_or_default();
    match v.get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(x))
            if x.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && f.abs() < 1e15) =>
        {
            format!("{}", x.as_f64().unwrap_or_default() as i64)
        }
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("x"),
        Some(serde_json::Value::Object(o)) => o
            .values()
            .map(|x| x.to_string().trim_matches('"').to_owned())
            .collect::<Vec<_>>()
            .join(":"),
        Some(x) => x.to_string(),
        // The one run parameter left out of the run at its default (so MLP keys stay as they
        // were): name the default in labels.
        None if name == "architecture" => {
            crate::model::config::defaults::BACKBONE.name().to_owned()
        }
        None => String::new(),
    }
}

pub(super) fn abbreviation(name: &str) -> String {
    match name {
        "latent_dim" => "z".into(),
        "beta" => "b".into(),
        "seed" => "s".into(),
        "hidden" => "h".into(),
        "epochs" => "e".into(),
        "batch_size" => "bs".into(),
        "noise_level" => "nl".into(),
        "kl_warmup_epochs" => "warm".into(),
        "weight_decay" => "wd".into(),
        // The value ("mlp", "conv") says it all.
        "architecture" => String::new(),
        other => other.replace('_', ""),
    }
}

/// Two different runs can share a label when they differ in an un-swept variant default.
pub(super) fn unique_labels(runs: &mut RunList) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for r in runs.iter_mut() {
        let n = count.entry(r.label.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            r.label = format!("{}-{}", r.label, n);
        }
    }
}
