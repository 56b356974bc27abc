//! Sweep expansion: grid × include − exclude, per-variant defaults, projection onto what each
//! variant reads, and de-duplication of runs that became identical after projection.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::check::Checker;
use super::diagnostics::{did_you_mean, plain_serde_message, type_hint};
use super::labels::{abbreviation, param_display, unique_labels};
use super::raw::{RawRunParams, RawSpec, RUN_PARAM_NAMES};
use super::run_checks::run_spec;
use super::validated::{RunList, SweepMember};
use super::variant::*;
use crate::model::config::defaults;

/// One point of the sweep before validation: parameter → (value, key path it was written at).
type Assignment = Vec<(String, toml::Value, String)>;

/// What is known of the training data before it is read, for the checks that depend on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataFacts {
    /// Training images after split, class filter and subset.
    pub n_train: Option<usize>,
    /// Width of a flattened image.
    pub input_dim: Option<usize>,
    /// Image height and width, where known before the data is read.
    pub image: Option<(usize, usize)>,
}

pub fn expand(c: &mut Checker, raw: &RawSpec, seed: u64, data: DataFacts) -> RunList {
    let base = RawRunParams::from_sections(
        &raw.model.clone().unwrap_or_default(),
        &raw.train.clone().unwrap_or_default(),
    );
    for name in raw.variants.keys() {
        if Variant::parse(name).is_none() {
            let hint = did_you_mean(name, VARIANT_NAMES.iter().copied());
            c.fail_hint(
                &format!("variants.{name}"),
                format!("unknown variant \"{name}\""),
                hint,
            );
        }
    }
    let sweep = raw.sweep.clone().unwrap_or_default();
    let axes = axes(c, &sweep.axes);
    let mut members = grid(&axes);
    let grid_size = members.len();
    for (i, ex) in sweep.exclude.iter().enumerate() {
        let key = format!("sweep.exclude[{i}]");
        let pattern = table_assignment(c, ex, &key);
        let before = members.len();
        members.retain(|m| {
            !pattern
                .iter()
                .all(|(k, v, _)| m.iter().any(|(mk, mv, _)| mk == k && same(mv, v)))
        });
        if members.len() == before {
            c.fail(&key, "this exclude entry matches no sweep member");
        }
    }
    if members.is_empty() && grid_size > 0 && sweep.include.is_empty() {
        c.fail_hint(
            "sweep.exclude",
            format!("excludes all {grid_size} sweep member(s): nothing would be trained"),
            Some("remove an exclude entry, or add members with `include`".into()),
        );
    }
    for (i, inc) in sweep.include.iter().enumerate() {
        let key = format!("sweep.include[{i}]");
        let a = table_assignment(c, inc, &key);
        if members.iter().any(|m| same_assignment(m, &a)) {
            c.fail(
                &key,
                "duplicate sweep member: the grid or an earlier include already has it",
            );
        }
        members.push(a);
    }
    let label_params: Vec<String> = RUN_PARAM_NAMES
        .iter()
        .filter(|p| **p != "variant" && members.iter().any(|m| m.iter().any(|(k, _, _)| k == *p)))
        .map(|p| p.to_string())
        .collect();
    let mut runs: RunList = Vec::new();
    for m in &members {
        let Some(member) = member_run(c, raw, &base, m, seed, data, &label_params) else {
            continue;
        };
        if runs.iter().any(|r| r.run == member.run) {
            continue; // e.g. an AE crossed with several β: one run.
        }
        runs.push(member);
    }
    unique_labels(&mut runs);
    runs
}

/// Validated grid axes in canonical parameter order.
fn axes(
    c: &mut Checker,
    raw: &BTreeMap<String, toml::Value>,
) -> Vec<(String, Vec<(toml::Value, String)>)> {
    for name in raw.keys() {
        if !RUN_PARAM_NAMES.contains(&name.as_str()) {
            let hint = did_you_mean(name, RUN_PARAM_NAMES.iter().copied()).or_else(|| {
                Some(format!(
                    "sweepable parameters: {}",
                    RUN_PARAM_NAMES.join(", ")
                ))
            });
            c.fail_hint(
                &format!("sweep.{name}"),
                format!("unknown sweep parameter \"{name}\""),
                hint,
            );
        }
    }
    let mut out = Vec::new();
    for name in RUN_PARAM_NAMES.iter() {
        let Some(value) = raw.get(*name) else {
            continue;
        };
        let key = format!("sweep.{name}");
        let values = match value.as_array() {
            Some(a) if !a.is_empty() => a.clone(),
            _ => {
                c.fail(
                    &key,
                    format!("a sweep axis must be a non-empty list, got {value}"),
                );
                continue;
            }
        };
        let mut kept: Vec<(toml::Value, String)> = Vec::new();
        for (i, v) in values.into_iter().enumerate() {
            let vkey = format!("{key}[{i}]");
            if let Some(j) = kept.iter().position(|(k, _)| same(k, &v)) {
                c.fail(
                    &vkey,
                    format!("duplicate sweep value {v} (also {key}[{j}])"),
                );
                continue;
            }
            if check_type(c, name, &v, &vkey) {
                kept.push((v, vkey));
            }
        }
        out.push((name.to_string(), kept));
    }
    out
}

