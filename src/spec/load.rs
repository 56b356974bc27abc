//! Reading a spec file: TOML syntax and shape errors (with did-you-mean), then `--set` overrides.

use std::path::Path;

use serde::Deserialize;

use super::diagnostics::{
    did_you_mean, plain_serde_message, type_hint, Location, SpecError, SpecErrors,
};
use super::raw::{RawSpec, MODEL_FIELDS, TRAIN_FIELDS};
use super::source::{Override, SpecSource};

/// Field names of each section, for "did you mean" and "belongs in [train]" hints.
const SECTION_FIELDS: &[(&str, &[&str])] = &[
    ("experiment", &["name", "seed", "description"]),
    ("dataset", &["name", "files", "n_train", "n_test", "size"]),
    (
        "preprocess",
        &[
            "binarize",
            "threshold",
            "val_fraction",
            "test_fraction",
            "split_seed",
            "subset",
            "classes",
            "flatten",
        ],
    ),
    ("model", MODEL_FIELDS),
    ("train", TRAIN_FIELDS),
    (
        "evaluate",
        &[
            "iwae_k",
            "iwae_images",
            "knn_k",
            "probe",
            "anomaly_normal_classes",
            "pca",
            "mig",
            "mig_units",
        ],
    ),
    ("plots", &["figures", "formats"]),
];

