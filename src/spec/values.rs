//! The spec's effective values by dotted path (`train.lr`), which `runs --where` filters on: a
//! pure function of the spec's text and its `--set` overrides, kept in each run index line.

use std::collections::BTreeMap;
use std::sync::Mutex;

pub type SpecValues = BTreeMap<String, serde_json::Value>;

/// The last spec loaded in this process, with its values: the run's index line asks for
/// exactly these, and parsing a spec of thousands of commands a second time costs as much as
/// the rest of a no-op rerun's bookkeeping.
static LOADED: Mutex<Option<(String, Vec<String>, SpecValues)>> = Mutex::new(None);

/// The values of `text` with `overrides` applied (an override that does not apply is skipped;
/// a spec that does not parse has none).
pub fn of(text: &str, overrides: &[String]) -> SpecValues {
    if let Some((t, o, values)) = LOADED.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if t == text && o == overrides {
            return values.clone();
        }
    }
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else {
        return SpecValues::new();
    };
    for raw in overrides {
        if let Ok(o) = super::source::Override::parse(raw) {
            let _ = o.apply(&mut table);
        }
    }
    of_table(&table)
}

/// Noted by the loader, which has the overridden table at hand.
pub(super) fn remember(text: &str, overrides: Vec<String>, table: &toml::Table) {
    let values = of_table(table);
    *LOADED.lock().unwrap_or_else(|e| e.into_inner()) = Some((text.to_owned(), overrides, values));
}

pub(super) fn of_table(table: &toml::Table) -> SpecValues {
    let mut out = SpecValues::new();
    for (k, v) in table {
        flatten(k, v, &mut out);
    }
    out
}

/// Arrays of tables (`[[command]]`) are left out: no dotted path names one of their values, and
/// a sweep of thousands of commands would put its whole spec in every index line.
fn flatten(path: &str, v: &toml::Value, out: &mut SpecValues) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&format!("{path}.{k}"), v, out);
            }
        }
        toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {}
        v => {
            let json = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
            out.insert(path.to_owned(), json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_overrides_and_leave_command_tables_out() {
        let text = "[train]\nlr = 0.001\nepochs = 3\n[[command]]\nname = \"a\"\ncmd = \"true\"\n";
        let v = of(text, &["train.lr=0.01".into()]);
        assert_eq!(v["train.lr"], serde_json::json!(0.01));
        assert_eq!(v["train.epochs"], serde_json::json!(3));
        assert!(!v.keys().any(|k| k.starts_with("command")), "{v:?}");
        // What the loader remembered is what a fresh parse gives.
        let mut table: toml::Table = toml::from_str(text).unwrap();
        table["train"]["lr"] = toml::Value::Float(0.5);
        remember(text, vec!["train.lr=0.5".into()], &table);
        assert_eq!(
            of(text, &["train.lr=0.5".into()])["train.lr"],
            serde_json::json!(0.5)
        );
        assert_eq!(of(text, &["train.lr=0.01".into()]), v);
    }
}