fn grid(axes: &[(String, Vec<(toml::Value, String)>)]) -> Vec<Assignment> {
    let mut members: Vec<Assignment> = vec![Vec::new()];
    for (name, values) in axes {
        members = members
            .iter()
            .flat_map(|m| {
                values.iter().map(move |(v, key)| {
                    let mut m = m.clone();
                    m.push((name.clone(), v.clone(), key.clone()));
                    m
                })
            })
            .collect();
    }
    members
}

fn table_assignment(c: &mut Checker, t: &toml::Table, key: &str) -> Assignment {
    let mut out = Vec::new();
    for (k, v) in t {
        let vkey = format!("{key}.{k}");
        if !RUN_PARAM_NAMES.contains(&k.as_str()) {
            let hint = did_you_mean(k, RUN_PARAM_NAMES.iter().copied());
            c.fail_hint(&vkey, format!("unknown sweep parameter \"{k}\""), hint);
        } else if check_type(c, k, v, &vkey) {
            out.push((k.clone(), v.clone(), vkey));
        }
    }
    out
}

/// Whether `value` has the right type for parameter `name`; reports the serde message if not.
fn check_type(c: &mut Checker, name: &str, value: &toml::Value, key: &str) -> bool {
    let mut t = toml::Table::new();
    t.insert(name.to_owned(), value.clone());
    match RawRunParams::deserialize(toml::Value::Table(t)) {
        Ok(_) => true,
        Err(e) => {
            let message = plain_serde_message(e.message());
            let hint = type_hint(&message);
            c.fail_hint(key, format!("{message} (value {value})"), hint);
            false
        }
    }
}

/// TOML values compared as a user means them: `1` and `1.0` are the same β.
fn same(a: &toml::Value, b: &toml::Value) -> bool {
    match (a, b) {
        (toml::Value::Integer(x), toml::Value::Float(y))
        | (toml::Value::Float(y), toml::Value::Integer(x)) => *x as f64 == *y,
        _ => a == b,
    }
}

fn same_assignment(a: &Assignment, b: &Assignment) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v, _)| b.iter().any(|(bk, bv, _)| bk == k && same(bv, v)))
}

fn member_run(
    c: &mut Checker,
    raw: &RawSpec,
    base: &RawRunParams,
    m: &Assignment,
    seed: u64,
    data: DataFacts,
    label_params: &[String],
) -> Option<SweepMember> {
    let mut table = toml::Table::new();
    for (k, v, _) in m {
        table.insert(k.clone(), v.clone());
    }
    let top = RawRunParams::deserialize(toml::Value::Table(table)).ok()?;
    let variant_name = top
        .variant
        .clone()
        .or_else(|| base.variant.clone())
        .unwrap_or_else(|| defaults::VARIANT.name().into());
    let variant_defaults = raw.variants.get(&variant_name).cloned().unwrap_or_default();
    let p = base.overlay(&variant_defaults).overlay(&top);
    // Key path where each parameter's value was written, for error locations.
    let origin = |field: &str| -> String {
        if let Some((_, _, key)) = m.iter().find(|(k, _, _)| k == field) {
            key.clone()
        } else if variant_field_set(&variant_defaults, field) {
            format!("variants.{variant_name}.{field}")
        } else {
            format!("{}.{field}", RawRunParams::section_of(field))
        }
    };
    let run = run_spec(c, &p, &origin, seed, data)?;
    super::machine::check_run(c, &run, &origin, data.input_dim, data.image);
    let mut label = run.variant.name().to_owned();
    let mut sweep_values = BTreeMap::new();
    sweep_values.insert("variant".to_owned(), run.variant.name().to_owned());
    for name in label_params {
        if !run.variant.reads(name) {
            continue;
        }
        let value = param_display(&run, name);
        label.push('-');
        label.push_str(&abbreviation(name));
        label.push_str(&value);
        sweep_values.insert(name.clone(), value);
    }
    Some(SweepMember {
        label,
        run,
        sweep_values,
    })
}

fn variant_field_set(p: &RawRunParams, field: &str) -> bool {
    let t = toml::Table::try_from(p).unwrap_or_default();
    t.contains_key(field)
}