/// Reads and parses the spec, applying overrides; shape errors are returned located.
pub fn read_raw(path: &Path, set: &[String]) -> Result<(SpecSource, RawSpec), SpecErrors> {
    let unreadable = |message: String, hint: Option<String>| {
        SpecErrors(vec![SpecError {
            location: Location::WholeFile(path.display().to_string()),
            key: String::new(),
            message,
            hint,
        }])
    };
    // Opening a FIFO or device blocks, out of reach of Ctrl-C and SIGTERM: refuse it first.
    if let Some(meta) = std::fs::metadata(path).ok().filter(|m| !m.is_file()) {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file"
        };
        return Err(unreadable(
            format!("failed to read spec: it is {what}"),
            Some("give the path of a .toml file".into()),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| unreadable(format!("failed to read spec: {e}"), None))?;
    let mut errors = Vec::new();
    let mut overrides = Vec::new();
    for raw in set {
        match Override::parse(raw) {
            Ok(o) => overrides.push(o),
            Err(message) => errors.push(SpecError {
                location: Location::Override(raw.clone()),
                key: String::new(),
                message,
                hint: None,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let src = SpecSource::new(path, text, overrides);
    if src.overrides.is_empty() {
        if let Some((raw, values)) = parse_once(&src.text) {
            super::values::remember(&src.text, Vec::new(), &values);
            return Ok((src, raw));
        }
        // Failed, or dated: read again below, the way that locates the error.
    }
    let mut table: toml::Table =
        toml::from_str(&src.text).map_err(|e| SpecErrors(vec![file_error(&src, &e)]))?;
    let raw = match RawSpec::deserialize(toml::Value::Table(table.clone())) {
        Ok(raw) => raw,
        // Read again from the text for the error: only that one knows the line.
        Err(e) => {
            let spanned = toml::from_str::<RawSpec>(&src.text).err();
            let err = match &spanned {
                Some(e) => file_error(&src, e),
                None => file_error(&src, &e),
            };
            return Err(SpecErrors(vec![err]));
        }
    };
    // Re-read with each override applied in turn, so a bad one is named.
    let mut last = raw;
    for o in &src.overrides {
        let location = Location::Override(o.raw.clone());
        if let Err(message) = o.apply(&mut table) {
            return Err(SpecErrors(vec![shape_error(
                location,
                String::new(),
                &message,
            )]));
        }
        last = RawSpec::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
            let key = error_key(&e).unwrap_or_else(|| o.path.join("."));
            let mut err = shape_error(location.clone(), key, e.message());
            if err.message.contains("expected a table") && err.hint.is_none() {
                err.hint = Some(format!(
                    "`{}` is a section: set a key inside it, e.g. --set {}.KEY=VALUE",
                    o.path.join("."),
                    o.path.join(".")
                ));
            }
            SpecErrors(vec![err])
        })?;
    }
    let raws = src.overrides.iter().map(|o| o.raw.clone()).collect();
    super::values::remember(&src.text, raws, &table);
    Ok((src, last))
}

/// A spec without overrides, parsed once into the parser's borrowed tree: the typed spec is read
/// from it directly, and the run index's values from its top level without the arrays of tables
/// (`[[command]]`), which they leave out: a sweep of thousands of commands is not built into an
/// owned `toml::Table` and copied once more. `None` on any error.
fn parse_once(text: &str) -> Option<(RawSpec, toml::Table)> {
    use toml::de::{DeTable, DeValue, Deserializer};
    let doc = DeTable::parse(text).ok()?;
    // The table path hands dates on as strings (e.g. into a command's params, and so its key):
    // a spec with any takes that path, so both read it alike.
    fn has_date(v: &DeValue) -> bool {
        match v {
            DeValue::Datetime(_) => true,
            DeValue::Array(items) => items.iter().any(|i| has_date(i.get_ref())),
            DeValue::Table(t) => t.values().any(|i| has_date(i.get_ref())),
            _ => false,
        }
    }
    if doc.get_ref().values().any(|v| has_date(v.get_ref())) {
        return None;
    }
    let mut top = DeTable::new();
    for (k, v) in doc.get_ref() {
        let tables = matches!(v.get_ref(), DeValue::Array(items)
            if items.iter().any(|i| matches!(i.get_ref(), DeValue::Table(_))));
        if !tables {
            top.insert(k.clone(), v.clone());
        }
    }
    let top = toml::Spanned::new(doc.span(), top);
    let values = toml::Table::deserialize(Deserializer::from(top)).ok()?;
    let raw = RawSpec::deserialize(Deserializer::from(doc)).ok()?;
    Some((raw, values))
}

/// A TOML syntax or shape error in the file, located, with the key it concerns.
fn file_error(src: &SpecSource, e: &toml::de::Error) -> SpecError {
    let Some(span) = e.span() else {
        let location = Location::WholeFile(src.display_path());
        return shape_error(location, error_key(e).unwrap_or_default(), e.message());
    };
    let location = src.at_offset(span.start);
    if e.message().starts_with("duplicate key") {
        return duplicate_key(src, location, span);
    }
    shape_error(location, error_key(e).unwrap_or_default(), e.message())
}

/// The TOML parser says only "duplicate key" and points at the second one: name it, and the
/// table it is in.
fn duplicate_key(src: &SpecSource, location: Location, span: std::ops::Range<usize>) -> SpecError {
    let key = src
        .text
        .get(span.clone())
        .unwrap_or_default()
        .trim_matches(['"', '\'']);
    let line_start = src.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let is_header = src.text[line_start..span.start]
        .trim_start()
        .starts_with('[');
    let (message, hint) = if is_header {
        (
            format!("table [{key}] is defined twice"),
            "merge the two sections into one",
        )
    } else {
        let table = src
            .table_header_before(span.start)
            .map_or("the top level (before any [section])".to_owned(), |t| {
                format!("[{t}]")
            });
        (
            format!("duplicate key `{key}` in {table}"),
            "a key may be set once per table: keep one of the two",
        )
    };
    SpecError {
        location,
        key: String::new(),
        message,
        hint: Some(hint.into()),
    }
}

/// The dotted key a deserialization error is about (toml prints it only without the input).
fn error_key(e: &toml::de::Error) -> Option<String> {
    let mut bare = e.clone();
    bare.set_input(None);
    let text = bare.to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("in `").and_then(|k| k.strip_suffix('`')))
        .map(str::to_owned)
}

/// A serde/TOML message turned into a spec error, with a hint for unknown fields.
fn shape_error(location: Location, key: String, message: &str) -> SpecError {
    let message = plain_serde_message(message);
    let hint = unknown_field_hint(&message).or_else(|| type_hint(&message));
    // An unknown field's own key says nothing the message does not.
    let key = if message.starts_with("unknown field") {
        String::new()
    } else {
        key
    };
    SpecError {
        location,
        key,
        message,
        hint,
    }
}

/// serde writes "unknown field `x`, expected one of `a`, `b`": suggest the nearest, or the section
/// the field belongs to when it is a known field of another section.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    if let Some(h) = did_you_mean(field, candidates.iter().copied()) {
        return Some(h);
    }
    let home = SECTION_FIELDS
        .iter()
        .find(|(_, fields)| fields.contains(&field))
        .map(|(section, _)| *section)?;
    let here_is_that_section = SECTION_FIELDS
        .iter()
        .any(|(s, fields)| *s == home && fields.iter().all(|f| candidates.contains(f)));
    (!here_is_that_section).then(|| format!("`{field}` belongs in the [{home}] section"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-parse path gives what the table path gives: the same typed spec (compared as
    /// its debug text) and the same index values, for the shipped specs and for shapes they
    /// lack (nested tables and arrays of tables, dates, big and negative numbers, commands).
    #[test]
    fn parsing_once_reads_what_the_table_path_reads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
        let mut texts: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        texts.push(
            "[experiment]\nname = \"x\"\nseed = -3\n[train]\nlr = 1e-3\nepochs = 9007199254740993\n\
             [sweep]\naxes = { \"model.latent\" = [2, 3], size = { a = -1.5 } }\n\
             [[sweep.extra]]\nv = 1\n[[command]]\nname = \"a\"\ncmd = \"true\"\nparams = { i = 1 }\n"
                .into(),
        );
        assert!(texts.len() > 3);
        for text in &texts {
            let (raw, values) = parse_once(text).expect("parses");
            let table: toml::Table = toml::from_str(text).unwrap();
            let slow = RawSpec::deserialize(toml::Value::Table(table.clone())).unwrap();
            assert_eq!(format!("{raw:?}"), format!("{slow:?}"));
            let want = super::super::values::of_table(&table);
            assert_eq!(super::super::values::of_table(&values), want, "{text}");
            assert!(!want.is_empty());
        }
        // Where the typed read fails, the path that locates the error is taken instead.
        assert!(parse_once("[train]\nlr = \"fast\"\n").is_none());
        assert!(parse_once("[train\n").is_none());
        let dated = "[[command]]\nname = \"a\"\ncmd = \"true\"\nparams = { d = 1979-05-27 }\n";
        assert!(parse_once(dated).is_none());
    }
}
