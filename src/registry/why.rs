//! Explaining a cache miss: the hash inputs of now vs the last recorded run of the same stage.

use serde_json::Value;

use crate::plan::KeyInputs;

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Dotted path inside the key inputs, e.g. `params.run.latent_dim` or `inputs.data`.
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| match v {
            None => "(absent)".to_owned(),
            Some(Value::String(s)) if s.len() == 64 => format!("{}…", &s[..12]),
            Some(v) => {
                let t = v.to_string();
                if t.len() > 80 {
                    format!("{}…", &t[..80])
                } else {
                    t
                }
            }
        };
        write!(
            f,
            "{}: {} → {}",
            self.path,
            show(&self.before),
            show(&self.after)
        )
    }
}

pub fn diff(before: &KeyInputs, after: &KeyInputs) -> Vec<Change> {
    let (a, b) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    let mut out = Vec::new();
    diff_values("", Some(&a), Some(&b), &mut out);
    out
}

fn diff_values(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_values(&p, x.get(k), y.get(k), out);
            }
        }
        (x, y) if x != y => out.push(Change {
            path: path.to_owned(),
            before: x.cloned(),
            after: y.cloned(),
        }),
        _ => {}
    }
}

/// One line summarising why a stage will run, from the changes since its last recorded run.
pub fn summarize(changes: &[Change]) -> String {
    let mut parts: Vec<String> = changes.iter().take(3).map(|c| c.to_string()).collect();
    if changes.len() > 3 {
        parts.push(format!("and {} more", changes.len() - 3));
    }
    parts.join("; ")
}
