//! The spec's `[executor]` section: where stages run (`local`, or `slurm` with sbatch
//! defaults and per-stage-kind overrides such as `[executor.train] time = "4:00:00"`).
//! None of it is part of any stage key: where a stage runs never changes what it computes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::check::Checker;
use crate::plan::StageKind;

/// Where stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum ExecutorKind {
    /// In this process's scheduler, on this machine.
    #[default]
    Local,
    /// One SLURM job per stage, each running `pipeline exec-stage KEY`.
    Slurm,
}

pub const EXECUTOR_NAMES: &[&str] = &["local", "slurm"];

impl ExecutorKind {
    pub fn parse(s: &str) -> Option<ExecutorKind> {
        match s {
            "local" => Some(ExecutorKind::Local),
            "slurm" => Some(ExecutorKind::Slurm),
            _ => None,
        }
    }
}

/// sbatch settings as written: in `[executor]` (defaults) or `[executor.<kind>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmResources {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    /// `--time`, e.g. "30", "1:00:00", "2-00:00:00".
    pub time: Option<String>,
    /// `--mem`, e.g. "4G", "500M".
    pub memory: Option<String>,
    /// `--cpus-per-task` (default: the stage's own `cores`).
    pub cpus: Option<i64>,
}

impl SlurmResources {
    /// `self` with every unset field taken from `defaults`.
    pub fn or(&self, defaults: &SlurmResources) -> SlurmResources {
        SlurmResources {
            partition: self.partition.clone().or(defaults.partition.clone()),
            account: self.account.clone().or(defaults.account.clone()),
            qos: self.qos.clone().or(defaults.qos.clone()),
            time: self.time.clone().or(defaults.time.clone()),
            memory: self.memory.clone().or(defaults.memory.clone()),
            cpus: self.cpus.or(defaults.cpus),
        }
    }
}

/// `[executor]` as written: `kind`, the sbatch defaults, and one table per stage kind; split
/// and checked in [`executor`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RawExecutor {
    pub kind: Option<String>,
    #[serde(flatten)]
    pub rest: toml::Table,
}

/// The fields of [`SlurmResources`], which `[executor]` holds beside its per-kind tables.
const RESOURCE_FIELDS: &[&str] = &["partition", "account", "qos", "time", "memory", "cpus"];

/// The validated `[executor]` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutorSpec {
    pub kind: ExecutorKind,
    pub defaults: SlurmResources,
    pub per_kind: BTreeMap<StageKind, SlurmResources>,
}

impl ExecutorSpec {
    /// The sbatch settings of a stage of `kind`: its kind's table over the defaults.
    pub fn slurm_for(&self, kind: StageKind) -> SlurmResources {
        self.per_kind
            .get(&kind)
            .map_or_else(|| self.defaults.clone(), |r| r.or(&self.defaults))
    }
}

pub fn executor(c: &mut Checker, raw: Option<&RawExecutor>) -> ExecutorSpec {
    let Some(raw) = raw else {
        return ExecutorSpec::default();
    };
    let kind = c
        .name(
            "executor.kind",
            raw.kind.as_deref(),
            "local",
            EXECUTOR_NAMES,
            ExecutorKind::parse,
        )
        .unwrap_or_default();
    let (fields, tables): (toml::Table, toml::Table) = raw
        .rest
        .clone()
        .into_iter()
        .partition(|(k, _)| RESOURCE_FIELDS.contains(&k.as_str()));
    let defaults = typed(c, "executor", toml::Value::Table(fields)).unwrap_or_default();
    let kind_names: Vec<&str> = StageKind::ALL.iter().map(|k| k.name()).collect();
    let mut per_kind = BTreeMap::new();
    for (name, value) in tables {
        let key = format!("executor.{name}");
        let Some(stage_kind) = StageKind::parse(&name) else {
            let hint =
                super::diagnostics::did_you_mean(&name, kind_names.iter().copied()).or_else(|| {
                    Some(format!(
                        "expected kind, {}, or a table per stage kind: {}",
                        RESOURCE_FIELDS.join(", "),
                        kind_names.join(", ")
                    ))
                });
            c.fail_hint(&key, format!("unknown key \"{name}\""), hint);
            continue;
        };
        if let Some(r) = typed(c, &key, value) {
            per_kind.insert(stage_kind, r);
        }
    }
    ExecutorSpec {
        kind,
        defaults,
        per_kind,
    }
}

/// One table of sbatch settings, type- and value-checked.
fn typed(c: &mut Checker, key: &str, value: toml::Value) -> Option<SlurmResources> {
    match value.try_into::<SlurmResources>() {
        Ok(r) => {
            resources(c, key, &r);
            Some(r)
        }
        Err(e) => {
            c.fail_hint(
                key,
                format!("invalid: {}", e.message().trim()),
                Some(format!("a table of {}", RESOURCE_FIELDS.join(", "))),
            );
            None
        }
    }
}

/// Checks the values sbatch would otherwise reject only once the job is submitted.
fn resources(c: &mut Checker, key: &str, r: &SlurmResources) {
    if let Some(t) = &r.time {
        let ok = !t.is_empty()
            && t.chars()
                .all(|ch| ch.is_ascii_digit() || ch == ':' || ch == '-');
        if !ok {
            c.fail_hint(
                &format!("{key}.time"),
                format!("\"{t}\" is not a SLURM time limit"),
                Some("write minutes (\"30\"), \"H:MM:SS\" or \"D-HH:MM:SS\"".into()),
            );
        }
    }
    if let Some(m) = &r.memory {
        let digits = m.trim_end_matches(['K', 'M', 'G', 'T']);
        if digits.is_empty()
            || !digits.chars().all(|ch| ch.is_ascii_digit())
            || m.len() - digits.len() > 1
        {
            c.fail_hint(
                &format!("{key}.memory"),
                format!("\"{m}\" is not a SLURM memory size"),
                Some("write a number with an optional K, M, G or T suffix, e.g. \"4G\"".into()),
            );
        }
    }
    if r.cpus.is_some() {
        c.int(&format!("{key}.cpus"), r.cpus, 1, 1, 4096);
    }
    for (field, v) in [
        ("partition", &r.partition),
        ("account", &r.account),
        ("qos", &r.qos),
    ] {
        if let Some(v) = v
            .as_ref()
            .filter(|v| v.is_empty() || v.contains(char::is_whitespace))
        {
            c.fail(
                &format!("{key}.{field}"),
                format!("\"{v}\" is not a SLURM {field} name"),
            );
        }
    }
}
